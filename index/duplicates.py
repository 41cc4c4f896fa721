"""Near-duplicate articles: the same wire story republished by several outlets.

An agency story appears under several outlets with small edits (a dateline, a title,
a closing line). Each article gets a MinHash signature (datasketch) of the shingles of
its search tokens, kept in its segment; ranking compares the signatures of the articles
it found and shows one passage per story, naming the other outlets (qa/retriever.py).

Three-token shingles of `tokenize_for_search` tokens (normalized, stemmed, stopwords
out) make copies with edited datelines and titles score 0.6 to 1.0; two reports of
different events that share a boilerplate paragraph (the fifth and the sixth relief
plane) stay near 0.5 (docs/benchmarks.md). Hence `SAME_STORY`.
"""

from __future__ import annotations

import numpy as np

from index.text.search import tokenize_for_search

#: Estimated Jaccard similarity of shingles from which two articles are one story.
SAME_STORY = 0.6
SHINGLE = 3
#: Hash functions per signature: a Jaccard estimate within about +-0.04 (1/sqrt(128) / 2).
PERMUTATIONS = 128
#: Fixed, so signatures made by any process compare; and by any version that makes the
#: same search tokens (a new stemming rule changes some: `qa index --rebuild`).
SEED = 1


def signature(text: str) -> bytes:
    """The MinHash signature of an article's text, as stored (uint32 little-endian)."""
    from datasketch import MinHash  # writers only: readers compare stored signatures

    tokens = tokenize_for_search(text)
    shingles = {" ".join(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))}
    minhash = MinHash(num_perm=PERMUTATIONS, seed=SEED)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def similarities(one: bytes, others: list[bytes]) -> np.ndarray:
    """Estimated Jaccard similarity of an article's shingles with each other article's."""
    if not others:
        return np.zeros(0)
    mine = np.frombuffer(one, dtype="<u4")
    return (np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), -1) == mine).mean(axis=1)
