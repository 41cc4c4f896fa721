"""Where sentences are: the spans an extractive answer quotes and that indexing embeds.

One splitter for both, so a sentence embedded at index time is exactly the sentence an
answer quotes later (qa/sentences.py gives passages' sentences as `Sentence` objects).
"""

from __future__ import annotations

import re

from index.text.search import tokenize_for_search

#: Where a sentence ends: terminal punctuation (Latin and Arabic) followed by white space,
#: a semicolon, or a line break. A full stop inside "3.5" or "U.S." does not split.
_BOUNDARY = re.compile(r"(?:(?<=[.!?؟…])|(?<=[.!?؟…][\"»”')\]])|(?<=[.!?؟…][\"»”')\]]{2}))\s+|(?<=[؛;])\s+|\s*\n\s*")
#: Longer sentences are cut again at commas, so a quote stays short enough to read.
_COMMA = re.compile(r"(?<=[،,])\s+")
MAX_SENTENCE_CHARS = 400
#: Fragments shorter than this carry no evidence on their own ("2023.", "Moscow -").
MIN_SENTENCE_CHARS = 15


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, in reading order; fragments shorter than
    MIN_SENTENCE_CHARS are left out."""
    spans: list[tuple[int, int]] = []
    for start, end in _split(text, _BOUNDARY, 0, len(text)):
        if end - start > MAX_SENTENCE_CHARS:
            spans.extend(_split(text, _COMMA, start, end))
        else:
            spans.append((start, end))
    return [(s, e) for s, e in spans if e - s >= MIN_SENTENCE_CHARS]


def _split(text: str, boundary: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """Stripped (start, end) spans of text[start:end] between boundary matches."""
    spans = []
    cursor = start
    for match in boundary.finditer(text, start, end):
        spans.append(_strip(text, cursor, match.start()))
        cursor = match.end()
    spans.append(_strip(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def embedding_text(title: str, text: str) -> str:
    """What the model reads for a span of an article: the title as a header, then the span."""
    return f"{title}\n{text}" if title else text


def search_tokens(title: str, text: str) -> list[str]:
    """What BM25 indexes for a span of an article: the tokens of the text the model sees
    (`embedding_text`), so a word of the title counts for every chunk of its article, as
    it does in the vectors."""
    return tokenize_for_search(embedding_text(title, text))


def with_sentences(title: str, text: str) -> tuple[str, list[tuple[int, int]]]:
    """`embedding_text(title, text)` and where the span's sentences are in it: what
    `MainModel.embed_passages_with_spans` takes to embed a span and its sentences at once."""
    embedded = embedding_text(title, text)
    body = len(embedded) - len(text)  # after the title header
    return embedded, [(body + start, body + end) for start, end in sentence_spans(text)]
