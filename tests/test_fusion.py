"""Score fusion: normalization, weights, and the no-lexical-match trap."""

import pytest

from qa.fusion import (
    AUX_WEIGHT, BRIDGED_LEXICAL_WEIGHT, LEXICAL_WEIGHT, fuse, lexical_weight_for, min_max, relative_to_best,
)


def test_min_max_maps_best_to_one_and_worst_to_zero():
    assert min_max([(7, 0.9), (3, 0.8), (5, 0.5)]) == pytest.approx({7: 1.0, 3: 0.75, 5: 0.0})
    assert min_max([(1, 0.4), (2, 0.4)]) == {1: 1.0, 2: 1.0}
    assert min_max([]) == {}


def test_lexical_scores_are_relative_to_the_best_match():
    assert relative_to_best([(4, 8.0), (9, 2.0)]) == {4: 1.0, 9: 0.25}
    assert relative_to_best([]) == {}


def test_no_lexical_match_leaves_dense_order_untouched():
    dense = [(1, 0.90), (2, 0.89), (3, 0.88), (4, 0.70)]
    assert [i for i, _ in fuse(dense, [])] == [1, 2, 3, 4]


def test_lexical_match_can_lift_a_close_second():
    dense = [(1, 0.90), (2, 0.89), (3, 0.50)]
    fused = fuse(dense, [(2, 5.0)])
    # 1: 1.0 ; 2: (0.39/0.40) + 1.0 * 1.0 = 1.975 ; 3: 0
    assert [i for i, _ in fused] == [2, 1, 3]
    assert dict(fused)[2] == pytest.approx(0.39 / 0.40 + LEXICAL_WEIGHT)


def test_second_model_votes_with_its_weight():
    dense = [(1, 0.90), (2, 0.88), (3, 0.50)]
    aux = [(2, 0.7), (1, 0.2), (3, 0.1)]
    fused = dict(fuse(dense, [], aux))
    assert fused[1] == pytest.approx(1.0 + AUX_WEIGHT * (0.1 / 0.6))
    assert fused[2] == pytest.approx(0.38 / 0.40 + AUX_WEIGHT * 1.0)
    assert max(fused, key=fused.get) == 2


def test_chunks_only_in_lexical_list_are_kept():
    fused = fuse([(1, 0.9), (2, 0.1)], [(42, 3.0)])
    assert 42 in dict(fused)


def test_ties_keep_dense_order():
    assert [i for i, _ in fuse([(5, 0.5), (6, 0.5)], [])] == [5, 6]


@pytest.mark.parametrize("question, weight", [
    ("ماذا ناقش لافروف مع الكويت؟", LEXICAL_WEIGHT),
    ("what did لافروف discuss?", LEXICAL_WEIGHT),  # BM25 reads its Arabic as written
    ("what did Lavrov discuss with Kuwait?", BRIDGED_LEXICAL_WEIGHT),
    ("Что обсуждал Лавров с Кувейтом?", BRIDGED_LEXICAL_WEIGHT),
])
def test_bm25_counts_less_for_a_question_it_reads_through_the_bridge(question, weight):
    assert lexical_weight_for(question) == weight
    assert BRIDGED_LEXICAL_WEIGHT < LEXICAL_WEIGHT
