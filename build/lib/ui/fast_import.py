"""Start-up costs of Gradio that `qa serve` avoids.

1. Gradio imported without the type-stub writer it runs at import time.

For every component class it defines, Gradio's `ComponentMeta` calls
`component_meta.create_or_modify_pyi`, which reads the class's module source, parses it
with `ast` and rewrites the `.pyi` stub beside it when it differs: a step for Gradio's
own developers (editor hints), with no effect on what runs. It is half the cost of
`import gradio` (bench/serve_ready.py times both imports; docs/benchmarks.md), and
`qa serve` cannot answer before Gradio is imported. Gradio
imports its components from its own `__init__`, so the function cannot be replaced from
outside before it runs; an import hook replaces it the moment `gradio.component_meta`
has executed. If a Gradio release
moves or renames it, the hook changes nothing and Gradio just imports at full cost.

2. Matplotlib's backend chosen up front. Gradio selects matplotlib's "agg" backend
around every event it handles; unless a backend is named, matplotlib first resolves its
default one, which imports pyplot, inside the first answer. A server draws no windows,
so `MPLBACKEND=agg` is set unless the user set it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType

TARGET = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def _skip_stub_writer(*_args: object, **_kwargs: object) -> None:
    """Stands in for Gradio's stub writer: the stubs in the installed wheel are kept."""


class _SkipStubWriter(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as usual and patches it right after it executes."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)  # once is enough; later imports use the module cache
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            if hasattr(module, STUB_WRITER):
                setattr(module, STUB_WRITER, _skip_stub_writer)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Install the hook unless Gradio is already imported (or the hook already is)."""
    if TARGET in sys.modules or any(isinstance(f, _SkipStubWriter) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _SkipStubWriter())


def headless_matplotlib() -> None:
    """Name matplotlib's non-interactive backend unless the user named one."""
    os.environ.setdefault("MPLBACKEND", "agg")
