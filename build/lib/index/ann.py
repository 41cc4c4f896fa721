"""Which FAISS index holds a segment's vectors, and how to search it with a filter.

Small segments are searched exactly: a flat inner-product scan of 100k x 512 floats
takes a few milliseconds, and exact search has nothing to tune. Past `EXACT_MAX`
vectors a segment gets an inverted-file index with 8-bit scalar quantisation: a
quarter of the memory of float32, and recall@10 against exact search measured at 1M
chunks in docs/benchmarks.md (`bench/ann_choice.py`, `bench/scale.py`).

Users override the choice with `QA_VECTOR_INDEX`: `auto` (default), `flat`, or any
FAISS factory string (`HNSW32,SQ8`, `IVF4096,PQ48`, ...); `{nlist}` in the string is
replaced by the list count chosen for the segment's size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

#: Up to this many vectors a segment is searched exactly (IndexFlatIP).
EXACT_MAX = 200_000
#: Segments smaller than this are exact whatever the setting: an approximate index
#: needs training points (39 per inverted list) and gains nothing on a small segment,
#: such as the one a single added article makes.
MIN_APPROXIMATE = 1_000
#: The approximate index used above EXACT_MAX.
APPROXIMATE = "IVF{nlist},SQ8"
#: Inverted lists probed per query, as a share of the lists (at least MIN_NPROBE).
#: A search-time setting, not stored in the index: it can be retuned without a rebuild.
NPROBE_SHARE = 1 / 32
MIN_NPROBE = 16
#: An approximate search fetches this many times the candidates asked for, then
#: re-scores them exactly from the float16 copies (see `RawVectors`).
RERANK = 3
#: HNSW's search depth when a user picks an HNSW factory string.
EF_SEARCH = 128
#: Vectors used to train the quantiser and the coarse centroids.
TRAIN_MAX = 200_000


def nlist_for(n: int) -> int:
    """Inverted lists for n vectors: FAISS's rule of thumb, about 4 sqrt(n), a power of 2,
    with at least 39 training points per list."""
    rule = round(math.log2(4 * math.sqrt(max(n, 1))))
    most = math.floor(math.log2(max(n // 39, 1)))
    return 2 ** max(0, min(rule, most))


def choose_spec(n: int, override: str = "auto") -> str:
    """The FAISS factory string for a segment of n vectors ("Flat" means exact)."""
    spec = override.strip() or "auto"
    if n < MIN_APPROXIMATE:
        return "Flat"
    if spec.lower() == "auto":
        spec = "Flat" if n <= EXACT_MAX else APPROXIMATE
    elif spec.lower() == "flat":
        spec = "Flat"
    return spec.format(nlist=nlist_for(n))


@contextmanager
def omp_threads(count: int) -> Iterator[None]:
    """Run FAISS with `count` OpenMP threads inside the block, then restore the count.

    The count is OpenMP's nthreads-var, which belongs to the calling thread (libgomp, the
    runtime faiss-cpu ships, keeps one per thread): an upload building a segment on one
    thread of `qa serve` never changes the threads of a search on another. Restoring it
    keeps the thread that built from searching with every core afterwards.
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def build(vectors: np.ndarray, ids: np.ndarray, spec: str, seed: int = 0) -> faiss.Index:
    """An index of `vectors` under `ids` (int64), trained on a sample when it needs it."""
    with omp_threads(len(os.sched_getaffinity(0))):  # training and adding scale with cores
        return _build(vectors, ids, spec, seed)


def _build(vectors: np.ndarray, ids: np.ndarray, spec: str, seed: int) -> faiss.Index:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1]
    inner = faiss.index_factory(dimension, spec, faiss.METRIC_INNER_PRODUCT)
    if not inner.is_trained:
        sample = vectors
        if len(vectors) > TRAIN_MAX:
            rows = np.random.default_rng(seed).choice(len(vectors), TRAIN_MAX, replace=False)
            sample = vectors[np.sort(rows)]
        inner.train(sample)
    if _ivf(inner) is not None:
        inner.add_with_ids(vectors, ids)  # inverted lists keep ids themselves
        return inner
    index = faiss.IndexIDMap2(inner)
    index.add_with_ids(vectors, ids)
    return index


def is_exact(index: faiss.Index) -> bool:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return isinstance(faiss.downcast_index(inner), faiss.IndexFlat)


def search(
    index: faiss.Index, queries: np.ndarray, k: int, selector: faiss.IDSelector | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`index.search` with this module's probe depth, and the selector if one is given.

    Parameters always go with the call: FAISS search parameters replace the index's
    settings wholesale (a bare SearchParametersIVF probes 1 list).
    """
    # One question gains nothing from OpenMP threads, and their barriers cost far more
    # than a small search when the cores are busy (see bench/retrieval_latency.py).
    with omp_threads(1):
        return _search(index, queries, k, selector)


def _search(
    index: faiss.Index, queries: np.ndarray, k: int, selector: faiss.IDSelector | None,
) -> tuple[np.ndarray, np.ndarray]:
    queries = np.ascontiguousarray(queries.reshape(-1, index.d), dtype=np.float32)
    ivf, hnsw = _ivf(index), _hnsw(index)
    params: faiss.SearchParameters
    if ivf is not None:
        params = faiss.SearchParametersIVF()
        params.nprobe = nprobe_for(ivf.nlist)
    elif hnsw is not None:
        # The stub faiss ships leaves SearchParametersHNSW out; faiss itself has it.
        params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, k))  # type: ignore[attr-defined]
    elif selector is not None:
        params = faiss.SearchParameters()
    else:
        return index.search(queries, k)
    if selector is not None:
        params.sel = selector
    return index.search(queries, k, params=params)


def nprobe_for(nlist: int) -> int:
    return min(nlist, max(MIN_NPROBE, round(nlist * NPROBE_SHARE)))


class RawVectors:
    """Rows of a float16 `.npy` file, read with pread: re-scoring a few hundred
    candidates costs a few hundred small reads, and the file stays out of the
    process's memory (the page cache holds what is hot, and gives it back)."""

    def __init__(self, path: Path) -> None:
        header = np.load(path, mmap_mode="r")
        self.rows, self.dimension = header.shape
        self._offset, self._dtype = header.offset, header.dtype
        self._row_bytes = self.dimension * header.dtype.itemsize
        del header
        self._fd = os.open(path, os.O_RDONLY)

    def take(self, positions: np.ndarray) -> np.ndarray:
        out = np.empty((len(positions), self.dimension), dtype=np.float32)
        for n, position in enumerate(positions):
            data = os.pread(self._fd, self._row_bytes, self._offset + int(position) * self._row_bytes)
            out[n] = np.frombuffer(data, dtype=self._dtype)
        return out

    def close(self) -> None:
        os.close(self._fd)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:  # not an IVF index
        return None


def _hnsw(index: faiss.Index) -> faiss.IndexHNSW | None:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    inner = faiss.downcast_index(inner)
    return inner if isinstance(inner, faiss.IndexHNSW) else None
