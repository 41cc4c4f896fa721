"""Do the question's words stand together in a passage? The proximity signal of ranking.

BM25 counts a question's words wherever they are in a chunk of 250 tokens, and the
embedding of a chunk blurs them together, so in an archive a chunk that names the same
people and places in separate sentences ranks beside the one that says, in one sentence,
what the question asks. A question's words close together are evidence of that sentence:
each chunk scores the largest share of the question's words, weighed by their idf, that
any WINDOW consecutive words of it hold (a classic term-proximity feature; the window and
the weights were measured on our development questions, docs/benchmarks.md).

The window is read twice: over the search tokens BM25 indexed (Snowball stems), and over
the words as written (`index.text.search.written_words`), because the Arabic stemmer
merges words a reader tells apart (رئيسي, "main" or the name Raisi, and رئيس,
"president", are one stem): a chunk that holds the question's very words together is
likelier still to say what was asked.

It reads the question's own words, so it serves questions that BM25 searches as written
(mostly in Arabic script, `qa.translation.searched_as_written`). For a question in
another script BM25 searches names' spellings and a dictionary's guesses; their
proximity lowered ranking in eight of the ten other languages it was tried on (English
and French gained a hair): one rule per script (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from index.text.folding import normalize_for_search
from index.text.search import tokenize_for_search, written_words
from index.text.words import WORD

#: How many consecutive words (stopwords removed) count as "together": about one
#: sentence of news prose.
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


def written_weights(question: str, idf: Callable[[str], float], df: Callable[[str], int]) -> dict[str, float]:
    """The question's written words, each weighed by the idf of the search token of the
    word it was written as (كويت's token is كوي, الكويت's كويت: the word weighs what
    BM25 weighs it; written both ways in one question, the larger); words whose token no
    chunk holds are left out, as BM25 leaves them."""
    weights: dict[str, float] = {}
    for word in WORD.findall(normalize_for_search(question)):
        written, tokens = written_words(word), tokenize_for_search(word)
        if len(written) == 1 and len(tokens) == 1 and df(tokens[0]):
            weights[written[0]] = max(weights.get(written[0], 0.0), idf(tokens[0]))
    return weights
