"""The article catalog of one generation: which articles the index holds, the content
hash of each (what incremental indexing compares) and the segment holding its live chunks.

It is a small SQLite file beside the manifest rather than part of it. In the manifest, a
1M-chunk archive's 100k articles made 10 MB of JSON that every write serialised, hashed
and parsed again (about 1 s of adding one article) and every reader parsed on opening.
A writer copies the file (one sequential read and write), changes the few rows it touches
and records the copy's size and hash like any other file; readers look up only the rows
they need.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from index.errors import REBUILD_HINT, IndexCorruptError

CATALOG = "catalog.sqlite"

_SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, hash TEXT NOT NULL, segment TEXT NOT NULL);
CREATE INDEX articles_by_segment ON articles(segment);
"""


class Catalog:
    """Article id -> (content hash, segment). Read-only unless made by `writable`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @classmethod
    def open(cls, path: Path) -> "Catalog":
        """A published catalog, read-only (any thread may use it)."""
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        return cls(db)

    @classmethod
    def writable(cls, path: Path, copy_of: Path | None = None) -> "Catalog":
        """A private catalog for the next generation: a copy of `copy_of`, or empty.

        No journal and no syncs: the file is the writer's alone until it is published,
        and publishing fsyncs it; a writer that dies leaves it in a temp folder that the
        next writer deletes.
        """
        if copy_of is not None:
            shutil.copyfile(copy_of, path)
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        if copy_of is None:
            db.executescript(_SCHEMA)
        return cls(db)

    @classmethod
    def in_memory(cls, rows: Iterable[tuple[str, str, str]]) -> "Catalog":
        """A catalog of (id, hash, segment) rows held in memory (older index formats)."""
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.executescript(_SCHEMA)
        catalog = cls(db)
        catalog.put(rows)
        return catalog

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def __contains__(self, article_id: object) -> bool:
        return self._db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def _rows(self, columns: str, ids: Iterable[str] | None) -> list[tuple]:
        if ids is None:
            return self._db.execute(f"SELECT {columns} FROM articles").fetchall()
        return self._db.execute(
            f"SELECT {columns} FROM articles WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids), ensure_ascii=False),),
        ).fetchall()

    def hashes(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Content hash by article id, of `ids` that are indexed (of all without `ids`)."""
        return dict(self._rows("id, hash", ids))

    def segments(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Segment name by article id, of `ids` that are indexed (of all without `ids`)."""
        return dict(self._rows("id, segment", ids))

    def ids_in(self, segment: str) -> list[str]:
        """The articles whose live chunks are in `segment`."""
        return [r[0] for r in self._db.execute("SELECT id FROM articles WHERE segment = ?", (segment,))]

    def holders(self) -> set[str]:
        """Segments that hold at least one live article (one without chunks counts too)."""
        return {r[0] for r in self._db.execute("SELECT DISTINCT segment FROM articles")}

    def put(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Insert or replace (id, hash, segment) rows."""
        self._db.executemany("INSERT OR REPLACE INTO articles (id, hash, segment) VALUES (?,?,?)", rows)

    def delete(self, ids: Sequence[str]) -> None:
        self._db.execute(
            "DELETE FROM articles WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids), ensure_ascii=False),),
        )

    def save(self) -> None:
        """Commit and close a writable catalog (the writer then fsyncs and publishes it)."""
        self._db.commit()
        self._db.close()

    def close(self) -> None:
        self._db.close()
