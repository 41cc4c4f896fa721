"""Sentences of passages: verbatim article spans, split where a reader would split them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.articles import Article, load_folder
from qa.retriever import Passage
from index.sentences import MAX_SENTENCE_CHARS, MIN_SENTENCE_CHARS
from qa.sentences import Sentence, split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {a.id: a for a in load_folder(SEEDS).articles}


def passage_of(article_text: str, start: int, end: int, rank: int = 3,
               source: str = "art-1") -> Passage:
    """A passage cut from an article at [start, end), as the retriever returns them."""
    return Passage(rank=rank, score=0.5, text=article_text[start:end], source=source,
                   title="Title", date="2023-11-03", start=start, end=end)


def assert_verbatim(sentences: list[Sentence], article_text: str, passage: Passage) -> None:
    """Each sentence is its own article span, inside the passage, in reading order."""
    previous_end = passage.start
    for position, s in enumerate(sentences):
        assert article_text[s.start:s.end] == s.text
        assert passage.start <= s.start < s.end <= passage.end
        assert s.start >= previous_end  # in order, never overlapping
        previous_end = s.end
        assert s.text == s.text.strip()
        assert len(s.text) >= MIN_SENTENCE_CHARS
        assert s.position == position
        assert s.article_id == passage.source and s.source_rank == passage.rank


def test_seed_article_sentences_are_verbatim_spans_at_an_offset(articles):
    for number, article in enumerate(sorted(articles.values(), key=lambda a: a.id)):
        text = article.text
        for start in (0, 37 + number, len(text) // 3):  # chunks begin mid-article
            end = min(len(text), start + 900)
            passage = passage_of(text, start, end, rank=number + 1, source=article.id)
            sentences = split_sentences(passage)
            assert sentences, (article.id, start)
            assert_verbatim(sentences, text, passage)


def test_a_real_sentence_is_found_whole(articles):
    text = articles["002_717a5c15cf0cef70"].text
    opening = text.index("وتجدر الإشارة")
    stop = text.index("اجتماعات إضافية.", opening) + len("اجتماعات إضافية.")
    passage = passage_of(text, opening - 30, opening + 700, source="002_717a5c15cf0cef70")
    spans = [(s.start, s.end) for s in split_sentences(passage)]
    assert (opening, stop) in spans
    assert "موسكو والكويت" in text[opening:stop]


def test_rank_and_article_are_carried():
    text = "x" * 50 + "\nThe ministers met in Moscow on Friday.\nThey discussed the war in Gaza."
    passage = passage_of(text, 50, len(text), rank=4, source="002_717a5c15cf0cef70")
    sentences = split_sentences(passage)
    assert [s.text for s in sentences] == [
        "The ministers met in Moscow on Friday.", "They discussed the war in Gaza."]
    assert {(s.article_id, s.source_rank) for s in sentences} == {("002_717a5c15cf0cef70", 4)}
    assert [s.position for s in sentences] == [0, 1]
    assert_verbatim(sentences, text, passage)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("هل سيزور لافروف الكويت قريبا؟ نعم، سيزورها الأسبوع المقبل في موسكو.",
         ["هل سيزور لافروف الكويت قريبا؟", "نعم، سيزورها الأسبوع المقبل في موسكو."]),
        ("ناقش الوزيران التعاون الثنائي؛ واتفقا على عقد اجتماع جديد قريبا.",
         ["ناقش الوزيران التعاون الثنائي؛", "واتفقا على عقد اجتماع جديد قريبا."]),
        ("وزيرا الخارجية في روسيا والكويت\nأفادت وسائل إعلام روسية بأن الوزيرين التقيا",
         ["وزيرا الخارجية في روسيا والكويت", "أفادت وسائل إعلام روسية بأن الوزيرين التقيا"]),
        ("The talks went well. \n\n  Both sides agreed to meet again!  What comes next? Nobody knows yet.",
         ["The talks went well.", "Both sides agreed to meet again!", "What comes next?",
          "Nobody knows yet."]),
        ('He said: "We agree on Gaza." Then the ministers left the room.',
         ['He said: "We agree on Gaza."', "Then the ministers left the room."]),
        ("قال الوزير «نحن متفقون تماما.» ثم غادر الوزيران القاعة معا.",
         ["قال الوزير «نحن متفقون تماما.»", "ثم غادر الوزيران القاعة معا."]),
    ],
)
def test_boundaries(body, expected):
    text = "مقدمة المقال. " + body  # the passage starts after this, at a nonzero offset
    start = len("مقدمة المقال. ")
    passage = passage_of(text, start, len(text))
    sentences = split_sentences(passage)
    assert [s.text for s in sentences] == expected
    assert_verbatim(sentences, text, passage)


@pytest.mark.parametrize(
    "sentence",
    [
        "Trade between Russia and Kuwait grew by 3.5 percent in 2023.",
        "ارتفع التبادل التجاري بنسبة 3.5 في المئة خلال عام 2023.",
        "The meeting is at 10.30 in the morning, the ministry said.",
    ],
)
def test_decimal_point_does_not_split(sentence):
    passage = passage_of(sentence, 0, len(sentence))
    assert [s.text for s in split_sentences(passage)] == [sentence]


@pytest.mark.parametrize("comma", [",", "،"])
def test_long_comma_only_sentence_is_cut_at_commas(comma):
    clause = "وناقش الوزيران سبل التوصل إلى حلول سلمية للصراع في الشرق الأوسط"
    long_sentence = (comma + " ").join([clause] * 12) + "."
    assert len(long_sentence) > MAX_SENTENCE_CHARS and not re.search(r"[.!?؟؛;]\s|\n", long_sentence)
    text = "افتتاحية. " + long_sentence
    passage = passage_of(text, len("افتتاحية. "), len(text))
    sentences = split_sentences(passage)
    assert len(sentences) > 1
    assert all(len(s.text) < MAX_SENTENCE_CHARS for s in sentences)
    assert "".join(s.text for s in sentences).replace(comma, "") == long_sentence.replace(
        comma + " ", "")
    assert_verbatim(sentences, text, passage)


def test_short_sentence_is_not_cut_at_commas():
    sentence = "بحث لافروف، ونظيره الكويتي، سبل التعاون الثنائي في موسكو."
    passage = passage_of(sentence, 0, len(sentence))
    assert [s.text for s in split_sentences(passage)] == [sentence]


def test_tiny_fragments_are_dropped():
    text = "Moscow -\n2023.\nLavrov met his Kuwaiti counterpart in Moscow.\nOK.\n- 22"
    sentences = split_sentences(passage_of(text, 0, len(text)))
    assert [s.text for s in sentences] == ["Lavrov met his Kuwaiti counterpart in Moscow."]
    exactly_min = "a" * (MIN_SENTENCE_CHARS - 1) + "."
    assert [s.text for s in split_sentences(passage_of(exactly_min, 0, len(exactly_min)))] == [
        exactly_min]
    too_short = exactly_min[1:]
    assert split_sentences(passage_of(too_short, 0, len(too_short))) == []


def test_blank_passage_has_no_sentences():
    assert split_sentences(passage_of("  \n\n \t", 0, 6)) == []


_ALPHABET = st.sampled_from(
    list("abc XYZ لافروفالكويت موسكو") + list("0123456789") + list(".,،;؛?؟!…\"»)(«-")
    + [" ", " ", "\n", "\t", "\u00a0", "3.5"]
)
#: A split point inside a sentence: terminal punctuation, at most two closing quotes or
#: brackets (kept with their sentence), then white space; a semicolon; a line break.
_INTERNAL_BOUNDARY = re.compile(r"[.!?؟…][\"»”')\]]{0,2}\s|[؛;]\s|\n")


@given(
    body=st.lists(_ALPHABET, max_size=600).map("".join),
    prefix=st.text(max_size=40),
    rank=st.integers(1, 20),
)
def test_random_text_keeps_every_invariant(body, prefix, rank):
    article = prefix + body
    passage = passage_of(article, len(prefix), len(article), rank=rank, source="rand")
    sentences = split_sentences(passage)
    assert_verbatim(sentences, article, passage)
    for s in sentences:
        assert not _INTERNAL_BOUNDARY.search(s.text), s.text
        if len(s.text) > MAX_SENTENCE_CHARS:  # only when there was no comma to cut at
            assert not re.search(r"[،,]\s", s.text)
