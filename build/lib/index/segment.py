"""One immutable segment of an index: chunks, their vectors and their BM25 index.

An index is a list of segments plus a set of deleted chunk ids (see index/store/).
Adding an article writes a new small segment instead of rewriting the big ones, so it
costs the same on a 1,000-chunk and a 1,000,000-chunk index; when a write leaves too many
segments, that write merges the smallest ones before it publishes (synchronously).

A segment's chunk ids are one contiguous range [lo, hi): a chunk's position inside the
segment is `id - lo`, so routing an id to its segment and masking deleted chunks in a
BM25 score array cost no lookups.

Files of a segment folder::

    chunks.sqlite   articles and chunks (offsets into the clean article text)
    vectors.faiss   main-model vectors (exact or approximate, see index/ann.py)
    aux.faiss       second-model vectors, when the index has a second model
    bm25/           lexical index over the chunks' search tokens
    vectors.npy     float16 copies of the vectors, only beside an approximate index
    aux.npy         (which cannot give its vectors back exactly), for later merges
    sentences.npy   float16 main-model vectors of the chunks' sentences, row i for row i
                    of the `sentences` table (segments written before sentences were
                    embedded have neither)
    hubness.npy     each chunk's hubness for each model (index/hubness.py), one column
                    per vector file, under the reference key the manifest entry names

A sentence is one of `index.sentences.sentence_spans` of its chunk's text, kept with
article offsets. Its vector lets ranking see the one sentence squarely on a question
inside a chunk that is only about the same people, and lets an answer pick its quotes
without embedding anything per question.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NotRequired, TypedDict

import faiss
import numpy as np

from index import ann
from index.errors import REBUILD_HINT, IndexCorruptError
from index.lexical import LexicalIndex

CHUNKS_DB = "chunks.sqlite"
VECTORS = "vectors.faiss"
AUX_VECTORS = "aux.faiss"
LEXICAL = "bm25"
RAW_VECTORS = {VECTORS: "vectors.npy", AUX_VECTORS: "aux.npy"}
SENTENCE_VECTORS = "sentences.npy"
HUBNESS = "hubness.npy"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, outlet TEXT, path TEXT,
    hash TEXT NOT NULL, text TEXT NOT NULL,
    minhash BLOB  -- index.duplicates.signature of the text
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL  -- search tokens, space-joined: merges rebuild BM25 without re-tokenising
);
CREATE INDEX chunks_by_article ON chunks(article_id);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY,  -- row of sentences.npy
    chunk_id INTEGER NOT NULL REFERENCES chunks(id),
    start INTEGER NOT NULL, end INTEGER NOT NULL  -- offsets into the article's clean text
);
CREATE INDEX sentences_by_chunk ON sentences(chunk_id);
"""

ARTICLE_COLUMNS = "id, title, date, outlet, path, hash, text"
CHUNK_COLUMNS = "id, article_id, ordinal, start, end, text, tokens"
SENTENCE_COLUMNS = "chunk_id, start, end"


class SegmentEntry(TypedDict):
    """A segment as its generation's manifest lists it."""

    name: str
    lo: int  # its first chunk id
    hi: int  # one past its last chunk id
    vector_index: str  # the FAISS factory string (index/ann.py)
    #: sentences with vectors; absent in a segment written before they were embedded
    sentences: NotRequired[int]
    #: vector file name -> the reference key its column of hubness.npy was measured under
    hubness: NotRequired[dict[str, str]]


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row joined with its article's metadata: everything a citation needs."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str
    date: str | None
    outlet: str | None


@dataclass
class SegmentData:
    """Everything a new segment holds, in memory, rows in chunk-id order from `lo`."""

    lo: int
    articles: list[tuple]  # rows of ARTICLE_COLUMNS, then the signature
    chunks: list[tuple]  # rows of CHUNK_COLUMNS, ids lo, lo+1, ...
    vectors: np.ndarray
    aux_vectors: np.ndarray | None
    sentences: list[tuple] = field(default_factory=list)  # rows of SENTENCE_COLUMNS
    sentence_vectors: np.ndarray | None = None  # one row per sentence
    #: vector file name -> (reference key, one hubness per chunk)
    hubness: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)

    @property
    def hi(self) -> int:
        return self.lo + len(self.chunks)


def write_segment(folder: Path, data: SegmentData, vector_index: str = "auto") -> SegmentEntry:
    """Write `data` as a segment folder; returns its manifest entry (without file records)."""
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / CHUNKS_DB)
    db.executescript(SCHEMA)
    db.executemany(f"INSERT INTO articles ({ARTICLE_COLUMNS}, minhash) VALUES (?,?,?,?,?,?,?,?)", data.articles)
    db.executemany(f"INSERT INTO chunks ({CHUNK_COLUMNS}) VALUES (?,?,?,?,?,?,?)", data.chunks)
    db.executemany(f"INSERT INTO sentences (id, {SENTENCE_COLUMNS}) VALUES (?,?,?,?)",
                   ((row, *sentence) for row, sentence in enumerate(data.sentences)))
    db.commit()
    db.close()
    if data.sentence_vectors is not None and len(data.sentences):
        np.save(folder / SENTENCE_VECTORS, np.asarray(data.sentence_vectors, dtype=np.float16))
    ids = np.arange(data.lo, data.hi, dtype=np.int64)
    LexicalIndex.build(range(data.lo, data.hi), (row[6].split() for row in data.chunks)).save(folder / LEXICAL)
    spec = ann.choose_spec(len(ids), vector_index)
    for name, vectors in ((VECTORS, data.vectors), (AUX_VECTORS, data.aux_vectors)):
        if vectors is None:
            continue
        index = ann.build(vectors, ids, spec)
        faiss.write_index(index, str(folder / name))
        if not ann.is_exact(index):
            np.save(folder / RAW_VECTORS[name], vectors.astype(np.float16))
    entry: SegmentEntry = {"name": folder.name, "lo": data.lo, "hi": data.hi, "vector_index": spec}
    if data.sentence_vectors is not None:
        entry["sentences"] = len(data.sentences)
    if data.hubness:
        names = sorted(data.hubness)
        np.save(folder / HUBNESS, np.stack([data.hubness[n][1] for n in names], axis=1).astype(np.float32))
        entry["hubness"] = {n: data.hubness[n][0] for n in names}
    return entry


class Segment:
    """A read-only view of one segment folder."""

    def __init__(self, folder: Path, entry: SegmentEntry, dimensions: dict[str, int]) -> None:
        self.folder = folder
        self.name = entry["name"]
        self.entry = entry
        self.lo, self.hi = entry["lo"], entry["hi"]
        #: sentences with vectors; None for a segment written before they were embedded
        self.sentence_count = entry.get("sentences")
        self.db = self._open_db()
        self.vectors = {name: self._open_vectors(name, d) for name, d in dimensions.items()}
        #: float16 copies beside approximate indexes, for exact re-scoring
        self.raw = {
            name: ann.RawVectors(folder / RAW_VECTORS[name])
            for name, index in self.vectors.items() if not ann.is_exact(index)
        }

    @property
    def rows(self) -> int:
        """Chunks stored here, deleted ones included."""
        return self.hi - self.lo

    def _open_db(self) -> sqlite3.Connection:
        path = self.folder / CHUNKS_DB
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            (count,) = db.execute("SELECT count(*) FROM chunks").fetchone()
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        if count != self.rows:
            raise IndexCorruptError(
                f"index file {path} holds {count} chunks, the manifest says {self.rows}; {REBUILD_HINT}"
            )
        return db

    def _open_vectors(self, name: str, dimension: int) -> faiss.Index:
        path = self.folder / name
        try:
            vectors = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"index file {path} is unreadable; {REBUILD_HINT}") from exc
        if vectors.ntotal != self.rows or vectors.d != dimension:
            raise IndexCorruptError(f"index file {path} does not match its manifest; {REBUILD_HINT}")
        return vectors

    @cached_property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, loaded on first lexical search (memory-mapped)."""
        lexical = LexicalIndex.load(self.folder / LEXICAL)
        if len(lexical) != self.rows:
            raise IndexCorruptError(
                f"index folder {self.folder / LEXICAL} does not match its manifest; {REBUILD_HINT}"
            )
        return lexical

    def own(self, ids: np.ndarray) -> np.ndarray:
        """The ids (sorted int64) that fall in this segment's range."""
        left, right = np.searchsorted(ids, [self.lo, self.hi])
        return ids[left:right]

    def search(
        self, name: str, query: np.ndarray, k: int, allowed: np.ndarray | None, deleted: np.ndarray,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, score) of one vector index, skipping deleted chunks.

        `allowed` and `deleted` are sorted global id arrays; only this segment's part of
        them becomes a FAISS selector, so the filter is applied inside the search.
        """
        gone = self.own(deleted)
        selector: faiss.IDSelector | None = None
        keep: faiss.IDSelectorBatch | None = None
        if allowed is not None:
            mine = np.setdiff1d(self.own(allowed), gone, assume_unique=True)
            if not len(mine):
                return []
            k = min(k, len(mine))
            keep = faiss.IDSelectorBatch(mine)
            selector = keep
        elif len(gone):
            keep = faiss.IDSelectorBatch(gone)
            selector = faiss.IDSelectorNot(keep)
        k = min(k, self.rows - len(gone))
        if k <= 0:
            return []
        raw = self.raw.get(name)
        fetch = min(k * ann.RERANK, self.rows) if raw is not None else k
        scores, ids = ann.search(self.vectors[name], query, fetch, selector)
        del keep  # the selectors must outlive the search (SWIG does not keep them)
        ids, scores = ids[0][ids[0] >= 0], scores[0][ids[0] >= 0]
        if raw is not None and len(ids):  # exact scores for the approximate candidates
            scores = raw.take(ids - self.lo) @ np.asarray(query, dtype=np.float32).reshape(-1)
            order = np.argsort(-scores, kind="stable")[:k]
            ids, scores = ids[order], scores[order]
        return [(int(i), float(s)) for i, s in zip(ids, scores)]

    def vectors_of(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of these chunk ids of this segment (exact, or the float16 copies
        beside an approximate index)."""
        raw = self.raw.get(name)
        if raw is not None:
            return raw.take(np.asarray(ids, dtype=np.int64) - self.lo)
        index = self.vectors[name]
        return np.stack([index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, index.d), np.float32)

    def all_vectors(self, name: str) -> np.ndarray:
        """Every stored vector in id order (exact copies, or the float16 ones beside an ANN)."""
        raw = self.folder / RAW_VECTORS[name]
        if raw.exists():
            return np.load(raw).astype(np.float32)
        index = self.vectors[name]
        # Only an exact index has no float16 copies, and index/ann.py wraps an exact one
        # in an IndexIDMap2 (read back as one: faiss downcasts what it reads).
        assert isinstance(index, faiss.IndexIDMap)
        inner = faiss.downcast_index(index.index)
        order = np.argsort(faiss.vector_to_array(index.id_map))
        return inner.reconstruct_n(0, index.ntotal)[order]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT c.id, c.article_id, c.ordinal, c.start, c.end, c.text, a.title, a.date, a.outlet "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            list(ids),
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def search_tokens(self, ids: Sequence[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, tokens FROM chunks WHERE id IN ({marks})", list(ids))
        return {chunk_id: tokens.split() for chunk_id, tokens in rows}

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        """Every sentence vector (float16, memory-mapped), row i for sentence id i."""
        path = self.folder / SENTENCE_VECTORS
        if not self.sentence_count:
            return np.zeros((0, 0), dtype=np.float16)
        try:
            vectors = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        if len(vectors) != self.sentence_count:
            raise IndexCorruptError(f"index file {path} does not match its manifest; {REBUILD_HINT}")
        return vectors

    def hubness(self, name: str, key: str) -> np.ndarray | None:
        """Each chunk's stored hubness for the vectors `name`, if measured under `key`."""
        keys = self.entry.get("hubness") or {}
        if keys.get(name) != key:
            return None
        path = self.folder / HUBNESS
        try:
            table = self._hubness_table
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        if table.shape != (self.rows, len(keys)):
            raise IndexCorruptError(f"index file {path} does not match its manifest; {REBUILD_HINT}")
        return table[:, sorted(keys).index(name)]

    @cached_property
    def _hubness_table(self) -> np.ndarray:
        return np.load(self.folder / HUBNESS, mmap_mode="r")

    def sentence_ids(self, chunk_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sentence ids, their chunk ids) of the given chunks (sorted ids of this
        segment), from an array of every sentence's chunk read once: ranking asks this for
        a few hundred chunks per question, too often for a SQLite query each time."""
        order, owners = self._sentences_by_chunk
        first = np.searchsorted(owners, chunk_ids, side="left")
        counts = np.searchsorted(owners, chunk_ids, side="right") - first
        total = int(counts.sum())
        starts = np.repeat(first - (np.cumsum(counts) - counts), counts)
        positions = np.arange(total) + starts
        return order[positions], owners[positions]

    @cached_property
    def _sentences_by_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        """Sentence ids ordered by chunk, and each one's chunk id in that order."""
        if not self.sentence_count:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = self.db.execute("SELECT chunk_id FROM sentences ORDER BY id").fetchall()
        chunk_of = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        order = np.argsort(chunk_of, kind="stable")
        return order, chunk_of[order]

    def sentences(self, chunk_ids: Sequence[int] | np.ndarray) -> list[tuple[int, int, int, int]]:
        """(sentence id, chunk id, start, end) of the given chunks' sentences, in order."""
        if not len(chunk_ids) or not self.sentence_count:
            return []
        return self.db.execute(
            f"SELECT id, {SENTENCE_COLUMNS} FROM sentences "
            "WHERE chunk_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps([int(i) for i in chunk_ids]),),
        ).fetchall()

    @cached_property
    def has_signatures(self) -> bool:
        """Whether the articles table keeps signatures (segments written before do not)."""
        return any(row[1] == "minhash" for row in self.db.execute("PRAGMA table_info(articles)"))

    def article_rows(self, article_ids: Sequence[str]) -> list[tuple]:
        """Rows of ARTICLE_COLUMNS plus the signature (None where it was not kept)."""
        signature = "minhash" if self.has_signatures else "NULL"
        return self.db.execute(
            f"SELECT {ARTICLE_COLUMNS}, {signature} FROM articles WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(article_ids), ensure_ascii=False),),
        ).fetchall()

    def signatures(self, article_ids: Sequence[str]) -> dict[str, bytes]:
        """The kept signatures of these articles (none for segments written before)."""
        if not self.has_signatures:
            return {}
        return {
            row[0]: row[1] for row in self.db.execute(
                "SELECT id, minhash FROM articles WHERE id IN (SELECT value FROM json_each(?)) "
                "AND minhash IS NOT NULL", (json.dumps(list(article_ids), ensure_ascii=False),),
            )
        }

    def chunk_ids_of(self, article_id: str) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]

    def rows_where(self, sql: str, params: Iterable[object]) -> Iterable[tuple]:
        return self.db.execute(sql, list(params))

    def close(self) -> None:
        self.db.close()
        for raw in self.raw.values():
            raw.close()
