"""What several benchmarks need, in one place: XQuAD read by `qa bench`'s own parser,
percentiles, memory from /proc, and matplotlib set up for files. A `qa serve` to measure
is ui/serve_process.py's, which the tests share.

The scripts run as modules from the repository root (`python -m bench.<name>`), so
`bench`, `index`, `qa` and `ui` import without any sys.path edits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.bench import xquad_datasets

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XQUAD = ROOT.parent / "shared" / "data" / "xquad"


# --- XQuAD ------------------------------------------------------------------------------------

def xquad_questions(folder: Path, languages: Sequence[str] = ("en", "ar")) -> dict[str, list[str]]:
    """Each language's XQuAD questions, all in one order (the Arabic file's), as `qa bench`
    reads them: a benchmark and the quality numbers it sits beside see the same questions."""
    return {lang: [q.question for q in dataset.questions]
            for lang, dataset in zip(languages, xquad_datasets(folder, languages))}


def xquad_paragraphs(folder: Path) -> list[str]:
    """The Arabic paragraphs, the documents `qa bench --xquad` indexes."""
    return [article.text for article in xquad_datasets(folder, ["ar"])[0].articles]


# --- percentiles --------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between neighbours: one definition for
    every benchmark, so a p95 here and a p95 there are the same statistic."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def percentiles(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), digits), "p95": round(percentile(values, 95), digits)}


# --- memory -----------------------------------------------------------------------------------

def status_kb(field: str = "VmRSS", pid: int | str = "self") -> int:
    """A memory field of /proc/<pid>/status in kB: VmRSS (resident now) or VmHWM (peak)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")), 0)


def descendants(root: int) -> list[int]:
    """`root` and every process below it, alive now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return tree


def _stat_fields(pid: int) -> list[str]:
    """The fields of `/proc/PID/stat` after the command name, which may hold spaces and
    parentheses: the state first, then the parent's pid."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(root: int) -> float:
    """User and system CPU seconds used so far by a process and its descendants alive now."""
    ticks = 0
    for pid in descendants(root):
        try:
            ticks += sum(int(field) for field in _stat_fields(pid)[11:13])  # utime, stime
        except (OSError, ValueError):  # ended since it was listed
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_memory_mb(root: int, field: str = "VmRSS") -> float:
    """A status field summed over a process and its descendants: `qa serve` runs each
    model in a child process, so the server's own figure leaves most memory out. For
    VmHWM (each process's peak) the sum bounds the tree's peak from above."""
    total_kb = 0
    for pid in descendants(root):
        try:
            total_kb += status_kb(field, pid)
        except OSError:  # ended since it was listed
            continue
    return total_kb / 1000


# --- plots ------------------------------------------------------------------------------------

def pyplot():
    """matplotlib.pyplot drawing into files only (no display on a server), imported on
    first use so a run without --plot does not pay for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
