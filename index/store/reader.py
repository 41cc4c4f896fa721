"""What runs per question: a read-only view of the live generation (`IndexReader`) with
vector search, BM25 across its segments (`SegmentedLexical`), filters and chunk lookup.

Integrity: opening a generation checks its manifest and every file's size, and the
hashes once per process per file (index/store/integrity.py): small files before the
first search, files over BACKGROUND_HASH_BYTES (a 1M-chunk index has gigabytes) in a
background thread, so a server starts answering at once and a damaged file found
meanwhile fails every later search with the file's name, never wrong answers after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from index.catalog import Catalog
from index.errors import IndexCorruptError, IndexMissingError
from index.lexical import LexicalIndex, lucene_idf
from index.segment import AUX_VECTORS, VECTORS, Segment, StoredChunk
from index.store.base import ChunkStore
from index.store.generation import current_generation, load_deleted, manifest_of, open_catalog
from index.store.integrity import HASH, verify_file, verify_generation

T = TypeVar("T")

#: Files at least this large are hashed in the background when a reader opens them.
BACKGROUND_HASH_BYTES = 64 * 2**20
#: Search tokens whose index-wide document frequency a generation's BM25 remembers.
DF_MEMORY = 1 << 16


class LocalFolder:
    """The embedded store's `StoreLocation`: an index folder on this machine."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def describe(self) -> str:
        return str(self.index_dir)

    def live(self) -> Path | None:
        return current_generation(self.index_dir)

    def open(self, previous: ChunkStore | None = None) -> IndexReader:
        return IndexReader(self.index_dir, reuse=previous if isinstance(previous, IndexReader) else None)


class IndexReader:
    """A read-only view of one generation: vector and BM25 search, chunk lookup."""

    def __init__(
        self,
        index_dir: Path,
        background_hash_bytes: int = BACKGROUND_HASH_BYTES,
        reuse: "IndexReader | None" = None,
    ) -> None:
        """Open the live generation; `reuse` is a reader of an earlier one whose unchanged
        segments are taken over as they are (a 1M-chunk segment takes a second to load
        and its memory twice while two readers hold it)."""
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexMissingError(
                f"no index in {index_dir}; build one with `qa index FOLDER` "
                "(e.g. `qa index seeds/`)"
            )
        self.generation = generation
        self.manifest = manifest_of(generation)
        self._damage: IndexCorruptError | None = None
        unchecked = verify_generation(generation, self.manifest.files, hashes=False)
        later = [p for p in unchecked if p.stat().st_size >= background_hash_bytes]
        for path in unchecked:  # small files before any is parsed
            if path not in later:
                verify_file(path, self._record(path))
        self.verified = threading.Event()
        if later:
            threading.Thread(target=self._verify_later, args=(later,), daemon=True).start()
        else:
            self.verified.set()
        self.deleted = load_deleted(generation, self.manifest)
        opened = {reuse._segment_key(s.name): s for s in reuse.segments} if reuse else {}
        self.segments: list[Segment] = [
            opened.get(self._segment_key(entry["name"]))
            or Segment(generation / entry["name"], entry, self.manifest.dimensions)
            for entry in self.manifest.segments
        ]

    def _segment_key(self, name: str) -> tuple[object, ...]:
        """What identifies a segment's content: its name and its files' recorded hashes."""
        prefix = f"{name}/"
        return (name, *sorted((n, r[HASH]) for n, r in self.manifest.files.items() if n.startswith(prefix)))

    def _record(self, path: Path) -> dict[str, object]:
        return self.manifest.files[path.relative_to(self.generation).as_posix()]

    def _verify_later(self, paths: list[Path]) -> None:
        try:
            for path in paths:
                verify_file(path, self._record(path))
        except IndexCorruptError as exc:
            self._damage = exc
        finally:
            self.verified.set()

    def check(self) -> None:
        """Raise the damage the background hash check found, if it found any."""
        if self._damage is not None:
            raise self._damage

    @property
    def size(self) -> int:
        """Live chunks."""
        return self.manifest.chunk_count

    def search(
        self, query: np.ndarray, k: int, aux: bool = False, allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, inner product) pairs, best first, from the main or second model.

        `allowed` restricts the search to those chunk ids (a filter by article or date)
        inside FAISS, so a filter never leaves fewer than k results when k exist.
        """
        self.check()
        name = AUX_VECTORS if aux else VECTORS
        if k <= 0 or name not in self.manifest.dimensions:
            return []
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        hits = [
            hit for segment in self.segments
            for hit in segment.search(name, query, k, allowed, self.deleted)
        ]
        return best_first(hits, k)

    @cached_property
    def lexical(self) -> "SegmentedLexical":
        return SegmentedLexical(self)

    @cached_property
    def catalog(self) -> Catalog:
        """Which articles this generation holds (opened on first use)."""
        return open_catalog(self.generation, self.manifest)

    def chunk_ids_where(
        self, sources: Sequence[str] = (), date_from: str | None = None, date_to: str | None = None,
    ) -> np.ndarray:
        """Ids of the live chunks of the given articles and/or published in [date_from, date_to].

        Dates are ISO `YYYY-MM-DD`; an article without a date never matches a date range.
        """
        clauses: list[str] = []
        params: list[str] = []
        if sources:
            clauses.append(f"a.id IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if date_from:
            clauses.append("a.date >= ?")
            params.append(date_from)
        if date_to:
            clauses.append("substr(a.date, 1, 10) <= ?")
            params.append(date_to)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id {where}"
        ids = np.fromiter(
            (row[0] for segment in self.segments for row in segment.rows_where(sql, params)),
            dtype=np.int64,
        )
        return np.setdiff1d(ids, self.deleted)

    def articles(self) -> list[tuple[str, str, str | None]]:
        """(id, title, date) of every indexed article, newest first, for pickers."""
        placement = self.catalog.segments()
        rows = [
            tuple(row) for segment in self.segments
            for row in segment.rows_where("SELECT id, title, date FROM articles", ())
            if placement.get(row[0]) == segment.name
        ]
        rows.sort(key=lambda r: r[0])
        rows.sort(key=lambda r: r[2] or "", reverse=True)  # undated last, as ORDER BY date DESC
        return rows

    def hubness(self, chunk_ids: Sequence[int], key: str, aux: bool = False) -> np.ndarray:
        """The stored hubness of these chunks, measured under `key`; NaN where a segment
        has none (written before, or with other reference vectors)."""
        name = AUX_VECTORS if aux else VECTORS
        ids = np.asarray(list(chunk_ids), dtype=np.int64)
        out = np.full(len(ids), np.nan, dtype=np.float32)
        for segment in self.segments:
            inside = (ids >= segment.lo) & (ids < segment.hi)
            if inside.any():
                stored = segment.hubness(name, key)
                if stored is not None:
                    out[inside] = stored[ids[inside] - segment.lo]
        return out

    def signatures(self, article_ids: Sequence[str]) -> dict[str, bytes]:
        """The near-duplicate signatures (index/duplicates.py) of these articles, where kept."""
        placement = self.catalog.segments(article_ids)
        found: dict[str, bytes] = {}
        for segment in self.segments:
            mine = [a for a, name in placement.items() if name == segment.name]
            if mine:
                found.update(segment.signatures(mine))
        return found

    def vectors(self, chunk_ids: Sequence[int], aux: bool = False) -> np.ndarray:
        """The stored vectors of `chunk_ids` (main or second model), one row each, in order."""
        self.check()
        name = AUX_VECTORS if aux else VECTORS
        ids = np.asarray(list(chunk_ids), dtype=np.int64)
        out = np.zeros((len(ids), self.manifest.dimensions[name]), dtype=np.float32)
        for segment in self.segments:
            inside = (ids >= segment.lo) & (ids < segment.hi)
            if inside.any():
                out[inside] = segment.vectors_of(name, ids[inside])
        return out

    def sentences(self, chunk_ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        """Each chunk's sentences: chunk id -> ([(start, end), ...], float32 vectors, one row
        each). Chunks of segments written before sentences were embedded are left out."""
        found: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}
        for segment, rows in self._sentence_rows(chunk_ids):
            vectors = np.asarray(segment.sentence_vectors[[r[0] for r in rows]], dtype=np.float32)
            by_chunk: dict[int, list[int]] = {}
            for n, (_, chunk_id, _, _) in enumerate(rows):
                by_chunk.setdefault(chunk_id, []).append(n)
            for chunk_id, members in by_chunk.items():
                found[chunk_id] = ([(rows[n][2], rows[n][3]) for n in members], vectors[members])
        return found

    def best_sentences(self, query: np.ndarray, chunk_ids: Sequence[int]) -> np.ndarray:
        """Each chunk's best sentence cosine with `query`, in the order given; NaN for a
        chunk whose segment has no sentences."""
        given = np.asarray(list(chunk_ids), dtype=np.int64)
        best = np.full(len(given), np.nan, dtype=np.float32)
        self.check()
        wanted = np.setdiff1d(given, self.deleted)
        order = np.argsort(given, kind="stable")
        for segment in self.segments:
            sentence_ids, owners = segment.sentence_ids(segment.own(wanted))
            if len(sentence_ids):
                scores = np.asarray(segment.sentence_vectors[sentence_ids], dtype=np.float32) @ query
                np.fmax.at(best, order[np.searchsorted(given, owners, sorter=order)], scores)
        return best

    def _sentence_rows(self, chunk_ids: Sequence[int]) -> Iterator[tuple[Segment, list[tuple]]]:
        """(segment, its (sentence id, chunk id, start, end) rows) for the live chunks given."""
        self.check()
        wanted = np.setdiff1d(np.asarray(list(chunk_ids), dtype=np.int64), self.deleted)
        for segment in self.segments:
            rows = segment.sentences(segment.own(wanted))
            if rows:
                yield segment, rows

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """One SQL query over every segment's tables, rows concatenated (for tools and tests:
        rows of deleted chunks and replaced articles are included)."""
        return [tuple(row) for segment in self.segments for row in segment.rows_where(sql, params)]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunk rows with article metadata, keyed by chunk id (deleted chunks left out)."""
        return self._by_segment(ids, Segment.chunks)

    def search_tokens(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Chunks' stored search tokens, keyed by chunk id (deleted chunks left out)."""
        return self._by_segment(ids, Segment.search_tokens)

    def _by_segment(self, ids: Sequence[int], read: Callable[[Segment, list[int]], dict[int, T]]) -> dict[int, T]:
        """What `read` gives for the live chunks among `ids`, each read from its segment."""
        wanted = np.setdiff1d(np.asarray(list(ids), dtype=np.int64), self.deleted)
        found: dict[int, T] = {}
        for segment in self.segments:
            found.update(read(segment, [int(i) for i in segment.own(wanted)]))
        return found

    def close(self) -> None:
        """Close every segment, also those a newer reader took over with `reuse`."""
        for segment in self.segments:
            segment.close()
        if "catalog" in self.__dict__:
            self.catalog.close()


class SegmentedLexical:
    """BM25 over all segments of a generation, scored with index-wide statistics.

    Each segment's bm25s index bakes its own idf into its scores; a one-article
    segment's idf says little. Each query term's contribution is therefore rescaled by
    global idf / segment idf, where the global idf counts documents and document
    frequencies over all segments (deleted chunks included until a merge drops them,
    as Lucene does), so scores from segments of any size rank together.
    """

    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader
        self._segments = reader.segments
        self._documents = sum(s.rows for s in self._segments)
        # A generation's segments never change, and a search asks the same tokens'
        # frequencies and weights hundreds of times (every index spelling of every name).
        self._df = lru_cache(maxsize=DF_MEMORY)(self._segments_df)
        self._idf = lru_cache(maxsize=DF_MEMORY)(self._segments_idf)

    def __len__(self) -> int:
        return self._reader.size

    def df(self, token: str) -> int:
        """In how many chunks (deleted ones included until a merge) the token occurs."""
        return self._df(token)

    def _segments_df(self, token: str) -> int:
        return sum(s.lexical.df(token) for s in self._segments)

    def idf(self, token: str) -> float:
        return self._idf(token)

    def _segments_idf(self, token: str) -> float:
        return lucene_idf(self._documents, self.df(token))

    @property
    def parts(self) -> list[LexicalIndex]:
        """Each segment's own BM25 index (for per-segment caches such as a vocabulary's)."""
        return [s.lexical for s in self._segments]

    def contains(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        """For each chunk id, whether the chunk holds any of `tokens`."""
        self._reader.check()
        ids = np.asarray(chunk_ids, dtype=np.int64)
        found = np.zeros(len(ids), dtype=bool)
        for segment in self._segments:
            mine = (ids >= segment.lo) & (ids < segment.hi)
            if mine.any():
                found[mine] = segment.lexical.contains(tokens, ids[mine])
        return found

    def search(
        self, tokens: list[str], k: int, allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        self._reader.check()
        deleted = self._reader.deleted
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        hits: list[tuple[int, float]] = []
        for segment in self._segments:
            weights = None
            if len(self._segments) > 1:
                weights = {
                    t: self.idf(t) / segment.lexical.idf(t) for t in set(tokens)
                    if segment.lexical.df(t)
                }
            own_allowed = segment.own(allowed) if allowed is not None else None
            hits += segment.lexical.search(tokens, k, own_allowed, segment.own(deleted), weights)
        return best_first(hits, k)


def best_first(hits: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    """The k best of several segments' (chunk id, score) hits, best first, equal scores by
    ascending id, so a ranking never depends on how the index is split into segments."""
    ids = np.fromiter((hit[0] for hit in hits), dtype=np.int64, count=len(hits))
    scores = np.fromiter((hit[1] for hit in hits), dtype=np.float64, count=len(hits))
    return [hits[n] for n in np.lexsort((ids, -scores))[:k]]
