"""BM25 over chunk tokens (bm25s), keyed by chunk id, with "no match" kept distinct.

Dense retrieval always returns *something*; lexical search must be able to say "none of
these words occur anywhere", so an English question over Arabic chunks (or a typo'd
name) yields no hits instead of an arbitrary order that a fusion step would trust.
Hence `search` returns only chunks whose score is positive, i.e. that contain at least
one query term; Lucene's idf is positive for every term, so score > 0 means exactly that.

Tokens come from the caller (`index.text.search.tokenize_for_search`), never from
bm25s's own tokenizer, so index and question are processed identically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.errors import REBUILD_HINT, IndexCorruptError

#: Methods for which a chunk containing no query term scores exactly 0. BM25L and BM25+
#: give every chunk a non-occurrence score, which would defeat "no match -> no hit".
METHODS = ("lucene", "robertson", "atire")
FORMAT_VERSION = 1
META_FILE = "lexical.json"
IDS_FILE = "chunk_ids.npy"


class LexicalIndex:
    """An immutable BM25 index: build it from token lists, save, load, search."""

    def __init__(
        self,
        ids: np.ndarray,
        bm25: bm25s.BM25 | None,
        *,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
    ) -> None:
        """Wrap built parts; use `build` or `load` rather than calling this directly.

        `bm25` is None when no document has a token: bm25s cannot index an empty
        vocabulary, and such an index can match nothing anyway.
        """
        self._ids = ids
        self._ascending = bool(np.all(ids[1:] > ids[:-1]))
        self._bm25 = bm25
        self._vocab: dict[str, int] = bm25.vocab_dict if bm25 is not None else {}
        # bm25s' postings (CSC: where each term's chunks start, and the chunks) as plain
        # arrays over the same memory: reading a memory-mapped array one element at a
        # time makes a memmap object per read, and a question's names read thousands.
        postings = (bm25.scores["indptr"], bm25.scores["indices"], bm25.scores["data"]) if bm25 is not None \
            else ([0], [], [])
        self._indptr: np.ndarray = np.asarray(postings[0]).view(np.ndarray)
        self._indices: np.ndarray = np.asarray(postings[1]).view(np.ndarray)
        self._term_scores: np.ndarray = np.asarray(postings[2]).view(np.ndarray)  # each posting's BM25 score
        self.k1, self.b, self.method = k1, b, method

    @classmethod
    def build(
        cls,
        ids: Sequence[int],
        token_lists: Iterable[list[str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
    ) -> LexicalIndex:
        """Index the i-th token list as chunk `ids[i]`; ids are any distinct int64 values.

        `token_lists` may be a generator: each list is mapped to term ids as it comes,
        so a million chunks never hold a million lists of token strings at once.
        """
        if method not in METHODS:
            raise ValueError(f"BM25 method must be one of {METHODS}, not {method!r}")
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("chunk ids must be distinct")
        # Our own vocabulary, numbered in first-seen order: builds are reproducible
        # (bm25s numbers a set, whose order changes from run to run) and bm25s never
        # has to guess whether a list of lists holds tokens or token ids.
        vocab: dict[str, int] = {}
        doc_term_ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in token_lists]
        if len(id_array) != len(doc_term_ids):
            raise ValueError(f"{len(id_array)} ids for {len(doc_term_ids)} token lists")
        if not vocab:
            return cls(id_array, None, k1=k1, b=b, method=method)
        bm25 = bm25s.BM25(k1=k1, b=b, method=method)
        bm25.index((doc_term_ids, vocab), create_empty_token=False, show_progress=False)
        return cls(id_array, bm25, k1=k1, b=b, method=method)

    def __len__(self) -> int:
        return len(self._ids)

    def df(self, token: str) -> int:
        """In how many chunks the search token occurs."""
        term = self._vocab.get(token)
        if term is None:
            return 0
        return int(self._indptr[term + 1] - self._indptr[term])

    def terms(self) -> Iterable[str]:
        """Every search token that occurs in this index."""
        return self._vocab.keys()

    def contains(self, tokens: Iterable[str], ids: np.ndarray) -> np.ndarray:
        """For each chunk id in `ids`, whether it holds any of `tokens` (False if not here).

        The tokens' chunks are marked in a mask of this index's chunks and the asked
        ones read from it: a name spelled by dozens of common tokens would otherwise
        sort the postings of thousands of chunks to answer for a hundred."""
        found = np.zeros(len(ids), dtype=bool)
        terms = [term for term in map(self._vocab.get, tokens) if term is not None]
        if not terms:
            return found
        held = np.zeros(len(self._ids), dtype=bool)
        held[np.concatenate([self._postings(term) for term in terms])] = True
        if not self._ascending:
            return np.isin(ids, self._ids[held])
        positions = np.searchsorted(self._ids, ids)
        here = (positions < len(self._ids)) & (self._ids[np.minimum(positions, len(self._ids) - 1)] == ids)
        found[here] = held[positions[here]]
        return found

    def _postings(self, term: int) -> np.ndarray:
        """The sorted positions of the chunks that hold a term."""
        return self._indices[self._indptr[term]:self._indptr[term + 1]]

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of a search token; highest when it is absent.

        Answers use it to weigh which question words matter: a name found in few chunks
        (or none) says more about what was asked than a common verb.
        """
        return lucene_idf(len(self._ids), self.df(token))

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (created if needed); the metadata file last."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / IDS_FILE, self._ids)
        if self._bm25 is not None:
            self._bm25.save(folder, show_progress=False)
        meta = {
            "format": FORMAT_VERSION,
            "documents": len(self._ids),
            "terms": len(self._vocab),
            "k1": self.k1,
            "b": self.b,
            "method": self.method,
        }
        (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Open an index written by `save`; the score matrix is memory-mapped, not read."""
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unknown lexical index format {meta.get('format')!r}")
            ids = np.load(folder / IDS_FILE)
            bm25 = bm25s.BM25.load(folder, mmap=True) if meta["terms"] else None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(
                f"lexical index in {folder} is unreadable ({exc}); {REBUILD_HINT}"
            ) from exc
        docs = bm25.scores["num_docs"] if bm25 is not None else len(ids)
        if not len(ids) == docs == meta["documents"]:
            raise IndexCorruptError(
                f"lexical index in {folder} has inconsistent document counts; {REBUILD_HINT}"
            )
        return cls(ids, bm25, k1=meta["k1"], b=meta["b"], method=meta["method"])

    def search(
        self,
        tokens: list[str],
        k: int,
        allowed: np.ndarray | None = None,
        excluded: np.ndarray | None = None,
        weights: dict[str, float] | None = None,
    ) -> list[tuple[int, float]]:
        """The `k` best (chunk id, score) pairs, best first, only chunks that match.

        With `allowed` (chunk ids), other chunks are left out before ranking; chunks in
        `excluded` (deleted ones) are left out too. `weights` scales each term's part of
        the score: a segmented index passes global idf / this index's idf, so scores of
        segments of different sizes are comparable.

        Tokens absent from the vocabulary are ignored; a repeated token counts once
        per occurrence, as in Lucene. Equal scores are ordered by ascending chunk id so
        results never depend on build order or on numpy's partition.
        """
        term_ids = [self._vocab[t] for t in tokens if t in self._vocab]
        if k <= 0 or not term_ids or self._bm25 is None:
            return []
        if weights is None:
            scores = self._scores([(term, None) for term in term_ids])
        else:
            counts: dict[str, int] = {}
            for token in tokens:
                if token in self._vocab:
                    counts[token] = counts.get(token, 0) + 1
            scores = self._scores([(self._vocab[token], weights.get(token, 1.0) * count)
                                   for token, count in counts.items()])
        if allowed is not None:
            keep = np.zeros(len(self._ids), dtype=bool)
            keep[self._positions(allowed)] = True
            scores = np.where(keep, scores, 0)
        if excluded is not None and len(excluded):
            scores = np.array(scores, copy=True)
            scores[self._positions(excluded)] = 0
        hits = np.flatnonzero(scores > 0)
        hit_scores = scores[hits]
        if len(hits) > k:  # keep the k best plus anything tied with the k-th
            kth = np.partition(hit_scores, len(hits) - k)[len(hits) - k]
            keep = hit_scores >= kth
            hits, hit_scores = hits[keep], hit_scores[keep]
        hit_ids = self._ids[hits]
        order = np.lexsort((hit_ids, -hit_scores))[:k]
        return [(int(i), float(s)) for i, s in zip(hit_ids[order], hit_scores[order])]

    def _scores(self, terms: list[tuple[int, float | None]]) -> np.ndarray:
        """Every chunk's score: the sum of its postings' BM25 scores for these terms,
        each times its factor (None: as it is), in the order given.

        bm25s' own `get_scores_from_ids` allocates a corpus-sized array per call and adds
        with `np.add.at`; a weighted query called it once per term. A term's postings
        name each chunk once, so a plain indexed add is the same sum, to the bit.
        """
        scores = np.zeros(len(self._ids), dtype=self._term_scores.dtype)
        for term, factor in terms:
            start, end = self._indptr[term], self._indptr[term + 1]
            found = self._term_scores[start:end]
            scores[self._indices[start:end]] += found if factor is None else factor * found
        return scores

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given chunk ids; ids not indexed here are dropped.

        Segments number their chunks in one ascending run, so a binary search finds
        them without the O(n) membership test (1M chunks) that arbitrary ids need.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if not self._ascending:
            return np.flatnonzero(np.isin(self._ids, ids))
        positions = np.searchsorted(self._ids, ids)
        inside = positions < len(self._ids)
        positions = positions[inside]
        return positions[self._ids[positions] == ids[inside]]


def lucene_idf(documents: int, frequency: int) -> float:
    """Lucene's BM25 idf, the one bm25s's "lucene" method bakes into its scores."""
    return float(np.log(1 + (documents - frequency + 0.5) / (frequency + 0.5)))
