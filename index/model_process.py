"""An embedding model in a child process of its own, behind the same methods.

Why: loading a model and importing a web framework both hold Python's GIL (building
e5's 250k-piece tokenizer, USE's pure-Python tokenizer, Gradio's imports), so in one
process they run one after the other however they are threaded. `qa serve` puts each
model in its own process: they load on the other core while Gradio imports, and answer
questions in parallel without sharing a GIL. The pipe a question's vectors cross cost
nothing measurable: bench/retrieval_latency.py's `served` configuration was as fast as
the models in threads (docs/benchmarks.md).

A child is started on first use with the `spawn` method (a clean interpreter: the
parent's threads and imports are not copied), ignores Ctrl-C (the parent stops it), and
exits when the parent's end of the pipe closes, so a killed parent leaves no process
behind. A child that died is started again on the next call.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from index.aux_embedder import USE_MODEL, AuxEmbedder
from index.config import Settings
from index.embedder import Embedder
from index.errors import ModelLoadError

#: Seconds a stopping child gets before it is killed.
STOP_TIMEOUT = 5.0


class ModelProcess:
    """One object made by `factory` in a child process; `call` runs its methods there.

    Calls are serialised (one pipe); each returns the method's result or raises the
    exception it raised. Attribute reads go through `call` too.
    """

    def __init__(self, factory: Callable[[], Any], label: str) -> None:
        self.factory = factory
        self.label = label
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """`getattr(model, name)(*args, **kwargs)` in the child, or the attribute's value."""
        with self._lock:
            for attempt in range(2):
                conn = self._ensure_started()
                try:
                    conn.send((name, args, kwargs))
                    ok, value = conn.recv()
                    break
                except (EOFError, OSError) as exc:  # the child died: start a new one once
                    code = self._reap()
                    if attempt:
                        raise ModelLoadError(
                            f"the {self.label} model process stopped (exit code {code}) twice; "
                            "see the messages above"
                        ) from exc
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Ask the child to exit, and kill it if it does not."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(STOP_TIMEOUT)
                if self._process.is_alive():
                    self._process.kill()
                    self._process.join()
            self._process = self._conn = None

    def _ensure_started(self) -> Connection:
        if self._conn is None:
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child, self.factory), name=f"qa-{self.label}", daemon=True,
            )
            process.start()
            child.close()  # only the child holds it now: its exit shows up as EOF here
            self._process, self._conn = process, parent
        return self._conn

    def _reap(self) -> int | None:
        assert self._process is not None and self._conn is not None
        self._conn.close()
        self._process.join(STOP_TIMEOUT)
        code = self._process.exitcode
        self._process = self._conn = None
        return code


def _serve(conn: Connection, factory: Callable[[], Any]) -> None:
    """The child's loop: run each call on the model until the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model = factory()
    while True:
        try:
            name, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            value = getattr(model, name)
            result = (True, value(*args, **kwargs) if callable(value) else value)
        except Exception as exc:  # noqa: BLE001 - every error goes back to the caller
            result = (False, exc)
        try:
            conn.send(result)
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - e.g. an exception that cannot be pickled
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class _ProcessEmbeddings:
    """What every embedding model answers, from a `ModelProcess`."""

    def __init__(self, process: ModelProcess) -> None:
        self.process = process

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.process.call("embed_passages", texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.process.call("embed_query", text)

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.process.call("embed_queries", texts, progress=progress)


class ProcessEmbedder(_ProcessEmbeddings):
    """`index.embedder.Embedder` in a child process."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(ModelProcess(partial(Embedder, settings), "embedding"))
        self.settings = settings
        self.name = settings.model

    @property
    def backend(self) -> str:
        """What runs the model, known once it loaded ("torch" after a fallback)."""
        return self.process.call("backend")

    @property
    def quantization(self) -> str | None:
        return self.process.call("quantization")

    @property
    def question_weights(self) -> str | None:
        return self.process.call("question_weights")

    @property
    def dimension(self) -> int:
        return self.process.call("dimension")

    @property
    def max_tokens(self) -> int:
        return self.process.call("max_tokens")

    def count_tokens(self, text: str) -> int:
        return self.process.call("count_tokens", text)

    def prompt_tokens(self, kind: str) -> int:
        return self.process.call("prompt_tokens", kind)

    @property
    def span_vectors(self) -> str:
        return self.process.call("span_vectors")

    def embed_passages_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]],
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.process.call("embed_passages_with_spans", texts, spans)


class ProcessAuxEmbedder(_ProcessEmbeddings):
    """`index.aux_embedder.AuxEmbedder` in a child process."""

    name = USE_MODEL
    dimension = AuxEmbedder.dimension

    def __init__(self) -> None:
        super().__init__(ModelProcess(AuxEmbedder, "second embedding"))

    def reads(self, text: str) -> bool:
        return self.process.call("reads", text)
