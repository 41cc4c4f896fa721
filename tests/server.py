"""A real `qa serve` process for the HTTP/API and browser tests.

Import the fixture into a test module with `from server import served  # noqa: F401`
(pytest's default "prepend" import mode puts tests/ on sys.path, as it does for conftest).
It is module-scoped: each module gets its own server over its own copy of the seed index,
so a module that uploads articles never changes what another module (or the session's
`seed_settings` index) sees. Starting and stopping the process is ui/serve_process.py's,
which the benchmarks share.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ui.serve_process import ROOT, START_TIMEOUT, ServeFailed, running

__all__ = ["ROOT", "qa_serve", "served"]


@contextmanager
def qa_serve(
    index_dir: Path, log: Path, timeout: float = START_TIMEOUT, extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run `python -m qa.cli serve` on a free loopback port; yield its URL once it answers.

    Output goes to `log`; a server that exits or does not answer fails the test with it.
    """
    try:
        with running(index_dir, log, timeout, extra_args) as (_, url):
            yield url
    except ServeFailed as failed:
        failure = str(failed)
    else:
        return
    pytest.fail(failure, pytrace=False)  # outside `except`: the message once, without the chain


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
