"""The layers stay layered: `index` never imports `qa` or `ui`, and `qa` imports `ui`
only where the CLI starts the server; `bench` and `tests` never import each other (what
both need lives in the product, e.g. ui/serve_process.py). Read from the source, so a
lazy import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: package -> packages it must not import, and the modules allowed to anyway. The tests'
#: helper modules import by their own names (pytest puts tests/ on sys.path).
TEST_MODULES = {"tests", "conftest", "server", "llm_stub"}
FORBIDDEN = {
    "index": ({"qa", "ui"}, set()),
    "qa": ({"ui"}, {"qa/cli.py"}),
    "bench": (TEST_MODULES, set()),
    "tests": ({"bench"}, set()),
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_crosses_a_layer(package):
    banned, allowed = FORBIDDEN[package]
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & banned)
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in allowed
    }
    assert {k: v for k, v in crossings.items() if v} == {}


def test_the_check_sees_lazy_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ui.app import serve\n    import qa.cli\n", encoding="utf-8")
    assert imported_packages(module) == {"ui", "qa"}
