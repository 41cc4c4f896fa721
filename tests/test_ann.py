"""index/ann.py: FAISS thread counts stay with the call that set them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import faiss
import numpy as np

from index import ann

T = TypeVar("T")


def vectors(n: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal((n, 32)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def in_thread(work: Callable[[], T]) -> T:
    """What `work` returns when run in a thread of its own."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join()
    return result[0]


def test_build_and_search_leave_the_callers_thread_count_as_it_was() -> None:
    def build_then_count() -> tuple[int, int]:
        faiss.omp_set_num_threads(1)
        index = ann.build(vectors(2000, 0), np.arange(2000, dtype=np.int64), "IVF16,SQ8")
        after_build = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(3)
        ann.search(index, vectors(1, 1), 5)
        return after_build, faiss.omp_get_max_threads()

    assert in_thread(build_then_count) == (1, 3)


def test_a_search_beside_a_build_keeps_one_thread_and_its_results() -> None:
    data = vectors(3000, 2)
    index = ann.build(data, np.arange(3000, dtype=np.int64), "Flat")
    queries = vectors(20, 3)
    expected = [ann.search(index, q, 10)[1].tolist() for q in queries]
    building = threading.Event()
    done = threading.Event()

    def keep_building() -> None:
        while not done.is_set():
            ann.build(vectors(20_000, 4), np.arange(20_000, dtype=np.int64), "IVF64,SQ8")
            building.set()

    builder = threading.Thread(target=keep_building, daemon=True)
    builder.start()
    try:
        assert building.wait(60)

        def search_all() -> tuple[list[list[int]], set[int]]:
            seen: list[list[int]] = []
            counts: set[int] = set()
            for query in queries:
                seen.append(ann.search(index, query, 10)[1].tolist())
                counts.add(faiss.omp_get_max_threads())
            return seen, counts

        found, counts = in_thread(search_all)
    finally:
        done.set()
        builder.join(120)
    assert found == expected
    assert counts == {faiss.omp_get_max_threads()}  # a searching thread's count is its own
