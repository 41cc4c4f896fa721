"""What a manifest records of each file of its generation (size and SHA-256), and the
checks against it.

Sizes are cheap and checked on every open. Hashes are checked once per process per file
version: a 1M-chunk index has gigabytes, and hard-linked segments of a newer generation,
or a server reopening one, are the same files as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from index.errors import REBUILD_HINT, IndexCorruptError
from index.store.manifest import MANIFEST

HASH = "sha256"  # with SHA-NI (x86 since 2017) it measured faster than blake2b here


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
        digest = file_digest(path)
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


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, HASH).hexdigest()


def file_records(folder: Path, prefix: str = "") -> dict[str, dict[str, object]]:
    """Size and hash of every file under `folder` except the manifest, by relative path."""
    return {
        prefix + path.relative_to(folder).as_posix(): {"size": path.stat().st_size, HASH: file_digest(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
