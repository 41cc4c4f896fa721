"""The index on disk: generations of immutable segments, published atomically.

Layout of an index directory::

    CURRENT              name of the live generation, replaced atomically
    lock                 held by the one writer
    gen-000007/          one complete generation
        manifest.json    model, chunking, segments, file sizes and hashes
        catalog.sqlite   the articles: content hash and segment of each (index/catalog.py)
        deleted.npy      ids of deleted chunks (tombstones), when there are any
        seg-000003/      a segment (index/segment.py): SQLite, FAISS, BM25
        seg-000009/      ...

Writes never touch a published file. A writer makes a temporary folder, hard-links the
live generation's segments into it (no copying: a link per file), writes the new
articles as a new small segment, records deletions as tombstones, and publishes the
folder by renaming it and then replacing CURRENT. The article catalog is the one file a
write copies and changes (14 MB for the 100k articles of a million chunks). So adding or deleting one article
costs about the same on a 1M-chunk index as on a small one, readers never see a
half-written index, and readers of the previous generation keep working while it
lingers (the live and the previously live generation are kept). When there are more
than MAX_SEGMENTS segments, the smallest ones are merged into one, dropping their
deleted chunks. A writer killed half-way leaves a `.tmp-gen-*` folder; the next writer
removes it as soon as it holds the lock.

Integrity: the manifest records the size and SHA-256 of every file of its generation
and a checksum of its own content. A reader checks the manifest and all sizes when it
opens a generation, and the hashes once per process per file: small files before the
first search, files over BACKGROUND_HASH_BYTES (a 1M-chunk index has gigabytes) in a
background thread, so a server starts answering at once and a damaged file found
meanwhile fails every later search with the file's name, never wrong answers after.
"""

from __future__ import annotations

import fcntl
import hashlib
import heapq
import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.catalog import CATALOG, Catalog
from index.duplicates import signature
from index.errors import REBUILD_HINT, IndexCorruptError, IndexLockedError, IndexMissingError
from index.hubness import Hubness
from index.lexical import LexicalIndex, lucene_idf
from index.segment import (
    ARTICLE_COLUMNS, AUX_VECTORS, CHUNK_COLUMNS, CHUNKS_DB, VECTORS,
    Segment, SegmentData, StoredChunk, write_segment,
)

if TYPE_CHECKING:  # not imported at run time: readers (`qa serve`) need neither
    from index.articles import Article
    from index.chunking import Chunk

FORMAT_VERSION = 3
#: Format 2 kept the article catalog inside the manifest; it is still read (and a write
#: moves it into catalog.sqlite), so an index made before is not lost.
LEGACY_FORMAT = 2
MANIFEST = "manifest.json"
DELETED = "deleted.npy"
CURRENT = "CURRENT"
GENERATION_NAME = re.compile(r"gen-[0-9]{6,}")
TEMP_PREFIX = ".tmp-gen-"
HASH = "sha256"  # with SHA-NI (x86 since 2017) it measured faster than blake2b here
#: Above this many segments, a write merges the smallest ones.
MAX_SEGMENTS = 8
#: Files at least this large are hashed in the background when a reader opens them.
BACKGROUND_HASH_BYTES = 64 * 2**20


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
    format: int = FORMAT_VERSION
    #: path inside the generation -> {"size": bytes, "sha256": hex}, filled by `publish`.
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    #: {"name", "lo", "hi", "vector_index"} of each segment, oldest first.
    segments: list[dict[str, object]] = field(default_factory=list)
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


def verify_generation(
    generation: Path, files: dict[str, dict[str, object]], hashes: bool = True,
) -> list[Path]:
    """Raise IndexCorruptError naming the first file whose size or hash is not recorded.

    `files` is a manifest's `files` (or part of it). Sizes are checked on every call (a
    stat each). Hashes are checked once per process per file version (device, inode,
    size, mtime): hard-linked segments of a newer generation, or a server reopening
    one, are not read again. With `hashes=False` nothing is read; the files whose hash
    this process has not checked yet are returned, for a later check.
    """
    unchecked = []
    for name, record in sorted(files.items()):
        path = generation / name
        try:
            stat = path.stat()
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is missing ({exc.strerror}); {REBUILD_HINT}") from exc
        if stat.st_size != record["size"]:
            raise IndexCorruptError(
                f"index file {path} has {stat.st_size} bytes, the manifest says "
                f"{record['size']}; {REBUILD_HINT}"
            )
        if _version_key(stat, record) not in _VERIFIED:
            unchecked.append(path)
    if hashes:
        for path in unchecked:
            verify_file(path, files[path.relative_to(generation).as_posix()])
        return []
    return unchecked


def verify_file(path: Path, record: dict[str, object]) -> None:
    """Hash one file against its manifest record (remembered once it matched)."""
    try:
        stat = path.stat()
        digest = _file_digest(path)
    except OSError as exc:
        raise IndexCorruptError(f"index file {path} is unreadable ({exc.strerror}); {REBUILD_HINT}") from exc
    if digest != record[HASH]:
        raise IndexCorruptError(
            f"index file {path} is damaged (its {HASH} is not the one recorded at "
            f"indexing); {REBUILD_HINT}"
        )
    _VERIFIED.add(_version_key(stat, record))


def _version_key(stat: os.stat_result, record: dict[str, object]) -> tuple[object, ...]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, record[HASH])


#: File versions whose hash this process has checked, see `verify_generation`.
_VERIFIED: set[tuple[object, ...]] = set()


def _file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, HASH).hexdigest()


def _file_records(folder: Path, prefix: str = "") -> dict[str, dict[str, object]]:
    """Size and hash of every file under `folder` except the manifest, by relative path."""
    return {
        prefix + path.relative_to(folder).as_posix(): {"size": path.stat().st_size, HASH: _file_digest(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def open_catalog(generation: Path, manifest: Manifest) -> Catalog:
    """The generation's article catalog, read-only (checked against the manifest first)."""
    if manifest.legacy_catalog is not None:
        return Catalog.in_memory(manifest.legacy_catalog)
    if CATALOG not in manifest.files:
        raise IndexCorruptError(f"index {generation} has no article catalog; {REBUILD_HINT}")
    verify_generation(generation, {CATALOG: manifest.files[CATALOG]})
    return Catalog.open(generation / CATALOG)


def article_rows(generation: Path, manifest: Manifest, ids: Sequence[str]) -> list[tuple]:
    """Rows (ARTICLE_COLUMNS) of the live version of each of `ids`, read only from the
    SQLite file of the segment that holds it, after checking that file's hash."""
    catalog = open_catalog(generation, manifest)
    try:
        placement = catalog.segments(ids)
    finally:
        catalog.close()
    by_segment: dict[str, list[str]] = {}
    for article_id, segment in placement.items():
        by_segment.setdefault(segment, []).append(article_id)
    rows = []
    for segment, wanted in sorted(by_segment.items()):
        name = f"{segment}/{CHUNKS_DB}"
        verify_generation(generation, {name: manifest.files[name]})
        db = sqlite3.connect(f"file:{generation / name}?mode=ro", uri=True)
        try:
            rows += db.execute(
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted, ensure_ascii=False),),
            ).fetchall()
        finally:
            db.close()
    return rows


def _load_deleted(generation: Path, manifest: Manifest) -> np.ndarray:
    if not manifest.deleted_count:
        return np.zeros(0, dtype=np.int64)
    path = generation / DELETED
    try:
        deleted = np.load(path)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
    if len(deleted) != manifest.deleted_count:
        raise IndexCorruptError(f"index file {path} does not match its manifest; {REBUILD_HINT}")
    return deleted.astype(np.int64)


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
        self.manifest = _manifest_of(generation)
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
        self.deleted = _load_deleted(generation, self.manifest)
        opened = {reuse._segment_key(s.name): s for s in reuse.segments} if reuse else {}
        self.segments = [
            opened.get(self._segment_key(str(entry["name"])))
            or Segment(generation / str(entry["name"]), entry, self.manifest.dimensions)
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
        return heapq.nsmallest(k, hits, key=lambda hit: (-hit[1], hit[0]))

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
        position = {chunk_id: n for n, chunk_id in enumerate(chunk_ids)}
        best = np.full(len(position), np.nan, dtype=np.float32)
        for segment, rows in self._sentence_rows(chunk_ids):
            scores = np.asarray(segment.sentence_vectors[[r[0] for r in rows]], dtype=np.float32) @ query
            owners = np.array([position[r[1]] for r in rows])
            np.fmax.at(best, owners, scores)
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
        wanted = np.setdiff1d(np.asarray(list(ids), dtype=np.int64), self.deleted)
        found: dict[int, StoredChunk] = {}
        for segment in self.segments:
            found.update(segment.chunks([int(i) for i in segment.own(wanted)]))
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

    def __len__(self) -> int:
        return self._reader.size

    def _documents(self) -> int:
        return sum(s.rows for s in self._segments)

    def df(self, token: str) -> int:
        """In how many chunks (deleted ones included until a merge) the token occurs."""
        return sum(s.lexical.df(token) for s in self._segments)

    def idf(self, token: str) -> float:
        return lucene_idf(self._documents(), self.df(token))

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
        hits = []
        for segment in self._segments:
            weights = None
            if len(self._segments) > 1:
                weights = {
                    t: self.idf(t) / segment.lexical.idf(t) for t in set(tokens)
                    if segment.lexical.df(t)
                }
            own_allowed = segment.own(allowed) if allowed is not None else None
            hits += segment.lexical.search(tokens, k, own_allowed, segment.own(deleted), weights)
        return heapq.nsmallest(k, hits, key=lambda hit: (-hit[1], hit[0]))


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


@dataclass
class _Staged:
    """One article waiting in a writer, with everything its segment rows need."""

    article: Article
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    tokens: Sequence[Sequence[str]]
    aux_vectors: np.ndarray | None
    sentences: Sequence[tuple[int, int, int]]
    sentence_vectors: np.ndarray | None


class IndexWriter:
    """Prepares the next generation in a private folder, then publishes it atomically.

    Use inside `writer_lock`. Nothing is visible to readers until `publish`.
    """

    def __init__(
        self, index_dir: Path, manifest: Manifest, start_fresh: bool, vector_index: str = "auto",
        live_manifest: Manifest | None = None, hubness: Mapping[str, Hubness] | None = None,
    ) -> None:
        """`live_manifest` is the live generation's manifest if the caller has just read
        it under the lock (it is not read again: a 1M-chunk index's takes a while).
        `hubness` (vector file name -> Hubness) makes each new segment store its chunks'
        hubness, so searches need not compute it."""
        self.index_dir = index_dir
        self.manifest = manifest
        self.vector_index = vector_index
        self.hubness = dict(hubness or {})
        self._live = None if start_fresh else current_generation(index_dir)
        self._previous = None
        if self._live is not None:
            self._previous = live_manifest or _manifest_of(self._live)
        if self._previous is not None:
            # Sizes only: linked segments keep the hashes recorded when they were written,
            # so damage stays detectable by every reader; what this write reads (the
            # catalog it copies, segments it merges) is hashed before it is read.
            verify_generation(self._live, self._previous.files, hashes=False)
            for name in ("segments", "next_chunk_id", "next_segment"):
                setattr(manifest, name, _copied(getattr(self._previous, name)))
            self._deleted = set(_load_deleted(self._live, self._previous).tolist())
        else:
            manifest.segments, self._deleted = [], set()
            manifest.next_chunk_id = manifest.next_segment = 1
        self._work = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=index_dir))
        try:
            self.catalog = (self._copied_catalog(self._previous) if self._previous is not None
                            else Catalog.writable(self._work / CATALOG))
        except BaseException:
            shutil.rmtree(self._work, ignore_errors=True)
            raise
        self._opened: dict[str, Segment] = {}
        #: file records of every segment this generation may hold: linked ones keep theirs
        self._records = {n: r for n, r in (self._previous.files if self._previous else {}).items()
                         if n != CATALOG}
        self._pending: dict[str, _Staged] = {}

    def _copied_catalog(self, previous: Manifest) -> Catalog:
        """The live catalog copied into the work folder (a format-2 manifest's, written out)."""
        path = self._work / CATALOG
        if previous.legacy_catalog is not None:
            catalog = Catalog.writable(path)
            catalog.put(previous.legacy_catalog)
            return catalog
        open_catalog(self._live, previous).close()  # hashed: a damaged copy must not be laundered
        return Catalog.writable(path, copy_of=self._live / CATALOG)

    def _segment(self, name: str) -> Segment:
        """A live segment, opened on first use (only deletions and merges need one)."""
        if name not in self._opened:
            entry = next(e for e in self.manifest.segments if e["name"] == name)
            self._opened[name] = Segment(self._live / name, entry, self.manifest.dimensions)
        return self._opened[name]

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        """Delete articles: their chunks become tombstones until a merge drops them."""
        for article_id in article_ids:
            self._pending.pop(article_id, None)
        placement = self.catalog.segments(article_ids)
        for article_id, segment in placement.items():
            self._deleted.update(self._segment(segment).chunk_ids_of(article_id))
        self.catalog.delete(list(placement))

    def add_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
        aux_vectors: np.ndarray | None = None,
        sentences: Sequence[tuple[int, int, int]] = (),
        sentence_vectors: np.ndarray | None = None,
    ) -> None:
        """Stage one article; `vectors[i]`, `tokens[i]`, `aux_vectors[i]` are `chunks[i]`'s,
        and `sentence_vectors[j]` is that of `sentences[j]` = (i, start, end): a sentence of
        `chunks[i]`, with article offsets."""
        if len(chunks) != len(tokens):
            raise ValueError(f"{len(chunks)} chunks but {len(tokens)} token lists")
        if sentence_vectors is not None and len(sentence_vectors) != len(sentences):
            raise ValueError(f"{len(sentences)} sentences but {len(sentence_vectors)} sentence vectors")
        if article.id in self.catalog:
            raise ValueError(f"article {article.id!r} is already indexed; remove it first")
        self._pending[article.id] = _Staged(article, chunks, vectors, tokens, aux_vectors, sentences,
                                            sentence_vectors)

    def publish(self) -> Path:
        """Write the new segment, link the kept ones, merge if needed, make it live."""
        fresh_before = set(self._records)
        if self._pending:
            data = self._staged_data()
            self._pending.clear()  # the staged copies are all that is needed now
            self._write_segment(data)
            del data
        self._link_kept_segments()
        if len(self.manifest.segments) > MAX_SEGMENTS:
            self._merge_smallest()
        names = {str(e["name"]) for e in self.manifest.segments}
        records = {n: r for n, r in self._records.items() if n.split("/", 1)[0] in names}
        deleted = np.array(sorted(self._deleted), dtype=np.int64)
        if len(deleted):
            np.save(self._work / DELETED, deleted)
            records[DELETED] = {"size": (self._work / DELETED).stat().st_size,
                                HASH: _file_digest(self._work / DELETED)}
        self.manifest.deleted_count = len(deleted)
        stored = sum(int(e["hi"]) - int(e["lo"]) for e in self.manifest.segments)
        self.manifest.chunk_count = stored - len(deleted)
        self.manifest.article_count = len(self.catalog)
        self.catalog.save()
        records[CATALOG] = {"size": (self._work / CATALOG).stat().st_size,
                            HASH: _file_digest(self._work / CATALOG)}
        self.manifest.files = dict(sorted(records.items()))
        (self._work / MANIFEST).write_text(self.manifest.to_json(), encoding="utf-8")
        written = [n for n in records if n not in fresh_before]  # linked files are durable already
        _fsync_files([self._work / n for n in written] + [self._work / MANIFEST]
                     + ([self._work / DELETED] if len(deleted) else []))
        self._close_opened()
        previous = _live_name(self.index_dir)
        generation = self.index_dir / f"gen-{_next_generation_number(self.index_dir):06d}"
        os.rename(self._work, generation)
        _fsync_dir(self.index_dir)
        _atomic_write(self.index_dir / CURRENT, generation.name)
        _fsync_dir(self.index_dir)
        _prune(self.index_dir, keep={generation.name, previous})
        return generation

    def _staged_data(self) -> SegmentData:
        """The staged articles as one segment's rows, numbered from the next free chunk id."""
        lo = self.manifest.next_chunk_id
        articles, chunk_rows, vectors, aux, sentence_rows, sentence_vectors = [], [], [], [], [], []
        embeds_sentences = all(s.sentence_vectors is not None for s in self._pending.values())
        for staged in self._pending.values():
            article = staged.article
            articles.append((article.id, article.title, article.date, article.outlet, article.path,
                             article.content_hash, article.text, signature(article.text)))
            first = lo + len(chunk_rows)
            for chunk, chunk_tokens in zip(staged.chunks, staged.tokens):
                chunk_rows.append((lo + len(chunk_rows), chunk.article_id, chunk.ordinal, chunk.start,
                                   chunk.end, chunk.text, " ".join(chunk_tokens)))
            if len(staged.chunks):
                vectors.append(np.asarray(staged.vectors, dtype=np.float32))
                if AUX_VECTORS in self.manifest.dimensions:
                    aux.append(np.asarray(staged.aux_vectors, dtype=np.float32))
            if embeds_sentences and len(staged.sentences):
                sentence_rows += [(first + i, start, end) for i, start, end in staged.sentences]
                sentence_vectors.append(np.asarray(staged.sentence_vectors, dtype=np.float32))
        return SegmentData(
            lo, articles, chunk_rows,
            _stack(vectors, self.manifest.dimension),
            _stack(aux, self.manifest.aux_dimension) if AUX_VECTORS in self.manifest.dimensions else None,
            sentence_rows,
            _stack(sentence_vectors, self.manifest.dimension) if embeds_sentences else None,
        )

    def _write_segment(self, data: SegmentData) -> None:
        """Write a segment into the work folder and register it and its file records."""
        name = f"seg-{self.manifest.next_segment:06d}"
        self.manifest.next_segment += 1
        self.manifest.next_chunk_id = data.hi
        for vectors_name, vectors in ((VECTORS, data.vectors), (AUX_VECTORS, data.aux_vectors)):
            if vectors_name in self.hubness and vectors is not None:
                hub = self.hubness[vectors_name]
                data.hubness[vectors_name] = (hub.key, hub.of(vectors))
        entry = write_segment(self._work / name, data, self.vector_index)
        self.manifest.segments.append(entry)
        self.catalog.put((row[0], row[5], name) for row in data.articles)  # ARTICLE_COLUMNS order
        self._records.update(_file_records(self._work / name, prefix=f"{name}/"))

    def _live_rows(self, entry: dict[str, object]) -> int:
        lo, hi = int(entry["lo"]), int(entry["hi"])
        return hi - lo - sum(1 for i in self._deleted if lo <= i < hi)

    def _link_kept_segments(self) -> None:
        """Hard-link every live segment still holding something; forget emptied ones."""
        holders = self.catalog.holders()
        kept: list[dict[str, object]] = []
        for entry in self.manifest.segments:
            name = str(entry["name"])
            if (self._work / name).exists():  # written by this writer
                kept.append(entry)
            elif self._live_rows(entry) > 0 or name in holders:
                _link_tree(self._live / name, self._work / name)
                kept.append(entry)
            else:  # every chunk deleted: drop it and its tombstones
                self._forget_ids(entry)
        self.manifest.segments = kept

    def _forget_ids(self, entry: dict[str, object]) -> None:
        lo, hi = int(entry["lo"]), int(entry["hi"])
        self._deleted = {i for i in self._deleted if not lo <= i < hi}

    def _merge_smallest(self) -> None:
        """Merge the smallest segments into one, leaving MAX_SEGMENTS // 2 + 1 in all.

        Only the small ones are read and rewritten, so the cost of a merge follows the
        size of what is merged, not of the whole index; their deleted chunks go away.
        """
        by_size = sorted(self.manifest.segments, key=self._live_rows)
        victims = by_size[: len(by_size) - MAX_SEGMENTS // 2]
        names = {str(e["name"]) for e in victims}
        verify_generation(self._work, {  # what is merged is read: check it first
            n: r for n, r in self._records.items() if n.split("/", 1)[0] in names
        })
        merged = self._merged_data(victims)
        for entry in victims:
            self._forget_ids(entry)
            shutil.rmtree(self._work / str(entry["name"]))
        self.manifest.segments = [e for e in self.manifest.segments if e["name"] not in names]
        self._write_segment(merged)

    def _merged_data(self, victims: list[dict[str, object]]) -> SegmentData:
        lo = self.manifest.next_chunk_id
        articles, chunk_rows, vectors, aux, sentence_rows, sentence_vectors = [], [], [], [], [], []
        embeds_sentences = all("sentences" in entry for entry in victims)
        for entry in victims:
            segment = Segment(self._work / str(entry["name"]), entry, self.manifest.dimensions)
            name = segment.name
            articles += [  # articles kept before signatures were get theirs now
                (*row[:-1], row[-1] if row[-1] is not None else signature(row[6]))
                for row in segment.article_rows(self.catalog.ids_in(name))
            ]
            rows = [r for r in segment.rows_where(f"SELECT {CHUNK_COLUMNS} FROM chunks ORDER BY id", ())
                    if r[0] not in self._deleted]
            positions = np.array([r[0] - segment.lo for r in rows], dtype=np.int64)
            renumbered = {row[0]: lo + len(chunk_rows) + n for n, row in enumerate(rows)}
            chunk_rows += [(renumbered[row[0]], *row[1:]) for row in rows]
            vectors.append(segment.all_vectors(VECTORS)[positions])
            if AUX_VECTORS in self.manifest.dimensions:
                aux.append(segment.all_vectors(AUX_VECTORS)[positions])
            if embeds_sentences:
                kept = segment.sentences(list(renumbered))
                sentence_rows += [(renumbered[chunk_id], start, end) for _, chunk_id, start, end in kept]
                sentence_vectors.append(np.asarray(
                    segment.sentence_vectors[[row[0] for row in kept]], dtype=np.float32))
            segment.close()
        return SegmentData(
            lo, articles, chunk_rows,
            _stack(vectors, self.manifest.dimension),
            _stack(aux, self.manifest.aux_dimension) if AUX_VECTORS in self.manifest.dimensions else None,
            sentence_rows,
            _stack(sentence_vectors, self.manifest.dimension) if embeds_sentences else None,
        )

    def _close_opened(self) -> None:
        for segment in self._opened.values():
            segment.close()
        self._opened.clear()

    def discard(self) -> None:
        self._close_opened()
        self.catalog.close()
        shutil.rmtree(self._work, ignore_errors=True)


def _copied(value: object) -> object:
    """A copy that shares nothing mutable with `value` (lists of dicts, dicts of str)."""
    if isinstance(value, list):
        return [dict(item) for item in value]
    return dict(value) if isinstance(value, dict) else value


def _stack(parts: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.vstack(parts) if parts else np.zeros((0, dimension), dtype=np.float32)


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link a segment folder's files (copy where links are impossible)."""
    shutil.copytree(source, target, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fsync_files(paths) -> None:
    for path in paths:
        path = Path(path)
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())


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


def _prune(index_dir: Path, keep: set[str | None]) -> None:
    """Remove unfinished temp folders and every generation but the new and previous live one.

    Keeping by name rather than "the newest two" also removes a generation that a killed
    writer renamed into place but never made live (it was never CURRENT, nobody reads it).
    """
    remove_stale_work(index_dir)
    for old in index_dir.glob("gen-*"):
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
