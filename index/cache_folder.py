"""Build a folder in a shared cache once: in a temp folder beside it, marker last, then
one atomic rename.

Both cached models are made this way (the materialised e5 folder, index/e5_convert.py,
and its ONNX exports, index/onnx_model.py): a killed build never leaves a folder that
looks complete, two processes building at once both end with a good folder, and the
temp folders of builders that died (about 0.5 GB each) are removed by the next one.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def temp_folder(final: Path) -> Path:
    """A new private folder beside `final`, named after it and this process."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=final.parent))


def remove_abandoned(final: Path) -> None:
    """Delete the temp and set-aside folders of `final` whose builder is dead."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(?:tmp|old)-(\d+)-")
    for path in final.parent.iterdir():
        match = pattern.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


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
