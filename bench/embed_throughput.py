"""Embedding throughput and question latency of every backend, side by side in one run.

    .venv/bin/python -m bench.embed_throughput --xquad ../shared/data/xquad \\
        [--json out.json] [--plot out.png] [--rounds 2] [--questions 200]

Texts: the XQuAD Arabic paragraphs (all 240 by default), embedded as the indexer does
(`Embedder.embed_passages`, which adds the "passage: " prompt). The baseline is the
sentence-transformers fp32 model at batch 16 with torch using every core; then the fp32
and int8 ONNX backends with their configured batch size (`Settings.onnx_batch_size`).
Passage rounds are interleaved (torch, onnx, onnx-int8, torch, ...) and the best round
of each backend is reported, so a neighbour's burst of CPU use hits all of them alike.

Question latency: `Embedder.embed_query` on XQuAD English and Arabic questions, each
question timed on every backend in turn; p50 and p95 over the questions (with onnx-int8,
through the 4-bit question graph where the export has one: index/onnx/blockwise.py).

Each ONNX vector is also compared with torch's (cosine), the quality side of the trade.
ONNX exports that do not exist yet are made first (once per machine, not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.common import percentile, pyplot, save, xquad_paragraphs, xquad_questions
from index.config import BACKENDS, Settings
from index.embedder import Embedder
from index.onnx.runtime import usable_cores

BASELINE = "torch"


def load_texts(xquad: Path, n_paragraphs: int, n_questions: int) -> tuple[list[str], list[str]]:
    paragraphs = xquad_paragraphs(xquad)[:n_paragraphs]
    asked = xquad_questions(xquad)
    q_en, q_ar = asked["en"], asked["ar"]
    half = n_questions // 2
    step = max(1, len(q_en) // max(half, 1))
    questions = q_en[::step][:half] + q_ar[::step][: n_questions - half]
    return paragraphs, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, required=True, help="folder with xquad.ar.json, xquad.en.json")
    parser.add_argument("--paragraphs", type=int, default=240, help="Arabic paragraphs to embed (240 = all)")
    parser.add_argument("--questions", type=int, default=200, help="questions to time (half en, half ar)")
    parser.add_argument("--rounds", type=int, default=2, help="passage rounds per backend (best is kept)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated, torch first")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every backend (default: all usable cores); 1 compares "
                             "work per core, which a neighbour's job on the other core disturbs less")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write a PNG chart here")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or backends[0] != BASELINE:
        raise SystemExit(f"error: --backends must start with the baseline, {BASELINE}")

    import torch

    cores = args.threads or usable_cores()
    torch.set_num_threads(cores)
    paragraphs, questions = load_texts(args.xquad, args.paragraphs, args.questions)
    base = Settings.from_env()
    embedders: dict[str, Embedder] = {}
    for backend in backends:
        embedder = Embedder(replace(base, backend=backend))
        embedder.embed_passages(paragraphs[:2])  # load (export once if needed) and warm up
        embedder.embed_query(questions[0])
        if embedder.backend != backend:
            raise SystemExit(f"error: {backend} fell back to {embedder.backend}; see the warning above")
        if backend != "torch" and embedder.model.threads != cores:
            from index.onnx.runtime import OnnxSentenceModel

            embedder.__dict__["model"] = OnnxSentenceModel(embedder.model.folder, threads=cores)
        embedders[backend] = embedder

    tokens = [embedders[BASELINE].count_tokens(p) + embedders[BASELINE].prompt_tokens("passage")
              for p in paragraphs]
    load_start = os.getloadavg()
    seconds: dict[str, list[float]] = {b: [] for b in backends}
    vectors: dict[str, np.ndarray] = {}
    latencies: dict[str, list[float]] = {b: [] for b in backends}
    query_vectors: dict[str, list[np.ndarray]] = {b: [] for b in backends}
    total = args.rounds * len(backends) * len(paragraphs) + len(questions) * len(backends)
    with tqdm(total=total, desc="Embedding", unit="text", file=sys.stderr) as bar:
        for _ in range(args.rounds):
            for backend in backends:
                bar.set_postfix_str(f"{backend}: passages")
                started = time.perf_counter()
                vectors[backend] = embedders[backend].embed_passages(paragraphs)
                seconds[backend].append(time.perf_counter() - started)
                bar.update(len(paragraphs))
        bar.set_postfix_str("questions")
        for question in questions:
            for backend in backends:
                started = time.perf_counter()
                query_vectors[backend].append(embedders[backend].embed_query(question))
                latencies[backend].append((time.perf_counter() - started) * 1000)
                bar.update(1)
    load_end = os.getloadavg()

    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        best = min(seconds[backend])
        row: dict[str, Any] = {
            "batch_size": base.batch_size if backend == "torch" else base.onnx_batch_size,
            "passages_per_s": round(len(paragraphs) / best, 2),
            "passages_per_s_rounds": [round(len(paragraphs) / s, 2) for s in seconds[backend]],
            "query_ms_p50": round(percentile(latencies[backend], 50), 2),
            "query_ms_p95": round(percentile(latencies[backend], 95), 2),
        }
        if backend != BASELINE:
            p_cos = (vectors[backend] * vectors[BASELINE]).sum(axis=1)
            q_cos = (np.stack(query_vectors[backend]) * np.stack(query_vectors[BASELINE])).sum(axis=1)
            row.update(
                passage_cosine_min=round(float(p_cos.min()), 5),
                passage_cosine_mean=round(float(p_cos.mean()), 5),
                query_cosine_min=round(float(q_cos.min()), 5),
                query_cosine_mean=round(float(q_cos.mean()), 5),
            )
        results[backend] = row
    base_row = results[BASELINE]
    for row in results.values():
        row["throughput_ratio"] = round(row["passages_per_s"] / base_row["passages_per_s"], 2)
        row["query_p50_ratio"] = round(base_row["query_ms_p50"] / row["query_ms_p50"], 2)

    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": base.model,
        "machine": f"{platform.machine()}, {platform.python_version()}, {usable_cores()} cores",
        "threads": cores,
        "load_average_start_end": [round(load_start[0], 2), round(load_end[0], 2)],
        "paragraphs": len(paragraphs),
        "paragraph_tokens_mean": round(statistics.mean(tokens), 1),
        "paragraph_tokens_max_after_truncation": min(max(tokens), embedders[BASELINE].max_tokens),
        "questions": len(questions),
        "rounds": args.rounds,
        "backends": results,
    }
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.plot:
        plot(report, args.plot)


def format_table(report: dict[str, Any]) -> str:
    results = report["backends"]
    base = results[BASELINE]
    lines = [
        f"{report['paragraphs']} XQuAD ar paragraphs (mean {report['paragraph_tokens_mean']} tokens), "
        f"{report['questions']} questions, {report['threads']} threads, best of {report['rounds']} rounds, "
        f"load average {report['load_average_start_end'][0]} -> {report['load_average_start_end'][1]}",
        f"{'backend':10s} {'batch':>5s} {'passages/s':>11s} {'vs torch':>9s} {'query p50 ms':>13s} "
        f"{'vs torch':>9s} {'query p95 ms':>13s} {'min cos':>8s}",
    ]
    for backend, row in results.items():
        cos = min(row.get("passage_cosine_min", 1.0), row.get("query_cosine_min", 1.0))
        lines.append(
            f"{backend:10s} {row['batch_size']:>5} {row['passages_per_s']:>11.2f} "
            f"{row['throughput_ratio']:>8.2f}x {row['query_ms_p50']:>13.2f} {row['query_p50_ratio']:>8.2f}x "
            f"{row['query_ms_p95']:>13.2f} {cos:>8.4f}"
        )
    lines.append(f"baseline: {BASELINE} {base['passages_per_s']} passages/s, query p50 {base['query_ms_p50']} ms")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    results = report["backends"]
    names = list(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    bars = left.bar(names, [results[n]["passages_per_s"] for n in names], color="tab:blue")
    for bar, name in zip(bars, names):
        left.annotate(f"{results[name]['throughput_ratio']}x", (bar.get_x() + bar.get_width() / 2,
                      bar.get_height()), ha="center", va="bottom")
    left.set_ylabel("passages / s")
    left.set_title(f"Indexing {report['paragraphs']} XQuAD ar paragraphs")
    x = np.arange(len(names))
    right.bar(x - 0.2, [results[n]["query_ms_p50"] for n in names], 0.4, label="p50")
    right.bar(x + 0.2, [results[n]["query_ms_p95"] for n in names], 0.4, label="p95")
    right.set_xticks(x, names)
    right.set_ylabel("ms")
    right.set_title(f"One question ({report['questions']} XQuAD en+ar)")
    right.legend()
    fig.suptitle(f"{report['model']}, {report['machine']}", fontsize=9)
    save(fig, path)


if __name__ == "__main__":
    main()
