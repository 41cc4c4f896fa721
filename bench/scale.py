"""Scale: a 1,000,000-chunk index, its answer latency, vector recall, memory, add and delete.

    .venv/bin/python -m bench.scale --chunks 1000000 --json docs/scale.json --plot docs/scale.png

The chunks are synthetic, made by `bench/synthetic.py` from real sentences and their
real embeddings (its docstring says exactly how). Steps, each in its own process so
that memory is the product's own:

1. build: the chunks are written through the product's `IndexWriter` (the same code as
   `qa index`, minus the embedding: the vectors come from the generator), so the
   segment gets the automatically chosen FAISS index, the BM25 index and SQLite. Cached
   in `--work`; a complete index of the same size is reused.
2. truth: exact top-10 of every benchmark question for both models, by brute force
   over the generated float32 vectors, and the latency of exact FAISS search
   (`IndexFlatIP` over all 1M vectors, the baseline the approximate index replaces).
3. measure: a fresh process opens the index with `Retriever` and reports time to
   open, question -> cited passages latency (`qa ask`'s retrieval: e5 + USE + BM25,
   fusion, SQLite rows) p50 / p95, recall@10 of each model's vector search against
   the exact top-10, the process's peak resident memory (VmHWM), and the time to add
   one article (10 chunks, embedded for real) and to delete it again, as the chat's
   upload does (warm models, `update_index` / `remove_articles`): `--updates` cycles,
   the median reported beside every run.
4. cli: wall time of `qa add FILE` and `qa remove ID` as separate commands (a fresh
   process: imports and model loading included).

Questions: XQuAD questions (English and Arabic) about the paragraphs whose sentences
make up the synthetic chunks, embedded for real.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from tqdm import tqdm

from bench.common import DEFAULT_XQUAD, ROOT, percentile, pyplot, save, status_kb, xquad_questions
from index.articles import Article
from index.chunking import Chunk
from index.config import Settings

TARGETS = {"latency_ms_p95": 50.0, "recall_at_10": 0.98, "peak_rss_gb": 3.0, "add_s": 2.0, "remove_s": 2.0}
K = 10
NEW_ARTICLE = (
    "زنجبار تصدر القرنفل\n\n"
    + " ".join(
        f"أعلنت حكومة زنجبار في بيانها رقم {n} أن صادرات القرنفل ارتفعت هذا العام بعد موسم حصاد "
        "جيد في جزيرة بمبا، وأن الأسعار في الأسواق العالمية تحسنت."
        for n in range(40)
    )
)


class Built(TypedDict, total=False):
    """`build`: the index written, or only `reused` (its folder) when it was there."""

    reused: str
    chunks: int
    articles: int
    vector_index: str
    generate_s: float
    write_s: float
    disk_gb: float


class Truth(TypedDict):
    questions: int
    exact_flat_search_ms: dict[str, dict[str, float]]  # model -> p50, p95


class Measured(TypedDict):
    open_s: float
    hashes_verified_s: float
    hashes_ok: bool
    latency_ms_p50: float
    latency_ms_p95: float
    recall_at_10: dict[str, float]  # model -> recall
    peak_rss_gb: float
    peak_rss_gb_before_add: float
    add_s: float
    add_s_runs: list[float]
    chunks_after_add: int
    first_search_after_add_ms: float
    found_after_add: bool
    remove_s: float
    remove_s_runs: list[float]
    gone_after_remove: bool
    segments: list[str]
    shipped: dict[str, float]  # nprobe_share, rerank
    sweep: list[dict[str, float]]  # the same with each model's p50 ms, per (nprobe_share, rerank)


class Results(TypedDict):
    """Each step's result, as its process wrote it (the --json file)."""

    build: Built
    truth: Truth
    measure: Measured
    cli: dict[str, float]  # qa_add_s, qa_remove_s


def questions(xquad: Path, count: int) -> list[str]:
    """`count` XQuAD questions, half English and half Arabic, spread over the paragraphs."""
    picked = []
    for asked in xquad_questions(xquad).values():
        picked += asked[:: max(1, len(asked) // (count // 2))][: count // 2]
    return picked


def index_settings(work: Path, chunks: int) -> Settings:
    return Settings.from_env(index_dir=work / f"index-{chunks}")


# --- step 1: build ---------------------------------------------------------------------


def build(args: argparse.Namespace) -> Built:
    from index.aux_embedder import USE_MODEL
    from index.builder import chunker_for, chunking_signature
    from index.embedder import Embedder
    from index.store.generation import read_manifest
    from index.store.manifest import Manifest
    from index.store.writer import IndexWriter, writer_lock
    from bench.synthetic import load_pool, synthetic_chunks

    settings = index_settings(args.work, args.chunks)
    existing = read_manifest(settings.index_dir) if (settings.index_dir / "CURRENT").exists() else None
    if existing is not None and existing.chunk_count >= args.chunks:
        return {"reused": str(settings.index_dir)}
    embedder = Embedder(settings)
    manifest = Manifest(
        model=settings.model, dimension=embedder.dimension,
        chunking=chunking_signature(chunker_for(settings, embedder)),
        aux_model=USE_MODEL, aux_dimension=512, backend=getattr(embedder, "backend", "torch"),
    )
    pool = load_pool()
    started = time.perf_counter()
    with writer_lock(settings.index_dir):
        writer = IndexWriter(settings.index_dir, manifest, start_fresh=True,
                             vector_index=settings.vector_index)
        current: list[tuple[str, str, list[str], np.ndarray, np.ndarray]] = []
        progress = tqdm(total=args.chunks, desc="generate + stage", unit="chunk", file=sys.stderr)
        for batch in synthetic_chunks(args.chunks, seed=args.seed, batch=20_000, pool=pool):
            assert batch.texts is not None and batch.tokens is not None  # made with text=True
            for i in range(len(batch)):
                if current and current[-1][0] != batch.article_ids[i]:
                    _stage(writer, current)
                    current = []
                current.append((batch.article_ids[i], batch.texts[i], batch.tokens[i],
                                batch.vectors["e5"][i], batch.vectors["use"][i]))
            progress.update(len(batch))
        _stage(writer, current)
        progress.close()
        staged = time.perf_counter()
        print("writing the segment (SQLite, BM25, FAISS training) ...", file=sys.stderr)
        writer.publish()
    done = time.perf_counter()
    written = read_manifest(settings.index_dir)
    if written is None:
        raise SystemExit(f"error: no index in {settings.index_dir} after publishing")
    return {
        "chunks": written.chunk_count, "articles": written.article_count,
        "vector_index": str(written.segments[0]["vector_index"]),  # segments are dict[str, object]
        "generate_s": round(staged - started, 1), "write_s": round(done - staged, 1),
        "disk_gb": round(sum(f.stat().st_size for f in settings.index_dir.rglob("*") if f.is_file()) / 1e9, 2),
    }


def _stage(writer, rows: list[tuple[str, str, list[str], np.ndarray, np.ndarray]]) -> None:
    """One synthetic article: its chunks' texts joined by blank lines, exact spans."""
    article_id = rows[0][0]
    text, chunks = "", []
    for ordinal, (_, chunk_text, _, _, _) in enumerate(rows):
        if text:
            text += "\n\n"
        start = len(text)
        text += chunk_text
        chunks.append(Chunk(article_id, ordinal, start, len(text), chunk_text))
    number = int(article_id.split("-")[1])
    date = f"{2016 + number % 10}-{1 + number % 12:02d}-{1 + number % 28:02d}"
    title = " ".join(rows[0][1].split()[:8])
    writer.add_article(
        Article(article_id, title, text, date, "synthetic"), chunks,
        np.stack([r[3] for r in rows]), [r[2] for r in rows], np.stack([r[4] for r in rows]),
    )


# --- step 2: exact neighbours ------------------------------------------------------------


def truth(args: argparse.Namespace) -> Truth:
    import faiss

    from index.aux_embedder import AuxEmbedder
    from index.embedder import Embedder
    from bench.synthetic import load_pool, synthetic_chunks

    settings = index_settings(args.work, args.chunks)
    asked = questions(args.xquad, args.questions)
    embedder, aux = Embedder(settings), AuxEmbedder()
    queries = {
        "e5": np.stack([embedder.embed_query(q) for q in tqdm(asked, desc="embed e5", file=sys.stderr)]),
        "use": np.stack([aux.embed_query(q) for q in asked]),
    }
    best = {m: (np.full((len(asked), K), -np.inf, dtype=np.float32), np.zeros((len(asked), K), dtype=np.int64))
            for m in queries}
    flat = {m: faiss.IndexFlatIP(q.shape[1]) for m, q in queries.items()}
    for batch in tqdm(synthetic_chunks(args.chunks, seed=args.seed, batch=50_000, pool=load_pool(), text=False),
                      total=-(-args.chunks // 50_000), desc="exact top-10", file=sys.stderr):
        for model, q in queries.items():
            vectors = batch.vectors[model]
            flat[model].add(vectors)
            scores = q @ vectors.T
            top = np.argpartition(-scores, K, axis=1)[:, :K]
            merged_scores = np.concatenate([best[model][0], np.take_along_axis(scores, top, 1)], axis=1)
            merged_ids = np.concatenate([best[model][1], batch.ids[top] + 1], axis=1)  # chunk ids start at 1
            keep = np.argsort(-merged_scores, axis=1)[:, :K]
            best[model] = (np.take_along_axis(merged_scores, keep, 1), np.take_along_axis(merged_ids, keep, 1))
    exact_ms = {}
    for model, index in flat.items():
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        times = []
        for q in queries[model][:50]:
            started = time.perf_counter()
            index.search(q.reshape(1, -1), K)
            times.append((time.perf_counter() - started) * 1000)
        exact_ms[model] = {"p50": round(statistics.median(times), 1), "p95": round(percentile(times, 95), 1)}
    np.savez(args.work / f"truth-{args.chunks}.npz", allow_pickle=False, **{f"{m}_ids": best[m][1] for m in best},
             **{f"{m}_queries": queries[m] for m in queries})
    (args.work / f"questions-{args.chunks}.json").write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
    return {"questions": len(asked), "exact_flat_search_ms": exact_ms}


# --- step 3: measure in a fresh process -----------------------------------------------------


def measure(args: argparse.Namespace) -> Measured:
    from index import ann
    from index.builder import remove_articles, update_index
    from index.store.generation import read_manifest
    from index.store.reader import IndexReader
    from qa.retriever import Retriever

    settings = index_settings(args.work, args.chunks)
    asked = json.loads((args.work / f"questions-{args.chunks}.json").read_text(encoding="utf-8"))
    truth_data = np.load(args.work / f"truth-{args.chunks}.npz")
    started = time.perf_counter()
    retriever = Retriever(settings)
    retriever.search("warm up", k=K)  # opens the index, loads both models
    open_s = time.perf_counter() - started
    reader = retriever.reader
    assert isinstance(reader, IndexReader), "times the embedded store's background hash check"
    hashed = reader.verified.wait(600)
    verified_s = time.perf_counter() - started
    latencies = []
    for question in tqdm(asked, desc="questions", file=sys.stderr):
        t = time.perf_counter()
        retriever.search(question, k=K)
        latencies.append((time.perf_counter() - t) * 1000)
    recall = vector_recall(reader, truth_data)
    sweep = []
    shipped = (ann.NPROBE_SHARE, ann.RERANK)
    for share, rerank in ((1 / 128, 3), (1 / 64, 1), (1 / 64, 3), (1 / 32, 1), (1 / 32, 3), (1 / 16, 3)):
        ann.NPROBE_SHARE, ann.RERANK = share, rerank
        sweep.append({"nprobe_share": round(share, 5), "rerank": rerank,
                      **vector_recall(reader, truth_data, timed=True)})
    ann.NPROBE_SHARE, ann.RERANK = shipped
    rss_before_add = status_kb("VmHWM") * 1024 / 1e9
    adds, removes, first_searches, found_new, gone = [], [], [], True, True
    for n in range(args.updates):  # add one article, search it, delete it; a new id each time
        article_id = f"zanzibar_cloves_{n}"
        article = Article(article_id, "زنجبار تصدر القرنفل", NEW_ARTICLE.split("\n\n", 1)[1],
                          "2026-12-01", None, f"{article_id}.txt")
        t = time.perf_counter()
        report = update_index([article], settings, embedder=retriever.embedder, progress=False,
                              aux_embedder=retriever.aux_embedder)
        adds.append(time.perf_counter() - t)
        t = time.perf_counter()
        found_new &= retriever.search("صادرات القرنفل في زنجبار", k=1)[0].source == article_id
        first_searches.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        remove_articles([article_id], settings)
        removes.append(time.perf_counter() - t)
        gone &= all(p.source != article_id for p in retriever.search("صادرات القرنفل في زنجبار", k=K))
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        raise SystemExit(f"error: no index in {settings.index_dir}")
    return {
        "open_s": round(open_s, 2), "hashes_verified_s": round(verified_s, 2), "hashes_ok": hashed,
        "latency_ms_p50": round(statistics.median(latencies), 1), "latency_ms_p95": round(percentile(latencies, 95), 1),
        "recall_at_10": recall, "peak_rss_gb": round(status_kb("VmHWM") * 1024 / 1e9, 2),
        "peak_rss_gb_before_add": round(rss_before_add, 2),
        "add_s": round(statistics.median(adds), 2), "add_s_runs": [round(x, 2) for x in adds],
        "chunks_after_add": report.chunk_count,
        "first_search_after_add_ms": round(statistics.median(first_searches), 1), "found_after_add": found_new,
        "remove_s": round(statistics.median(removes), 2), "remove_s_runs": [round(x, 2) for x in removes],
        "gone_after_remove": gone,
        "segments": [str(s["vector_index"]) for s in manifest.segments],
        "shipped": {"nprobe_share": round(shipped[0], 5), "rerank": shipped[1]}, "sweep": sweep,
    }


def vector_recall(reader, truth_data, timed: bool = False) -> dict[str, float]:
    """recall@10 of each model's vector search against the exact top-10 (and its p50 ms)."""
    result = {}
    for model, aux in (("e5", False), ("use", True)):
        found, times = [], []
        for n, q in enumerate(truth_data[f"{model}_queries"]):
            t = time.perf_counter()
            hits = reader.search(q, K, aux=aux)
            times.append((time.perf_counter() - t) * 1000)
            found.append(len({i for i, _ in hits} & set(truth_data[f"{model}_ids"][n].tolist())) / K)
        result[model] = round(float(np.mean(found)), 4)
        if timed:
            result[f"{model}_ms_p50"] = round(statistics.median(times), 2)
    return result


# --- step 4: the same with the CLI ----------------------------------------------------------


def cli(args: argparse.Namespace) -> dict[str, float]:
    settings = index_settings(args.work, args.chunks)
    qa = [sys.executable, "-m", "qa.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zanzibar_cloves.txt"
        path.write_text(NEW_ARTICLE, encoding="utf-8")
        timings = {}
        for name, command in (("qa_add_s", [*qa, "add", str(path), "--quiet"]),
                              ("qa_remove_s", [*qa, "remove", "zanzibar_cloves"])):
            t = time.perf_counter()
            subprocess.run([*command, "--index-dir", str(settings.index_dir)], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)
            timings[name] = round(time.perf_counter() - t, 2)
    return timings


STEPS = {"build": build, "truth": truth, "measure": measure, "cli": cli}


def run_step(step: str, args: argparse.Namespace) -> Any:
    """Run one step in a fresh interpreter and return its result (what its function in
    STEPS returned, read back from JSON)."""
    print(f"== {step}", file=sys.stderr)
    out = args.work / f"step-{step}.json"
    command = [sys.executable, "-m", "bench.scale", "--step", step, "--chunks", str(args.chunks),
               "--work", str(args.work), "--xquad", str(args.xquad), "--questions", str(args.questions),
               "--seed", str(args.seed), "--updates", str(args.updates), "--out", str(out)]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


def report(results: Results) -> str:
    m, t = results["measure"], results["truth"]
    exact = t["exact_flat_search_ms"]
    lines = [
        f"index: {results['build']}",
        f"open (first search answered): {m['open_s']} s; all hashes checked after {m['hashes_verified_s']} s",
        f"question -> passages p50 {m['latency_ms_p50']} ms, p95 {m['latency_ms_p95']} ms "
        f"(target p95 <= {TARGETS['latency_ms_p95']})",
        f"  baseline exact FAISS search of ONE model over all vectors: e5 p50 {exact['e5']['p50']} ms, "
        f"USE p50 {exact['use']['p50']} ms",
        f"recall@10 vs exact: e5 {m['recall_at_10']['e5']}, USE {m['recall_at_10']['use']} "
        f"(target >= {TARGETS['recall_at_10']})",
        f"peak memory {m['peak_rss_gb']} GB (target <= {TARGETS['peak_rss_gb']}), "
        f"{m['peak_rss_gb_before_add']} GB before the add",
        f"add one article {m['add_s']} s {m['add_s_runs']}, remove it {m['remove_s']} s "
        f"{m['remove_s_runs']} (median, runs; target <= 2 s each); "
        f"found after add: {m['found_after_add']}, gone after remove: {m['gone_after_remove']}",
        f"CLI: qa add {results['cli']['qa_add_s']} s, qa remove {results['cli']['qa_remove_s']} s (fresh processes)",
    ]
    return "\n".join(lines)


def plot(results: Results, path: Path) -> None:
    plt = pyplot()
    m = results["measure"]
    measured = [m["latency_ms_p95"] / TARGETS["latency_ms_p95"],
                min(m["recall_at_10"].values()) / TARGETS["recall_at_10"],
                m["peak_rss_gb"] / TARGETS["peak_rss_gb"], m["add_s"] / TARGETS["add_s"],
                m["remove_s"] / TARGETS["remove_s"]]
    labels = ["p95 latency", "recall@10 (min)", "peak memory", "add one", "remove one"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(labels, measured, color=["tab:blue"] * 5)
    ax.axvline(1.0, color="black", linestyle="--", label="target")
    ax.set_xlabel("measured / target (recall: higher is better, others: lower)")
    ax.set_title(f"{results['build'].get('chunks', 'cached')} chunks")
    ax.legend()
    save(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Settings.from_env().cache_dir / "bench" / "scale")
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--updates", type=int, default=5, help="add/delete cycles to time (median reported)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step:
        args.out.write_text(json.dumps(STEPS[args.step](args), ensure_ascii=False), encoding="utf-8")
        return
    results: Results = {"build": run_step("build", args), "truth": run_step("truth", args),
                        "measure": run_step("measure", args), "cli": run_step("cli", args)}
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
