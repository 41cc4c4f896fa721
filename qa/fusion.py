"""Combining rankings: a weighted sum of normalized scores over the lists that matched,
plus the coverage of what the question names (qa/coverage.py).

A convex combination of scores beat reciprocal rank fusion, which throws away how far
apart the scores are (docs/benchmarks.md). The weights were chosen on our own
development questions (tests/data: the seed and archive questions, and ARCD's training
questions, each among 5,000 news articles), never on XQuAD; the optimum is flat, not a
spike (docs/benchmarks.md lists the grid).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from index.text.scripts import ARABIC_SCRIPT

Hits = Sequence[tuple[int, float]]

DENSE_WEIGHT = 1.0
AUX_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.5
#: BM25's weight for a question in another script than the articles': it reads only the
#: question's names as the index spells them and a dictionary's translations of its
#: words (qa/translation.py), a weaker signal than the question's own words.
BRIDGED_LEXICAL_WEIGHT = 0.3
COVERAGE_WEIGHT = 0.6
#: The weights of the question's words standing together in a chunk (qa/proximity.py),
#: as search tokens and as written words, for a question that BM25 searches as written
#: (`qa.translation.searched_as_written`); a question in another script has none.
PROXIMITY_WEIGHT = 0.5
WRITTEN_PROXIMITY_WEIGHT = 0.5


def lexical_weight_for(question: str) -> float:
    """BM25's weight for this question: one with Arabic words has them read as written
    (beside the bridge, if it is mostly in another script), any other only through the
    bridge to Arabic spellings."""
    return LEXICAL_WEIGHT if ARABIC_SCRIPT.search(question) else BRIDGED_LEXICAL_WEIGHT


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


def fuse(
    dense: Hits, lexical: Hits, aux: Hits = (), coverage: Mapping[int, float] | None = None,
    aux_weight: float = AUX_WEIGHT, lexical_weight: float = LEXICAL_WEIGHT,
) -> list[tuple[int, float]]:
    """Chunk ids by weighted normalized score, best first; ties keep dense order.

    `coverage` (0-1 per chunk) counts for the chunks that some ranking found. The two
    weights are the shipped ones unless given: bench/fusion_variants.py sweeps them.
    """
    scores: dict[int, float] = {}
    for part, weight in (
        (min_max(dense), DENSE_WEIGHT),
        (min_max(aux), aux_weight),
        (relative_to_best(lexical), lexical_weight),
    ):
        for chunk_id, score in part.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight * score
    for chunk_id, share in (coverage or {}).items():
        if chunk_id in scores:
            scores[chunk_id] += COVERAGE_WEIGHT * share
    first_seen = {i: n for n, i in enumerate(dict.fromkeys(
        i for hits in (dense, aux, lexical) for i, _ in hits))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))
