"""End-to-end `qa index` speed of this tree beside another commit's, in the same run.

A seeded sample of a news archive is written once as one .jsonl file; then `qa index`
runs on it as a user runs it (a fresh process, a fresh index directory), with this
tree's code and with `--baseline`'s (checked out into a temporary git worktree),
alternating so that drift on a shared machine hits both alike. Reported per run: wall
seconds, chunks, chunks/s, and CPU seconds over wall seconds (2.0 = both cores busy
for the whole run).

    .venv/bin/python -m bench.index_speed --archive ../shared/data/saudinewsnet/articles.jsonl.gz \
        --size 500 --seed 1 --baseline main --rounds 1 --json out.json

With `--ray ADDRESS`, this tree's `qa index` runs beside this tree's `qa index --ray
ADDRESS` instead (no baseline checked out). CPU seconds count the `qa index` process and
the children it waited for: a local Ray's workers are not all among them, so for Ray runs
read `machine_busy` (every core of the machine, /proc/stat, whoever used it) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT
from index.cpu import this_cpu
from qa.bench import load_haystack, sample_haystack


def write_sample(archive: Path, size: int, seed: int, folder: Path) -> int:
    """The seeded sample as `folder/sample.jsonl`; returns how many articles it holds."""
    articles = sample_haystack(load_haystack(archive), size, seed)
    folder.mkdir(parents=True)
    with (folder / "sample.jsonl").open("w", encoding="utf-8") as out:
        for a in articles:
            out.write(json.dumps({"id": a.id, "title": a.title, "date": a.date, "outlet": a.outlet,
                                  "text": a.text}, ensure_ascii=False) + "\n")
    return len(articles)


def machine_cpu_seconds() -> float:
    """CPU seconds every core of the machine has been busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def index_once(tree: Path, folder: Path, index_dir: Path, options: list[str]) -> dict[str, float]:
    """One `qa index folder [options]` with the code of `tree`: wall and CPU seconds, chunks."""
    env = {**os.environ, "PYTHONPATH": str(tree), "QA_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1"}
    started, machine_before = time.monotonic(), machine_cpu_seconds()
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "index", str(folder), "--quiet", *options], cwd=tree,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    machine = machine_cpu_seconds() - machine_before
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if status != 0:
        raise SystemExit(f"error: qa index in {tree} failed:\n{err[-2000:]}")
    chunks = int(re.search(r"(\d+) chunks", out).group(1))  # type: ignore[union-attr]
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_s": round(wall, 1), "chunks": chunks, "chunks_per_s": round(chunks / wall, 2),
            "cpu_s": round(cpu, 1), "cores_busy": round(cpu / wall, 2),
            "machine_busy": round(machine / wall, 2)}


def alternate(
    commands: dict[str, tuple[Path, list[str]]], work: Path, rounds: int,
) -> dict[str, list[dict[str, float]]]:
    """Each named (tree, options) run `rounds` times on `work/sample`, alternating the
    order every round so that drift on a shared machine hits both alike."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for round_ in range(rounds):
        order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for n, name in enumerate(order):
            index_dir = work / f"index-{round_}-{n}"
            tree, options = commands[name]
            result = index_once(tree, work / "sample", index_dir, options)
            shutil.rmtree(index_dir)
            runs[name].append(result)
            print(f"{name}: {result}", file=sys.stderr)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, required=True, help=".jsonl or .jsonl.gz news archive")
    parser.add_argument("--size", type=int, default=500, help="articles sampled from it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", default="main", help="git commit to compare with (default main)")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="compare `qa index` with `qa index --ray ADDRESS`, both this tree, instead")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="qa-index-speed-") as tmp:
        work = Path(tmp)
        articles = write_sample(args.archive, args.size, args.seed, work / "sample")
        if args.ray:
            runs = alternate({"this tree": (ROOT, []), f"this tree --ray {args.ray}": (ROOT, ["--ray", args.ray])},
                             work, args.rounds)
        else:
            baseline = work / "baseline"
            subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=ROOT,
                           check=True, capture_output=True)
            try:
                commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=baseline, check=True,
                                        capture_output=True, text=True).stdout.strip()
                runs = alternate({f"baseline {args.baseline} ({commit})": (baseline, []), "this tree": (ROOT, [])},
                                 work, args.rounds)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False)
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": this_cpu().as_dict(),
              "archive": str(args.archive), "size": articles, "seed": args.seed, "ray": args.ray, "runs": runs}
    for name, results in runs.items():
        best = min(results, key=lambda r: r["wall_s"])
        print(f"{name:40} {best['wall_s']:8.1f} s  {best['chunks']:6d} chunks  "
              f"{best['chunks_per_s']:6.2f} chunks/s  {best['cores_busy']:.2f} cores busy  "
              f"{best['machine_busy']:.2f} machine busy")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
