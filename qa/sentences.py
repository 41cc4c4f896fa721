"""Sentences of retrieved passages, with offsets into their article, for extractive answers.

An extractive answer quotes whole sentences, and each quote must stay checkable: a
`Sentence` keeps `article_text[start:end] == text`, like the passage it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.retriever import Passage

#: Where a sentence ends: terminal punctuation (Latin and Arabic) followed by white space,
#: a semicolon, or a line break. A full stop inside "3.5" or "U.S." does not split.
_BOUNDARY = re.compile(r"(?:(?<=[.!?؟…])|(?<=[.!?؟…][\"»”')\]])|(?<=[.!?؟…][\"»”')\]]{2}))\s+|(?<=[؛;])\s+|\s*\n\s*")
#: Longer sentences are cut again at commas, so a quote stays short enough to read.
_COMMA = re.compile(r"(?<=[،,])\s+")
MAX_SENTENCE_CHARS = 400
#: Fragments shorter than this carry no evidence on their own ("2023.", "Moscow -").
MIN_SENTENCE_CHARS = 15


@dataclass(frozen=True)
class Sentence:
    """One sentence of a passage; `source_rank` is the passage's number in the answer."""

    text: str
    article_id: str
    start: int  # offsets into the article's clean text
    end: int
    source_rank: int
    position: int  # order within its passage


def split_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences, in reading order, each a verbatim span of the article."""
    sentences: list[Sentence] = []
    for start, end in _spans(passage.text):
        text = passage.text[start:end]
        if len(text) < MIN_SENTENCE_CHARS:
            continue
        sentences.append(
            Sentence(text, passage.source, passage.start + start, passage.start + end, passage.rank, len(sentences))
        )
    return sentences


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in _split(text, _BOUNDARY, 0, len(text)):
        if end - start > MAX_SENTENCE_CHARS:
            spans.extend(_split(text, _COMMA, start, end))
        else:
            spans.append((start, end))
    return spans


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
