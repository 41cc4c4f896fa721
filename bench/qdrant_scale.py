"""The index on Qdrant at scale: the engine core's build time, latency, recall, memory and disk.

    .venv/bin/python -m bench.qdrant_scale --chunks 20000 --work /tmp/qdrant-scale      # a quick check
    .venv/bin/python -m bench.qdrant_scale --chunks 100000 --work /tmp/qdrant-scale --json /tmp/qdrant-scale/100k.json
    .venv/bin/python -m bench.qdrant_scale --chunks 1000000 --work /tmp/qdrant-scale --json /tmp/qdrant-scale/1m.json
    .venv/bin/python -m bench.qdrant_scale --chunks 100000 --sentences ...   # with the sentence multivector

No `taskset` needed: the measuring step pins itself to one core (`--core`, default 0).

What runs: no Qdrant server (none can run on the machine this was written on), but the
engine's own Rust core in-process, `qdrant-edge-py` (`import qdrant_edge`): the same
segments, HNSW graphs, int8 quantisation, sparse inverted index, payload indexes and
query planner a server shard uses. There is no network, no gRPC/REST (de)serialisation,
no cluster fan-out and no server-side request queue here, so every latency below is a
lower bound on what one server shard answers in; a collection of several shards on
several machines adds a network round trip and the slowest shard per question.

The collection is laid out as `index/store/qdrant/schema.create_collections` lays it out
and filled as `index/store/qdrant/publish.py` fills it, on synthetic chunks from
`bench/synthetic.py` (real sentences, real embeddings, calibrated noise; its docstring):

- dense "main" (e5, 384-d) and "second" (USE, 512-d), dot product, originals on disk
  (mmap), int8 scalar quantisation kept in RAM, Qdrant's HNSW defaults (m=16,
  ef_construct=100, full_scan_threshold=10000 KB) and the engine's other defaults
  (optimizer, segment count, payload on disk);
- sparse "bm25" with the IDF modifier: each chunk's search tokens weighted by
  `BM25Constants(k1=1.5, b=0.75, average_length).weights(tokens)` (schema.py). The
  average length is the mean token count of the first batch of chunks (20,000, or all
  when fewer): a collection's constants are fixed at its first publication, so later
  chunks are weighed with an average that did not see them either;
- "sentences" (each chunk's sentence vectors, e5, as one max-sim multivector) only with
  `--sentences`: it is 3-6 more 384-d vectors per chunk with their own HNSW graph, so
  it is left out by default (not run at 100k or 1M: the 1M build took 54 min without it);
- payload per point: article_id, ordinal, text, title, date, day (YYYYMMDD), terms
  (distinct search tokens), added=1, with keyword indexes on article_id and terms and
  integer indexes on added, removed and day, made before the points are written.
  Not written (publish.py writes them): content_hash, start/end, outlet, origin,
  sentence spans, stored hubness: a few hundred bytes per point on disk.
  Point ids are chunk numbers + 1 (the embedded store's chunk ids); publish.py hashes them.

Steps, each in a fresh process (like bench/scale.py) so memory is the step's own:

1. build: create the shard in `--work`, upsert the points in batches of 1,000 (timed,
   with a progress bar, generating the chunks included and reported apart), then
   `shard.optimize()` (segments rewritten with HNSW graphs, int8 copies, the sparse
   inverted index; timed). Cached: a finished shard of the same size is reused.
2. truth: 200 XQuAD questions (100 English, 100 Arabic; `bench.scale.questions`)
   embedded for real (e5 `embed_query` with its "query: " prompt, USE `embed_query`),
   tokenised with `tokenize_for_search` for BM25 (`schema.query_weights`), and their
   exact top-10 for each model by brute force over the generated float32 vectors.
3. measure: a fresh process pinned to ONE core (os.sched_setaffinity before the engine
   starts any thread; the shard's search pool is also set to one thread) loads the shard
   with `EdgeShard.load` (time and memory reported), warms up with one pass over every
   question and query kind, then times `--rounds` passes, per question:
   (a) main k=100, live filter `added <= 1 and not removed <= 1`, int8 search with
       re-scoring by the originals (hnsw_ef: the engine's default);
   (b) second k=100, the same;
   (c) bm25 k=20, the same filter, idf over the live filter's corpus
       (`SearchParams(idf=IdfParams(corpus=live))`, what the reader sends), and
   (c0) the same without the corpus filter (idf over the whole shard), to show its cost;
   (d) a, b and c one after the other: one question's engine work in the store,
       without embedding the question (e5 + USE), fusion, payload reads or the state read;
   (e) rows: the payload of the 10 best chunks of (a) by id (what citations read);
   (s) with --sentences only: max-sim over the sentences of (a)'s 100 chunks
       (HasId filter, as `QdrantReader.best_sentences`).
   Recall@10 of (a) and (b): the first 10 of the 100 returned against the exact top-10.
   Memory: VmRSS before loading, VmHWM/VmRSS after loading and at the end, with the
   end's anonymous / file-backed split (file-backed: the mmapped originals, payload and
   graphs the queries touched; they count in RSS but the kernel can drop them).
   Disk: the shard folder (segments, WAL) after the build.

What is not measured: a Qdrant server (HTTP/gRPC, its thread pools, its request
batching), several shards or replicas, concurrent questions, writes during reads,
deletions and the tombstones they leave, cold starts from a dropped page cache, and the
question embedding (see "Speed and scale" for that).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.common import DEFAULT_XQUAD, ROOT, percentile, status_kb
from bench.scale import questions
from index.cpu import this_cpu

K_DENSE, K_SPARSE, K_TRUTH, K_ROWS = 100, 20, 10, 10
UPSERT_BATCH = 1_000
GENERATE_BATCH = 20_000
HNSW_M, HNSW_EF_CONSTRUCT, FULL_SCAN_KB = 16, 100, 10_000  # Qdrant's defaults
BM25_K1, BM25_B = 1.5, 0.75
LIVE_GENERATION = 1
ROW_FIELDS = ["article_id", "ordinal", "text", "title", "date"]


# --- the collection's layout -----------------------------------------------------------------


def edge_config(sentences: bool, search_threads: int | None = None) -> Any:
    """schema.create_collections' layout for one engine shard."""
    import qdrant_edge as qe

    vectors = {
        "main": qe.EdgeVectorParams(size=384, distance=qe.Distance.Dot, on_disk=True),
        "second": qe.EdgeVectorParams(size=512, distance=qe.Distance.Dot, on_disk=True),
    }
    if sentences:
        vectors["sentences"] = qe.EdgeVectorParams(
            size=384, distance=qe.Distance.Dot, on_disk=True,
            multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
        )
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors={"bm25": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        hnsw_config=qe.HnswIndexConfig(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_KB),
        quantization_config=qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, always_ram=True),
        max_search_threads=search_threads,
    )


def live_filter() -> Any:
    """schema.live_filter(G) for G = 1: added <= G and not removed <= G."""
    import qdrant_edge as qe

    return qe.Filter(
        must=[qe.FieldCondition(key="added", range=qe.RangeFloat(lte=LIVE_GENERATION))],
        must_not=[qe.FieldCondition(key="removed", range=qe.RangeFloat(lte=LIVE_GENERATION))],
    )


def shard_dir(args: argparse.Namespace) -> Path:
    return args.work / f"qdrant-{args.chunks}{'-sentences' if args.sentences else ''}"


def disk_bytes(path: Path) -> dict[str, int]:
    """Bytes on disk under each top-level entry of `path` (allocated blocks: mmapped
    files may be sparse)."""
    out = {}
    for entry in sorted(path.iterdir()):
        files = [entry] if entry.is_file() else [f for f in entry.rglob("*") if f.is_file()]
        out[entry.name] = sum(f.stat().st_blocks * 512 for f in files)
    return out


# --- step 1: build ---------------------------------------------------------------------------


def build(args: argparse.Namespace) -> dict[str, Any]:
    import qdrant_edge as qe

    from bench.synthetic import load_pool, synthetic_chunks
    from index.store.qdrant import schema
    from index.store.qdrant.schema import BM25Constants, day_number

    path = shard_dir(args)
    done_file = path.parent / f"{path.name}.built.json"
    if done_file.exists() and (path / "segments").exists():
        return {**json.loads(done_file.read_text(encoding="utf-8")), "reused": str(path)}
    if path.exists():
        raise SystemExit(f"error: {path} holds an unfinished shard; delete it first")
    pool = load_pool()
    shard = qe.EdgeShard.create(str(path), edge_config(args.sentences))
    keyword, integer = qe.PayloadSchemaType.Keyword, qe.PayloadSchemaType.Integer
    for name, kind in (("article_id", keyword), ("terms", keyword), ("day", integer),
                       ("added", integer), ("removed", integer)):
        shard.update(qe.UpdateOperation.create_field_index(name, kind))

    # The same term ids, memoised: the chunks repeat the pool's tokens, and hashing each one
    # again is Python time that says nothing about the engine.
    schema.term_id = functools.cache(schema.term_id)
    bm25: BM25Constants | None = None
    titles: dict[str, str] = {}
    generate_s = prepare_s = update_s = 0.0
    started = time.perf_counter()
    progress = tqdm(total=args.chunks, desc="generate + upsert", unit="chunk", file=sys.stderr)
    batches = synthetic_chunks(args.chunks, seed=args.seed, batch=GENERATE_BATCH, pool=pool)
    while True:
        t = time.perf_counter()
        batch = next(batches, None)
        generate_s += time.perf_counter() - t
        if batch is None:
            break
        assert batch.texts is not None and batch.tokens is not None  # made with text=True
        if bm25 is None:
            bm25 = BM25Constants(BM25_K1, BM25_B, float(np.mean([len(t) for t in batch.tokens])))
        t = time.perf_counter()
        main, second = batch.vectors["e5"].tolist(), batch.vectors["use"].tolist()
        for start in range(0, len(batch), UPSERT_BATCH):
            points = []
            for i in range(start, min(start + UPSERT_BATCH, len(batch))):
                article = batch.article_ids[i]
                if batch.ordinals[i] == 0:
                    titles = {article: " ".join(batch.texts[i].split()[:8])}  # as bench/scale.py titles them
                number = int(article.split("-")[1])
                date = f"{2016 + number % 10}-{1 + number % 12:02d}-{1 + number % 28:02d}"
                tokens = batch.tokens[i]
                indices, values = bm25.weights(tokens)
                vector: dict[str, Any] = {"main": main[i], "second": second[i],
                                          "bm25": qe.SparseVector(indices=indices, values=values)}
                if args.sentences:
                    rows = batch.sentences[i][batch.sentences[i] >= 0]
                    vector["sentences"] = pool.vectors["e5"][rows].tolist()
                points.append(qe.Point(id=int(batch.ids[i]) + 1, vector=vector, payload={
                    "article_id": article, "ordinal": int(batch.ordinals[i]), "text": batch.texts[i],
                    "title": titles.get(article, ""), "date": date, "day": day_number(date),
                    "terms": sorted(set(tokens)), "added": LIVE_GENERATION,
                }))
            updating = time.perf_counter()
            prepare_s += updating - t
            shard.update(qe.UpdateOperation.upsert_points(points))
            t = time.perf_counter()
            update_s += t - updating
            progress.update(len(points))
        prepare_s += time.perf_counter() - t
    progress.close()
    written = time.perf_counter()
    print(f"optimize (HNSW graphs, int8 copies, sparse index) over {args.chunks:,} points ...", file=sys.stderr)
    shard.optimize()
    shard.flush()
    optimized = time.perf_counter()
    info = shard.info()
    result = {
        "chunks": args.chunks, "sentences": args.sentences,
        "points": info.points_count, "segments": info.segments_count, "indexed_vectors": info.indexed_vectors_count,
        "bm25": {"k1": BM25_K1, "b": BM25_B, "average_length": round(bm25.average_length, 2) if bm25 else None},
        "generate_s": round(generate_s, 1), "prepare_points_s": round(prepare_s, 1), "update_s": round(update_s, 1),
        "write_s": round(written - started, 1), "optimize_s": round(optimized - written, 1),
        "build_s": round(optimized - started, 1),
        "build_peak_rss_gb": round(status_kb("VmHWM") * 1024 / 1e9, 2),
    }
    shard.close()
    parts = disk_bytes(path)
    result["disk_gb"] = round(sum(parts.values()) / 1e9, 2)
    result["disk_gb_by_part"] = {name: round(size / 1e9, 3) for name, size in parts.items()}
    result["segment_files_gb"] = segment_files(path)
    done_file.write_text(json.dumps(result), encoding="utf-8")
    return result


def segment_files(path: Path) -> dict[str, float]:
    """GB on disk per kind of segment file (vector storage, quantized copy, graph, ...)."""
    sizes: dict[str, int] = {}
    for f in (path / "segments").rglob("*"):
        if not f.is_file():
            continue
        top = f.relative_to(path / "segments").parts[1]
        kind = "quantized" if f.name.startswith("quantized") else top
        sizes[kind] = sizes.get(kind, 0) + f.stat().st_blocks * 512
    return {k: round(v / 1e9, 3) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])}


# --- step 2: questions and exact neighbours ------------------------------------------------------


def truth(args: argparse.Namespace) -> dict[str, Any]:
    from bench.synthetic import load_models, load_pool, synthetic_chunks
    from index.store.qdrant.schema import query_weights
    from index.text.search import tokenize_for_search

    asked = questions(args.xquad, args.questions)
    embedder, aux = load_models()
    t = time.perf_counter()
    queries = {
        "e5": np.stack([embedder.embed_query(q) for q in tqdm(asked, desc="embed e5", file=sys.stderr)]),
        "use": np.stack([aux.embed_query(q) for q in tqdm(asked, desc="embed USE", file=sys.stderr)]),
    }
    embed_s = time.perf_counter() - t
    sparse = [query_weights(tokenize_for_search(q)) for q in asked]
    best = {m: (np.full((len(asked), K_TRUTH), -np.inf, dtype=np.float32),
                np.zeros((len(asked), K_TRUTH), dtype=np.int64)) for m in queries}
    chunks = synthetic_chunks(args.chunks, seed=args.seed, batch=50_000, pool=load_pool(), text=False)
    for batch in tqdm(chunks, total=-(-args.chunks // 50_000), desc="exact top-10", file=sys.stderr):
        for model, q in queries.items():
            scores = q @ batch.vectors[model].T
            top = np.argpartition(-scores, K_TRUTH, axis=1)[:, :K_TRUTH]
            merged_scores = np.concatenate([best[model][0], np.take_along_axis(scores, top, 1)], axis=1)
            merged_ids = np.concatenate([best[model][1], batch.ids[top] + 1], axis=1)  # point ids start at 1
            keep = np.argsort(-merged_scores, axis=1)[:, :K_TRUTH]
            best[model] = (np.take_along_axis(merged_scores, keep, 1), np.take_along_axis(merged_ids, keep, 1))
    np.savez(args.work / f"truth-{args.chunks}.npz", allow_pickle=False,
             **{f"{m}_ids": best[m][1] for m in best}, **{f"{m}_queries": queries[m] for m in queries})
    (args.work / f"questions-{args.chunks}.json").write_text(
        json.dumps({"questions": asked, "bm25": sparse}, ensure_ascii=False), encoding="utf-8")
    return {"questions": len(asked), "embed_both_ms_mean": round(embed_s * 1000 / len(asked), 1),
            "bm25_empty_questions": sum(not s[0] for s in sparse)}


# --- step 3: measure on one core -------------------------------------------------------------------


def memory() -> dict[str, float]:
    return {field: round(status_kb(field) * 1024 / 1e9, 3) for field in ("VmHWM", "VmRSS", "RssAnon", "RssFile")}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.sched_setaffinity(0, {args.core})  # before the engine starts any thread: they all inherit it
    import qdrant_edge as qe

    before = memory()
    t = time.perf_counter()
    shard = qe.EdgeShard.load(str(shard_dir(args)), edge_config(args.sentences, search_threads=1))
    open_s = time.perf_counter() - t
    after_open = memory()

    truth_data = np.load(args.work / f"truth-{args.chunks}.npz")
    asked = json.loads((args.work / f"questions-{args.chunks}.json").read_text(encoding="utf-8"))
    live = live_filter()
    rescore = qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=True))

    def dense(vector: np.ndarray, using: str) -> Any:
        return qe.QueryRequest(limit=K_DENSE, query=qe.Query.Nearest(vector.tolist(), using=using),
                               filter=live, params=rescore)

    def sparse(weights: list[list[Any]], corpus: bool) -> Any:
        if not weights[0]:
            return None
        idf = qe.SearchParams(idf=qe.IdfParams(corpus=live)) if corpus else None
        query = qe.Query.Nearest(qe.SparseVector(indices=weights[0], values=weights[1]), using="bm25")
        return qe.QueryRequest(limit=K_SPARSE, query=query, filter=live, params=idf)

    requests = [{"main": dense(e5, "main"), "second": dense(use, "second"),
                 "bm25": sparse(weights, corpus=True), "bm25_no_corpus": sparse(weights, corpus=False)}
                for e5, use, weights in zip(truth_data["e5_queries"], truth_data["use_queries"], asked["bm25"])]

    def one_question(n: int, times: dict[str, list[float]], found: dict[str, list[list[int]]]) -> None:
        for kind, request in requests[n].items():
            if request is None:  # no search token: the reader asks nothing (QdrantLexical.search)
                continue
            t = time.perf_counter()
            hits = shard.query(request)
            times[kind].append((time.perf_counter() - t) * 1000)
            found[kind].append([int(h.id) for h in hits])
        t = time.perf_counter()
        for kind in ("main", "second", "bm25"):
            if requests[n][kind] is not None:
                shard.query(requests[n][kind])
        times["together"].append((time.perf_counter() - t) * 1000)
        best = found["main"][-1]
        t = time.perf_counter()
        shard.retrieve(list[Any](best[:K_ROWS]), with_payload=ROW_FIELDS, with_vector=False)
        times["rows"].append((time.perf_counter() - t) * 1000)
        if args.sentences:
            max_sim = qe.QueryRequest(
                limit=len(best), query=qe.Query.Nearest([truth_data["e5_queries"][n].tolist()], using="sentences"),
                filter=qe.Filter(must=[qe.HasIdCondition(point_ids=set(best)), *live.must],
                                 must_not=live.must_not))
            t = time.perf_counter()
            shard.query(max_sim)
            times["sentences"].append((time.perf_counter() - t) * 1000)

    kinds = [*requests[0], "together", "rows", *(["sentences"] if args.sentences else [])]

    def run_pass() -> tuple[dict[str, list[float]], dict[str, list[list[int]]]]:
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        found: dict[str, list[list[int]]] = {kind: [] for kind in requests[0]}
        for n in tqdm(range(len(requests)), desc="questions", file=sys.stderr, leave=False):
            one_question(n, times, found)
        return times, found

    t = time.perf_counter()
    warm_times, _ = run_pass()
    warm_up_s = time.perf_counter() - t
    timed: dict[str, list[float]] = {kind: [] for kind in kinds}
    found: dict[str, list[list[int]]] = {}
    for _ in range(args.rounds):
        times, found = run_pass()
        for kind, values in times.items():
            timed[kind] += values
    recall = {model: round(float(np.mean([len(set(hits[:K_TRUTH]) & set(truth_data[f"{model}_ids"][n].tolist()))
                                          / K_TRUTH for n, hits in enumerate(found[using])])), 4)
              for model, using in (("e5", "main"), ("use", "second"))}
    return {
        "core": args.core, "affinity": sorted(os.sched_getaffinity(0)), "open_s": round(open_s, 2),
        "memory_gb": {"before_open": before, "after_open": after_open, "end": memory()},
        "latency_ms": {kind: {"p50": round(statistics.median(v), 2), "p95": round(percentile(v, 95), 2),
                              "mean": round(statistics.fmean(v), 2)} for kind, v in timed.items()},
        "warm_up_pass_ms_mean": {kind: round(statistics.fmean(v), 2) for kind, v in warm_times.items()},
        "warm_up_s": round(warm_up_s, 1), "samples_per_kind": len(timed["main"]),
        "recall_at_10": recall,
        "hits_mean": {kind: round(float(np.mean([len(h) for h in hits])), 1) for kind, hits in found.items()},
        "bm25_same_top_with_and_without_corpus": round(float(np.mean(
            [a == b for a, b in zip(found["bm25"], found["bm25_no_corpus"])])), 3),
    }


# --- driver -------------------------------------------------------------------------------------------

STEPS = {"build": build, "truth": truth, "measure": measure}


def run_step(step: str, args: argparse.Namespace) -> Any:
    """One step in a fresh interpreter; its result read back from JSON."""
    print(f"== {step}", file=sys.stderr)
    out = args.work / f"step-{step}-{args.chunks}{'-sentences' if args.sentences else ''}.json"
    command = [sys.executable, "-m", "bench.qdrant_scale", "--step", step, "--chunks", str(args.chunks),
               "--work", str(args.work), "--xquad", str(args.xquad), "--questions", str(args.questions),
               "--seed", str(args.seed), "--rounds", str(args.rounds), "--core", str(args.core), "--out", str(out)]
    if args.sentences:
        command.append("--sentences")
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(out.read_text(encoding="utf-8"))


def report(results: dict[str, Any]) -> str:
    b, m = results["build"], results["measure"]
    lines = [
        f"{b['chunks']:,} chunks ({b['points']:,} points, {b['segments']} segments, "
        f"{b['indexed_vectors']:,} indexed vectors); CPU {results['cpu']['model']} ({results['cpu']['simd']})",
        f"build {b['build_s']} s: generate {b['generate_s']} s, points made {b['prepare_points_s']} s, "
        f"shard.update {b['update_s']} s, optimize {b['optimize_s']} s;"
        f" disk {b['disk_gb']} GB {b['disk_gb_by_part']}",
        f"open {m['open_s']} s; RSS after open {m['memory_gb']['after_open']['VmRSS']} GB, "
        f"peak (VmHWM) at end {m['memory_gb']['end']['VmHWM']} GB {m['memory_gb']['end']}",
        f"recall@10 vs exact: e5 {m['recall_at_10']['e5']}, USE {m['recall_at_10']['use']}",
    ]
    for kind, stats in m["latency_ms"].items():
        lines.append(f"  {kind:15s} p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qdrant-scale"))
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions after the warm-up")
    parser.add_argument("--core", type=int, default=0, help="the one core the measuring process runs on")
    parser.add_argument("--sentences", action="store_true", help="add the sentence multivector")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step:
        args.out.write_text(json.dumps(STEPS[args.step](args), ensure_ascii=False), encoding="utf-8")
        return
    results = {"cpu": {**this_cpu().as_dict(), "cores": os.cpu_count()},
               "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "build": run_step("build", args), "truth": run_step("truth", args),
               "measure": run_step("measure", args)}
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
