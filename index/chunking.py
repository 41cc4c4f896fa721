"""Chunks: token-bounded spans of an article's clean text, with exact character offsets.

Citations point at `article.text[start:end]`, so a chunk is always a verbatim span; what
gets embedded (`embedding_text`) adds the article title in front as a contextual header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.articles import Article

#: Split points from coarse to fine, kept at the end of the piece they close.
#: Arabic punctuation (؟ ؛ ،) sits beside its Latin counterpart; a full stop only splits
#: when followed by white space, so "3.5" and "2.0" stay whole.
SEPARATORS: tuple[str, ...] = (
    r"\n\s*\n",
    r"\n",
    r"[.!?؟]+[\"»”']?\s",
    r"[؛;]\s?",
    r"[،,]\s?",
    r"\s",
    "",
)


@dataclass(frozen=True)
class Chunk:
    """A span of one article, the unit that is embedded, stored and cited."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str

    def embedding_text(self, title: str) -> str:
        """The text the model sees: the title as a header, then the span."""
        return f"{title}\n{self.text}" if title else self.text


class Chunker:
    """Splits articles into chunks that fit the embedding model's token budget.

    `count_tokens` is the model's own tokenizer, so the budget is exact for the model in
    use; the title header's tokens are taken out of the budget per article.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        max_tokens: int,
        overlap_tokens: int,
    ) -> None:
        if overlap_tokens >= max_tokens:
            raise ValueError("chunk overlap must be smaller than the chunk size")
        self._count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def _splitter(self, budget: int) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            separators=list(SEPARATORS),
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=budget,
            chunk_overlap=min(self.overlap_tokens, budget // 2),
            length_function=self._count_tokens,
            strip_whitespace=True,
        )

    def split(self, article: Article) -> list[Chunk]:
        """Chunks of one article, in reading order, each a verbatim span of its text."""
        header = self._count_tokens(article.title + "\n") if article.title else 0
        budget = max(self.max_tokens - header, self.max_tokens // 2)
        pieces = self._splitter(budget).split_text(article.text)
        return list(_locate(article, pieces))

    def split_all(self, articles: Iterable[Article]) -> list[Chunk]:
        return [chunk for article in articles for chunk in self.split(article)]


def _locate(article: Article, pieces: list[str]) -> Iterable[Chunk]:
    """Turn split strings back into offsets: each piece is found after the previous start."""
    cursor = 0
    for ordinal, piece in enumerate(pieces):
        start = article.text.find(piece, cursor)
        if start < 0:  # the splitter only ever returns substrings; fail loudly if not
            raise AssertionError(f"chunk {ordinal} of {article.id} is not a span of its text")
        end = start + len(piece)
        yield Chunk(article.id, ordinal, start, end, piece)
        cursor = start + 1
