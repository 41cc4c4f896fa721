"""The one writer of an index: it prepares the next generation in a private folder and
publishes it atomically.

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
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.catalog import CATALOG, Catalog
from index.duplicates import signature
from index.errors import IndexLockedError
from index.hubness import Hubness
from index.segment import AUX_VECTORS, CHUNK_COLUMNS, VECTORS, Segment, SegmentData, SegmentEntry, write_segment
from index.store.generation import CURRENT, DELETED, current_generation, load_deleted, manifest_of, open_catalog
from index.store.integrity import HASH, file_digest, file_records, verify_generation
from index.store.manifest import MANIFEST, Manifest

if TYPE_CHECKING:  # named in hints only: index.chunking imports langchain
    from index.articles import Article
    from index.chunking import Chunk

TEMP_PREFIX = ".tmp-gen-"
#: Above this many segments, a write merges the smallest ones.
MAX_SEGMENTS = 8


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


@dataclass(frozen=True)
class StagedArticle:
    """One article with everything its segment rows need: what indexing makes of an
    article (index/builder.py `embed_articles`, in this process or on a Ray actor, so
    plain data only) and what a writer holds until it publishes.

    `vectors[i]`, `tokens[i]`, `aux_vectors[i]` are `chunks[i]`'s, and
    `sentence_vectors[j]` is that of `sentences[j]` = (i, start, end): a sentence of
    `chunks[i]`, with article offsets."""

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
        previous: Manifest | None = None
        #: ids of the deleted chunks (tombstones) the new generation keeps
        self._deleted: set[int] = set()
        if self._live is None:
            manifest.segments = []
            manifest.next_chunk_id = manifest.next_segment = 1
        else:
            previous = live_manifest or manifest_of(self._live)
            # Sizes only: linked segments keep the hashes recorded when they were written,
            # so damage stays detectable by every reader; what this write reads (the
            # catalog it copies, segments it merges) is hashed before it is read.
            verify_generation(self._live, previous.files, hashes=False)
            for name in ("segments", "next_chunk_id", "next_segment"):
                setattr(manifest, name, _copied(getattr(previous, name)))
            self._deleted = set(load_deleted(self._live, previous).tolist())
        self._work = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=index_dir))
        try:
            self.catalog = (Catalog.writable(self._work / CATALOG) if previous is None
                            else self._copied_catalog(previous))
        except BaseException:
            shutil.rmtree(self._work, ignore_errors=True)
            raise
        self._opened: dict[str, Segment] = {}
        #: file records of every segment this generation may hold: linked ones keep theirs
        self._records = {n: r for n, r in (previous.files if previous else {}).items() if n != CATALOG}
        self._pending: dict[str, StagedArticle] = {}

    def _copied_catalog(self, previous: Manifest) -> Catalog:
        """The live catalog copied into the work folder (a format-2 manifest's, written out)."""
        path = self._work / CATALOG
        if previous.legacy_catalog is not None:
            catalog = Catalog.writable(path)
            catalog.put(previous.legacy_catalog)
            return catalog
        live = self._live_folder()
        open_catalog(live, previous).close()  # hashed: a damaged copy must not be laundered
        return Catalog.writable(path, copy_of=live / CATALOG)

    def _live_folder(self) -> Path:
        """The live generation's folder, read only for what this writer took over from it."""
        assert self._live is not None, "a writer that starts fresh takes nothing over"
        return self._live

    def _segment(self, name: str) -> Segment:
        """A live segment, opened on first use (only deletions and merges need one)."""
        if name not in self._opened:
            entry = next(e for e in self.manifest.segments if e["name"] == name)
            self._opened[name] = Segment(self._live_folder() / name, entry, self.manifest.dimensions)
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
        """Stage one article (the fields of `StagedArticle`)."""
        self.add(StagedArticle(article, chunks, vectors, tokens, aux_vectors, sentences, sentence_vectors))

    def add(self, staged: StagedArticle) -> None:
        """Stage one article, checked: each chunk with its tokens, each sentence with its vector."""
        if len(staged.chunks) != len(staged.tokens):
            raise ValueError(f"{len(staged.chunks)} chunks but {len(staged.tokens)} token lists")
        if staged.sentence_vectors is not None and len(staged.sentence_vectors) != len(staged.sentences):
            raise ValueError(f"{len(staged.sentences)} sentences but {len(staged.sentence_vectors)} sentence vectors")
        if staged.article.id in self.catalog:
            raise ValueError(f"article {staged.article.id!r} is already indexed; remove it first")
        self._pending[staged.article.id] = staged

    def publish(self, merge: Collection[str] = ()) -> Path:
        """Write the new segment, link the kept ones, merge the segments named in `merge`
        into one and, if there are too many, the smallest; make it live."""
        fresh_before = set(self._records)
        if self._pending:
            data = self._staged_data()
            self._pending.clear()  # the staged copies are all that is needed now
            self._write_segment(data)
            del data
        self._link_kept_segments()
        if merge:
            named = set(merge)
            self._merge([e for e in self.manifest.segments if e["name"] in named])
        if len(self.manifest.segments) > MAX_SEGMENTS:
            self._merge_smallest()
        names = {e["name"] for e in self.manifest.segments}
        records = {n: r for n, r in self._records.items() if n.split("/", 1)[0] in names}
        deleted = np.array(sorted(self._deleted), dtype=np.int64)
        if len(deleted):
            np.save(self._work / DELETED, deleted)
            records[DELETED] = {"size": (self._work / DELETED).stat().st_size,
                                HASH: file_digest(self._work / DELETED)}
        self.manifest.deleted_count = len(deleted)
        stored = sum(e["hi"] - e["lo"] for e in self.manifest.segments)
        self.manifest.chunk_count = stored - len(deleted)
        self.manifest.article_count = len(self.catalog)
        self.catalog.save()
        records[CATALOG] = {"size": (self._work / CATALOG).stat().st_size,
                            HASH: file_digest(self._work / CATALOG)}
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
        articles: list[tuple] = []
        chunk_rows: list[tuple] = []
        vectors: list[np.ndarray] = []
        aux: list[np.ndarray] = []
        sentence_rows: list[tuple] = []
        sentence_vectors: list[np.ndarray] = []
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
        self._records.update(file_records(self._work / name, prefix=f"{name}/"))

    def _live_rows(self, entry: SegmentEntry) -> int:
        lo, hi = entry["lo"], entry["hi"]
        return hi - lo - sum(1 for i in self._deleted if lo <= i < hi)

    def _link_kept_segments(self) -> None:
        """Hard-link every live segment still holding something; forget emptied ones."""
        holders = self.catalog.holders()
        kept: list[SegmentEntry] = []
        for entry in self.manifest.segments:
            name = entry["name"]
            if (self._work / name).exists():  # written by this writer
                kept.append(entry)
            elif self._live_rows(entry) > 0 or name in holders:
                _link_tree(self._live_folder() / name, self._work / name)
                kept.append(entry)
            else:  # every chunk deleted: drop it and its tombstones
                self._forget_ids(entry)
        self.manifest.segments = kept

    def _forget_ids(self, entry: SegmentEntry) -> None:
        lo, hi = entry["lo"], entry["hi"]
        self._deleted = {i for i in self._deleted if not lo <= i < hi}

    def _merge_smallest(self) -> None:
        """Merge the smallest segments into one, leaving MAX_SEGMENTS // 2 + 1 in all.

        Only the small ones are read and rewritten, so the cost of a merge follows the
        size of what is merged, not of the whole index; their deleted chunks go away.
        """
        by_size = sorted(self.manifest.segments, key=self._live_rows)
        self._merge(by_size[: len(by_size) - MAX_SEGMENTS // 2])

    def _merge(self, victims: list[SegmentEntry]) -> None:
        """Replace these segments by one holding their live chunks."""
        if len(victims) < 2:
            return
        names = {e["name"] for e in victims}
        verify_generation(self._work, {  # what is merged is read: check it first
            n: r for n, r in self._records.items() if n.split("/", 1)[0] in names
        })
        merged = self._merged_data(victims)
        for entry in victims:
            self._forget_ids(entry)
            shutil.rmtree(self._work / entry["name"])
        self.manifest.segments = [e for e in self.manifest.segments if e["name"] not in names]
        self._write_segment(merged)

    def _merged_data(self, victims: list[SegmentEntry]) -> SegmentData:
        lo = self.manifest.next_chunk_id
        articles: list[tuple] = []
        chunk_rows: list[tuple] = []
        vectors: list[np.ndarray] = []
        aux: list[np.ndarray] = []
        sentence_rows: list[tuple] = []
        sentence_vectors: list[np.ndarray] = []
        embeds_sentences = all("sentences" in entry for entry in victims)
        for entry in victims:
            segment = Segment(self._work / entry["name"], entry, self.manifest.dimensions)
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


def _fsync_files(paths: Iterable[Path]) -> None:
    for path in paths:
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
