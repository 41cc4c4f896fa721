"""Combining rankings: reciprocal rank fusion over the lists that actually matched."""

from __future__ import annotations

from collections.abc import Sequence

#: The usual RRF constant: damps the head so one list cannot dominate by rank 1 alone.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank), best first.

    Only ids present in a list get that list's share, so a lexical list that matched
    nothing (an English question over Arabic text) contributes nothing rather than an
    arbitrary order. Ties keep the order of first appearance in the earlier lists.
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(dict.fromkeys(x for r in rankings for x in r))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
