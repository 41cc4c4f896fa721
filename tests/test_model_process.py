"""Models in child processes (index/model_process.py): same answers, errors that arrive,
children that come back after dying and go away with their parent. Real processes,
real models."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from index.aux_embedder import AuxEmbedder
from index.config import Settings
from index.errors import ModelLoadError
from index.model_process import ModelProcess, ProcessAuxEmbedder, ProcessEmbedder
from qa.assistant import Assistant

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["ماذا ناقش لافروف مع الكويت؟", "The central bank kept rates unchanged.", ""]


@pytest.fixture(scope="module")
def process_embedder() -> Iterator[ProcessEmbedder]:
    remote = ProcessEmbedder(Settings.from_env())
    yield remote
    remote.process.stop()


def test_process_embedder_answers_as_the_embedder_does(process_embedder, embedder) -> None:
    for text in TEXTS:
        np.testing.assert_array_equal(process_embedder.embed_query(text), embedder.embed_query(text))
        assert process_embedder.count_tokens(text) == embedder.count_tokens(text)
    np.testing.assert_array_equal(process_embedder.embed_passages(TEXTS), embedder.embed_passages(TEXTS))
    assert process_embedder.embed_passages([]).shape == (0, embedder.dimension)
    assert process_embedder.prompt_tokens("passage") == embedder.prompt_tokens("passage")
    assert (process_embedder.dimension, process_embedder.max_tokens, process_embedder.backend) == (
        embedder.dimension, embedder.max_tokens, embedder.backend)
    assert process_embedder.process.pid != os.getpid()


def test_threads_sharing_one_child_each_get_their_own_vectors(process_embedder, embedder) -> None:
    """Gradio answers two readers at once: their calls share one pipe, and a reply must
    never reach the other caller."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"{text} {n}" for n in range(6) for text in TEXTS]
    with ThreadPoolExecutor(4) as pool:
        vectors = list(pool.map(process_embedder.embed_query, texts))
    for text, vector in zip(texts, vectors):
        np.testing.assert_array_equal(vector, embedder.embed_query(text))


def test_process_aux_embedder_answers_as_the_second_model_does() -> None:
    remote, local = ProcessAuxEmbedder(), AuxEmbedder()
    try:
        np.testing.assert_array_equal(remote.embed_query(TEXTS[0]), local.embed_query(TEXTS[0]))
        np.testing.assert_array_equal(remote.embed_passages(TEXTS), local.embed_passages(TEXTS))
        assert (remote.name, remote.dimension) == (local.name, local.dimension)
        assert remote.reads(TEXTS[0]) and not remote.reads("লাভরভ কুয়েতের সঙ্গে কী নিয়ে আলোচনা করেছেন?")
    finally:
        remote.process.stop()


def test_errors_raised_in_the_child_arrive_as_raised() -> None:
    missing = replace(Settings.from_env(), model=str(ROOT / "no-such-model"))
    remote = ProcessEmbedder(missing)
    try:
        with pytest.raises(ModelLoadError, match="could not load embedding model"):
            remote.embed_query("hello")
        with pytest.raises(AttributeError, match="no_such_method"):
            remote.process.call("no_such_method")
    finally:
        remote.process.stop()


def test_a_child_that_died_is_started_again(process_embedder) -> None:
    before = process_embedder.embed_query("hello")
    first = process_embedder.process.pid
    os.kill(first, signal.SIGKILL)
    np.testing.assert_array_equal(process_embedder.embed_query("hello"), before)
    assert process_embedder.process.pid not in (None, first)


def test_a_child_that_keeps_dying_is_a_clear_error() -> None:
    doomed = ModelProcess(partial(os._exit, 3), "doomed")
    with pytest.raises(ModelLoadError, match=r"doomed model process stopped \(exit code 3\) twice"):
        doomed.call("anything")


def test_ctrl_c_is_left_to_the_parent(process_embedder) -> None:
    """A terminal's Ctrl-C reaches every process of the group: the children must not die
    with a traceback while the parent shuts down in order."""
    process_embedder.dimension  # noqa: B018 - the child is up
    pid = process_embedder.process.pid
    os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert process_embedder.dimension == 384 and process_embedder.process.pid == pid


def test_stop_ends_the_child() -> None:
    remote = ModelProcess(list, "list")
    assert remote.call("copy") == []
    pid = remote.pid
    assert pid is not None
    remote.stop()
    assert remote.pid is None and not _alive(pid)


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import time\n"
         "from index.model_process import ModelProcess\n"
         "if __name__ == '__main__':\n"
         "    remote = ModelProcess(list, 'list')\n"
         "    remote.call('copy')\n"
         "    print(remote.pid, flush=True)\n"
         "    time.sleep(600)\n"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert parent.stdout is not None
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()
        parent.wait(10)
        assert _gone_within(child, 10), f"child {child} outlived its killed parent"
    finally:
        parent.kill()


def test_assistant_answers_the_same_with_models_in_processes(seed_settings) -> None:
    question = "what did Lavrov discuss with Kuwait?"
    here = Assistant.from_settings(seed_settings).answer(question)
    apart = Assistant.from_settings(seed_settings, model_processes=True)
    # The retriever annotates its models as the in-process classes these stand in for.
    models: list[object] = [apart.retriever.embedder, apart.retriever.aux_embedder]
    try:
        assert apart.answer(question) == here
    finally:
        for model in models:
            assert isinstance(model, (ProcessEmbedder, ProcessAuxEmbedder))
            model.process.stop()


def test_qa_serve_runs_both_models_in_children_and_leaves_none_behind(seed_settings, tmp_path) -> None:
    import shutil

    from server import qa_serve

    index_dir = tmp_path / ".qa"
    shutil.copytree(seed_settings.index_dir, index_dir)
    with qa_serve(index_dir, tmp_path / "serve.log") as url:
        port = url.rstrip("/").rsplit(":", 1)[1]
        server = next(pid for pid in _pids() if f"--port\x00{port}\x00" in _cmdline(pid))
        deadline = time.monotonic() + 120
        while len(models := _model_children(server)) < 2 and time.monotonic() < deadline:
            urllib.request.urlopen(url, timeout=5).read(1)
            time.sleep(0.5)
        assert len(models) == 2, [_cmdline(pid) for pid in _children(server)]
        children = _children(server)  # the models and multiprocessing's resource tracker
    for pid in children:
        assert _gone_within(pid, 15), f"model process {pid} outlived qa serve"


# ------------------------------------------------------------------ process helpers


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    out = []
    for child in _pids():
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(child)
    return out


def _model_children(pid: int) -> list[int]:
    return [child for child in _children(pid) if "spawn_main" in _cmdline(child)]


def _alive(pid: int) -> bool:
    """Running: a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
