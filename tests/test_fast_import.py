"""What `qa serve` imports before it can answer: Gradio without its stub writer, and
none of the indexing-only libraries. Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def succeeds(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_chat_imports_gradio_without_its_stub_writer():
    succeeds("import sys, ui.app, gradio\n"
             "import gradio.component_meta as meta\n"
             "from ui.fast_import import _SkipStubWriter, _skip_stub_writer\n"
             "assert meta.create_or_modify_pyi is _skip_stub_writer, meta.create_or_modify_pyi\n"
             "assert gradio.Blocks and gradio.Chatbot  # the components are all there\n"
             "assert not [f for f in sys.meta_path if isinstance(f, _SkipStubWriter)]  # used once\n")


def test_the_hook_is_not_installed_after_gradio_was_imported():
    succeeds("import sys, gradio\n"
             "from ui import fast_import\n"
             "fast_import.install()\n"
             "assert not [f for f in sys.meta_path if isinstance(f, fast_import._SkipStubWriter)]\n"
             "import gradio.component_meta as meta\n"
             "assert meta.create_or_modify_pyi is not fast_import._skip_stub_writer\n")


def test_serving_does_not_import_what_only_indexing_needs():
    """Chunking (langchain), article parsing (dateparser) and signatures (datasketch) load
    on the first upload."""
    succeeds("import sys, qa.cli, qa.assistant, qa.retriever, ui.app\n"
             "heavy = [m for m in ('langchain_text_splitters', 'dateparser', 'torch', 'index.builder',\n"
             "                     'datasketch')\n"
             "         if m in sys.modules]\n"
             "assert not heavy, heavy\n")


def test_gradio_event_wrapper_does_not_import_pyplot():
    """Gradio selects matplotlib's backend around every event; with a backend named up
    front that does not import pyplot (0.4 s in the first answer otherwise)."""
    succeeds("import os, sys\n"
             "os.environ.pop('MPLBACKEND', None)\n"
             "import ui.app\n"
             "from gradio.utils import MatplotlibBackendMananger\n"
             "with MatplotlibBackendMananger():\n"
             "    pass\n"
             "assert os.environ['MPLBACKEND'] == 'agg'\n"
             "assert 'matplotlib.pyplot' not in sys.modules\n")
