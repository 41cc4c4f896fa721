"""What the product above the store needs from an index, as interfaces.

Retrieval, fusion, answers, citations, the chat and `qa bench` read an index only through
`ChunkStore` (one published state of it) and its `LexicalStore` (BM25 and the index's
vocabulary), and find the live state through a `StoreLocation`. Two implementations:
the embedded store (index/store/reader.py: segments on local disk) and Qdrant
(index/store/qdrant.py). Both speak in chunk ids and `StoredChunk` rows, so everything
above them is the same code whichever is configured (`QA_STORE`, `--store`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol

import numpy as np

from index.segment import StoredChunk
from index.store.manifest import Manifest

#: (chunk id, score) pairs, best first.
Hits = list[tuple[int, float]]


class Vocabulary(Protocol):
    """A part of the index whose terms can be listed (for cross-script name matching,
    qa/coverage.py, which caches what it derives per part: parts must be weak-referenceable)."""

    def terms(self) -> Iterable[str]: ...


class LexicalStore(Protocol):
    """BM25 over the chunks' search tokens (index/text/search.py), with index-wide statistics."""

    def __len__(self) -> int: ...

    def df(self, token: str) -> int:
        """In how many chunks the token occurs."""
        ...

    def idf(self, token: str) -> float:
        """Lucene's idf of the token over the whole index."""
        ...

    @property
    def parts(self) -> Sequence[Vocabulary]: ...

    def contains(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        """For each chunk id, whether the chunk holds any of `tokens`."""
        ...

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> Hits:
        """The k best chunks holding any of the tokens, within `allowed` chunk ids if given."""
        ...


class ChunkStore(Protocol):
    """One published state of an index, read-only: what a question needs."""

    @property
    def generation(self) -> Hashable:
        """What identifies the state: equal values mean the same published content."""
        ...

    @property
    def manifest(self) -> Manifest: ...

    @property
    def size(self) -> int: ...

    @property
    def lexical(self) -> LexicalStore: ...

    def search(self, query: np.ndarray, k: int, aux: bool = False, allowed: np.ndarray | None = None) -> Hits:
        """Top-k by inner product with the main (or, with `aux`, the second) model's vectors,
        the filter applied inside the search."""
        ...

    def chunk_ids_where(
        self, sources: Sequence[str] = (), date_from: str | None = None, date_to: str | None = None,
    ) -> np.ndarray:
        """Live chunk ids of the given articles and/or published within the dates (ISO)."""
        ...

    def articles(self) -> list[tuple[str, str, str | None]]:
        """(id, title, date) of every article, newest first."""
        ...

    def hubness(self, chunk_ids: Sequence[int], key: str, aux: bool = False) -> np.ndarray:
        """Stored hubness measured under `key`, NaN where none is."""
        ...

    def signatures(self, article_ids: Sequence[str]) -> dict[str, bytes]:
        """Near-duplicate signatures (index/duplicates.py) of the articles that have one."""
        ...

    def vectors(self, chunk_ids: Sequence[int], aux: bool = False) -> np.ndarray:
        """The stored vectors of the chunks, one row each, in order."""
        ...

    def sentences(self, chunk_ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        """chunk id -> (sentence spans in the article, their vectors), where stored."""
        ...

    def best_sentences(self, query: np.ndarray, chunk_ids: Sequence[int]) -> np.ndarray:
        """Each chunk's best sentence cosine with `query`, in order; NaN where none is stored."""
        ...

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Live chunk rows with their article's metadata, by chunk id."""
        ...

    def search_tokens(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Live chunks' search tokens in reading order (what BM25 indexed), by chunk id."""
        ...

    def close(self) -> None: ...


class StoreLocation(Protocol):
    """Where an index lives: finds its live state and opens a reader of it."""

    def describe(self) -> str:
        """How messages name the index (a folder, a collection URL)."""
        ...

    def live(self) -> Hashable | None:
        """The live state's `generation` (None when nothing was published), cheap to ask
        before every question."""
        ...

    def open(self, previous: ChunkStore | None = None) -> ChunkStore:
        """A reader of the live state; `previous` may lend it what has not changed."""
        ...
