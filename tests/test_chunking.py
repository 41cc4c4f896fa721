"""Chunker: verbatim spans, exact offsets, token budget, Arabic sentence boundaries."""

import pytest

from index.articles import Article
from index.chunking import Chunk, Chunker


def words(text: str) -> int:
    return len(text.split())


ARABIC = (
    "ناقش وزير الخارجية الروسي سيرغي لافروف مع نظيره الكويتي سبل التوصل إلى حلول سلمية للصراع. "
    "هل ستتوقف الحرب؟ قال الوزير إن الاتصالات مستمرة؛ وأضاف أن التعاون الثنائي يتطور، "
    "خصوصاً في مجال الطاقة والتجارة والاستثمار.\n\n"
    "وفي فقرة ثانية، تحدث الطرفان عن الوضع في سوريا وليبيا واليمن! ثم انتهى اللقاء."
)


def article(text: str, title: str = "عنوان") -> Article:
    return Article(id="a1", title=title, text=text)


def test_every_chunk_is_the_exact_span_it_claims():
    chunks = Chunker(words, max_tokens=12, overlap_tokens=3).split(article(ARABIC))
    assert len(chunks) > 3
    for i, chunk in enumerate(chunks):
        assert chunk.ordinal == i
        assert chunk.article_id == "a1"
        assert ARABIC[chunk.start : chunk.end] == chunk.text


def test_chunks_respect_the_budget_with_title_header_taken_out():
    title = "عنوان من ثلاث كلمات"
    chunker = Chunker(words, max_tokens=12, overlap_tokens=2)
    for chunk in chunker.split(article(ARABIC, title)):
        assert words(chunk.text) + words(title) <= 12


def test_no_text_is_lost_between_chunks():
    chunks = Chunker(words, max_tokens=10, overlap_tokens=2).split(article(ARABIC))
    covered = [False] * len(ARABIC)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    lost = "".join(ch for ch, c in zip(ARABIC, covered) if not c)
    assert lost.strip() == ""


def test_splits_at_arabic_sentence_punctuation():
    chunks = Chunker(words, max_tokens=16, overlap_tokens=0).split(article(ARABIC, title=""))
    endings = {c.text[-1] for c in chunks[:-1]}
    assert endings <= set(".؟!؛،")


def test_short_article_is_one_chunk_and_embedding_text_has_title():
    chunk = Chunker(words, max_tokens=200, overlap_tokens=10).split(article(ARABIC, "العنوان"))
    assert len(chunk) == 1
    assert chunk[0].embedding_text("العنوان") == "العنوان\n" + ARABIC


def test_repeated_paragraphs_get_distinct_offsets():
    text = "نفس الجملة تماما هنا.\n\nنفس الجملة تماما هنا.\n\nنفس الجملة تماما هنا."
    chunks = Chunker(words, max_tokens=5, overlap_tokens=0).split(article(text, ""))
    assert [c.start for c in chunks] == sorted({c.start for c in chunks})
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError):
        Chunker(words, max_tokens=5, overlap_tokens=5)


def test_embedding_text_without_title():
    assert Chunk("a", 0, 0, 3, "abc").embedding_text("") == "abc"
