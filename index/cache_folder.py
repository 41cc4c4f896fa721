"""Build a folder in a shared cache once: in a temp folder beside it, marker last, then
one atomic rename.

`build_once` is the whole pattern: a folder counts as built only when its marker file
(written last) holds the stamp of what it must be built from; otherwise it is built in a
temp folder, under a lock when asked, and renamed into place.

Both cached models are made this way (the materialised e5 folder, index/e5_convert.py,
and its ONNX exports, index/onnx/cache.py): a killed build never leaves a folder that
looks complete, two processes building at once both end with a good folder, and the
temp folders of builders that died (about 0.5 GB each) are removed by the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def temp_folder(final: Path) -> Path:
    """A new private folder beside `final`, named after it and this process."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=final.parent))


def remove_abandoned(final: Path) -> None:
    """Delete the temp and set-aside folders (or files) of `final` whose builder is dead."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(?:tmp|old)-(\d+)-")
    for path in final.parent.iterdir():
        match = pattern.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    """Signal 0 only checks existence; a pid owned by someone else is alive too."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def move_into_place(tmp: Path, final: Path, is_built: Callable[[Path], bool]) -> None:
    """Rename the finished `tmp` to `final`; a stale `final` is moved aside first.

    If another builder's complete folder took the place meanwhile (`is_built(final)`),
    ours is left for the caller to delete.
    """
    tmp.chmod(0o755)  # mkdtemp's 0700 would make the cache private to one user
    for _ in range(3):
        try:
            os.rename(tmp, final)
            return
        except OSError:
            if is_built(final):
                return
            stale = final.parent / f".{final.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
            try:
                os.rename(final, stale)
            except FileNotFoundError:
                continue
            shutil.rmtree(stale, ignore_errors=True)
    raise OSError(f"could not move the built folder into {final}")


def sources_digest(*packages: Path) -> str:
    """SHA-256 of the Python files under each package folder (subpackages included), by
    relative path and bytes in sorted order: a cache built by that code names it so."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write_json(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def is_built(folder: Path, marker: str, stamp: dict[str, Any]) -> bool:
    """The folder is complete (its marker exists) and was built from `stamp`."""
    try:
        return json.loads((folder / marker).read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        return False


def build_once(
    final: Path, marker: str, stamp: dict[str, Any], build: Callable[[Path], None], lock: bool = False,
) -> Path:
    """`final`, built first by `build(temp_folder)` unless it is already built from `stamp`.

    With `lock`, a second process waits for the first one's build instead of doing the
    same work again (worth it for builds of minutes); the rename keeps it safe either way.
    """
    if is_built(final, marker, stamp):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(final) if lock else contextlib.nullcontext():
        if is_built(final, marker, stamp):  # another process built it while we waited
            return final
        remove_abandoned(final)
        tmp = temp_folder(final)
        try:
            build(tmp)
            write_json(tmp / marker, stamp)
            move_into_place(tmp, final, lambda folder: is_built(folder, marker, stamp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


@contextlib.contextmanager
def build_lock(final: Path) -> Iterator[None]:
    """Exclusive lock next to the folder; released by the OS if the holder dies."""
    try:
        import fcntl
    except ImportError:  # no flock: the atomic rename alone keeps it correct
        yield
        return
    with open(final.parent / f".{final.name}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
