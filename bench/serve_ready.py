"""Start-up: seconds from launching `qa serve` until it answers a question.

    .venv/bin/python -m bench.serve_ready --index-dir .qa [--runs 3] [--json out.json] [--plot out.png]

Each run starts a real `qa serve` on a free loopback port and asks `/answer` (through
`gradio_client`, as an API user would) until an answer comes back; the clock starts
just before the process is launched; once it answered, the resident memory of the
server and its child processes (the models run in two, index/model_process.py) is
summed. Reported next to it, measured in the same run:
the time until the page first responds, and the bare cost of importing Gradio in a
fresh interpreter, plainly and as the chat does it (without Gradio's import-time stub
writer, ui/fast_import.py): the floor no server built on Gradio can go under.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tqdm import tqdm

from bench.common import ROOT, pyplot, save, tree_memory_mb
from ui import serve_process

TARGET_S = 5.0
QUESTION = "ماذا ناقش لافروف مع الكويت؟"


def one_start(index_dir: Path, timeout: float) -> dict[str, float]:
    from gradio_client import Client

    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc, url = serve_process.start(index_dir, log)
        page = None
        try:
            while time.perf_counter() - started < timeout:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"qa serve exited: {log.read().decode(errors='replace')[-2000:]}")
                try:
                    urllib.request.urlopen(url, timeout=2).read(1)
                except OSError:
                    time.sleep(0.05)
                    continue
                page = page or time.perf_counter() - started
                try:
                    answer = Client(url, verbose=False).predict(QUESTION, 5, [], api_name="/answer")
                except Exception:  # noqa: BLE001 - not ready yet: ask again
                    time.sleep(0.05)
                    continue
                if answer.get("passages"):
                    answered = time.perf_counter() - started
                    return {"page_s": round(page, 2), "answered_s": round(answered, 2),
                            "rss_mb": round(tree_memory_mb(proc.pid))}
            raise SystemExit(f"no answer within {timeout} s")
        finally:
            serve_process.stop(proc)


#: Fresh-interpreter imports timed beside the starts: plain Gradio, and Gradio as the
#: chat imports it (ui/fast_import.py skips its import-time stub writer).
IMPORTS = {"import_gradio_s": "import gradio", "import_gradio_as_served_s": "import ui, gradio"}


def import_s(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path(".qa"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, help="write a PNG chart here")
    args = parser.parse_args()
    runs = [one_start(args.index_dir, args.timeout) for _ in tqdm(range(args.runs), desc="starts", file=sys.stderr)]
    result = {
        "index_dir": str(args.index_dir), "runs": runs,
        "answered_s_median": round(statistics.median(r["answered_s"] for r in runs), 2),
        "page_s_median": round(statistics.median(r["page_s"] for r in runs), 2),
        "rss_mb_median": round(statistics.median(r["rss_mb"] for r in runs)),
        **{f"{key}_median": round(statistics.median(import_s(code) for _ in range(args.runs)), 2)
           for key, code in IMPORTS.items()},
        "target_s": TARGET_S,
    }
    print(f"qa serve answers after {result['answered_s_median']} s (median of {args.runs}; "
          f"target <= {TARGET_S} s), holding {result['rss_mb_median']} MB with its model "
          f"processes; page up after {result['page_s_median']} s; in fresh "
          f"interpreters `import gradio` takes {result['import_gradio_s_median']} s, "
          f"as the chat imports it {result['import_gradio_as_served_s_median']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.plot:
        plot(result, args.plot)


def plot(result: dict[str, object], path: Path) -> None:
    plt = pyplot()
    bars = {
        "first answer": result["answered_s_median"], "page up": result["page_s_median"],
        "import gradio": result["import_gradio_s_median"],
        "import gradio\nas served": result["import_gradio_as_served_s_median"],
    }
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(list(bars), list(bars.values()), color=["tab:blue", "tab:cyan", "tab:gray", "tab:gray"])
    ax.axhline(TARGET_S, color="black", linestyle="--", linewidth=1, label=f"target {TARGET_S} s")
    ax.set_ylabel("seconds, median (imports: fresh interpreter)")
    ax.legend(fontsize=8)
    save(fig, path)


if __name__ == "__main__":
    main()
