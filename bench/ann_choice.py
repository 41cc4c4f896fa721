"""Which FAISS index at which size: exact vs IVF/HNSW, on synthetic chunks and real questions.

    .venv/bin/python -m bench.ann_choice --sizes 100000,300000 --json /tmp/ann-300k.json
    .venv/bin/python -m bench.ann_choice --sizes 1000000 --json /tmp/ann-1m.json

Data: the first N chunks of `bench.synthetic.synthetic_chunks(N, seed=0)` (real sentences,
real e5 and USE sentence vectors mixed plus calibrated noise; see that module), both
models' vectors. Queries: 250 English and 250 Arabic XQuAD questions (a fixed random
sample), embedded with `Embedder.embed_query` (e5) and `AuxEmbedder.embed_query` (USE).

Per model and index configuration it reports: build time (train + add, 2 threads),
index size (`faiss.serialize_index`), recall@10 against exact search (`IndexFlatIP`)
on the same vectors, and p50/p95 single-query search latency (one query per `search`
call, k=10) with `faiss.omp_set_num_threads(1)` and with 2.

Configurations (nlist = index.ann.nlist_for(N), as `qa index` picks it: the power of two
nearest 4*sqrt(N), at most N/39 so each list has FAISS's 39 training points):
  Flat                 exact; also "Flat/BLAS": the same with single queries routed
                       through BLAS (faiss.cvar.distance_compute_blas_threshold = 1)
  build_s              train + add with 2 threads; for IVF the coarse k-means is run once
                       per N and model and shared, its time counted in every IVF row
  IVF{nlist},SQ8 / SQfp16 / PQ{d/4}np     over nprobe 8 ... nlist/4 (np: no polysemous
                       training, which only slows training down)
  ... +rerank{R}       the ANN's top 10*R re-scored exactly with the float32 vectors read
                       from a file on disk (os.pread of just those rows, so they are not
                       held in memory); only the ANN codes count as index memory
  HNSW32,SQ8           efConstruction 40, over several efSearch; building stops (and the
                       row says so) after --hnsw-max-minutes

--realism: the same measurements on ~2k real chunks (every run of 3-6 consecutive
sentences of an XQuAD-ar paragraph or seed article, embedded for real) and on as many
synthetic chunks, to check that the synthetic data is not easier for approximate
search than real data at the one scale where both exist.

Synthetic vectors are cached as float32 files under ~/.cache/qa/bench/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import faiss
import numpy as np
from tqdm import tqdm

from bench.common import percentile, status_kb, xquad_questions
from bench.synthetic import (
    DEFAULT_XQUAD, DIMENSIONS, NOISE, RECIPE_VERSION, cache_dir, load_models, load_pool,
    synthetic_chunks,
)
from index.ann import nlist_for

K = 10
TRAIN_MAX = 200_000
NPROBES = (8, 16, 32, 64, 128, 256, 512, 1024)
EF_SEARCH = (16, 32, 64, 128, 256, 512)
REALISM_NPROBES = (1, 2, 4, 8, 16, 32, 64)
WARMUP = 20

#: One measured configuration: n, model, data, spec, its parameter (nprobe or efSearch),
#: build and search timings, size, recall, memory, load; see `Bench.row` and COLUMNS.
Row = dict[str, object]


class Results(TypedDict):
    """The --json file, rewritten after every row."""

    date: str
    machine: str
    faiss: str
    command: str
    queries: dict[str, int]
    noise: dict[str, float]
    k: int
    train_max: int
    rows: list[Row]
    resumed: NotRequired[int]
    done: NotRequired[list[str]]  # n/model/spec of every finished configuration


# --- data -----------------------------------------------------------------------------------

def vector_files(n: int, seed: int) -> dict[str, Path]:
    """float32 files of the first n synthetic chunks' vectors per model, generated once."""
    pool = load_pool()
    noise = "-".join(f"{m}{NOISE[m]}" for m in sorted(NOISE))
    stem = f"synthetic-{pool.key}-r{RECIPE_VERSION}-{noise}-s{seed}"
    folder = cache_dir()
    # Any cached file with at least n rows will do: chunk i does not depend on n.
    for path in sorted(folder.glob(f"{stem}-n*.e5.f32")):
        rows = int(path.name[len(stem) + 2:].split(".")[0])
        files = {m: folder / f"{stem}-n{rows}.{m}.f32" for m in DIMENSIONS}
        if rows >= n and all(f.exists() for f in files.values()):
            return files
    files = {m: folder / f"{stem}-n{n}.{m}.f32" for m in DIMENSIONS}
    tmp = {m: f.with_suffix(".tmp") for m, f in files.items()}
    handles = {m: open(tmp[m], "wb") for m in DIMENSIONS}
    batches = synthetic_chunks(n, seed=seed, batch=20_000, pool=pool, text=False)
    for batch in tqdm(batches, total=math.ceil(n / 20_000), desc=f"synthetic {n:,}",
                      unit="batch", file=sys.stderr):
        for m, handle in handles.items():
            handle.write(batch.vectors[m].tobytes())
    for m, handle in handles.items():
        handle.close()
        tmp[m].replace(files[m])
    return files


def open_vectors(path: Path, n: int, model: str) -> np.ndarray:
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, DIMENSIONS[model]))


def questions(xquad: Path, count: int, seed: int = 0) -> list[str]:
    """count/2 English and count/2 Arabic XQuAD questions, a fixed random sample."""
    out = []
    for qs in xquad_questions(xquad).values():
        order = np.random.default_rng(seed).permutation(len(qs))[: count // 2]
        out += [qs[i] for i in sorted(order)]
    return out


def query_vectors(texts: list[str]) -> dict[str, np.ndarray]:
    from index.aux_embedder import USE_MODEL
    from index.config import Settings

    key = hashlib.sha256("\0".join([Settings.from_env().model, USE_MODEL, *texts]).encode())
    path = cache_dir() / f"queries-{key.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path) as data:
            return {m: data[m] for m in DIMENSIONS}
    e5, use = load_models()
    vectors = {
        "e5": np.vstack([e5.embed_query(t) for t in tqdm(texts, desc="e5 queries", file=sys.stderr)]),
        "use": np.vstack([use.embed_query(t) for t in tqdm(texts, desc="USE queries", file=sys.stderr)]),
    }
    vectors = {m: np.ascontiguousarray(v, dtype=np.float32) for m, v in vectors.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, allow_pickle=False, **vectors)
    return vectors


# --- measurement ---------------------------------------------------------------------------

def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(set(f[f >= 0]) & set(t)) for f, t in zip(found[:, :K], truth[:, :K])]
    return round(float(np.mean(hits)) / K, 4)


class Reranker:
    """Exact re-scoring of candidates from the float32 vectors file, read row by row."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.row = dimension * 4
        self.d = dimension

    def rows(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), self.d), dtype=np.float32)
        for j, i in enumerate(ids):
            out[j] = np.frombuffer(os.pread(self.fd, self.row, int(i) * self.row), dtype=np.float32)
        return out

    def __call__(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        ids = np.sort(ids[ids >= 0])
        scores = self.rows(ids) @ query
        return ids[np.argsort(-scores, kind="stable")[:K]]


def latency(search, xq: np.ndarray, threads: int) -> dict[str, float]:
    faiss.omp_set_num_threads(threads)
    for q in xq[:WARMUP]:
        search(q)
    times = []
    for q in xq:
        start = time.perf_counter()
        search(q)
        times.append((time.perf_counter() - start) * 1000)
    return {f"p50_ms_t{threads}": round(percentile(times, 50), 3),
            f"p95_ms_t{threads}": round(percentile(times, 95), 3)}


def rss_mb() -> float:
    return round(status_kb() / 1024, 1)


class Bench:
    def __init__(self, args, n: int, model: str, xb: np.ndarray, path: Path, xq: np.ndarray,
                 report) -> None:
        self.args, self.n, self.model, self.xb, self.path, self.xq = args, n, model, xb, path, xq
        self.d = xb.shape[1]
        self.report = report
        self.truth: np.ndarray | None = None
        self.data = "synthetic"
        self._cache: dict[tuple[str, int], tuple[Any, float]] = {}  # faiss is untyped

    def row(self, spec: str, **fields) -> Row:
        row = {"n": self.n, "model": self.model, "data": self.data, "spec": spec, **fields,
               "load1": round(os.getloadavg()[0], 2)}
        self.report(row)
        return row

    def exact(self, timed: bool = True) -> None:
        faiss.omp_set_num_threads(2)
        start = time.perf_counter()
        index = faiss.IndexFlatIP(self.d)
        for i in range(0, self.n, 100_000):
            index.add(np.ascontiguousarray(self.xb[i:i + 100_000]))
        build = round(time.perf_counter() - start, 2)
        _, self.truth = index.search(self.xq, K)
        size = self.n * self.d * 4
        if not timed:
            return
        one = lambda q: index.search(q[None, :], K)  # noqa: E731
        self.row("Flat", build_s=build, bytes=size, recall10=1.0,
                 **latency(one, self.xq, 1), **latency(one, self.xq, 2))
        saved = faiss.cvar.distance_compute_blas_threshold
        faiss.cvar.distance_compute_blas_threshold = 1
        try:
            self.row("Flat/BLAS", build_s=build, bytes=size, recall10=1.0,
                     **latency(one, self.xq, 1), **latency(one, self.xq, 2))
        finally:
            faiss.cvar.distance_compute_blas_threshold = saved

    def train_sample(self) -> np.ndarray:
        if self.n <= TRAIN_MAX:
            return np.ascontiguousarray(self.xb)
        rng = np.random.default_rng(12345)
        pick = np.sort(rng.choice(self.n, TRAIN_MAX, replace=False))
        return np.ascontiguousarray(self.xb[pick])

    def coarse_quantizer(self, nlist: int):
        """The IVF coarse quantizer (k-means on the training sample), trained once per N
        and model and shared by every IVF configuration; returns it and its training time."""
        key = ("quantizer", nlist)
        if key not in self._cache:
            path, meta = self.saved(f"quantizer{nlist}")
            if path.exists() and meta.exists():
                seconds = json.loads(meta.read_text())["train_s"]
                self._cache[key] = (faiss.read_index(str(path)), seconds)
                return self._cache[key]
            faiss.omp_set_num_threads(2)
            start = time.perf_counter()
            trainer = faiss.index_factory(self.d, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
            trainer.train(self.train_sample())
            ivf = faiss.extract_index_ivf(trainer)
            quantizer = faiss.IndexFlatIP(self.d)
            quantizer.add(ivf.quantizer.reconstruct_n(0, nlist))
            self._cache[key] = (quantizer, time.perf_counter() - start)
            faiss.write_index(quantizer, str(path))
            meta.write_text(json.dumps({"train_s": self._cache[key][1]}))
        return self._cache[key]

    def saved(self, name: str) -> tuple[Path, Path]:
        """Where a built index (and its timings) is kept, so an interrupted run resumes."""
        if self.data != "synthetic":
            folder = Path(os.environ.get("TMPDIR", "/tmp")) / "ann-choice-realism"
        else:
            folder = cache_dir() / "ann" / f"{self.path.name.split('.')[0]}-n{self.n}-{self.model}"
        folder.mkdir(parents=True, exist_ok=True)
        safe = name.replace(",", "_")
        return folder / f"{safe}.faiss", folder / f"{safe}.json"

    def build(self, spec: str, max_minutes: float | None = None):
        """`_build`, or the index and timings a previous (interrupted) run saved."""
        path, meta = self.saved(spec)
        if self.data == "synthetic" and path.exists() and meta.exists():
            info = json.loads(meta.read_text())
            return faiss.read_index(str(path)), info["train_s"], info["build_s"], True
        index, train_s, build_s, finished = self._build(spec, max_minutes)
        if self.data == "synthetic" and finished:
            faiss.write_index(index, str(path))
            meta.write_text(json.dumps({"train_s": train_s, "build_s": build_s}))
        return index, train_s, build_s, finished

    def _build(self, spec: str, max_minutes: float | None = None):
        """Train and add (2 threads). Returns index, timings and whether it finished.

        For IVF the shared coarse quantizer is plugged in (faiss then skips its k-means)
        and its training time is added to train_s, so train_s is what one build costs.
        """
        faiss.omp_set_num_threads(2)
        index = faiss.index_factory(self.d, spec, faiss.METRIC_INNER_PRODUCT)
        shared_s = 0.0
        if spec.startswith("IVF"):
            ivf = faiss.extract_index_ivf(index)
            quantizer, shared_s = self.coarse_quantizer(ivf.nlist)
            ivf.quantizer = quantizer
            ivf.own_fields = False
        start = time.perf_counter()
        if not index.is_trained:
            index.train(self.train_sample())
        train_s = time.perf_counter() - start + shared_s
        step = 25_000 if spec.startswith("HNSW") else 100_000
        for i in range(0, self.n, step):
            index.add(np.ascontiguousarray(self.xb[i:i + step]))
            if max_minutes and time.perf_counter() - start > max_minutes * 60 and i + step < self.n:
                return index, round(train_s, 2), round(time.perf_counter() - start + shared_s, 2), False
        return index, round(train_s, 2), round(time.perf_counter() - start + shared_s, 2), True

    def sweep(self, spec: str, index, param: str, values, built: dict, rerank: tuple[int, ...] = ()):
        truth = self.truth
        assert truth is not None, "exact() runs first: it is the ground truth"
        size = int(faiss.serialize_index(index).size)
        space = faiss.ParameterSpace()
        rows = []
        for value in values:
            space.set_index_parameter(index, param, value)
            faiss.omp_set_num_threads(2)
            _, found = index.search(self.xq, K)
            one = lambda q: index.search(q[None, :], K)  # noqa: E731
            rows.append(self.row(spec, **{param: value}, **built, bytes=size,
                                 recall10=recall_at_k(found, truth),
                                 **latency(one, self.xq, 1), **latency(one, self.xq, 2),
                                 rss_mb=rss_mb()))
            for factor in rerank:
                reranker = Reranker(self.path, self.d)
                _, candidates = index.search(self.xq, K * factor)
                found = np.vstack([reranker(q, c) for q, c in zip(self.xq, candidates)])

                def two_stage(q, factor=factor, reranker=reranker):
                    _, c = index.search(q[None, :], K * factor)
                    return reranker(q, c[0])

                rows.append(self.row(f"{spec}+rerank{factor}", **{param: value}, **built,
                                     bytes=size, recall10=recall_at_k(found, truth),
                                     **latency(two_stage, self.xq, 1),
                                     **latency(two_stage, self.xq, 2), rss_mb=rss_mb()))
        return rows


def specs_for(n: int, d: int, wanted: list[str] | None) -> list[tuple[str, str, tuple, tuple]]:
    nlist = nlist_for(n)
    probes = tuple(p for p in NPROBES if p <= nlist // 4)
    all_specs = [
        (f"IVF{nlist},SQ8", "nprobe", probes, (3,)),
        (f"IVF{nlist},SQfp16", "nprobe", probes, ()),
        (f"IVF{nlist},PQ{d // 4}np", "nprobe", probes, (10,)),
        ("HNSW32,SQ8", "efSearch", EF_SEARCH, ()),
    ]
    if wanted:
        all_specs = [s for s in all_specs if any(s[0].startswith(w) or w in s[0] for w in wanted)]
    return all_specs


# --- output --------------------------------------------------------------------------------

COLUMNS = ("n", "model", "data", "spec", "param", "build_s", "MB", "recall10",
           "p50_ms_t1", "p95_ms_t1", "p50_ms_t2", "p95_ms_t2", "load1")


def cells(row: Row) -> list[str]:
    param = next((f"{k}={row[k]}" for k in ("nprobe", "efSearch") if k in row), "")
    if note := row.get("note"):
        param = f"{param} {note}".strip()
    size = row.get("bytes")
    values = {**row, "param": param, "MB": f"{size / 2**20:.0f}" if isinstance(size, int) else ""}
    return [str(values.get(c, "")) for c in COLUMNS]


def table(rows: list[Row]) -> str:
    lines = [list(COLUMNS)] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def run_realism(args, xq_all: dict[str, np.ndarray], report) -> None:
    """IVF and HNSW recall on ~2k real chunks vs as many synthetic chunks."""
    from bench.synthetic import real_window_vectors

    real = real_window_vectors(args.xquad)
    n = len(real["e5"])
    files = vector_files(n, args.seed)
    nlist = nlist_for(n)
    probes = tuple(p for p in REALISM_NPROBES if p <= nlist // 2)
    specs = [(f"IVF{nlist},SQfp16", "nprobe", probes), (f"IVF{nlist},SQ8", "nprobe", probes),
             ("HNSW32,SQ8", "efSearch", EF_SEARCH)]
    for model in args.models.split(","):
        synthetic = np.array(open_vectors(files[model], n, model))
        for data, xb in (("real", real[model]), ("synthetic", synthetic)):
            bench = Bench(args, n, model, np.ascontiguousarray(xb, dtype=np.float32),
                          files[model], xq_all[model], report)
            bench.data = data
            bench.exact()
            for spec, param, values in specs:
                index, train_s, build_s, _ = bench.build(spec)
                bench.sweep(spec, index, param, values, {"train_s": train_s, "build_s": build_s})


def log_termination() -> None:
    """Say who sent SIGTERM/SIGINT (a shared machine: other jobs may kill by name)."""
    import signal
    import threading

    signals = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)  # threads started later inherit it

    def wait() -> None:
        info = signal.sigwaitinfo(signals)
        try:
            sender = Path(f"/proc/{info.si_pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            sender = "?"
        print(f"\nann_choice: got signal {info.si_signo} from pid {info.si_pid} ({sender})",
              file=sys.stderr, flush=True)
        os._exit(128 + info.si_signo)

    threading.Thread(target=wait, daemon=True).start()


def main() -> None:
    log_termination()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--models", default="e5,use")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--specs", help="comma-separated prefixes of the configurations to run "
                        "(e.g. IVF,HNSW); exact search always runs (it is the ground truth)")
    parser.add_argument("--hnsw-max-minutes", type=float, default=15.0)
    parser.add_argument("--json", type=Path, help="write results here (rewritten after every row)")
    parser.add_argument("--no-exact-latency", action="store_true",
                        help="compute the exact ground truth but do not time exact search")
    parser.add_argument("--resume", action="store_true",
                        help="keep the finished configurations of --json and skip them; built "
                             "indexes are also reused from ~/.cache/qa/bench/ann/")
    parser.add_argument("--realism", action="store_true",
                        help="only compare real and synthetic chunks at ~2k (see above)")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",")]
    models = args.models.split(",")
    wanted = args.specs.split(",") if args.specs else None
    texts = questions(args.xquad, args.queries)
    xq_all = query_vectors(texts)
    result: Results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
                   f"{len(os.sched_getaffinity(0))} cores",
        "faiss": faiss.__version__,
        "command": " ".join(sys.argv),
        "queries": {"count": len(texts), "english": args.queries // 2, "arabic": args.queries // 2},
        "noise": NOISE, "k": K, "train_max": TRAIN_MAX,
        "rows": [],
    }

    def report(row: Row) -> None:
        result["rows"].append(row)
        tqdm.write("  ".join(cells(row)), file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")

    done: set[str] = set()
    if args.resume and args.json and args.json.exists():
        previous = json.loads(args.json.read_text(encoding="utf-8"))
        done = set(previous.get("done", []))
        result["rows"] = [r for r in previous["rows"] if f"{r['n']}/{r['model']}/{r['spec'].split('+')[0]}" in done]
        result["resumed"] = previous.get("resumed", 0) + 1
    result["done"] = sorted(done)

    if args.realism:
        run_realism(args, xq_all, report)
        print(table(result["rows"]))
        return

    files = vector_files(max(sizes), args.seed)
    total_rows = int(files["e5"].stat().st_size // (4 * DIMENSIONS["e5"]))
    steps = [(n, m, s) for n in sizes for m in models for s in [("Flat",)] + specs_for(n, DIMENSIONS[m], wanted)]
    progress = tqdm(total=len(steps), desc="configs", unit="cfg", file=sys.stderr)

    for n in sizes:
        for model in models:
            xb = open_vectors(files[model], total_rows, model)[:n]
            bench = Bench(args, n, model, xb, files[model], xq_all[model], report)
            progress.set_postfix_str(f"{n:,} {model} Flat")
            bench.exact(timed=not args.no_exact_latency)
            progress.update()
            for spec, param, values, rerank in specs_for(n, DIMENSIONS[model], wanted):
                tag = f"{n}/{model}/{spec}"
                if tag in done:
                    progress.update()
                    continue
                progress.set_postfix_str(f"{n:,} {model} {spec}")
                limit = args.hnsw_max_minutes if spec.startswith("HNSW") else None
                index, train_s, build_s, finished = bench.build(spec, limit)
                built = {"train_s": train_s, "build_s": build_s}
                if finished:
                    bench.sweep(spec, index, param, values, built, rerank)
                else:
                    bench.row(spec, **built, note=f"skipped: build stopped after {build_s / 60:.1f} "
                              f"min with {index.ntotal:,} of {n:,} vectors added")
                del index
                result["done"].append(tag)
                if args.json:
                    args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
                progress.update()
    progress.close()
    print(table(result["rows"]))


if __name__ == "__main__":
    main()
