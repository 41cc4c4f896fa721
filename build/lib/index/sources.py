"""What the index has accepted, kept beside it: each article's source text and origin.

The generations (index/store/) hold vectors, chunks and clean text; a rebuild with a
new model or chunking, or after damage, must not need the files they came from, which
may be gone (an upload lived in a temp folder) or may have changed. So every write
keeps, in `sources.sqlite` next to the generations, what each article was read from
(`index.articles.Source`) and where it came from (its origin):

- the absolute path of the folder `qa index FOLDER` read it from (that folder owns it:
  re-indexing the folder updates and removes it, nothing else does);
- `add` for `qa add FILE`, `upload` for the chat's "Add articles";
- NULL for an article of an index made before origins were kept (see `sync`).

Rows are keyed by (article id, content hash), the pair the generation's catalog holds,
so the store can run ahead of the live generation and be brought back to it:

1. a write puts the rows of the articles it adds and marks the store unsynced;
2. it publishes its generation;
3. it drops the rows of the versions it replaced or removed and records the live
   generation as synced.

A writer killed between 1 and 3 leaves the mark; the next writer then reconciles the
whole store with the live catalog (`sync`). Only writers, under the index lock, use it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from index.articles import Article, Source, clean_source
from index.errors import IndexCorruptError

SOURCES = "sources.sqlite"
#: Origins that are not folders.
ADDED = "add"
UPLOADED = "upload"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id TEXT NOT NULL,
    hash TEXT NOT NULL,    -- Article.content_hash of the version indexed
    origin TEXT,           -- folder path, 'add' or 'upload'; NULL: not recorded
    path TEXT,             -- the file it was read from
    format TEXT NOT NULL,  -- Source.format
    data BLOB NOT NULL,    -- Source.text, UTF-8, zlib-compressed
    sha256 TEXT NOT NULL,  -- of the uncompressed UTF-8 text, checked when read
    PRIMARY KEY (id, hash)
);
CREATE INDEX IF NOT EXISTS sources_by_origin ON sources(origin);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
"""


def folder_origin(folder: Path) -> str:
    """The origin of articles indexed from `folder`: its absolute path."""
    return str(Path(folder).resolve())


def is_folder_origin(origin: str | None) -> bool:
    return bool(origin) and origin not in (ADDED, UPLOADED)


class SourceStore:
    """The source text and origin of every indexed article (see the module docstring)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / SOURCES
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from exc

    def _damaged(self, reason: Exception | str) -> IndexCorruptError:
        return IndexCorruptError(
            f"index file {self.path} is unreadable ({reason}); it keeps the articles' source "
            "texts: move it aside and run `qa index --rebuild FOLDER` for each folder, then "
            "add uploads again"
        )

    def __enter__(self) -> "SourceStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def _run(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._damaged(exc) from exc

    # --- the sync mark ---------------------------------------------------------------

    @property
    def synced(self) -> str | None:
        """The generation the store was last reconciled with (None: unknown)."""
        rows = self._run("SELECT value FROM state WHERE key = 'synced'")
        return rows[0][0] if rows else None

    def _mark(self, generation: str | None) -> None:
        self._run("INSERT OR REPLACE INTO state (key, value) VALUES ('synced', ?)", (generation,))

    # --- reads -----------------------------------------------------------------------

    def origins(self, ids: Sequence[str] | None = None) -> dict[str, str | None]:
        """Origin by article id, of `ids` that have a row (of every row without `ids`)."""
        if ids is None:
            return dict(self._run("SELECT id, origin FROM sources"))
        return dict(self._run(
            "SELECT id, origin FROM sources WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids), ensure_ascii=False),),
        ))

    def owned_by(self, origin: str) -> list[str]:
        """Ids of the articles whose origin is `origin`."""
        return [r[0] for r in self._run("SELECT id FROM sources WHERE origin = ?", (origin,))]

    def unrecorded(self) -> dict[str, str | None]:
        """Path by article id of the articles whose origin was not recorded."""
        return dict(self._run("SELECT id, path FROM sources WHERE origin IS NULL"))

    def articles(self) -> Iterator[tuple[str, str | None, str | None, Source]]:
        """(id, origin, path, source) of every kept article, one version per id (the
        newest, should an unsynced store hold two)."""
        rows = self._run(
            "SELECT id, origin, path, format, data, sha256 FROM sources "
            "WHERE rowid IN (SELECT max(rowid) FROM sources GROUP BY id) ORDER BY id"
        )
        for article_id, origin, path, fmt, data, digest in rows:
            yield article_id, origin, path, Source(fmt, self._text(article_id, data, digest))

    def _text(self, article_id: str, data: bytes, digest: str) -> str:
        try:
            raw = zlib.decompress(data)
        except zlib.error as exc:
            raise self._damaged(f"the source of {article_id!r} does not decompress: {exc}") from exc
        if hashlib.sha256(raw).hexdigest() != digest:
            raise self._damaged(f"the source of {article_id!r} does not match its checksum")
        return raw.decode("utf-8")

    # --- writes (each one transaction) -----------------------------------------------

    def put(self, rows: Iterable[tuple[Article, str | None]], ahead: bool = True) -> None:
        """Keep each (article, origin), replacing the row of the same version.

        `ahead`: the articles are not in the live generation yet, so the store is marked
        unsynced in the same transaction until `published` runs.
        """
        records = []
        for article, origin in rows:
            source = article.source or clean_source(article)  # made in code: its clean fields
            raw = source.text.encode("utf-8")
            records.append((article.id, article.content_hash, origin, article.path,
                            source.format, zlib.compress(raw, 6), hashlib.sha256(raw).hexdigest()))
        if not records:
            return
        with self._transaction():
            if ahead:
                self._mark(None)
            self._db.executemany(
                "INSERT OR REPLACE INTO sources (id, hash, origin, path, format, data, sha256) "
                "VALUES (?,?,?,?,?,?,?)", records,
            )

    def published(self, generation: str, live: Mapping[str, str], changed: Sequence[str]) -> None:
        """After `generation` went live: of the `changed` ids (added, updated or
        removed), keep only the version `live` (id -> content hash) holds."""
        with self._transaction():
            payload = json.dumps([[i, live.get(i)] for i in changed], ensure_ascii=False)
            self._db.execute(
                "DELETE FROM sources WHERE rowid IN (SELECT s.rowid FROM sources s JOIN "
                "json_each(?) j ON s.id = json_extract(j.value, '$[0]') "
                "WHERE s.hash IS NOT json_extract(j.value, '$[1]'))", (payload,),
            )
            self._mark(generation)

    def sync(self, generation: str, live: Mapping[str, str],
             clean_text: Callable[[Sequence[str]], Iterable[Article]]) -> int:
        """Reconcile the whole store with the live catalog (id -> content hash): drop
        versions it does not hold, and keep the clean text of articles that have no
        source yet (`clean_text(ids)` reads them from the index), origin unrecorded.
        Returns how many articles were given a source."""
        with self._transaction():
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (id TEXT PRIMARY KEY, hash TEXT)")
            self._db.execute("DELETE FROM temp.live")
            self._db.executemany("INSERT INTO temp.live VALUES (?, ?)", live.items())
            self._db.execute(
                "DELETE FROM sources WHERE NOT EXISTS (SELECT 1 FROM temp.live l "
                "WHERE l.id = sources.id AND l.hash = sources.hash)"
            )
            missing = [r[0] for r in self._db.execute(
                "SELECT id FROM temp.live l WHERE NOT EXISTS "
                "(SELECT 1 FROM sources s WHERE s.id = l.id AND s.hash = l.hash)"
            )]
        if missing:
            self.put((replace(a, source=clean_source(a)), None) for a in clean_text(missing))
        with self._transaction():
            self._mark(generation)
        return len(missing)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction, rolled back on any error; SQLite errors name the file."""
        self._run("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._damaged(exc) from exc
            raise
        self._run("COMMIT")


class ListedArticle(NamedTuple):
    """One line of `qa list`."""

    id: str
    origin: str | None
    date: str | None
    title: str


def list_articles(index_dir: Path) -> list[ListedArticle]:
    """Every indexed article with its origin, newest first."""
    from index.store.reader import IndexReader

    reader = IndexReader(index_dir)
    try:
        rows = reader.articles()
    finally:
        reader.close()
    origins: dict[str, str | None] = {}
    if (index_dir / SOURCES).exists():
        with SourceStore(index_dir) as sources:
            origins = sources.origins()
    return [ListedArticle(i, origins.get(i), date, title) for i, title, date in rows]
