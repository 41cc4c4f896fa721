"""qa/coverage.py: what a question names, spelled in the index across scripts."""

from __future__ import annotations

import pytest

from index.text.search import tokenize_for_search
from qa.coverage import Spellings, coverage, named_in
from qa.retriever import Retriever

KUWAIT = "002_717a5c15cf0cef70"
JORDAN = "004_e35452bbc36f1cf2"


def test_spellings_match_skeletons_whole_or_as_a_prefix_of_three_or_more():
    spellings = Spellings(["لافروف", "كويت", "كويتي", "خط", "موسك", "موسكو", "kuwait"])
    assert spellings.of("Lavrov") == {"لافروف"}
    assert spellings.of("Kuwaiti") >= {"كويت", "كويتي"}  # KT and KTY
    assert spellings.of("Moscow") == {"موسك", "موسكو"}
    assert "كويت" not in spellings.of("Katar")  # KTR is not KT: short skeletons must be equal
    assert spellings.of("a") == set()


def test_spellings_read_a_name_as_its_language_writes_it():
    spellings = Spellings(["جنكيز", "كنكز", "رجب", "رقيب"])
    assert spellings.of("Cengiz", "tr") == {"جنكيز"} and spellings.of("Cengiz") == {"كنكز"}
    assert spellings.of("Recep", "tr") == {"رجب"} and spellings.of("Recep") == {"رقيب"}


def test_spellings_put_back_the_first_letter_the_stemmer_cut():
    """Snowball stems بوتين to وتين and فيصل to يصل: skeletons TN and SL, not BTN and FSL."""
    spellings = Spellings(["وتين", "وطن", "ثان", "يصل", "شار", "شرطة", "ندر"])
    # بوطن ("in a homeland") and بثان resemble Putin less than بوتين
    assert spellings.of("Putin") == spellings.of("Путин") == {"وتين"}
    assert spellings.of("Faisal") == {"يصل"}
    assert spellings.of("Bashar") == {"شار"}  # not شرطة, police: XR too, but unlike the name
    assert spellings.of("Nasser") == set()


@pytest.fixture(scope="module")
def reader(seed_settings):
    return Retriever(seed_settings).reader


@pytest.mark.parametrize("question", [
    "what did Lavrov discuss with Kuwait?", "ماذا ناقش لافروف مع الكويت؟", "Worüber sprach Lawrow mit Kuwait?",
])
def test_the_kuwait_passage_covers_what_the_question_names_and_the_jordan_one_less(reader, question):
    named = named_in(question, reader.lexical)
    assert named and all(n.tokens and n.weight > 0 for n in named)
    chunks = reader.chunks(range(1, reader.size + 1))
    shares = coverage(named, list(chunks), reader.lexical)
    best = {source: max(shares[i] for i, c in chunks.items() if c.article_id == source) for source in (KUWAIT, JORDAN)}
    assert best[KUWAIT] > best[JORDAN]


def test_a_name_whose_first_letter_the_stemmer_cut_is_found_in_the_index(reader):
    named = {n.term: n for n in named_in("What did Putin joke about when he welcomed Raisi?", reader.lexical)}
    assert tokenize_for_search("بوتين") == ["وتين"] and "وتين" in named["Putin"].tokens
    chunks = reader.chunks(range(1, reader.size + 1))
    shares = coverage([named["Putin"]], list(chunks), reader.lexical)
    assert all(("بوتين" in chunks[i].title + chunks[i].text) == (share == 1.0) for i, share in shares.items())
    assert any(share == 1.0 for share in shares.values())


def test_a_name_the_index_cannot_spell_is_left_out(reader):
    named = named_in("What did Lavrov discuss with Xyzzyqua?", reader.lexical)
    assert [n.term for n in named] == ["Lavrov"]
    assert coverage([], [1, 2], reader.lexical) == {}


@pytest.mark.parametrize("question", ["What did Lavrov discuss with Jordan?", "拉夫罗夫与约旦讨论了什么？"])
def test_a_translated_name_is_spelled_by_its_cldr_names(reader, question):
    """No skeleton links Jordan (or 约旦) to الأردن; the lexicon's Arabic name does."""
    named = {n.term: n for n in named_in(question, reader.lexical)}
    jordan = named["约旦" if "约旦" in named else "Jordan"]
    chunks = reader.chunks(range(1, reader.size + 1))
    shares = coverage([jordan], list(chunks), reader.lexical)
    assert {chunks[i].article_id for i, share in shares.items() if share == 1.0} >= {JORDAN}
    assert all("الأردن" in chunks[i].text or "الأردن" in chunks[i].title for i, s in shares.items() if s == 1.0)


def test_an_organisation_is_not_searched_by_its_arabic_names(reader):
    """The seeds name the GCC on every page (مجلس التعاون الخليجي); ranking does not search its
    Arabic names' common words (تعاون, مجلس), which would favour every such article alike:
    the organisation is for the answer gate only."""
    named = {n.term: n for n in named_in("What did Lavrov and the GCC agree on with Jordan?", reader.lexical)}
    assert "Jordan" in named and named["Jordan"].translated
    assert not named.get("GCC") or not named["GCC"].translated
