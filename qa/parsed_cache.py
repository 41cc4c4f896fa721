"""Word lists and language data read from their files once per machine, not once per process.

Reading FreeDict's English-Arabic dictionary, CC-CEDICT and FreeDict's German nouns,
building the lexicon of CLDR's names (`qa.lexicon`, from Babel's data) and unpacking
py3langid's model (`qa.language`) is seconds of Python for each process
(docs/benchmarks.md): `qa serve` spent them at every start, in a warm-up thread that held
the interpreter while its first readers waited, and `qa ask` at every question that needs
them. What a reader made of its files is pickled in the cache folder (`QA_CACHE_DIR`/parsed,
one file per kind and source) beside a key: the files' paths, sizes and modification
times; the code that reads them (the `qa` and `index.text` sources, Python's version and
its Unicode database's); and the versions of the libraries the reader names, which stand
for their code and for their data files the key does not list (a locale's parents in
Babel). A file whose key differs, or that cannot be read back, is read from the source
again and replaced; a value that cannot be kept costs only the time it would have saved.
Each new reading of a kind deletes that kind's files whose source is gone, and the temp
files of writers that died.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

from index.cache_folder import remove_abandoned, sources_digest
from index.config import cache_dir_from_env

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The cache folder's subfolder for parsed files.
FOLDER = "parsed"


def read_parsed(kind: str, sources: Sequence[Path], read: Callable[[], T], libraries: Sequence[str] = ()) -> T:
    """`read()`, or what it returned before for the same `kind`, the same `sources` (a
    source that does not exist counts as such), the same code and the same versions of
    `libraries` (distribution names). Errors of `read` are raised, never kept."""
    key = _key(kind, sources, libraries)
    path = cache_folder() / f"{kind}-{_digest(str(sources[0].resolve()))}.pickle"
    kept = _load(path, key)
    if kept is not None:
        return kept[0]
    value = read()
    _store(path, key, value)
    _forget_gone(path.parent, kind)
    return value


def cache_folder() -> Path:
    """Where parsed files are kept: `parsed` in the cache folder the environment names."""
    return cache_dir_from_env() / FOLDER


def _key(kind: str, sources: Sequence[Path], libraries: Sequence[str]) -> dict[str, Any]:
    files = []
    for source in sources:
        try:
            stat = source.stat()
            files.append([str(source.resolve()), stat.st_size, stat.st_mtime_ns])
        except OSError:
            files.append([str(source), None, None])
    return {"kind": kind, "files": files, "code": _code(), "libraries": {name: _version(name) for name in libraries}}


@lru_cache(maxsize=1)
def _code() -> str:
    """What decides every reader's result besides its files and libraries: the `qa` and
    `index.text` sources, and Python's version (its case folding and its Unicode
    database's classes of letters read the words)."""
    import index.text
    import qa

    python = "{}.{}".format(*sys.version_info[:2])
    return "-".join((sources_digest(Path(qa.__file__).parent, Path(index.text.__file__).parent),
                     python, unicodedata.unidata_version))


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _load(path: Path, key: dict[str, Any]) -> tuple[Any] | None:
    """(the kept value,) if `path` holds one made under `key`; None otherwise."""
    try:
        with path.open("rb") as handle:
            if pickle.load(handle) != key:
                return None
            return (pickle.load(handle),)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file can fail unpickling in any way
        log.info("reading %s again: its cache %s is unreadable (%s)", key["files"][0][0], path, exc)
        return None


def _forget_gone(folder: Path, kind: str) -> None:
    """Delete the kept files of `kind` whose first source is gone (a removed dictionary,
    a test's temporary one)."""
    for path in folder.glob(f"{kind}-*.pickle"):
        try:
            with path.open("rb") as handle:
                source = Path(pickle.load(handle)["files"][0][0])
            if not source.exists():
                path.unlink()
        except Exception:  # unreadable: the next read of its source replaces it
            continue


def _store(path: Path, key: dict[str, Any], value: object) -> None:
    """Write the key, then the value, to a temp file renamed onto `path`: a reader never
    sees half a file. A cache that cannot be written is left as it is."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(path)  # the temp files of writers that died
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(key, out, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.chmod(temp, 0o644)  # mkstemp's 0600 would keep the cache from other users, as the models' is not
            os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    except Exception as exc:  # a full disk, a read-only folder, or a value pickle cannot take
        log.info("cannot keep %s parsed in %s (%s); it is read again next time", key["files"][0][0], path, exc)
