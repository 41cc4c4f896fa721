"""How much a passage attracts questions in general: the hubness of dense retrieval.

In a large archive some passages sit close to almost every question (short captions,
poems, boilerplate, a page of site furniture): in high-dimensional embedding spaces a
few points become the nearest neighbours of many, and cross-lingual questions suffer
most, because their vectors are further from every Arabic passage. Such a "hub" then
outranks the article that answers the question.

The correction is CSLS (Conneau et al., "Word translation without parallel data", 2018):
a passage's score is its cosine with the question minus `PENALTY` times its mean cosine
with its `NEIGHBOURS` nearest questions of a fixed reference set. The reference set is
`index/data/reference_questions.txt`: 720 generic questions in twelve languages, written for
this purpose and tied to no dataset. Its vectors depend on the model and how it runs, so
they are computed with the model in use and cached per machine under the model cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.segment import AUX_VECTORS, VECTORS
from index.models import EmbeddingModel, MainModel

if TYPE_CHECKING:
    from index.config import Settings

REFERENCE = Path(__file__).resolve().parent / "data" / "reference_questions.txt"
#: How many nearest reference questions make a passage's hubness.
NEIGHBOURS = 30
#: How much of its hubness a passage's score loses (0.3-0.7 measured alike on our dev
#: questions, docs/benchmarks.md).
PENALTY = 0.5


def reference_questions() -> list[str]:
    return [line.strip() for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.strip()]


class Hubness:
    """Hubness of passages for one embedding model (see the module docstring).

    `embed_queries` embeds questions the way the model embeds a user's question;
    `cache` names the file where the reference vectors are kept once computed.
    """

    def __init__(self, embed_queries: Callable[[list[str]], np.ndarray], cache: Path) -> None:
        self._embed_queries = embed_queries
        self._cache = cache
        self._reference: np.ndarray | None = None

    @property
    def key(self) -> str:
        """Names the model and the reference set: hubness stored under another key was
        measured against other reference vectors and is not used."""
        return self._cache.stem

    @classmethod
    def for_model(
        cls, embed_queries: Callable[[list[str]], np.ndarray], cache_dir: Path, *identity: str,
    ) -> "Hubness":
        """A `Hubness` whose cache file is named after the model (`identity`: its name, how
        it runs) and the reference questions, so any change makes a new file."""
        key = hashlib.sha256("\0".join((*identity, REFERENCE.read_text(encoding="utf-8"))).encode())
        return cls(embed_queries, cache_dir / "reference" / f"{key.hexdigest()[:24]}.npy")

    @property
    def reference(self) -> np.ndarray:
        """The reference questions' vectors (computed and cached on first use)."""
        if self._reference is None:
            try:
                self._reference = np.load(self._cache)
            except (OSError, ValueError):
                self._reference = np.ascontiguousarray(
                    self._embed_queries(reference_questions()), dtype=np.float32)
                self._save(self._reference)
        return self._reference

    def _save(self, vectors: np.ndarray) -> None:
        """Write the cache atomically; a cache that cannot be written is only slower."""
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache.with_name(f".{self._cache.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                np.save(handle, vectors)
            os.replace(tmp, self._cache)
        except OSError:
            pass

    def of(self, vectors: np.ndarray) -> np.ndarray:
        """Each passage vector's mean cosine with its NEIGHBOURS nearest reference questions."""
        if not len(vectors):
            return np.zeros(0, dtype=np.float32)
        similarity = vectors @ self.reference.T
        k = min(NEIGHBOURS, similarity.shape[1])
        return -np.partition(-similarity, k - 1, axis=1)[:, :k].mean(axis=1)


def hubness_for(settings: "Settings", embedder: MainModel, aux: EmbeddingModel | None) -> dict[str, Hubness]:
    """The hubness of each model of an index, by the name of its vector file: what the
    writer stores per segment and the retriever reads (or computes where it is missing)."""
    hubness = {VECTORS: Hubness.for_model(embedder.embed_queries, settings.models_dir, settings.model,
                                          embedder.backend)}
    if aux is not None:
        hubness[AUX_VECTORS] = Hubness.for_model(aux.embed_queries, settings.models_dir, aux.name)
    return hubness
