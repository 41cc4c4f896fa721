"""A real `qa serve` in a child process: started on a free loopback port, waited for
until its page answers, stopped; and its API called over plain HTTP (`call_api`).

The HTTP/API and browser tests (tests/server.py) and the benchmarks that measure a
running server (bench/stress.py, bench/serve_ready.py) all need exactly this, and tests
and bench must not import each other; so the one copy lives in the product, beside the
page it serves, as ui/browser.py does for the browser driver. Nothing the assistant runs
imports it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
#: Seconds for the page to answer after `qa serve` starts (imports, index open).
START_TIMEOUT = 120.0


class ServeFailed(RuntimeError):
    """`qa serve` exited, or its page did not answer in time; the message ends with its output."""


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    index_dir: Path, out: IO[Any], extra_args: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `python -m qa.cli serve` over `index_dir` on a free loopback port, its output
    to `out` (a pipe nobody reads would fill up and block the server); return the
    process and its URL at once, before the page answers."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--index-dir", str(index_dir), *extra_args]
    proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return proc, f"http://127.0.0.1:{port}/"


def wait_until_answers(
    proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = START_TIMEOUT,
) -> None:
    """Ask for the page until it answers 200; ServeFailed, with the end of `log`, when the
    process exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ServeFailed(f"qa serve exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ServeFailed(f"qa serve did not answer {url} within {timeout:.0f} s:\n{tail(log)}")
        time.sleep(0.25)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server; kill it if it has not ended 30 s later."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def tail(log: Path, chars: int = 6000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no output)"


@contextmanager
def running(
    index_dir: Path, log: Path, timeout: float = START_TIMEOUT, extra_args: Sequence[str] = (),
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A `qa serve` whose page answers, as (process, URL), its output in `log`; stopped
    on leaving."""
    with open(log, "w", encoding="utf-8") as out:
        proc, url = start(index_dir, out, extra_args)
    try:
        wait_until_answers(proc, url, log, timeout)
        yield proc, url
    finally:
        stop(proc)


def call_api(http: httpx.Client, url: str, api_name: str, *data: Any) -> Any:
    """One call of a Gradio endpoint over plain HTTP, the way Gradio documents for curl:
    POST the inputs to `gradio_api/call/NAME`, then read that call's event stream until
    it completes. `gradio_client` (and the page in a browser) go through Gradio's queue
    routes instead, with far more work on the caller's side (docs/reliability.md): a
    load test that runs its users on the server's own cores must not spend them there.
    Raises RuntimeError when the server reports an error or a call ends with no result."""
    call = f"{url.rstrip('/')}/gradio_api/call/{api_name.strip('/')}"
    posted = http.post(call, json={"data": list(data)})
    posted.raise_for_status()
    event = None
    with http.stream("GET", f"{call}/{posted.json()['event_id']}") as stream:
        stream.raise_for_status()
        for line in stream.iter_lines():
            field, _, value = line.partition(":")
            if field == "event":
                event = value.strip()
            elif field == "data" and event == "complete":
                result = json.loads(value)
                if not result:  # null: the call was cancelled
                    break
                return result[0]
            elif field == "data" and event == "error":
                raise RuntimeError(f"{api_name} failed on the server: {value.strip()}")
    raise RuntimeError(f"{api_name}: the event stream ended without a result")
