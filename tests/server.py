"""A real `qa serve` process for the HTTP/API and browser tests.

Import the fixture into a test module with `from server import served  # noqa: F401`
(pytest's default "prepend" import mode puts tests/ on sys.path, as it does for conftest).
It is module-scoped: each module gets its own server over its own copy of the seed index,
so a module that uploads articles never changes what another module (or the session's
`seed_settings` index) sees.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Seconds for the page to answer after `qa serve` starts (imports, index open).
START_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path, chars: int = 6000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no output)"


@contextmanager
def qa_serve(
    index_dir: Path, log: Path, timeout: float = START_TIMEOUT, extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run `python -m qa.cli serve` on a free loopback port; yield its URL once it answers.

    Output goes to `log` (a pipe nobody reads would fill up and block the server).
    """
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--index-dir", str(index_dir), *extra_args]
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa serve exited with {proc.returncode}:\n{_tail(log)}", pytrace=False)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"qa serve did not answer {url} within {timeout:.0f} s:\n{_tail(log)}",
                            pytrace=False)
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def served(seed_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of `qa serve` over a private copy of the seed index (uploads stay in the copy)."""
    work = tmp_path_factory.mktemp("served")
    index_dir = work / ".qa"
    shutil.copytree(seed_settings.index_dir, index_dir)
    log = work / "serve.log"
    with qa_serve(index_dir, log) as url:
        print(f"qa serve at {url}, log {log}")
        yield url
