"""A published generation, read without opening its segments: which one is live, its
manifest, its article catalog, its tombstones, and the stored rows of a few articles.
Readers and the writer both start here; each check raises IndexCorruptError naming the
file, so a damaged index is reported, never read as if it were whole."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.catalog import CATALOG, Catalog
from index.errors import REBUILD_HINT, IndexCorruptError
from index.segment import ARTICLE_COLUMNS, CHUNKS_DB
from index.store.integrity import verify_generation
from index.store.manifest import MANIFEST, Manifest

#: Names the live generation; replaced atomically by each publish.
CURRENT = "CURRENT"
DELETED = "deleted.npy"
GENERATION_NAME = re.compile(r"gen-[0-9]{6,}")


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
    return None if generation is None else manifest_of(generation)


def manifest_of(generation: Path) -> Manifest:
    """The manifest of one generation folder, live or not."""
    path = generation / MANIFEST
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {REBUILD_HINT}") from exc


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


def load_deleted(generation: Path, manifest: Manifest) -> np.ndarray:
    """Ids of the generation's deleted chunks (its tombstones), checked against the manifest."""
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
