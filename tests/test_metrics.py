"""Hand-computed checks of the benchmark metrics; each expected value shows its arithmetic."""

from __future__ import annotations

import math

import pytest

from qa.metrics import RankedHit, aggregate, effective_ranks, question_metrics


def hit(source: str, score: float, relevant: bool = False) -> RankedHit:
    return RankedHit(source=source, score=score, relevant=relevant)


def test_gold_at_rank_1() -> None:
    hits = [hit("gold", 0.9, True), hit("b", 0.8), hit("c", 0.7)]
    # rank 1: recall@k = 1/1 for all k; mrr = 1/1; ndcg = (1/log2(2)) / (1/log2(2)) = 1
    assert question_metrics(hits) == {
        "recall@1": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": 1.0,
        "ndcg@10": 1.0,
    }


def test_gold_at_rank_3() -> None:
    hits = [hit("a", 0.9), hit("b", 0.8), hit("gold", 0.7, True), hit("d", 0.6)]
    m = question_metrics(hits)
    # rank 3: 3 > 1 -> recall@1 = 0; 3 <= 5 -> recall@5 = 1; mrr = 1/3;
    # ndcg = (1/log2(3+1)) / (1/log2(2)) = (1/2) / 1 = 0.5
    assert m["recall@1"] == 0.0
    assert m["recall@5"] == 1.0
    assert m["recall@10"] == 1.0
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert m["ndcg@10"] == pytest.approx(0.5)


def test_gold_absent_scores_zero() -> None:
    hits = [hit("a", 0.9), hit("b", 0.8)]
    # no relevant document retrieved: every metric is 0, nothing is skipped
    assert question_metrics(hits) == {
        "recall@1": 0.0,
        "recall@5": 0.0,
        "recall@10": 0.0,
        "mrr@10": 0.0,
        "ndcg@10": 0.0,
    }


def test_empty_hit_list_scores_zero() -> None:
    assert effective_ranks([]) == []
    assert question_metrics([])["mrr@10"] == 0.0


def test_gold_below_cutoff_earns_nothing() -> None:
    hits = [hit(f"d{i}", 1.0 - i / 100) for i in range(10)] + [hit("gold", 0.5, True)]
    m = question_metrics(hits)
    # gold at rank 11 > 10: recall@10 = 0, mrr@10 = 0, ndcg@10 = 0
    assert (m["recall@10"], m["mrr@10"], m["ndcg@10"]) == (0.0, 0.0, 0.0)


def test_gold_tied_with_two_others_at_top_takes_last_tied_rank() -> None:
    hits = [hit("gold", 0.9, True), hit("b", 0.9), hit("c", 0.9), hit("d", 0.5)]
    # gold ties with b and c at positions 1..3 -> effective rank 3
    assert effective_ranks(hits) == [
        ("b", 1, False),
        ("c", 2, False),
        ("gold", 3, True),
        ("d", 4, False),
    ]
    m = question_metrics(hits)
    # rank 3: recall@1 = 0, recall@5 = 1, mrr = 1/3, ndcg = 1/log2(4) = 0.5
    assert m["recall@1"] == 0.0
    assert m["recall@5"] == 1.0
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert m["ndcg@10"] == pytest.approx(0.5)


def test_gold_tied_with_a_doc_above_it_keeps_its_position() -> None:
    hits = [hit("a", 0.95), hit("b", 0.9), hit("gold", 0.9, True), hit("d", 0.2)]
    # a (0.95) is strictly above; gold ties with b at positions 2..3 and is already last
    # of the group -> effective rank 3; mrr = 1/3
    assert effective_ranks(hits)[2] == ("gold", 3, True)
    assert question_metrics(hits)["mrr@10"] == pytest.approx(1 / 3)


def test_tie_tolerance_is_1e_9() -> None:
    within = [hit("gold", 0.5 + 1e-10, True), hit("b", 0.5)]
    beyond = [hit("gold", 0.5 + 1e-8, True), hit("b", 0.5)]
    # |diff| = 1e-10 <= 1e-9 -> tied, gold goes last (rank 2, mrr 1/2);
    # |diff| = 1e-8 > 1e-9 -> not tied, gold stays at rank 1 (mrr 1)
    assert question_metrics(within)["mrr@10"] == pytest.approx(0.5)
    assert question_metrics(beyond)["mrr@10"] == 1.0


def test_passages_of_one_doc_collapse_to_its_best_rank() -> None:
    hits = [hit("A", 0.9), hit("A", 0.85), hit("B", 0.8), hit("gold", 0.7, True)]
    # collapsed docs: A(1), B(2), gold(3) -> mrr = 1/3 (not 1/4), recall@1 = 0
    assert [(s, r) for s, r, _ in effective_ranks(hits)] == [("A", 1), ("B", 2), ("gold", 3)]
    m = question_metrics(hits)
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert m["ndcg@10"] == pytest.approx(0.5)  # 1/log2(3+1)


def test_collapse_happens_before_ties() -> None:
    # A's second passage (0.9) ties gold's score but is dropped by the collapse; A's doc
    # score is its best passage (0.95), so gold is tied with nobody -> rank 2, mrr 1/2
    hits = [hit("A", 0.95), hit("A", 0.9), hit("gold", 0.9, True)]
    assert question_metrics(hits)["mrr@10"] == pytest.approx(0.5)


def test_doc_relevant_through_its_second_passage_counts_at_best_rank() -> None:
    hits = [hit("a", 0.9), hit("gold", 0.8, False), hit("c", 0.7), hit("gold", 0.6, True)]
    # gold's best passage is at position 2 (irrelevant) but a later passage is relevant:
    # the doc is relevant at rank 2 -> recall@1 = 0, mrr = 1/2, ndcg = 1/log2(3) ~ 0.6309
    assert effective_ranks(hits) == [("a", 1, False), ("gold", 2, True), ("c", 3, False)]
    m = question_metrics(hits)
    assert m["recall@1"] == 0.0
    assert m["mrr@10"] == pytest.approx(0.5)
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3))


def test_two_relevant_docs() -> None:
    hits = [hit("g1", 0.9, True), hit("b", 0.8), hit("g2", 0.7, True), hit("d", 0.6)]
    m = question_metrics(hits, n_relevant=2)
    # relevant at ranks 1 and 3: recall@1 = 1/2, recall@5 = 2/2; mrr = 1/1
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; IDCG = 1/log2(2) + 1/log2(3) = 1.6309...
    assert m["recall@1"] == 0.5
    assert m["recall@5"] == 1.0
    assert m["mrr@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


def test_two_relevant_docs_one_missing() -> None:
    hits = [hit("a", 0.9), hit("g1", 0.8, True)]
    m = question_metrics(hits, n_relevant=2)
    # one of two found at rank 2: recall@5 = 1/2; DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert m["recall@5"] == 0.5
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_two_tied_relevant_docs_take_the_last_two_positions() -> None:
    hits = [hit("g1", 0.9, True), hit("g2", 0.9, True), hit("c", 0.9)]
    # group of 3 with 2 relevant: c first, then g1, g2 -> ranks 2 and 3 (not both 3)
    assert effective_ranks(hits) == [("c", 1, False), ("g1", 2, True), ("g2", 3, True)]
    m = question_metrics(hits, n_relevant=2)
    # DCG = 1/log2(3) + 1/log2(4); IDCG = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx(expected)
    assert m["recall@1"] == 0.0


def test_extra_relevant_docs_beyond_n_relevant_earn_nothing() -> None:
    hits = [hit("g1", 0.9, True), hit("g2", 0.8, True)]
    m = question_metrics(hits, n_relevant=1)
    # only the best-ranked one is credited: recall@5 = min(2, 1)/1 = 1;
    # DCG = 1/log2(2) = 1 (g2's 1/log2(3) is not added) -> ndcg = 1, never above 1
    assert m["recall@5"] == 1.0
    assert m["ndcg@10"] == 1.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_n_relevant_must_be_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="n_relevant"):
        question_metrics([hit("a", 1.0, True)], n_relevant=bad)  # type: ignore[arg-type]


def test_unsorted_scores_are_rejected() -> None:
    # ascending scores (e.g. distances) would make ties and ranks disagree
    with pytest.raises(ValueError, match="not sorted"):
        effective_ranks([hit("a", 0.1), hit("b", 0.9)])


def test_nan_score_is_rejected() -> None:
    with pytest.raises(ValueError, match="NaN"):
        effective_ranks([hit("a", float("nan"))])


def test_aggregate_means_and_percentiles() -> None:
    per_question = [
        {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0},
        {"recall@1": 0.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1 / 3, "ndcg@10": 0.5},
        {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0},
        {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 1.0, "mrr@10": 1 / 7, "ndcg@10": 0.3333},
    ]
    result = aggregate(per_question, [4.0, 1.0, 3.0, 2.0])
    assert result == {
        "recall@1": 0.25,  # (1+0+0+0)/4
        "recall@5": 0.5,  # (1+1+0+0)/4
        "recall@10": 0.75,  # (1+1+0+1)/4
        "mrr@10": 0.369,  # (1 + 0.33333 + 0 + 0.142857)/4 = 0.369047... -> 0.3690
        "ndcg@10": 0.4583,  # (1 + 0.5 + 0 + 0.3333)/4 = 0.458325 -> 0.4583
        # sorted [1,2,3,4]; linear: p50 at index 0.5*3 = 1.5 -> 2 + 0.5*(3-2) = 2.5
        "latency_ms_p50": 2.5,
        # p95 at index 0.95*3 = 2.85 -> 3 + 0.85*(4-3) = 3.85
        "latency_ms_p95": 3.85,
        "n_questions": 4,
    }


def test_aggregate_rounds_latency_to_2_decimals() -> None:
    perfect = {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    result = aggregate([perfect, perfect], [10.0, 10.123])
    # p50 = (10 + 10.123)/2 = 10.0615 -> 10.06; p95 = 10 + 0.95*0.123 = 10.11685 -> 10.12
    assert result["latency_ms_p50"] == 10.06
    assert result["latency_ms_p95"] == 10.12


def test_aggregate_rejects_empty_and_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="no questions"):
        aggregate([], [])
    one = {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    with pytest.raises(ValueError, match="one latency per question"):
        aggregate([one], [1.0, 2.0])
