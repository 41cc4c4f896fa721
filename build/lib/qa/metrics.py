"""Retrieval metrics for `qa bench`: recall@k, MRR@10, nDCG@10 and latency percentiles.

Pure Python + numpy, no project imports, so the numbers can be checked by hand and the
benchmark cannot drift with the retriever it measures.

Rules, and why:

* **Documents, not passages.** A user is helped by the right *article*; three passages of
  one article at ranks 1-3 must not crowd out or triple-count anything. The ranked list is
  collapsed by `source`, keeping each document at its first (best) position; ranks are
  positions in the collapsed list. A document's score is the score of that best passage.
* **A document is relevant if any of its retrieved passages is.** The relevant passage may
  sit lower in the list than the document's best passage; the document still counts as
  relevant, at its best rank. Only passages present in `hits` are considered, so the caller
  decides the cutoff by how many passages it passes in.
* **Ties count against the system.** Scores equal within `TIE_TOLERANCE` form a tie group
  (built by chaining neighbours, so every near-equal run is one group). Within a group the
  irrelevant documents are placed first and the relevant ones last: a single relevant
  document takes the position of the last tied document. Otherwise a retriever that
  returns constant scores would be rewarded for whatever order its sort happened to keep.
* **At most `n_relevant` relevant documents are credited.** The caller's relevance flag may
  match more documents than it declared (e.g. the answer string occurs in two articles);
  only the best-ranked `n_relevant` earn credit, which keeps recall and nDCG within [0, 1]
  without clipping a sum after the fact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TIE_TOLERANCE = 1e-9
"""Scores whose absolute difference is at most this are treated as tied."""

CUTOFF = 10
"""Depth for MRR and nDCG: a relevant document below rank 10 earns nothing."""

RECALL_KS = (1, 5, 10)

METRIC_KEYS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


@dataclass(frozen=True)
class RankedHit:
    """One retrieved passage as the benchmark sees it: its document, score and relevance."""

    source: str
    score: float
    relevant: bool


def effective_ranks(hits: Sequence[RankedHit]) -> list[tuple[str, int, bool]]:
    """Collapse passages to documents and resolve ties pessimistically.

    Returns `(source, effective_rank, relevant)` per distinct document, ordered by
    effective rank (1-based, each rank used once). See the module docstring for the rules.

    Raises ValueError if a score is NaN or the list is not sorted by descending score
    (beyond the tie tolerance): ties are defined on scores, so a list whose order disagrees
    with its scores (e.g. distances in ascending order) has no meaningful tie handling.
    """
    best_score: dict[str, float] = {}
    relevant: dict[str, bool] = {}
    for hit in hits:
        if math.isnan(hit.score):
            raise ValueError(f"score of a passage of {hit.source!r} is NaN")
        if hit.source not in best_score:
            best_score[hit.source] = hit.score
            relevant[hit.source] = hit.relevant
        else:
            relevant[hit.source] = relevant[hit.source] or hit.relevant
    docs = list(best_score)

    groups: list[list[str]] = []
    for i, source in enumerate(docs):
        if i > 0:
            previous = best_score[docs[i - 1]]
            current = best_score[source]
            if current > previous + TIE_TOLERANCE:
                raise ValueError(
                    f"hits are not sorted by descending score: {source!r} scores {current} "
                    f"after {docs[i - 1]!r} with {previous}"
                )
            if previous - current <= TIE_TOLERANCE:
                groups[-1].append(source)
                continue
        groups.append([source])

    ranked: list[tuple[str, int, bool]] = []
    for group in groups:
        # Stable sort: irrelevant documents first, relevant ones last in the group.
        for source in sorted(group, key=lambda s: relevant[s]):
            ranked.append((source, len(ranked) + 1, relevant[source]))
    return ranked


def question_metrics(hits: Sequence[RankedHit], n_relevant: int = 1) -> dict[str, float]:
    """Unrounded recall@1/5/10, mrr@10 and ndcg@10 for one question.

    `n_relevant` is how many relevant documents exist for the question (1 in our
    datasets); it is the recall denominator and sizes the ideal DCG. A question whose gold
    document was not retrieved scores 0 everywhere rather than being skipped, so a
    retriever cannot improve its mean by failing.
    """
    if isinstance(n_relevant, bool) or not isinstance(n_relevant, int) or n_relevant < 1:
        raise ValueError(f"n_relevant must be a positive integer, got {n_relevant!r}")
    relevant_ranks = [rank for _, rank, is_relevant in effective_ranks(hits) if is_relevant]
    credited = relevant_ranks[:n_relevant]

    metrics = {
        f"recall@{k}": sum(1 for rank in credited if rank <= k) / n_relevant for k in RECALL_KS
    }
    metrics[f"mrr@{CUTOFF}"] = 1.0 / credited[0] if credited and credited[0] <= CUTOFF else 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank in credited if rank <= CUTOFF)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, CUTOFF) + 1))
    metrics[f"ndcg@{CUTOFF}"] = dcg / idcg
    return metrics


def aggregate(
    per_question: Sequence[dict[str, float]], latencies_ms: Sequence[float]
) -> dict[str, float]:
    """Mean of each metric over questions plus latency p50/p95, for one configuration.

    Metrics are rounded to 4 decimals and latencies to 2 (milliseconds) so reports diff
    cleanly between runs. Percentiles use `numpy.percentile` with its default "linear"
    method (interpolating between the two nearest samples: p50 of [1, 2, 3, 4] is 2.5,
    p95 is 3.85), which is stable on the small question sets we benchmark.

    Raises ValueError on an empty run or when there is not exactly one latency per
    question, since either would make the row silently incomparable with others.
    """
    if not per_question:
        raise ValueError("cannot aggregate a benchmark with no questions")
    if len(latencies_ms) != len(per_question):
        raise ValueError(
            f"expected one latency per question: {len(per_question)} questions, "
            f"{len(latencies_ms)} latencies"
        )
    result: dict[str, float] = {
        key: round(float(np.mean([q[key] for q in per_question])), 4) for key in METRIC_KEYS
    }
    latencies = np.asarray(latencies_ms, dtype=float)
    result["latency_ms_p50"] = round(float(np.percentile(latencies, 50)), 2)
    result["latency_ms_p95"] = round(float(np.percentile(latencies, 95)), 2)
    result["n_questions"] = len(per_question)
    return result
