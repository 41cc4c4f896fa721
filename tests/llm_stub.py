"""A local fake OpenAI-compatible chat server for tests (the LLM is outside the product).

It speaks `POST /v1/chat/completions` with server-sent events exactly as `script` says
(pieces, status, hangs, dropped connections) and records every request it receives.
"""

from __future__ import annotations

from typing import Any

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def event(payload: object) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def delta(content: str | None) -> bytes:
    return event({"choices": [{"index": 0, "delta": {"content": content},
                               "finish_reason": None}]})


FINISH = event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
DONE = b"data: [DONE]\n\n"


def reply(*contents: str) -> list[bytes]:
    """A complete streamed answer: one event per content piece, then stop and [DONE]."""
    return [delta(c) for c in contents] + [FINISH, DONE]


@dataclass
class Script:
    """What the fake server does with a request."""

    pieces: list[bytes] = field(default_factory=list)  # each sent as its own HTTP chunk
    status: int = 200
    delay_s: float = 0.01
    hang_before_headers: bool = False
    hang_after_piece: int | None = None
    gate_after_first: threading.Event | None = None  # waited on after the first piece
    complete: bool = True  # False: drop the connection instead of ending the body


@dataclass
class Received:
    path: str
    headers: Message
    body: dict


class FakeLLMServer(ThreadingHTTPServer):
    """Speaks the OpenAI streaming protocol as told by `script`, records each request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = Script(pieces=reply("ok"))
        self.requests: list[Received] = []
        self.release = threading.Event()  # ends every hang, set at teardown
        self.finished = threading.Event()
        self.gate_passed: bool | None = None

    def base_url(self, suffix: str = "/v1") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{suffix}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (done, timed out) while a script still wrote is expected."""
        if not isinstance(sys.exception(), (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeLLMServer

    def do_POST(self) -> None:  # noqa: N802 - name fixed by http.server
        fake, script = self.server, self.server.script
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fake.requests.append(Received(self.path, self.headers, body))
        self.close_connection = True
        if script.hang_before_headers:
            fake.release.wait(10)
            return
        self.send_response(script.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, piece in enumerate(script.pieces):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            if index == 0 and script.gate_after_first is not None:
                fake.gate_passed = script.gate_after_first.wait(5)
            if index == script.hang_after_piece:
                fake.release.wait(10)
                return
            time.sleep(script.delay_s)
        if script.complete:
            self.wfile.write(b"0\r\n\r\n")
        fake.finished.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_server() -> Iterator[FakeLLMServer]:
    """A fake server on a free local port, shut down (hangs released) on exit."""
    fake = FakeLLMServer()
    thread = threading.Thread(target=fake.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        fake.shutdown()
        fake.server_close()
        thread.join(5)


def closed_port() -> int:
    """A local port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
