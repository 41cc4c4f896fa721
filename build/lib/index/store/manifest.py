"""A generation's manifest: what the index was built with and what it holds, and the
reading of manifests of older formats, so an index made by an earlier version is not lost."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from index.segment import AUX_VECTORS, VECTORS, SegmentEntry

FORMAT_VERSION = 3
#: Format 2 kept the article catalog inside the manifest; it is still read (and a write
#: moves it into catalog.sqlite), so an index made before is not lost.
LEGACY_FORMAT = 2
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    """What an index was built with and what it holds; the one source of truth.

    Which articles it holds is in the generation's catalog (index/catalog.py), whose
    size and hash are recorded in `files` like every other file's.
    """

    model: str
    dimension: int
    chunking: dict[str, object]
    chunk_count: int = 0  # live chunks (deleted ones not counted)
    article_count: int = 0
    aux_model: str | None = None
    aux_dimension: int = 0
    #: How the main model was run when the vectors were made (e.g. torch, onnx-int8).
    backend: str | None = None
    #: The int8 recipes (index.onnx.quantize.INT8_RECIPES) its vectors were made with: more
    #: than one if machines of both CPU classes wrote to it. Not a compatibility condition:
    #: every recipe approximates the same model within int8 rounding.
    quantization: list[str] = field(default_factory=list)
    #: How its stored sentence vectors were made (`Embedder.span_vectors`): "in-context"
    #: (pooled from the chunk's own pass) or "alone" (each sentence embedded by itself);
    #: both if an index of the second kind gained segments since; empty for indexes
    #: written before this was recorded (their sentences, if any, were embedded alone).
    #: Not a compatibility condition: both kinds place a sentence near what it says.
    sentence_vectors: list[str] = field(default_factory=list)
    format: int = FORMAT_VERSION
    #: path inside the generation -> {"size": bytes, "sha256": hex}, filled by `publish`.
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    #: each segment, oldest first
    segments: list[SegmentEntry] = field(default_factory=list)
    deleted_count: int = 0
    next_chunk_id: int = 1
    next_segment: int = 1
    #: (id, hash, segment) of every article, only when read from a format-2 manifest.
    legacy_catalog: list[tuple[str, str, str]] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if k != "legacy_catalog"}
        data["checksum"] = _checksum(data)
        # No indent: only compact output takes json's C encoder (with indent, writing a
        # 1M-chunk index's manifest was most of the time of adding an article).
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        checksum = data.pop("checksum", None)
        if checksum != _checksum(data):
            raise ValueError("its checksum does not match its content")
        if data.get("format") == LEGACY_FORMAT:
            hashes, placement = data.pop("articles"), data.pop("placement")
            data.update(format=FORMAT_VERSION, article_count=len(hashes),
                        legacy_catalog=[(a, h, placement[a]) for a, h in hashes.items()])
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"it was written by another version (index format {data.get('format')!r})")
        return cls(**data)

    def successor(self) -> "Manifest":
        """A manifest for a generation written over this one that adds no vectors (a
        removal, a merge): the same models and settings; the writer fills in the rest."""
        return Manifest(
            model=self.model, dimension=self.dimension, chunking=self.chunking, aux_model=self.aux_model,
            aux_dimension=self.aux_dimension, backend=self.backend, quantization=list(self.quantization),
            sentence_vectors=list(self.sentence_vectors),
        )

    @property
    def dimensions(self) -> dict[str, int]:
        """Vector file name -> dimension, for each model the index holds."""
        dims = {VECTORS: self.dimension}
        if self.aux_model:
            dims[AUX_VECTORS] = self.aux_dimension
        return dims


def _checksum(data: dict[str, object]) -> str:
    """SHA-256 of the manifest's content in a canonical form (key order, no whitespace)."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
