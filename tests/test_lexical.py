"""LexicalIndex against a plain-Python BM25, plus the properties retrieval relies on."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.errors import IndexCorruptError
from index.lexical import LexicalIndex
from index.text.search import tokenize_for_search

DOCS = {
    907: "زار وزير الخارجية الروسي سيرغي لافروف الكويت وناقش مع نظيره الكويتي التعاون.",
    3: "ناقش لافروف في الرياض خطة العمل المشتركة بين روسيا ودول مجلس التعاون الخليجي.",
    2**40: "أعلنت الكويت عن مشاريع جديدة للطاقة في عام ٢٠٢٣ بالتعاون مع شركات روسية.",
    -5: "Lavrov discussed energy cooperation with Kuwait during his Gulf visit in 2023.",
    12: "The Gulf Cooperation Council met Russian officials to discuss a joint action plan.",
    77777: "الطقس في الكويت حار جدا والرياح شمالية غربية نشطة.",
    41: "Oil prices rose after the OPEC meeting; Kuwait and Russia backed output cuts.",
    8: "",  # a chunk with no searchable token still counts in N and avgdl
}
IDS = list(DOCS)
TOKENS = [tokenize_for_search(text) for text in DOCS.values()]

QUERIES = [
    "ماذا ناقش لافروف مع الكويت؟",
    "التعاون الخليجي مع روسيا",
    "الطاقة في الكويت ٢٠٢٣",
    "What did Lavrov discuss with Kuwait?",
    "Gulf cooperation energy 2023",
    "الكويت الكويت لافروف",  # a repeated term counts twice
]


def reference_bm25(
    ids: list[int], docs: list[list[str]], query: list[str], k1: float, b: float
) -> list[tuple[int, float]]:
    """Lucene's BM25 (the "lucene" variant of Kamphuis et al. 2020), scored naively.

    idf = ln(1 + (N - df + 0.5) / (df + 0.5)); term weight = idf * tf / (tf + k1 *
    (1 - b + b * dl / avgdl)), summed over query tokens (repeats included). Lucene >= 8
    dropped classic BM25's constant (k1 + 1) numerator factor; it scales every score
    alike, so rankings are the same either way, and bm25s follows Lucene.
    """
    n = len(docs)
    avgdl = sum(len(doc) for doc in docs) / n
    df = Counter(term for doc in docs for term in set(doc))
    scored = []
    for chunk_id, doc in zip(ids, docs):
        tf = Counter(doc)
        score = 0.0
        for term in query:
            if tf[term]:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                norm = k1 * (1 - b + b * len(doc) / avgdl)
                score += idf * tf[term] / (tf[term] + norm)
        if score > 0:
            scored.append((chunk_id, score))
    return sorted(scored, key=lambda hit: (-hit[1], hit[0]))


def assert_same_hits(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    assert [chunk_id for chunk_id, _ in got] == [chunk_id for chunk_id, _ in want]
    for (_, score), (_, expected) in zip(got, want):
        assert score == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(IDS, TOKENS)


@pytest.mark.parametrize(("k1", "b"), [(1.5, 0.75), (1.2, 0.3), (2.0, 1.0)])
@pytest.mark.parametrize("question", QUERIES)
def test_scores_match_reference_bm25(question: str, k1: float, b: float) -> None:
    index = LexicalIndex.build(IDS, TOKENS, k1=k1, b=b)
    query = tokenize_for_search(question)
    want = reference_bm25(IDS, TOKENS, query, k1, b)
    assert want, "every test question matches something"
    assert_same_hits(index.search(query, k=len(IDS)), want)
    assert_same_hits(index.search(query, k=2), want[:2])


@pytest.mark.parametrize("question", QUERIES)
def test_weights_scale_each_terms_part_of_the_score(question: str, index: LexicalIndex) -> None:
    """What a segmented index passes (global idf / segment idf): each query token's part
    of the reference score times its weight, repeats counting once per occurrence."""
    query = tokenize_for_search(question)
    weights = {token: 0.5 + n for n, token in enumerate(dict.fromkeys(query))}
    totals: dict[int, float] = {}
    for token in query:
        for chunk_id, part in reference_bm25(IDS, TOKENS, [token], 1.5, 0.75):
            totals[chunk_id] = totals.get(chunk_id, 0.0) + weights[token] * part
    want = sorted(totals.items(), key=lambda hit: (-hit[1], hit[0]))
    assert_same_hits(index.search(query, k=len(IDS), weights=weights), want)
    assert_same_hits(index.search(query, k=len(IDS), weights={}), reference_bm25(IDS, TOKENS, query, 1.5, 0.75))


def test_non_contiguous_ids_come_back(index: LexicalIndex) -> None:
    hits = index.search(tokenize_for_search("أعلنت الكويت مشاريع الطاقة"), k=1)
    assert hits[0][0] == 2**40
    hits = index.search(tokenize_for_search("Lavrov discussed energy"), k=1)
    assert hits[0][0] == -5


def test_no_matching_term_returns_nothing(index: LexicalIndex) -> None:
    assert index.search(tokenize_for_search("zebra giraffe"), k=5) == []
    assert index.search(tokenize_for_search("زرافة"), k=5) == []


def test_english_question_over_arabic_chunks_returns_nothing() -> None:
    arabic = LexicalIndex.build([1, 2], [TOKENS[0], TOKENS[1]])
    assert arabic.search(tokenize_for_search("What did Lavrov discuss with Kuwait?"), k=5) == []


def test_unknown_tokens_are_ignored(index: LexicalIndex) -> None:
    query = tokenize_for_search("لافروف الكويت")
    assert index.search([*query, "no-such-token", ""], k=5) == index.search(query, k=5)


def test_empty_query_empty_index_and_k_zero(index: LexicalIndex, tmp_path: Path) -> None:
    assert index.search([], k=5) == []
    assert index.search(tokenize_for_search("لافروف"), k=0) == []
    empty = LexicalIndex.build([], [])
    assert len(empty) == 0 and empty.search(["كويت"], k=5) == []
    tokenless = LexicalIndex.build([4, 9], [[], []])
    assert len(tokenless) == 2 and tokenless.search(["كويت"], k=5) == []
    for built in (empty, tokenless):
        folder = tmp_path / f"i{len(built)}"
        built.save(folder)
        loaded = LexicalIndex.load(folder)
        assert len(loaded) == len(built) and loaded.search(["كويت"], k=5) == []


def test_ties_are_broken_by_id() -> None:
    same = ["كويت", "لافروف"]
    index = LexicalIndex.build([30, 10, 20, 5], [same, same, same, ["روسيا"]])
    hits = index.search(["كويت"], k=3)
    assert [chunk_id for chunk_id, _ in hits] == [10, 20, 30]
    assert len({score for _, score in hits}) == 1
    assert index.search(["كويت"], k=1)[0][0] == 10
    assert index.search(["كويت"], k=2) == hits[:2]


def test_save_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert len(loaded) == len(index)
    for question in QUERIES:
        query = tokenize_for_search(question)
        assert loaded.search(query, k=10) == index.search(query, k=10)


def test_parameters_survive_save_load(tmp_path: Path) -> None:
    LexicalIndex.build(IDS, TOKENS, k1=1.2, b=0.3).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert (loaded.k1, loaded.b, loaded.method) == (1.2, 0.3, "lucene")
    query = tokenize_for_search(QUERIES[0])
    assert_same_hits(loaded.search(query, k=10), reference_bm25(IDS, TOKENS, query, 1.2, 0.3))


def test_unreadable_index_is_reported(index: LexicalIndex, tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError):
        LexicalIndex.load(tmp_path / "missing")
    folder = tmp_path / "damaged"
    index.save(folder)
    (folder / "chunk_ids.npy").write_bytes(b"not numpy")
    with pytest.raises(IndexCorruptError):
        LexicalIndex.load(folder)
    shutil.rmtree(folder)
    index.save(folder)
    (folder / "vocab.index.json").unlink()
    with pytest.raises(IndexCorruptError):
        LexicalIndex.load(folder)


@pytest.mark.parametrize(
    ("ids", "token_lists", "method"),
    [
        ([1, 1], [["a"], ["b"]], "lucene"),  # duplicate ids
        ([1, 2], [["a"]], "lucene"),  # length mismatch
        ([1], [["a"]], "bm25+"),  # scores unmatched chunks above zero
    ],
)
def test_build_rejects_bad_input(ids: list[int], token_lists: list[list[str]], method: str) -> None:
    with pytest.raises(ValueError):
        LexicalIndex.build(ids, token_lists, method=method)


@pytest.mark.parametrize("ids", [sorted(IDS), IDS])  # ascending as segments number them, and not
def test_contains_tells_which_chunks_hold_any_of_the_tokens(ids: list[int]) -> None:
    tokens_of = dict(zip(IDS, TOKENS))
    index = LexicalIndex.build(ids, [tokens_of[i] for i in ids])
    asked = [*IDS, 999, -77]  # and ids that are not in this index
    for words in (["كويت"], ["لافروف", "kuwait"], ["nowhere"], []):
        expected = [i in tokens_of and bool(set(words) & set(tokens_of[i])) for i in asked]
        assert index.contains(words, np.array(asked)).tolist() == expected
    assert set(index.terms()) == {t for tokens in TOKENS for t in tokens}
    assert not LexicalIndex.build([], []).contains(["كويت"], np.array([1])).any()


@settings(deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=6), min_size=1, max_size=30),
    words=st.lists(st.sampled_from("abcdefghz"), max_size=5),
    asked=st.lists(st.integers(-3, 60), max_size=40),
    order=st.randoms(),
)
def test_contains_agrees_with_a_plain_membership_test(docs, words, asked, order) -> None:
    """Any chunks numbered in any order (segments number theirs ascending), any tokens,
    asked in any order and more than once, some not indexed."""
    ids = order.sample(range(60), len(docs))
    index = LexicalIndex.build(ids, docs)
    tokens_of = dict(zip(ids, docs))
    expected = [i in tokens_of and bool(set(words) & set(tokens_of[i])) for i in asked]
    assert index.contains(words, np.array(asked, dtype=np.int64)).tolist() == expected
