"""`qa serve` for real: a process on loopback, HTTP, and the Gradio API via gradio_client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(seed_settings):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "serve",
            "--port",
            str(port),
            "--index-dir",
            str(seed_settings.index_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"qa serve exited: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("qa serve did not answer within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_page_is_served(server):
    with urllib.request.urlopen(server) as response:
        assert "News QA" in response.read().decode()


def test_search_api_returns_cited_escaped_passages(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    html = client.predict("what did Lavrov discuss with Kuwait?", 3, api_name="/search")
    assert "002_717a5c15cf0cef70" in html
    assert html.count('class="passage"') == 3
