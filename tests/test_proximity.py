"""The proximity of a question's words in a chunk, against a brute-force reference, and
the weights of its written words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from index.text.search import tokenize_for_search, written_words
from qa.proximity import WINDOW, best_window_share, proximity, written_weights

WEIGHTS = {"lavrov": 3.0, "kuwait": 2.0, "minister": 1.0}


def reference(tokens: list[str], weights: dict[str, float], window: int) -> float:
    """Every window of `window` consecutive tokens, its distinct weighted tokens summed."""
    total = sum(weights.values())
    spans = [tokens[i:i + window] for i in range(max(1, len(tokens) - window + 1))]
    return max(sum(weights[t] for t in set(span) if t in weights) for span in spans) / total


def test_words_together_score_more_than_words_apart():
    together = ["talks", "lavrov", "kuwait", "minister"] + ["filler"] * 30
    apart = ["lavrov"] + ["filler"] * 15 + ["kuwait"] + ["filler"] * 15 + ["minister"]
    assert best_window_share(together, WEIGHTS) == 1.0
    assert best_window_share(apart, WEIGHTS) == 3 / 6  # the rarest word alone


def test_the_window_holds_exactly_window_tokens():
    inside = ["lavrov"] + ["x"] * (WINDOW - 2) + ["kuwait"]
    outside = ["lavrov"] + ["x"] * (WINDOW - 1) + ["kuwait"]
    assert best_window_share(inside, WEIGHTS) == 5 / 6
    assert best_window_share(outside, WEIGHTS) == 3 / 6


def test_a_repeated_word_counts_once():
    assert best_window_share(["kuwait"] * 5, WEIGHTS) == 2 / 6


def test_nothing_to_find_scores_zero():
    assert best_window_share([], WEIGHTS) == 0.0
    assert best_window_share(["lavrov"], {}) == 0.0
    assert best_window_share(["filler"], WEIGHTS) == 0.0


def test_proximity_scores_each_chunk():
    assert proximity({7: ["lavrov", "kuwait"], 9: ["minister"]}, WEIGHTS) == {7: 5 / 6, 9: 1 / 6}


@given(st.lists(st.sampled_from(["lavrov", "kuwait", "minister", "a", "b"]), max_size=60),
       st.integers(min_value=1, max_value=20))
def test_agrees_with_every_window(tokens, window):
    assert abs(best_window_share(tokens, WEIGHTS, window) - reference(tokens, WEIGHTS, window)) < 1e-12


IDF = {"ناقش": 1.0, "لافروف": 3.0, "كويت": 2.0, "كوي": 9.0}


def test_a_written_word_weighs_the_token_it_was_written_as():
    """الكويت is written كويت once its article is dropped, and weighs الكويت's token
    (كويت), not the token of a bare كويت (كوي)."""
    assert tokenize_for_search("الكويت") == ["كويت"] and tokenize_for_search("كويت") == ["كوي"]
    weights = written_weights("ماذا ناقش لافروف مع الكويت؟", IDF.__getitem__, lambda token: int(token in IDF))
    assert weights == {"ناقش": 1.0, "لافروف": 3.0, "كويت": 2.0}
    assert written_weights("كويت", IDF.__getitem__, lambda token: 1) == {"كويت": 9.0}


def test_written_words_no_chunk_holds_are_left_out():
    weights = written_weights("ماذا ناقش لافروف مع الكويت؟", IDF.__getitem__, lambda token: int(token == "كويت"))
    assert weights == {"كويت": 2.0}


def test_written_words_tell_apart_what_the_stems_merge():
    """رئيسي (Raisi, or "main") and رئيس (president) are one search token, two written
    words: only the chunk that writes the question's word holds all of it."""
    assert tokenize_for_search("قال رئيسي") == tokenize_for_search("قال الرئيس")
    weights = written_weights("ماذا قال رئيسي؟", lambda token: 1.0, lambda token: 1)
    near = proximity({1: written_words("قال الرئيس"), 2: written_words("قال رئيسي")}, weights)
    assert near == {1: 0.5, 2: 1.0}
