"""Retriever on the seed index with the real model."""

from __future__ import annotations

import numpy as np
import pytest

from index.config import Settings
from index.errors import IndexMissingError, ModelMismatchError
from index.text.search import tokenize_for_search, written_words
from qa.grounding import salient_terms
from qa.fusion import BRIDGED_LEXICAL_WEIGHT, LEXICAL_WEIGHT, PROXIMITY_WEIGHT, WRITTEN_PROXIMITY_WEIGHT
from qa.retriever import Question, QuestionError, Retriever
from qa.translation import searched_as_written

KUWAIT = "002_717a5c15cf0cef70"


@pytest.fixture(scope="module")
def retriever(seed_settings, embedder) -> Retriever:
    return Retriever(seed_settings, embedder)


@pytest.mark.parametrize(
    "question",
    [
        "what did Lavrov discuss with Kuwait?",
        "ماذا ناقش لافروف مع الكويت؟",
    ],
)
def test_lavrov_kuwait_article_in_top_3(retriever, question):
    top3 = retriever.search(question, k=3)
    assert KUWAIT in [p.source for p in top3]


def test_passages_are_ranked_cited_spans(retriever):
    passages = retriever.search("Putin meets the Emir of Qatar in Kazakhstan", k=5)
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(passages, passages[1:]))
    assert passages[0].source == "001_8d1177553da27e06"
    texts = dict(retriever.reader.rows("SELECT id, text FROM articles"))
    for p in passages:
        assert texts[p.source][p.start : p.end] == p.text
        assert p.title and p.date


def test_k_larger_than_index_returns_everything(retriever):
    assert len(retriever.search("روسيا", k=10_000)) == retriever.reader.size


@pytest.mark.parametrize("bad", ["", "   \n\t "])
def test_empty_question_is_refused(retriever, bad):
    with pytest.raises(QuestionError, match="empty"):
        retriever.search(bad)


def test_huge_question_is_truncated_not_fatal(retriever):
    question = Question.parse("لافروف " * 20_000, max_chars=2000)
    assert question.truncated_from == len(("لافروف " * 20_000).strip())
    assert len(question.text) == 2000
    assert retriever.search(question, k=2)


def test_missing_index(tmp_path, embedder):
    with pytest.raises(IndexMissingError, match="qa index"):
        Retriever(Settings.from_env(index_dir=tmp_path), embedder).search("x")


def test_index_of_other_model_is_refused(seed_settings, embedder):
    other = Settings.from_env(
        index_dir=seed_settings.index_dir, model="intfloat/multilingual-e5-small"
    )
    with pytest.raises(ModelMismatchError, match="QA_MODEL"):
        Retriever(other, embedder).search("x")


@pytest.mark.parametrize("question, lexical_weight", [
    ("what did Lavrov discuss with Kuwait?", BRIDGED_LEXICAL_WEIGHT),
    ("قمة بوتين وأمير قطر", LEXICAL_WEIGHT),
    ("Was besprach Lawrow mit dem Emir von قطر in الكويت?", LEXICAL_WEIGHT),  # mostly Latin script
])
def test_default_ranking_is_the_fusion_of_the_three_rankings(retriever, question, lexical_weight):
    """The second model runs in its own thread; the result must be what one thread
    computing the three rankings and the coverage in turn and fusing them gives, BM25
    weighted by the question's script."""
    from qa.coverage import coverage, named_in
    from qa.fusion import fuse
    from qa.retriever import CANDIDATES

    reader = retriever.reader
    dense = retriever._dense_hits(reader, retriever.embedder.embed_query(question), CANDIDATES, None)
    named = named_in(question, reader.lexical)
    lexical = reader.lexical.search(retriever._lexical_query(reader, question, lambda: named), CANDIDATES)
    aux = retriever._aux_hits(retriever.aux_embedder, reader, question, None)
    found = sorted({i for hits in (dense, lexical, aux) for i, _ in hits})
    assert lexical, "the English question is translated for BM25, so its weight matters"
    fused = fuse(dense, lexical, aux, coverage(named, found, reader.lexical), lexical_weight=lexical_weight)
    # Only a question mostly in Arabic script has its words' proximity count; for the
    # others it would change the scores (with_proximity checks that it tells chunks apart).
    rescored = with_proximity(retriever, question, fused) if any(
        reader.lexical.df(t) for t in tokenize_for_search(question)) else None
    expected = (rescored if searched_as_written(question) else fused)[:5]
    assert (rescored is not None) == (question != "what did Lavrov discuss with Kuwait?")
    passages = retriever.search(question, k=5)
    assert [p.score for p in passages] == [round(score, 6) for _, score in expected]
    rows = reader.chunks([i for i, _ in expected])
    assert [(p.source, p.start) for p in passages] == [(rows[i].article_id, rows[i].start) for i, _ in expected]


@pytest.mark.parametrize("question, read", [
    ("what did Lavrov discuss with Kuwait?", True),
    ("ماذا ناقش لافروف مع الكويت؟", True),
    ("ラブロフ外相はクウェートと何を話し合いましたか？", True),
    ("لاوروف با کویت درباره چه گفتگو کرد؟", True),  # Persian: Arabic letters USE knows
    ("লাভরভ কুয়েতের সঙ্গে কী নিয়ে আলোচনা করেছেন?", False),  # Bengali: no piece of it
    ("லாவ்ரோவ் குவைத்துடன் என்ன விவாதித்தார்?", False),  # Tamil
    ("Τι συζήτησε ο Λαβρόφ με το Κουβέιτ;", False),  # Greek: letters known, words not
    ("라브로프는 쿠웨이트와 무엇을 논의했습니까?", True),  # a Hangul piece is a syllable
])
def test_the_second_model_is_asked_only_what_it_can_read(retriever, question, read):
    """USE's vocabulary has no pieces for Bengali or Tamil: such a question would embed as
    unknown pieces, the same vector whatever it asks; it has Greek letters but no Greek
    words. Such a question gets no second-model candidates, and the other two rankings
    still find passages."""
    assert retriever.aux_embedder.reads(question) is read
    _, _, aux, _ = retriever.candidates(retriever.reader, question)
    assert bool(aux) is read
    assert retriever.search(question, k=3)


def with_proximity(retriever: Retriever, question: str, fused: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The fused ranking's head re-scored by the question's words' proximity as search
    tokens, made again from each chunk's title and text as indexing makes them, then the
    first WRITTEN_DEPTH of that order as written words."""
    from index.sentences import embedding_text
    from qa.proximity import best_window_share, written_weights
    from qa.retriever import HEAD_DEPTH, WRITTEN_DEPTH

    reader = retriever.reader
    head = fused[:HEAD_DEPTH]
    rows = reader.chunks([i for i, _ in head])
    texts = {i: embedding_text(rows[i].title, rows[i].text) for i, _ in head}
    weights = {t: reader.lexical.idf(t) for t in tokenize_for_search(question) if reader.lexical.df(t)}
    written = written_weights(question, reader.lexical.idf, reader.lexical.df)
    near = {i: best_window_share(tokenize_for_search(texts[i]), weights) for i, _ in head}
    head = sorted(((i, s + PROXIMITY_WEIGHT * near[i]) for i, s in head), key=lambda hit: -hit[1])
    as_written = {i: best_window_share(written_words(texts[i]), written) if n < WRITTEN_DEPTH else 0.0
                  for n, (i, _) in enumerate(head)}
    for signal in (near, as_written):
        assert len({round(v, 6) for v in signal.values()}) > 1, "proximity must tell these chunks apart"
    assert near != as_written, "written words are another signal than search tokens"
    return sorted(((i, s + WRITTEN_PROXIMITY_WEIGHT * as_written[i]) for i, s in head),
                  key=lambda hit: -hit[1]) + fused[HEAD_DEPTH:]


def test_proximity_rescores_a_fixed_head_of_the_fused_ranking(retriever, monkeypatch):
    """However many passages are asked for, the same HEAD_DEPTH first chunks are
    re-scored: only up, so they stay above the rest, whose order and scores are kept."""
    import qa.retriever

    monkeypatch.setattr(qa.retriever, "HEAD_DEPTH", 3)
    reader = retriever.reader
    ids = sorted(reader.chunks(range(1, reader.size + 1)))
    fused = [(chunk_id, 1.0 - n / 100) for n, chunk_id in enumerate(ids)]
    rescored = retriever._rescored_head(reader, "ماذا ناقش لافروف مع الكويت؟", fused)
    assert len(ids) > 3 and rescored[3:] == fused[3:]
    assert sorted(i for i, _ in rescored[:3]) == sorted(i for i, _ in fused[:3])
    assert [s for _, s in rescored[:3]] == sorted((s for _, s in rescored[:3]), reverse=True)
    assert all(s >= dict(fused)[i] for i, s in rescored[:3]) and rescored[:3] != fused[:3]
    assert retriever._rescored_head(reader, "what did Lavrov discuss with Kuwait?", fused) == fused


def test_written_words_rescore_only_the_first_written_depth_chunks(retriever, monkeypatch):
    """Past the first WRITTEN_DEPTH chunks in the order search tokens' proximity gives
    (not the fused order), the head is re-scored by search tokens alone."""
    import qa.retriever

    monkeypatch.setattr(qa.retriever, "HEAD_DEPTH", 3)
    reader = retriever.reader
    rows = reader.chunks(range(1, reader.size + 1))
    other = min(i for i in rows if rows[i].article_id != KUWAIT)
    kuwait = [i for i in sorted(rows) if rows[i].article_id == KUWAIT][:2]
    fused = [(other, 1.0), (kuwait[0], 0.99), (kuwait[1], 0.98)]  # another article's chunk first
    question = "ماذا سيناقش وزيرا الخارجية في روسيا والكويت؟"  # the title's words: every chunk holds them
    scores = {}
    for depth in (0, 1, 3):
        monkeypatch.setattr(qa.retriever, "WRITTEN_DEPTH", depth)
        scores[depth] = dict(retriever._rescored_head(reader, question, fused))
    first = max(scores[0], key=scores[0].get)  # first once search tokens re-scored the head
    assert first != other, "search tokens' proximity must lift the Kuwait article above the other"
    assert scores[1][first] > scores[0][first]
    assert all(scores[1][i] == scores[0][i] for i in scores[0] if i != first)
    assert all(scores[3][i] > scores[0][i] for i in kuwait)


def test_proximity_counts_only_for_a_question_in_arabic_script():
    assert PROXIMITY_WEIGHT > 0 and WRITTEN_PROXIMITY_WEIGHT > 0
    assert searched_as_written("ماذا ناقش لافروف مع الكويت؟")
    assert not searched_as_written("what did Lavrov discuss with Kuwait?")
    assert not searched_as_written("Was besprach Lawrow mit Kuwait (الكويت)?")


def test_dense_score_is_cosine_less_hubness_plus_best_sentence(retriever):
    from qa.retriever import PENALTY, SENTENCE_WEIGHT

    reader = retriever.reader
    query = retriever.embedder.embed_query("what did Lavrov discuss with Kuwait?")
    (chunk_id, score), *_ = retriever._dense_hits(reader, query, 3, None)
    vector = reader.vectors([chunk_id])[0]
    _, sentences = reader.sentences([chunk_id])[chunk_id]
    reference = retriever._hubness.reference
    hubness = np.sort(reference @ vector)[-30:].mean()
    expected = vector @ query - PENALTY * hubness + SENTENCE_WEIGHT * (sentences @ query).max()
    assert score == pytest.approx(float(expected), abs=1e-4)


def test_concurrent_searches_get_their_own_answers(retriever):
    from concurrent.futures import ThreadPoolExecutor

    questions = ["what did Lavrov discuss with Kuwait?", "ماذا ناقش لافروف مع الكويت؟",
                 "Putin meets the Emir of Qatar in Kazakhstan"] * 4
    alone = {q: [(p.source, p.start) for p in retriever.search(q, k=3)] for q in set(questions)}
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: [(p.source, p.start) for p in retriever.search(q, k=3)], questions))
    assert together == [alone[q] for q in questions]


def test_a_republished_story_is_one_passage_that_names_its_copies(seed_copy, tmp_path, embedder, aux):
    """A wire story under two outlets: the copy is folded into the first, and the five
    passages shown are five different stories' (or several of one article)."""
    from index.builder import build_index

    original = (seed_copy / f"{KUWAIT}.txt").read_text(encoding="utf-8")
    lines = original.split("\n")
    copy = "\n".join([lines[0] + " (نقلاً عن تاس)", *lines[1:], "المصدر: وكالة أنباء أخرى"])
    (seed_copy / "kuwait_copy.txt").write_text(copy, encoding="utf-8")
    settings = Settings.from_env(index_dir=tmp_path / "idx")
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    passages = Retriever(settings, embedder, aux).search("what did Lavrov discuss with Kuwait?", k=5)
    sources = [p.source for p in passages]
    assert len({KUWAIT, "kuwait_copy"} & set(sources)) == 1
    first = next(p for p in passages if p.source in (KUWAIT, "kuwait_copy"))
    assert [c.source for c in first.also_in] == list({KUWAIT, "kuwait_copy"} - {first.source})
    assert first.to_dict()["also_in"][0]["source"] in (KUWAIT, "kuwait_copy")


def test_warm_up_builds_what_the_first_question_with_a_name_needs(seed_settings, embedder, aux):
    """The index's spellings by consonant skeleton take most of a second to build on a
    news archive; `qa serve` warms up before the first reader asks, so the warm-up must
    build them (a question of no names would not)."""
    from qa.coverage import _SPELLINGS

    retriever = Retriever(seed_settings, embedder=embedder, aux_embedder=aux)
    parts = retriever.reader.lexical.parts
    assert not any(part in _SPELLINGS for part in parts)
    retriever.warm_up()
    assert all(part in _SPELLINGS for part in parts)


def test_warm_up_builds_the_lexicons_the_first_questions_in_latin_and_arabic_read(seed_settings, embedder, aux):
    """Arabic and Latin-script questions look their names up in two lexicons, each built
    on first use from CLDR's locales (a tenth of a second or more): the warm-up builds
    both, so the first Arabic question does not wait for its own."""
    from qa.lexicon import lexicon, names_in

    retriever = Retriever(seed_settings, embedder=embedder, aux_embedder=aux)
    lexicon.cache_clear()
    names_in.cache_clear()  # a question asked before ("Who is Lavrov?") is remembered: no lexicon asked
    retriever.warm_up()
    built = lexicon.cache_info().misses
    assert built == 2
    for question in ("What did Lavrov discuss with Kuwait?", "ماذا ناقش لافروف مع الكويت؟"):
        retriever.search(question, k=1)
    assert lexicon.cache_info().misses == built


def test_the_answer_step_weighs_words_by_the_latest_search_without_asking_what_is_live(
    seed_settings, embedder, aux, monkeypatch,
):
    """The answer step weighs dozens of words per answer by their idf, right after the
    search: asking the store which generation is live for each (a file read here, a
    request to a Qdrant store) cost more than the lookups. The weights are those of the
    index the search read."""
    retriever = Retriever(seed_settings, embedder=embedder, aux_embedder=aux)
    retriever.search("ماذا ناقش لافروف مع الكويت؟", k=1)
    asked = []
    live = retriever.location.live
    monkeypatch.setattr(retriever.location, "live", lambda: asked.append(1) or live())
    tokens = tokenize_for_search("ناقش لافروف الكويت")
    weights = [retriever.idf(token) for token in tokens]
    assert not asked
    assert all(retriever.reader.lexical.df(token) for token in tokens)
    assert weights == [retriever.reader.lexical.idf(token) for token in tokens]


def test_an_armenian_question_mark_inside_a_word_leaves_the_word_whole():
    """Armenian writes ՞ on the stressed vowel (Ինչպե՞ս, how?): a word split there is no
    word of any list (its question words, the lexicon's names)."""
    assert Question.parse("Ինչպե՞ս արձագանքեց Քերին", 100).text == "Ինչպես արձագանքեց Քերին"
    assert "Ինչպե" not in salient_terms(Question.parse("Ինչպե՞ս արձագանքեց Քերին", 100).text)
