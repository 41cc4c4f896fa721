"""Chunks: token-bounded spans of an article's clean text, with exact character offsets.

Citations point at `article.text[start:end]`, so a chunk is always a verbatim span; what
gets embedded (`embedding_text`) adds the article title in front as a contextual header.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.articles import Article
from index.sentences import embedding_text, search_tokens

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

_NON_SPACE = re.compile(r"\S")


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
        return embedding_text(title, self.text)

    def search_tokens(self, title: str) -> list[str]:
        """What BM25 indexes for the chunk (`index.sentences.search_tokens`)."""
        return search_tokens(title, self.text)


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
        if overlap_tokens < 0:
            raise ValueError("chunk overlap must not be negative")
        self._count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def _splitter(self, budget: int, overlap: int) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            separators=list(SEPARATORS),
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=budget,
            chunk_overlap=overlap,
            length_function=self._count_tokens,
            strip_whitespace=True,
        )

    def split(self, article: Article) -> list[Chunk]:
        """Chunks of one article, in reading order, each a verbatim span of its text."""
        header = self._count_tokens(article.title + "\n") if article.title else 0
        # At least 1: with max_tokens=1 and a title, 0 made the splitter raise.
        budget = max(self.max_tokens - header, self.max_tokens // 2, 1)
        overlap = min(self.overlap_tokens, budget // 2)
        pieces = self._splitter(budget, overlap).split_text(article.text)
        # Characters over the budget are returned as they are, unstripped: drop blank ones.
        pieces = [piece for piece in pieces if piece.strip()]
        return list(_locate(article, pieces))


def _locate(article: Article, pieces: list[str]) -> Iterable[Chunk]:
    """Turn split strings back into offsets.

    A piece can occur more than once (a repeated sentence, "a a a a"), so the first
    occurrence after the previous chunk's start is not always the one the splitter cut;
    taking it placed chunks too early and left text after them in no chunk. Offsets
    are chosen to satisfy what the splitter guarantees: the first piece starts at the
    text's first non-space and the last ends at its last; each next piece starts no
    earlier than the previous one and no later than the first non-space after the
    previous end (it overlaps the previous chunk, or follows it). A backward pass
    bounds where each piece can start and still leave room for the rest; the forward
    pass takes the earliest occurrence within bounds after the previous start,
    backtracking (memoised) in the rare text where that leads nowhere.

    The splitter can repeat a start: when the overlap it keeps begins with white space
    leaves, the next piece is the previous one plus more. Such a previous piece is
    dropped, as the next one holds all of it.
    """
    text = article.text
    n = len(pieces)
    if not n:
        return

    def next_non_space(i: int) -> int:
        match = _NON_SPACE.search(text, i)
        return match.start() if match else len(text)

    def space_start(i: int) -> int:  # start of the white space run that ends at i
        while i > 0 and text[i - 1].isspace():
            i -= 1
        return i

    lo, hi = [0] * n, [0] * n
    lo[-1] = hi[-1] = len(text.rstrip()) - len(pieces[-1])
    for k in range(n - 2, -1, -1):
        piece = pieces[k]
        hi[k] = text.rfind(piece, 0, hi[k + 1] + len(piece))
        lo[k] = text.find(piece, max(0, space_start(lo[k + 1]) - len(piece)))

    def candidates(k: int, prev_start: int, prev_end: int) -> Iterator[int]:
        first, last = max(prev_start + 1, lo[k]), min(next_non_space(prev_end), hi[k])
        at = text.find(pieces[k], first, last + len(pieces[k]))
        while 0 <= at <= last:
            yield at
            at = text.find(pieces[k], at + 1, last + len(pieces[k]))
        if lo[k] <= prev_start <= last and text.startswith(pieces[k], prev_start):
            yield prev_start  # last resort: the same start as the previous piece

    starts: list[int] = []  # starts[k]: offset chosen for pieces[k]
    todo = [candidates(0, -1, 0)]  # todo[k]: offsets still to try for pieces[k]
    dead: set[tuple[int, int]] = set()  # (piece, offset) with no way to go on
    while todo and len(starts) < n:
        k = len(todo) - 1
        at = next(todo[-1], None)
        if at is None:
            todo.pop()
            if starts:
                dead.add((k - 1, starts.pop()))
        elif (k, at) not in dead:
            starts.append(at)
            if k + 1 < n:
                todo.append(candidates(k + 1, at, at + len(pieces[k])))
    if len(starts) < n:  # the splitter only ever returns spans; fail loudly if not
        raise AssertionError(f"chunks of {article.id} are not spans covering its text")
    kept = [k for k in range(n) if k == n - 1 or starts[k + 1] != starts[k]]
    for ordinal, k in enumerate(kept):
        yield Chunk(article.id, ordinal, starts[k], starts[k] + len(pieces[k]), pieces[k])
