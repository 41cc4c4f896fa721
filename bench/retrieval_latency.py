"""Question -> cited passages latency, single user, warm: each embedding backend side by side.

    .venv/bin/python -m bench.retrieval_latency --xquad ../shared/data/xquad --json out.json --plot out.png

Indexes the seed articles and the 240 XQuAD Arabic paragraphs once (default settings),
then times `Retriever.search(question, k=10)` (what `qa ask` and the chat run before
composing an answer: e5 + USE + BM25, fusion, SQLite rows) for every backend in
`--backends`, on the same indexes and questions, taking turns by blocks of 10 questions
so that a slow moment of the shared machine hits every backend alike. The first backend
is the baseline (torch fp32 sentence-transformers, as shipped before issue 5). One more
configuration, `served`, is the last backend with each model in its own process, as
`qa serve` runs them (index/model_process.py; `--no-served` leaves it out). Also
reports where the time goes for the last backend in process: e5, USE, both side by
side (as the retriever runs them), then the steps of a search as `Retriever` runs them:
the candidate lists (`Retriever.candidates`: both models, vector search and re-scoring,
BM25, name coverage), fusion (`qa.fusion.fuse`) and reading the rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from bench.common import DEFAULT_XQUAD, ROOT, percentiles, pyplot, save
from index.articles import load_folder
from index.aux_embedder import AuxEmbedder
from index.builder import update_index
from index.config import Settings
from index.embedder import Embedder
from index.model_process import ProcessAuxEmbedder, ProcessEmbedder
from qa.bench import read_questions, xquad_datasets
from qa.fusion import fuse, lexical_weight_for
from qa.retriever import Retriever

TARGET = {"p50": 10.0, "p95": 20.0}
#: The configuration with the models in child processes, as `qa serve` runs them.
SERVED = "served"
#: Backends take turns by blocks of questions, with a pause between turns: question by
#: question, torch's idle OpenMP threads still spinning after each of its searches slowed
#: onnx-int8's next one by 1-3 ms at p50 (measured both ways in one sitting).
BLOCK, SETTLE_S = 10, 0.2


@dataclass
class DatasetLatency:
    """One dataset's numbers: p50/p95 ms of each configuration (and `speedup_p50` over
    the first), where the time goes, and how many questions. The JSON report writes the
    configurations as keys beside `stages_ms` and `questions` (`as_json`)."""

    configs: dict[str, dict[str, float]]
    stages_ms: dict[str, dict[str, float]]
    questions: int

    def as_json(self) -> dict[str, object]:
        return {**self.configs, "stages_ms": self.stages_ms, "questions": self.questions}


def stages(retriever: Retriever, questions: list[str]) -> dict[str, dict[str, float]]:
    """Milliseconds per step of one search, for the breakdown table. `e5 || use` is the
    two question embeddings side by side, as `Retriever.candidates` runs them; the other
    steps call what `Retriever.search` calls."""
    keys = ("e5", "use", "e5 || use", "candidates", "fusion", "proximity", "rows")
    # A retriever of its own: the timed searches left their question vectors remembered in
    # the other one (qa/retriever.py RECENT_QUESTIONS), which would hide e5 from `candidates`.
    embedder, aux = retriever.embedder, retriever.aux_embedder
    if aux is None:
        raise SystemExit("the breakdown times the second model: it is off (QA_AUX_MODEL)")
    fresh = Retriever(retriever.settings, embedder, aux)
    reader = fresh.reader
    times: dict[str, list[float]] = {k: [] for k in keys}
    fresh.warm_up()  # hubness tables, the second model's thread, the spellings by skeleton
    for question in questions:
        started = time.perf_counter()
        second = retriever._aux_worker.submit(aux.embed_query, question)
        embedder.embed_query(question)
        second.result()
        times["e5 || use"].append((time.perf_counter() - started) * 1000)
        t0 = time.perf_counter()
        embedder.embed_query(question)
        t1 = time.perf_counter()
        aux.embed_query(question)
        t2 = time.perf_counter()
        lists = fresh.candidates(reader, question)
        t3 = time.perf_counter()
        fused = fuse(*lists, lexical_weight=lexical_weight_for(question))
        t4 = time.perf_counter()
        hits = fresh._rescored_head(reader, question, fused)[:10]
        t5 = time.perf_counter()
        reader.chunks([i for i, _ in hits])
        t6 = time.perf_counter()
        for key, start, end in (("e5", t0, t1), ("use", t1, t2), ("candidates", t2, t3), ("fusion", t3, t4),
                                ("proximity", t4, t5), ("rows", t5, t6)):
            times[key].append((end - start) * 1000)
    return {key: percentiles(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "seed_questions.jsonl")
    parser.add_argument("--backends", default="torch,onnx-int8")
    parser.add_argument("--no-served", action="store_true", help=f"leave out the {SERVED!r} configuration")
    parser.add_argument("-n", type=int, default=300, help="XQuAD questions (half English, half Arabic)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    base = Settings.from_env()
    embedders = {b: Embedder(replace(base, backend=b)) for b in backends}
    aux = AuxEmbedder()
    auxes = dict.fromkeys(backends, aux)
    configs = {b: b for b in backends}  # configuration -> its backend
    if not args.no_served:
        configs[SERVED] = backends[-1]
        # The process stand-ins answer what Embedder and AuxEmbedder answer, but Retriever's
        # hints name those classes only (as in qa/assistant.py's wiring): no protocol yet.
        embedders[SERVED] = ProcessEmbedder(replace(base, backend=backends[-1]))  # type: ignore[assignment]
        auxes[SERVED] = ProcessAuxEmbedder()  # type: ignore[assignment]
    en_ar, ar_ar = xquad_datasets(args.xquad)
    step = max(1, len(en_ar.questions) // (args.n // 2))
    sets = {
        "seeds": (load_folder(args.corpus).articles, [q.question for q in read_questions(args.questions)]),
        "xquad": (en_ar.articles, [q.question for q in en_ar.questions[::step] + ar_ar.questions[::step]][: args.n]),
    }
    datasets: dict[str, DatasetLatency] = {}
    with tempfile.TemporaryDirectory(prefix="qa-latency-") as tmp:
        for name, (articles, questions) in sets.items():
            settings = replace(base, index_dir=Path(tmp) / name)
            update_index(articles, settings, embedder=embedders[backends[-1]], progress=False, aux_embedder=aux)
            retrievers = {c: Retriever(replace(settings, backend=b), embedders[c], auxes[c])
                          for c, b in configs.items()}
            for retriever in retrievers.values():
                for question in questions[:5]:  # warm: index open, models loaded, caches hot
                    retriever.search(question, k=10)
            times: dict[str, list[float]] = {c: [] for c in configs}
            blocks = range(0, len(questions), BLOCK)
            for start in tqdm(blocks, desc=name, unit="block", file=sys.stderr):
                for backend, retriever in retrievers.items():
                    time.sleep(SETTLE_S)
                    for question in questions[start:start + BLOCK]:
                        started = time.perf_counter()
                        retriever.search(question, k=10)
                        times[backend].append((time.perf_counter() - started) * 1000)
            row = {b: percentiles(t) for b, t in times.items()}
            baseline = row[backends[0]]
            for backend in list(configs)[1:]:
                row[backend]["speedup_p50"] = round(baseline["p50"] / row[backend]["p50"], 2)
            datasets[name] = DatasetLatency(row, stages(retrievers[backends[-1]], questions), len(questions))
    for name, result in datasets.items():
        row = result.configs
        cells = [f"{c} p50 {row[c]['p50']} ms / p95 {row[c]['p95']} ms" for c in configs]
        ratio = row[backends[-1]].get("speedup_p50")
        print(f"{name} ({result.questions} questions): " + "; ".join(cells)
              + (f"; {backends[-1]} {ratio}x faster at p50 than {backends[0]}" if ratio else "")
              + f" (target p50 <= {TARGET['p50']}, p95 <= {TARGET['p95']})")
        print("  where the time goes (" + backends[-1] + ", p50 ms): "
              + ", ".join(f"{k} {v['p50']}" for k, v in result.stages_ms.items()))
    if args.json:
        results = {"backends": list(configs), "target_ms": TARGET,
                   "datasets": {name: result.as_json() for name, result in datasets.items()}}
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.plot:
        plot(list(configs), datasets, args.plot)


def plot(backends: list[str], datasets: dict[str, DatasetLatency], path: Path) -> None:
    plt = pyplot()
    names = list(datasets)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / (2 * len(backends))
    for i, backend in enumerate(backends):
        for j, pct in enumerate(("p50", "p95")):
            values = [datasets[n].configs[backend][pct] for n in names]
            ax.bar([x + (2 * i + j) * width for x in range(len(names))], values, width, label=f"{backend} {pct}")
    for pct, style in (("p50", "--"), ("p95", ":")):
        ax.axhline(TARGET[pct], color="black", linestyle=style, linewidth=1, label=f"target {pct}")
    ax.set_xticks([x + width * (2 * len(backends) - 1) / 2 for x in range(len(names))], names)
    ax.set_ylabel("ms, question -> passages")
    ax.legend(fontsize=7)
    save(fig, path)


if __name__ == "__main__":
    main()
