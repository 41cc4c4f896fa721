"""`qa bench`: retrieval quality and latency of every configuration, side by side.

Datasets:
  --corpus DIR --questions FILE   articles + JSON-lines questions
                                  ({"question", "gold_source", "gold_text": [...]}).
  --xquad DIR                     XQuAD: the 240 Arabic paragraphs as 240 documents, every
                                  question asked in English (xquad-en-ar) and Arabic (xquad-ar-ar).
Each dataset is indexed into a temporary directory with the configured model, so the
numbers never depend on a user's own index.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from index.articles import Article, load_folder
from index.aux_embedder import AuxEmbedder
from index.builder import update_index
from index.config import Settings
from index.embedder import Embedder
from index.normalize import normalize_for_search
from qa.metrics import METRIC_KEYS, RankedHit, aggregate, question_metrics

LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")
from qa.retriever import MODES, Passage, Retriever

CUTOFF = 10


@dataclass(frozen=True)
class BenchQuestion:
    question: str
    gold_source: str
    gold_text: tuple[str, ...] = ()

    def is_relevant(self, passage: Passage) -> bool:
        """Right article and, when gold text is given, the passage contains one of them."""
        if passage.source != self.gold_source:
            return False
        if not self.gold_text:
            return True
        text = normalize_for_search(passage.text)
        return any(normalize_for_search(g) in text for g in self.gold_text)


@dataclass
class Dataset:
    name: str
    articles: list[Article]
    questions: list[BenchQuestion]
    shares_index_with: str | None = None
    results: dict[str, object] = field(default_factory=dict)


def read_questions(path: Path) -> list[BenchQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            questions.append(BenchQuestion(
                record["question"], record["gold_source"], tuple(record.get("gold_text") or ())
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SystemExit(f"error: {path} line {number} is not a benchmark question: {exc}")
    if not questions:
        raise SystemExit(f"error: {path} holds no questions")
    return questions


def xquad_datasets(folder: Path) -> list[Dataset]:
    """The Arabic paragraphs as documents; English and Arabic questions by shared id."""
    arabic = json.loads((folder / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    english = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    english_by_id = {
        qa["id"]: qa["question"]
        for doc in english for paragraph in doc["paragraphs"] for qa in paragraph["qas"]
    }
    articles, en, ar = [], [], []
    paragraphs = [p for doc in arabic for p in doc["paragraphs"]]
    for number, paragraph in enumerate(paragraphs):
        doc_id = f"xquad-{number:03d}"
        articles.append(Article(id=doc_id, title="", text=paragraph["context"]))
        for qa in paragraph["qas"]:
            ar.append(BenchQuestion(qa["question"], doc_id))
            en.append(BenchQuestion(english_by_id[qa["id"]], doc_id))
    return [
        Dataset("xquad-en-ar", articles, en),
        Dataset("xquad-ar-ar", articles, ar, shares_index_with="xquad-en-ar"),
    ]


def evaluate(
    questions: Sequence[BenchQuestion],
    search: Callable[[str, int], list[Passage]],
    label: str,
) -> dict[str, float]:
    per_question, latencies = [], []
    for q in tqdm(questions, desc=label, unit="q", file=sys.stderr):
        start = time.perf_counter()
        passages = search(q.question, CUTOFF)
        latencies.append((time.perf_counter() - start) * 1000)
        hits = [RankedHit(p.source, p.score, q.is_relevant(p)) for p in passages]
        per_question.append(question_metrics(hits))
    return aggregate(per_question, latencies)


def run(datasets: list[Dataset], settings: Settings, configs: Sequence[str]) -> dict[str, object]:
    embedder, aux_embedder = Embedder(settings), AuxEmbedder()  # each model loads once
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        retrievers: dict[str, Retriever] = {}
        for dataset in datasets:
            owner = dataset.shares_index_with or dataset.name
            if owner not in retrievers:
                index_settings = replace(settings, index_dir=Path(tmp) / owner)
                started = time.perf_counter()
                report = update_index(dataset.articles, index_settings, embedder, progress=True,
                                      aux_embedder=aux_embedder)
                build_s = round(time.perf_counter() - started, 2)
                retrievers[owner] = Retriever(index_settings, embedder, aux_embedder)
                retrievers[owner].search("warm up", k=1)  # open the index before timing
                dataset.results.update(index_build_s=build_s, chunks=report.chunk_count)
            else:
                dataset.results.update(index_shared_with=owner)
            retriever = retrievers[owner]
            dataset.results.update(documents=len(dataset.articles), questions=len(dataset.questions))
            dataset.results["configs"] = {
                config: evaluate(
                    dataset.questions,
                    lambda text, k, c=config: retriever.search(text, k=k, mode=c),
                    f"{dataset.name}/{config}",
                )
                for config in configs
            }
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": settings.model,
        "machine": f"{platform.machine()}, {platform.python_version()}, {_cpu_count()} cores",
        "datasets": {d.name: d.results for d in datasets},
    }


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def format_table(results: dict[str, object]) -> str:
    columns = ["dataset", "config", *METRIC_KEYS, *LATENCY_KEYS]
    rows = [columns]
    for name, dataset in results["datasets"].items():
        for config, metrics in dataset["configs"].items():
            rows.append([name, config, *(f"{metrics[key]}" for key in columns[2:])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(results: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = METRIC_KEYS
    datasets = results["datasets"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4), squeeze=False)
    for ax, (name, dataset) in zip(axes[0], datasets.items()):
        configs = list(dataset["configs"])
        width = 0.8 / len(configs)
        for i, config in enumerate(configs):
            values = [dataset["configs"][config][k] for k in quality]
            ax.bar([x + i * width for x in range(len(quality))], values, width, label=config)
        ax.set_xticks([x + width * (len(configs) - 1) / 2 for x in range(len(quality))], quality)
        ax.set_ylim(0, 1)
        ax.set_title(name)
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa bench", description="Retrieval benchmark.")
    parser.add_argument("--corpus", type=Path, help="folder of articles")
    parser.add_argument("--questions", type=Path, help="JSON-lines questions about --corpus")
    parser.add_argument("--xquad", type=Path, help="folder with xquad.ar.json and xquad.en.json")
    parser.add_argument("--configs", default=",".join(MODES),
                        help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write a bar chart (PNG) here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.corpus) != bool(args.questions):
        raise SystemExit("error: --corpus and --questions go together")
    if not (args.corpus or args.xquad):
        raise SystemExit("error: give --corpus DIR --questions FILE and/or --xquad DIR")
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if unknown := [c for c in configs if c not in MODES]:
        raise SystemExit(f"error: unknown configs {unknown}; choose from {', '.join(MODES)}")
    datasets = []
    if args.corpus:
        loaded = load_folder(args.corpus)
        datasets.append(Dataset(args.questions.stem, loaded.articles, read_questions(args.questions)))
    if args.xquad:
        datasets.extend(xquad_datasets(args.xquad))
    results = run(datasets, Settings.from_env(), configs)
    print(format_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
