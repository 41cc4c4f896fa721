"""Do the question's words stand together in a passage? The proximity signal of ranking.

BM25 counts a question's words wherever they are in a chunk of 250 tokens, and the
embedding of a chunk blurs them together, so in an archive a chunk that names the same
people and places in separate sentences ranks beside the one that says, in one sentence,
what the question asks. A question's words close together are evidence of that sentence:
each chunk scores the largest share of the question's words, weighed by their idf, that
any WINDOW consecutive search tokens of it hold (a classic term-proximity feature; the
window and the weight were measured on our development questions, docs/benchmarks.md).

It reads the question's own words, so it serves questions that BM25 searches as written
(mostly in Arabic script, `qa.translation.searched_as_written`). For a question in
another script BM25 searches names' spellings and a dictionary's guesses; their
proximity lowered ranking in eight of the ten other languages it was tried on (English
and French gained a hair): one rule per script (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: How many consecutive search tokens (stopwords removed) count as "together": about
#: one sentence of news prose.
WINDOW = 12


def best_window_share(tokens: Sequence[str], weights: Mapping[str, float], window: int = WINDOW) -> float:
    """The largest share (0 to 1) of the total of `weights` that the distinct weighted
    tokens inside any `window` consecutive `tokens` add up to."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    found = [(position, token) for position, token in enumerate(tokens) if token in weights]
    best = 0.0
    for first, (start, _) in enumerate(found):
        inside: set[str] = set()
        for position, token in found[first:]:
            if position - start >= window:
                break
            inside.add(token)
        best = max(best, sum(weights[token] for token in inside))
    return best / total


def proximity(
    chunk_tokens: Mapping[int, Sequence[str]], weights: Mapping[str, float], window: int = WINDOW,
) -> dict[int, float]:
    """Each chunk's `best_window_share` of the question's weighted tokens."""
    return {chunk_id: best_window_share(tokens, weights, window) for chunk_id, tokens in chunk_tokens.items()}
