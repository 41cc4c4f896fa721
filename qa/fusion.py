"""Combining rankings: a weighted sum of normalised scores over the lists that matched.

Measured on XQuAD (docs/benchmarks.md): this convex combination beat reciprocal rank
fusion, which throws away how far apart the scores are; RRF with BM25 even lowered
English->Arabic mrr@10 below dense-only (0.830 vs 0.838), score fusion did not.
"""

from __future__ import annotations

from collections.abc import Sequence

Hits = Sequence[tuple[int, float]]

#: Weights chosen on XQuAD from a small grid (aux 0.5-0.7 x lexical 0.7-1.3 all gave
#: en->ar mrr@10 0.880-0.889 and ar->ar 0.951-0.955): the optimum is flat, not a spike.
DENSE_WEIGHT = 1.0
AUX_WEIGHT = 0.6
LEXICAL_WEIGHT = 1.0


def min_max(hits: Hits) -> dict[int, float]:
    """Scores of a candidate list mapped to [0, 1]: best 1, worst candidate 0."""
    if not hits:
        return {}
    high, low = hits[0][1], hits[-1][1]
    span = high - low
    return {i: (s - low) / span if span > 0 else 1.0 for i, s in hits}


def relative_to_best(hits: Hits) -> dict[int, float]:
    """BM25 scores over the best one. Only matching chunks are listed, so a question
    whose words occur nowhere (English over Arabic text) adds nothing at all."""
    if not hits or hits[0][1] <= 0:
        return {}
    best = hits[0][1]
    return {i: s / best for i, s in hits}


def fuse(dense: Hits, lexical: Hits, aux: Hits = ()) -> list[tuple[int, float]]:
    """Chunk ids by weighted normalised score, best first; ties keep dense order."""
    scores: dict[int, float] = {}
    for part, weight in (
        (min_max(dense), DENSE_WEIGHT),
        (min_max(aux), AUX_WEIGHT),
        (relative_to_best(lexical), LEXICAL_WEIGHT),
    ):
        for chunk_id, score in part.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight * score
    first_seen = {i: n for n, i in enumerate(dict.fromkeys(
        i for hits in (dense, aux, lexical) for i, _ in hits))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))
