"""Dense retrieval of each int8 recipe against the fp32 export, on this machine's CPU.

    .venv/bin/python -m bench.int8_recipes --xquad ../shared/data/xquad \\
        --haystack ../shared/data/saudinewsnet/articles.jsonl.gz --haystack-size 1000 --json out.json

onnxruntime's int8 kernels differ by CPU (index/cpu.py), so which recipe is exact enough
can only be measured on each kind of machine. Every recipe of `INT8_RECIPES` plus
`reduce-range` (signed 7-bit weights, inputs per call), `uint8-per-call` (unsigned
weights, inputs per call, outlier matmuls smoothed: `no-vnni` until 2026-12-07) and
`vnni-per-call` (the `vnni` recipe before its inputs were quantised per token: one scale
per call, outlier matmuls fp32) is exported
(once, into the models folder) and embeds the 240 XQuAD Arabic paragraphs, a seeded
sample of haystack articles (title and text, cut at the model's 512 tokens) and the
English and Arabic questions. MRR@10 of the right paragraph is reported among the
paragraphs alone and among paragraphs and haystack, by plain cosine (no fusion, no
chunking: the model alone). Then passages/s and ms per question of each, the best of
three interleaved rounds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from index.config import DEFAULT_MODEL, Settings
from index.cpu import this_cpu
from index.e5_convert import ensure_default_model
from index.onnx.cache import ensure_onnx_model
from index.onnx.quantize import INT8_RECIPES, int8_recipe
from index.onnx.runtime import OnnxSentenceModel
from qa.bench import load_haystack, sample_haystack, xquad_datasets

#: Recipes measured beside INT8_RECIPES: each input with one scale per call, as
#: onnxruntime's dynamic quantisation does it, and 7-bit, unsigned or 8-bit signed weights.
OTHER_RECIPES = {
    "reduce-range": {"reduce_range": True, "weight_type": "QInt8", "input_scale": "per-call", "outliers": "smooth"},
    "uint8-per-call": {"reduce_range": False, "weight_type": "QUInt8", "input_scale": "per-call", "outliers": "smooth"},
    "vnni-per-call": {"reduce_range": False, "weight_type": "QInt8", "input_scale": "per-call", "outliers": "fp32"},
}
CUTOFF = 10


def mrr(questions: np.ndarray, documents: np.ndarray, ids: list[str], gold: list[tuple[str, ...]]) -> float:
    top = np.argsort(-(questions @ documents.T), axis=1)[:, :CUTOFF]
    ranks = [next((r for r, j in enumerate(row) if ids[j] in g), None) for row, g in zip(top, gold)]
    return round(float(np.mean([1 / (r + 1) if r is not None else 0.0 for r in ranks])), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=Path, required=True)
    parser.add_argument("--haystack", type=Path, required=True)
    parser.add_argument("--haystack-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    settings = Settings.from_env()
    if settings.model != DEFAULT_MODEL:
        raise SystemExit("error: measures the default model only (unset QA_MODEL)")
    source = ensure_default_model(settings.models_dir)
    for name, other in OTHER_RECIPES.items():
        INT8_RECIPES.setdefault(name, other)
    folders = {"fp32": ensure_onnx_model(settings.model, source, settings.models_dir, "onnx")}
    for recipe in INT8_RECIPES:
        folders[recipe] = ensure_onnx_model(settings.model, source, settings.models_dir, "onnx-int8", recipe=recipe)
    models = {name: OnnxSentenceModel(folder) for name, folder in folders.items()}

    datasets = xquad_datasets(args.xquad, ["en", "ar"])
    paragraphs = datasets[0].articles
    sample = sample_haystack(load_haystack(args.haystack), args.haystack_size, args.seed)
    texts = [f"passage: {a.text}" for a in paragraphs] + [f"passage: {a.title}\n{a.text}" for a in sample]
    ids = [a.id for a in paragraphs] + [a.id for a in sample]
    results: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        print(f"{name}: embedding {len(texts)} documents", file=sys.stderr, flush=True)
        documents = model.encode(texts)
        row = results.setdefault(name, {})
        for dataset in datasets:
            questions = model.encode([f"query: {q.question}" for q in dataset.questions])
            gold = [q.gold_sources for q in dataset.questions]
            row[f"{dataset.name} alone"] = mrr(questions, documents[: len(paragraphs)], ids, gold)
            row[f"{dataset.name} haystack"] = mrr(questions, documents, ids, gold)
    speed_texts, queries = texts[: len(paragraphs)], [f"query: {q.question}" for q in datasets[0].questions[:300]]
    best = {name: [float("inf"), float("inf")] for name in models}
    for _ in range(3):
        for name, model in models.items():
            start = time.perf_counter()
            model.encode(speed_texts)
            best[name][0] = min(best[name][0], time.perf_counter() - start)
            start = time.perf_counter()
            for query in queries:
                model.encode([query])
            best[name][1] = min(best[name][1], (time.perf_counter() - start) / len(queries))
    for name, (passages_s, query_s) in best.items():
        results[name].update(passages_per_s=round(len(speed_texts) / passages_s, 1),
                             ms_per_question=round(query_s * 1000, 2))
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": this_cpu().as_dict(),
           "this_cpu_recipe": int8_recipe(), "haystack_size": args.haystack_size,
           "seed": args.seed, "results": results}
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
