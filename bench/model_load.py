"""Model loading: seconds and memory to open each model a question needs, cold process.

    .venv/bin/python -m bench.model_load [--rounds 5] [--json out.json] [--plot out.png]

Each figure is one fresh interpreter doing one thing (so nothing is shared or already
imported), timed inside it:

- `e5 session`: an onnxruntime session over the configured ONNX export as it ships
  (graph plus memory-mapped weights file), then one question through it;
- `e5 session, one file` (the baseline): the same graph and weights saved as a single
  model.onnx, the layout exports had before, which onnxruntime parses and copies;
- `e5 tokenizer`: `tokenizers` loading the export's tokenizer.json;
- `second model`: USE loading and embedding one question.

Rounds alternate between the tasks, so a busy neighbour hits them alike; the median of
each is reported, with the resident memory the process gained. ONNX exports that do
not exist yet are made first (once per machine, not timed).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.common import ROOT, pyplot, save

PRELUDE = """
import json, sys, time
from bench.common import status_kb
def rss_mb():
    return status_kb() * 1024 / 1e6
import numpy
base = rss_mb()
started = time.perf_counter()
"""
EPILOGUE = """
print(json.dumps({"s": time.perf_counter() - started, "rss_mb": rss_mb() - base}))
"""
SESSION = """
import numpy as np
from index.onnx.runtime import open_session
session = open_session({model!r})
ids = np.array([[0, 1294, 2]], dtype=np.int64)
feed = {{"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}}
session.run(None, {{i.name: feed[i.name] for i in session.get_inputs()}})
"""
TOKENIZER = """
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file({tokenizer!r})
tokenizer.encode("query: hello")
"""
SECOND_MODEL = """
from index.aux_embedder import AuxEmbedder
model = AuxEmbedder()  # held, so its memory is still counted at the end
model.embed_query("hello")
"""


def run(code: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PRELUDE + code + EPILOGUE], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def single_file_copy(folder: Path, into: Path) -> Path:
    """The export's graph with its weights inside one model.onnx (the older layout)."""
    import onnx

    from index.onnx.runtime import MODEL_FILE

    path = into / MODEL_FILE
    onnx.save_model(onnx.load(str(folder / MODEL_FILE)), str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, help="write a PNG chart here")
    args = parser.parse_args()

    from index.config import Settings
    from index.embedder import Embedder
    from index.onnx.runtime import MODEL_FILE, TOKENIZER_FILE

    settings = Settings.from_env()
    embedder = Embedder(settings)
    folder = Path(embedder.model.folder)  # exports it first if needed
    with tempfile.TemporaryDirectory() as tmp:
        baseline = single_file_copy(folder, Path(tmp))
        tasks = {
            "e5 session": SESSION.format(model=str(folder / MODEL_FILE)),
            "e5 session, one file": SESSION.format(model=str(baseline)),
            "e5 tokenizer": TOKENIZER.format(tokenizer=str(folder / TOKENIZER_FILE)),
            "second model": SECOND_MODEL,
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in tasks}
        for _ in tqdm(range(args.rounds), desc="rounds", file=sys.stderr):
            for name, code in tasks.items():
                samples[name].append(run(code))
    results = {
        name: {
            "s_median": round(statistics.median(r["s"] for r in rows), 3),
            "s_min": round(min(r["s"] for r in rows), 3),
            "rss_mb_median": round(statistics.median(r["rss_mb"] for r in rows)),
        }
        for name, rows in samples.items()
    }
    report = {
        "model": settings.model, "backend": embedder.backend, "export": str(folder),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "rounds": args.rounds, "results": results,
    }
    for name, row in results.items():
        print(f"{name:22s} {row['s_median']:6.3f} s median (min {row['s_min']:.3f}), "
              f"+{row['rss_mb_median']} MB resident")
    mapped, single = results["e5 session"], results["e5 session, one file"]
    print(f"mapped weights open the e5 session {single['s_median'] / mapped['s_median']:.1f}x "
          f"faster than one file, holding {single['rss_mb_median'] - mapped['rss_mb_median']} MB less")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.plot:
        plot(report, args.plot)


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    results = report["results"]
    names = list(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    colors = ["tab:blue", "tab:gray", "tab:cyan", "tab:green"]
    left.barh(names, [results[n]["s_median"] for n in names], color=colors)
    left.set_xlabel("seconds, median, fresh process")
    left.invert_yaxis()
    right.barh(names, [results[n]["rss_mb_median"] for n in names], color=colors)
    right.set_xlabel("resident MB gained")
    right.invert_yaxis()
    right.set_yticks([])
    fig.suptitle(f"Loading the models: {report['model']} ({report['backend']}), {report['machine']}",
                 fontsize=9)
    save(fig, path)


if __name__ == "__main__":
    main()
