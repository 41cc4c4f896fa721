"""Memory of a process with all its descendants (Linux /proc).

`qa serve` runs each embedding model in a child process, so the server's own figures
leave most of the memory out; the benchmarks sum the whole tree.
"""

from __future__ import annotations

from pathlib import Path


def descendants(root: int) -> list[int]:
    """`root` and every process below it, alive now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return tree


def tree_memory_mb(root: int, field: str = "VmRSS") -> float:
    """Sum of a /proc status field over the tree: VmRSS (resident now) or VmHWM (each
    process's peak; their sum bounds the tree's peak from above)."""
    total_kb = 0
    for pid in descendants(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines()
                          if line.startswith(f"{field}:")), 0)
    return total_kb / 1000
