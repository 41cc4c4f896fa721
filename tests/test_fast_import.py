"""What `qa serve` imports before it can answer: Gradio without its stub writer, and
none of the indexing-only libraries. Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_chat_imports_gradio_without_its_stub_writer():
    done = run(
        "import ui.app, gradio\n"
        "import gradio.component_meta as meta\n"
        "from ui import fast_import\n"
        "assert meta.create_or_modify_pyi is fast_import._skip_stub_writer, meta.create_or_modify_pyi\n"
        "assert gradio.Blocks and gradio.Chatbot  # the components are all there\n"
        "import sys; assert sum(isinstance(f, fast_import._SkipStubWriter) for f in sys.meta_path) == 0\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_hook_is_not_installed_after_gradio_was_imported():
    done = run(
        "import sys, gradio\n"
        "from ui import fast_import\n"
        "fast_import.install()\n"
        "assert not any(isinstance(f, fast_import._SkipStubWriter) for f in sys.meta_path)\n"
        "import gradio.component_meta as meta\n"
        "assert meta.create_or_modify_pyi is not fast_import._skip_stub_writer\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_serving_does_not_import_what_only_indexing_needs():
    """Chunking (langchain) and article parsing (dateparser) load on the first upload."""
    done = run(
        "import sys, qa.cli, qa.assistant, qa.retriever, ui.app\n"
        "heavy = [m for m in ('langchain_text_splitters', 'dateparser', 'torch', 'index.builder')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
