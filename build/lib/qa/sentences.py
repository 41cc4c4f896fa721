"""Sentences of retrieved passages, with offsets into their article, for extractive answers.

An extractive answer quotes whole sentences, and each quote must stay checkable: a
`Sentence` keeps `article_text[start:end] == text`, like the passage it came from. Where
sentences begin and end is decided in index/sentences.py, which indexing uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.sentences import sentence_spans
from qa.retriever import Passage

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
    return [
        Sentence(passage.text[start:end], passage.source, passage.start + start, passage.start + end,
                 passage.rank, position)
        for position, (start, end) in enumerate(sentence_spans(passage.text))
    ]
