"""Follow-up rewriting: each rule in several languages, what is left alone, chains, odd
input, and the rewritten query searched on the seed index with the real model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.followup import SearchQuery, resolve_followup
from qa.retriever import Retriever

LAVROV_KUWAIT = "what did Lavrov discuss with Kuwait?"
LAVROV_KUWAIT_AR = "ماذا ناقش لافروف مع الكويت؟"


def _rewrite(question: str, *previous: str) -> str:
    result = resolve_followup(question, list(previous))
    assert result.rewritten and result.rule, result
    return result.text


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("and with Qatar?", LAVROV_KUWAIT, "what did Lavrov discuss with Qatar?"),
        ("With Qatar?", LAVROV_KUWAIT, "what did Lavrov discuss with Qatar?"),  # no connector
        ("and with Qatar?", "what did Lavrov discuss with Kuwait in 2023?",
         "what did Lavrov discuss with Qatar in 2023?"),
        ("and with Qatar?", "what did Lavrov discuss with Kuwait, and why?",
         "what did Lavrov discuss with Qatar, and why?"),
        ("and with Qatar?", "who met with Putin before talks with the minister of Kuwait?",
         "who met with Putin before talks with Qatar?"),  # the last "with"
        ("ومع قطر؟", LAVROV_KUWAIT_AR, "ماذا ناقش لافروف مع قطر؟"),
        ("و مع قطر؟", "ماذا ناقش لافروف مع الكويت في موسكو؟", "ماذا ناقش لافروف مع قطر في موسكو؟"),
        ("وإلى الدوحة؟", "متى وصل لافروف الى الكويت؟", "متى وصل لافروف الى الدوحة؟"),  # إلى = الى
        ("ولقطر؟", "ماذا قدمت روسيا للكويت؟", "ماذا قدمت روسيا لقطر؟"),
        ("وللسعودية؟", "ماذا قدمت روسيا للكويت؟", "ماذا قدمت روسيا للسعودية؟"),
        ("Et avec le Qatar ?", "De quoi Lavrov a-t-il discuté avec le Koweït ?",
         "De quoi Lavrov a-t-il discuté avec le Qatar ?"),
        ("¿Y con Catar?", "¿De qué habló Lavrov con Kuwait?", "¿De qué habló Lavrov con Catar?"),
        ("А с Катаром?", "О чём Лавров говорил с Кувейтом?", "О чём Лавров говорил с Катаром?"),
        ("Und mit Katar?", "Was hat Lawrow mit Kuwait besprochen?",
         "Was hat Lawrow mit Katar besprochen?"),  # the German verb stays last
    ],
)  # fmt: skip
def test_rule_a_replaces_the_phrase_after_the_same_preposition(question, previous, expected):
    assert _rewrite(question, previous) == expected


def test_rule_a_explains_itself() -> None:
    result = resolve_followup("and with Qatar?", [LAVROV_KUWAIT])
    assert result == SearchQuery(
        text="what did Lavrov discuss with Qatar?",
        rewritten=True,
        rule="follow-up: replaced 'Kuwait' with 'Qatar' in the previous question",
    )


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("what about Qatar?", LAVROV_KUWAIT, "what did Lavrov discuss with Qatar?"),
        ("And Iran?", LAVROV_KUWAIT, "what did Lavrov discuss with Iran?"),
        ("and the UAE?", "What did Lavrov discuss with Jordan's foreign minister?",
         "What did Lavrov discuss with the UAE's foreign minister?"),
        ("and Raisi?", "Why did Sheikh Tamim bin Hamad Al Thani meet Putin?",
         "Why did Sheikh Tamim bin Hamad Al Thani meet Raisi?"),
        ("what about Iran?", "When did Sheikh Tamim bin Hamad Al Thani visit?",
         "When did Iran visit?"),  # one name, particles included
        ("وماذا عن قطر؟", LAVROV_KUWAIT_AR, "ماذا ناقش لافروف مع قطر؟"),
        ("و إيران؟", LAVROV_KUWAIT_AR, "ماذا ناقش لافروف مع إيران؟"),
        ("وإيران؟", LAVROV_KUWAIT_AR, "ماذا ناقش لافروف مع إيران؟"),
        ("وعن قطر؟", "ماذا قال بوتين عن الصين أمس؟", "ماذا قال بوتين عن قطر أمس؟"),
        ("والسعودية؟", "ماذا قال لافروف بالكويت؟", "ماذا قال لافروف بالسعودية؟"),
        ("وقطر؟", "كيف نظر لافروف إلى التقارب بين دول الخليج وإيران؟",
         "كيف نظر لافروف إلى التقارب بين دول الخليج وقطر؟"),
        ("Et l'Iran ?", "De quoi Lavrov a-t-il discuté avec le Koweït ?",
         "De quoi Lavrov a-t-il discuté avec l'Iran ?"),
        ("Qu'en est-il du Qatar ?", "De quoi Lavrov a-t-il discuté avec le Koweït ?",
         "De quoi Lavrov a-t-il discuté avec le Qatar ?"),
        ("¿Y Catar?", "¿De qué habló Lavrov con Kuwait?", "¿De qué habló Lavrov con Catar?"),
        ("А Катар?", "Что обсуждал Лавров с Кувейтом?", "Что обсуждал Лавров с Катар?"),
    ],
)  # fmt: skip
def test_rule_b_replaces_the_last_name(question, previous, expected):
    assert _rewrite(question, previous) == expected


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("and when?", LAVROV_KUWAIT, f"when? {LAVROV_KUWAIT}"),
        ("why?", LAVROV_KUWAIT, f"why? {LAVROV_KUWAIT}"),
        ("ومتى؟", LAVROV_KUWAIT_AR, f"متى؟ {LAVROV_KUWAIT_AR}"),
        ("ومتى التقيا؟", LAVROV_KUWAIT_AR, f"متى التقيا؟ {LAVROV_KUWAIT_AR}"),
        ("et quand ?", "De quoi Lavrov a-t-il discuté avec le Koweït ?",
         "quand ? De quoi Lavrov a-t-il discuté avec le Koweït ?"),
        # the previous query has no "in", so nothing to substitute
        ("and in Doha?", LAVROV_KUWAIT, f"in Doha? {LAVROV_KUWAIT}"),
        # a bare name could be a new topic as well as a follow-up: not substituted
        ("Qatar?", LAVROV_KUWAIT, f"Qatar? {LAVROV_KUWAIT}"),
        # a common noun is no substitute for a name
        ("what about the economy?", LAVROV_KUWAIT, f"the economy? {LAVROV_KUWAIT}"),
        # no capitalised name to replace in an uncased script
        ("and Iran?", "מה דן לברוב עם כווית?", "Iran? מה דן לברוב עם כווית?"),
    ],
)  # fmt: skip
def test_rule_c_searches_the_follow_up_with_the_previous_query(question, previous, expected):
    result = resolve_followup(question, [previous])
    assert result.text == expected
    assert result.rule and "together with the previous question" in result.rule


@pytest.mark.parametrize(
    "question",
    [
        "What did Putin say about China?",
        "ما موقف قطر من إيران؟",
        "Who is Ushakov?",
        "Lavrov Kuwait talks",  # a keyword search, not a question
        "صفقة سوخوي 35 بين روسيا وإيران",
        "And did Putin meet Raisi in Tehran?",  # a connector, then a whole question
        "وهل التقى بوتين رئيسي؟",
        "وزير الخارجية الروسي قال ماذا عن غزة",  # وزير is not و + زير
        "Was sagte Lawrow über Syrien?",
    ],
)
def test_self_contained_questions_are_searched_as_typed(question: str) -> None:
    assert resolve_followup(question, [LAVROV_KUWAIT]) == SearchQuery(question, False, None)


def test_chain_builds_on_the_last_searched_query() -> None:
    searched = [LAVROV_KUWAIT]
    for question, expected in [
        ("and with Qatar?", "what did Lavrov discuss with Qatar?"),
        ("and Iran?", "what did Lavrov discuss with Iran?"),
        ("what about Oman?", "what did Lavrov discuss with Oman?"),
    ]:
        searched.append(_rewrite(question, *searched))
        assert searched[-1] == expected


def test_chain_in_arabic() -> None:
    searched = [LAVROV_KUWAIT_AR]
    for question, expected in [
        ("ومع قطر؟", "ماذا ناقش لافروف مع قطر؟"),
        ("وإيران؟", "ماذا ناقش لافروف مع إيران؟"),
        ("وماذا عن عمان؟", "ماذا ناقش لافروف مع عمان؟"),
    ]:
        searched.append(_rewrite(question, *searched))
        assert searched[-1] == expected


def test_blank_earlier_queries_are_skipped() -> None:
    expected = "what did Lavrov discuss with Qatar?"
    assert _rewrite("and with Qatar?", LAVROV_KUWAIT, "", "  ") == expected


@pytest.mark.parametrize("question", ["", "   ", "?", "؟", "🙂", "and with Qatar?"])
def test_no_previous_query_means_no_rewrite(question: str) -> None:
    assert resolve_followup(question, []) == SearchQuery(question, False, None)
    assert resolve_followup(question, ["", " \n"]) == SearchQuery(question, False, None)


@pytest.mark.parametrize("question", ["", "   ", "?!", "؟"])
def test_empty_or_punctuation_only_is_returned_unchanged(question: str) -> None:
    assert resolve_followup(question, [LAVROV_KUWAIT]) == SearchQuery(question, False, None)


@pytest.mark.parametrize("question", ["and", "and?", "و", "with?", "and with ?"])
def test_a_bare_connector_or_preposition_keeps_the_previous_query(question: str) -> None:
    result = resolve_followup(question, [LAVROV_KUWAIT])
    assert result.rewritten and result.text.endswith(LAVROV_KUWAIT)


@given(st.text(max_size=60), st.lists(st.text(max_size=60), max_size=3))
def test_never_crashes_and_explains_every_rewrite(question: str, previous: list[str]) -> None:
    result = resolve_followup(question, previous)
    assert isinstance(result.text, str)
    assert result.rewritten == (result.rule is not None)
    if not result.rewritten:
        assert result.text == question


@pytest.fixture(scope="module")
def retriever(seed_settings, embedder) -> Retriever:
    return Retriever(seed_settings, embedder=embedder)


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        (LAVROV_KUWAIT, "and with Qatar?", "what did Lavrov discuss with Qatar?"),
        (LAVROV_KUWAIT_AR, "ومع قطر؟", "ماذا ناقش لافروف مع قطر؟"),
        (LAVROV_KUWAIT_AR, "وماذا عن قطر؟", "ماذا ناقش لافروف مع قطر؟"),
    ],
)
def test_resolved_follow_up_finds_lavrov_and_qatar(retriever, previous, follow_up, expected):
    """The seed Qatar article is about Putin and the Emir; it names Lavrov once, in the
    passage on his Gulf tour and his talks with his Qatari counterpart. The rewritten
    query must find that passage, and stay on Qatar or Lavrov throughout."""
    query = resolve_followup(follow_up, [previous])
    assert query.text == expected
    passages = retriever.search(query.text, k=3)
    assert any("قطر" in p.text and "لافروف" in p.text for p in passages)
    assert all("قطر" in p.text or "لافروف" in p.text for p in passages)
