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
readers that opened the previous generation keep working while it lingers (the live and
the previously live generation are kept). A writer killed half-way leaves a `.tmp-gen-*`
folder; the next writer removes it as soon as it holds the lock.

Integrity: the manifest records the size and SHA-256 of every other file of its
generation, and a checksum of its own content. A reader checks the manifest, the sizes
and (once per process per file) the hashes before it trusts a generation, so a truncated
or bit-flipped file is reported by name instead of giving wrong answers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
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
GENERATION_NAME = re.compile(r"gen-[0-9]{6,}")
TEMP_PREFIX = ".tmp-gen-"
HASH = "sha256"  # with SHA-NI twice blake2b's speed: 154 MB in 0.22 s vs 0.40 s here

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
    #: path inside the generation -> {"size": bytes, "sha256": hex}, filled by `publish`.
    #: Empty in indexes written before integrity checks: those get the count checks only.
    files: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_json(self) -> str:
        data = dict(self.__dict__)
        data["checksum"] = _checksum(data)
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        checksum = data.pop("checksum", None)  # absent in manifests of older versions
        if checksum is not None and checksum != _checksum(data):
            raise ValueError("its checksum does not match its content")
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown index format {data.get('format')!r}")
        return cls(**data)


def _checksum(data: dict[str, object]) -> str:
    """SHA-256 of the manifest's content in a canonical form (key order, no whitespace)."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
        name = pointer.read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"index file {pointer} is unreadable ({exc}); {REBUILD_HINT}") from exc
    generation = index_dir / name
    if not GENERATION_NAME.fullmatch(name) or not generation.is_dir():
        raise IndexCorruptError(
            f"index file {pointer} names a missing generation {name!r}; {REBUILD_HINT}"
        )
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


def verify_generation(generation: Path, manifest: Manifest) -> None:
    """Raise IndexCorruptError naming the first file whose size or hash is not the manifest's.

    Sizes are checked on every call (a stat each). Hashes are checked once per process
    per file version (path, inode, size, mtime): a server reopening a generation, or a
    writer copying the one a reader already checked, does not read it all again.
    """
    expected = sorted(manifest.files.items())
    stats = {}
    for name, record in expected:
        path = generation / name
        try:
            stats[name] = stat = path.stat()
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is missing ({exc.strerror}); {REBUILD_HINT}") from exc
        if stat.st_size != record["size"]:
            raise IndexCorruptError(
                f"index file {path} has {stat.st_size} bytes, the manifest says "
                f"{record['size']}; {REBUILD_HINT}"
            )
    for name, record in expected:
        path, stat = generation / name, stats[name]
        key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, record[HASH])
        if key in _VERIFIED:
            continue
        try:
            digest = _file_digest(path)
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc.strerror}); {REBUILD_HINT}") from exc
        if digest != record[HASH]:
            raise IndexCorruptError(
                f"index file {path} is damaged (its {HASH} is not the one recorded at "
                f"indexing); {REBUILD_HINT}"
            )
        _VERIFIED.add(key)


#: Files whose hash this process has checked, see `verify_generation`.
_VERIFIED: set[tuple[object, ...]] = set()


def _file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, HASH).hexdigest()


def _file_records(folder: Path) -> dict[str, dict[str, object]]:
    """Size and hash of every file under `folder` except the manifest, by relative path."""
    return {
        path.relative_to(folder).as_posix(): {"size": path.stat().st_size, HASH: _file_digest(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


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
        verify_generation(generation, self.manifest)  # before any file is parsed
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
    """One writer per index directory; a second one is refused with a clear message.

    The lock is an flock, so the kernel releases it when its holder dies, even by
    SIGKILL. Whoever holds it is the only writer, so it first removes what killed
    writers left behind (their temp folders), which would otherwise pile up.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"another `qa index` is writing {index_dir}; wait for it to finish"
            ) from exc
        remove_stale_work(index_dir)
        yield


def remove_stale_work(index_dir: Path) -> None:
    """Delete unfinished temp folders of writers that died; only call holding the lock."""
    for tmp in index_dir.glob(f"{TEMP_PREFIX}*"):
        shutil.rmtree(tmp, ignore_errors=True)
    (index_dir / f".{CURRENT}.tmp").unlink(missing_ok=True)


class IndexWriter:
    """Changes a private copy of the live generation, then publishes it atomically.

    Use inside `writer_lock`. Nothing is visible to readers until `publish`.
    """

    def __init__(self, index_dir: Path, manifest: Manifest, start_fresh: bool) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        live = None if start_fresh else current_generation(index_dir)
        if live is not None:  # never carry damaged data into a new, freshly hashed generation
            verify_generation(live, _manifest_of(live))
        self._work = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=index_dir))
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
        self.manifest.files = _file_records(self._work)
        (self._work / MANIFEST).write_text(self.manifest.to_json(), encoding="utf-8")
        _fsync_dir_files(self._work)
        previous = _live_name(self.index_dir)
        generation = self.index_dir / f"gen-{_next_generation_number(self.index_dir):06d}"
        os.rename(self._work, generation)
        _fsync_dir(self.index_dir)
        _atomic_write(self.index_dir / CURRENT, generation.name)
        _fsync_dir(self.index_dir)
        _prune(self.index_dir, keep={generation.name, previous})
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


def _fsync_dir(folder: Path) -> None:
    """Make renames inside `folder` durable (a power cut after publish keeps them)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _live_name(index_dir: Path) -> str | None:
    """What CURRENT names, without judging it (a rebuild may be replacing a damaged one)."""
    try:
        return (index_dir / CURRENT).read_bytes().decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _fsync_dir_files(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _prune(index_dir: Path, keep: set[str | None]) -> None:
    """Remove unfinished temp folders and every generation but the new and previous live one.

    Keeping by name rather than "the newest two" also removes a generation that a killed
    writer renamed into place but never made live (it was never CURRENT, nobody reads it).
    """
    remove_stale_work(index_dir)
    for old in index_dir.glob("gen-*"):
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
