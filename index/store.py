"""The index on disk: FAISS vectors + SQLite chunk metadata + a JSON manifest.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically
    lock               held by the one writer
    gen-000007/        one complete, immutable generation
        manifest.json  model, dimension, chunking settings, article content hashes
        chunks.sqlite  articles and chunks (offsets into the clean text)
        vectors.faiss  inner-product index over normalised vectors, ids = chunk ids
        aux.faiss      the same for the second embedding model, when one is configured
        bm25/          lexical index over the chunks' search tokens, ids = chunk ids

A writer copies the live generation into a temporary folder, changes the copy and
publishes it by renaming it and then replacing CURRENT. Readers open whatever CURRENT
names, so an interrupted or concurrent write never shows them a half-built index, and
readers that opened the previous generation keep working while it lingers (the newest
two generations are kept).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.errors import IndexCorruptError, IndexLockedError, IndexMissingError
from index.lexical import LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS_DB = "chunks.sqlite"
VECTORS = "vectors.faiss"
AUX_VECTORS = "aux.faiss"
LEXICAL = "bm25"
CURRENT = "CURRENT"
KEEP_GENERATIONS = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, outlet TEXT, path TEXT,
    hash TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL  -- search tokens, space-joined: BM25 is rebuilt without re-tokenising
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
"""

REBUILD_HINT = "run `qa index --rebuild FOLDER` to rebuild it"


@dataclass
class Manifest:
    """What an index was built with; a mismatch means its vectors cannot be reused."""

    model: str
    dimension: int
    chunking: dict[str, object]
    articles: dict[str, str] = field(default_factory=dict)  # article id -> content hash
    chunk_count: int = 0
    aux_model: str | None = None
    aux_dimension: int = 0
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown index format {data.get('format')!r}")
        return cls(**data)


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


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder (what CURRENT names), or None before the first build."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {pointer}: {exc}; {REBUILD_HINT}") from exc
    generation = index_dir / name
    if not name.startswith("gen-") or not generation.is_dir():
        raise IndexCorruptError(f"{pointer} names a missing generation {name!r}; {REBUILD_HINT}")
    return generation


def read_manifest(index_dir: Path) -> Manifest | None:
    """The live manifest, or None when no index has been built here yet."""
    generation = current_generation(index_dir)
    return None if generation is None else _manifest_of(generation)


def _manifest_of(generation: Path) -> Manifest:
    path = generation / MANIFEST
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc


class IndexReader:
    """A read-only view of one generation: vector search and chunk lookup."""

    def __init__(self, index_dir: Path) -> None:
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexMissingError(
                f"no index in {index_dir}; build one with `qa index FOLDER` "
                "(e.g. `qa index seeds/`)"
            )
        self.generation = generation
        self.manifest = _manifest_of(generation)
        self._db = self._open_db(generation / CHUNKS_DB)
        self._vectors = self._open_vectors(generation / VECTORS, self.manifest.dimension)
        self._aux = (
            self._open_vectors(generation / AUX_VECTORS, self.manifest.aux_dimension)
            if self.manifest.aux_model else None
        )

    def _open_db(self, path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            (count,) = db.execute("SELECT count(*) FROM chunks").fetchone()
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        if count != self.manifest.chunk_count:
            raise IndexCorruptError(
                f"index file {path} holds {count} chunks, the manifest says "
                f"{self.manifest.chunk_count}; {REBUILD_HINT}"
            )
        return db

    def _open_vectors(self, path: Path, dimension: int) -> faiss.Index:
        try:
            vectors = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"index file {path} is unreadable; {REBUILD_HINT}") from exc
        if vectors.ntotal != self.manifest.chunk_count or vectors.d != dimension:
            raise IndexCorruptError(
                f"index file {path} does not match its manifest; {REBUILD_HINT}"
            )
        return vectors

    @cached_property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, loaded on first lexical search (memory-mapped)."""
        lexical = LexicalIndex.load(self.generation / LEXICAL)
        if len(lexical) != self.size:
            raise IndexCorruptError(
                f"index folder {self.generation / LEXICAL} does not match its manifest; {REBUILD_HINT}"
            )
        return lexical

    @property
    def size(self) -> int:
        return int(self._vectors.ntotal)

    def search(
        self, query: np.ndarray, k: int, aux: bool = False, allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, inner product) pairs, best first, from the main or second model.

        `allowed` restricts the search to those chunk ids (a filter by article or date)
        inside FAISS, so a filter never leaves fewer than k results when k exist.
        """
        vectors = self._aux if aux else self._vectors
        k = min(k, self.size)
        if k <= 0 or vectors is None or (allowed is not None and not len(allowed)):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
        scores, ids = vectors.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def chunk_ids_where(
        self, sources: Sequence[str] = (), date_from: str | None = None, date_to: str | None = None,
    ) -> np.ndarray:
        """Ids of the chunks of the given articles and/or published in [date_from, date_to].

        Dates are ISO `YYYY-MM-DD`; an article without a date never matches a date range.
        """
        clauses, params = [], []
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
        rows = self._db.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id {where}", params
        )
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def articles(self) -> list[tuple[str, str, str | None]]:
        """(id, title, date) of every indexed article, newest first, for pickers."""
        rows = self._db.execute("SELECT id, title, date FROM articles ORDER BY date DESC, id")
        return [tuple(row) for row in rows]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunk rows with article metadata, keyed by chunk id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            "SELECT c.id, c.article_id, c.ordinal, c.start, c.end, c.text, a.title, a.date, a.outlet "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            list(ids),
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def close(self) -> None:
        self._db.close()


@contextmanager
def writer_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """One writer per index directory; a second one is refused with a clear message."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"another `qa index` is writing {index_dir}; wait for it to finish"
            ) from exc
        yield


class IndexWriter:
    """Changes a private copy of the live generation, then publishes it atomically.

    Use inside `writer_lock`. Nothing is visible to readers until `publish`.
    """

    def __init__(self, index_dir: Path, manifest: Manifest, start_fresh: bool) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self._work = Path(tempfile.mkdtemp(prefix=".tmp-gen-", dir=index_dir))
        live = None if start_fresh else current_generation(index_dir)
        if live is not None:
            shutil.copy2(live / CHUNKS_DB, self._work / CHUNKS_DB)
            self._vectors = faiss.read_index(str(live / VECTORS))
            self._aux = faiss.read_index(str(live / AUX_VECTORS)) if manifest.aux_model else None
        else:
            self._vectors = _empty_vectors(manifest.dimension)
            self._aux = _empty_vectors(manifest.aux_dimension) if manifest.aux_model else None
        self._db = sqlite3.connect(self._work / CHUNKS_DB)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.executescript(SCHEMA)

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        for article_id in article_ids:
            ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
            if ids:
                for vectors in self._all_vectors():
                    vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self.manifest.articles.pop(article_id, None)

    def add_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        aux_vectors: np.ndarray | None = None,
    ) -> None:
        """Store one article; `vectors[i]`, `tokens[i]`, `aux_vectors[i]` are `chunks[i]`'s."""
        self._db.execute(
            "INSERT INTO articles (id, title, date, outlet, path, hash, text) VALUES (?,?,?,?,?,?,?)",
            (article.id, article.title, article.date, article.outlet, article.path,
             article.content_hash, article.text),
        )
        ids = []
        for chunk, chunk_tokens in zip(chunks, tokens, strict=True):
            cursor = self._db.execute(
                "INSERT INTO chunks (article_id, ordinal, start, end, text, tokens) VALUES (?,?,?,?,?,?)",
                (chunk.article_id, chunk.ordinal, chunk.start, chunk.end, chunk.text,
                 " ".join(chunk_tokens)),
            )
            ids.append(cursor.lastrowid)
        if ids:
            chunk_ids = np.asarray(ids, dtype=np.int64)
            self._vectors.add_with_ids(np.asarray(vectors, dtype=np.float32), chunk_ids)
            if self._aux is not None:
                self._aux.add_with_ids(np.asarray(aux_vectors, dtype=np.float32), chunk_ids)
        self.manifest.articles[article.id] = article.content_hash

    def publish(self) -> Path:
        """Write everything, make it the live generation, drop old generations."""
        self._db.commit()
        (self.manifest.chunk_count,) = self._db.execute("SELECT count(*) FROM chunks").fetchone()
        rows = self._db.execute("SELECT id, tokens FROM chunks ORDER BY id").fetchall()
        self._db.close()
        LexicalIndex.build([r[0] for r in rows], [r[1].split() for r in rows]).save(self._work / LEXICAL)
        faiss.write_index(self._vectors, str(self._work / VECTORS))
        if self._aux is not None:
            faiss.write_index(self._aux, str(self._work / AUX_VECTORS))
        (self._work / MANIFEST).write_text(self.manifest.to_json(), encoding="utf-8")
        _fsync_dir_files(self._work)
        generation = self.index_dir / f"gen-{_next_generation_number(self.index_dir):06d}"
        os.rename(self._work, generation)
        _atomic_write(self.index_dir / CURRENT, generation.name)
        _prune(self.index_dir, keep=generation.name)
        return generation

    def _all_vectors(self) -> list[faiss.Index]:
        return [v for v in (self._vectors, self._aux) if v is not None]

    def discard(self) -> None:
        self._db.close()
        shutil.rmtree(self._work, ignore_errors=True)


def _empty_vectors(dimension: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def _next_generation_number(index_dir: Path) -> int:
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return max(numbers, default=0) + 1


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_dir_files(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _prune(index_dir: Path, keep: str) -> None:
    """Remove unfinished temp folders and all but the newest generations."""
    for tmp in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    for old in generations[:-KEEP_GENERATIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
