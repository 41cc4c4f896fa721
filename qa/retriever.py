"""Retrieval: a question in any language -> ranked passages that cite their article span."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from index.aux_embedder import AuxEmbedder
from index.config import Settings
from index.embedder import Embedder
from index.compat import check_compatible
from index.errors import QAError
from index.normalize import tokenize_for_search
from index.store import IndexReader, current_generation
from qa.fusion import fuse

#: Retrieval configurations: embedding only, BM25 only, and what `qa ask` uses.
MODES = ("dense", "bm25", "default")
#: How deep each ranking is read before fusion.
CANDIDATES = 100


class QuestionError(QAError):
    pass


@dataclass(frozen=True)
class Passage:
    """One retrieved span, with everything needed to cite and check it."""

    rank: int
    score: float
    text: str
    source: str  # article id
    title: str
    date: str | None
    start: int
    end: int
    outlet: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Question:
    """A validated question: the text searched and whether it had to be cut."""

    text: str
    truncated_from: int | None = None

    @classmethod
    def parse(cls, raw: str, max_chars: int) -> "Question":
        text = " ".join((raw or "").split())
        if not text:
            raise QuestionError("the question is empty; type a question, e.g. "
                                "qa ask \"what did Lavrov discuss with Kuwait?\"")
        if len(text) > max_chars:
            return cls(text[:max_chars], truncated_from=len(text))
        return cls(text)


@dataclass(frozen=True)
class PassageFilter:
    """Restrict a search to some articles and/or a publication date range (ISO dates)."""

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to)


class Retriever:
    """Hybrid retrieval over one index directory.

    The index and the models are opened on first use, so constructing a retriever is free.
    Each search checks which generation is live: articles added by `qa index` or an
    upload are found without a restart, and a search in flight keeps the reader it began
    with, so it never sees a mix of two generations.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        aux_embedder: AuxEmbedder | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._aux_embedder = aux_embedder
        self._reader: IndexReader | None = None
        self._reader_lock = threading.Lock()

    @property
    def reader(self) -> IndexReader:
        """The reader of the live generation, reopened when a writer has published."""
        live = current_generation(self.settings.index_dir)
        reader = self._reader
        if reader is not None and reader.generation == live:
            return reader
        with self._reader_lock:
            if self._reader is None or self._reader.generation != live:
                self._reader = self._open_reader(self._reader)
            return self._reader

    def _open_reader(self, previous: IndexReader | None) -> IndexReader:
        reader = IndexReader(self.settings.index_dir, reuse=previous)
        check_compatible(self.settings.index_dir, reader.manifest, self.settings.model,
                         reader.manifest.article_count)
        return reader

    @cached_property
    def embedder(self) -> Embedder:
        return self._embedder or Embedder(self.settings)

    @cached_property
    def aux_embedder(self) -> AuxEmbedder | None:
        """The second model the index was built with, if any (the index decides)."""
        if not self.reader.manifest.aux_model:
            return None
        return self._aux_embedder or AuxEmbedder()

    @cached_property
    def _aux_worker(self) -> ThreadPoolExecutor:
        """The thread that embeds and searches with the second model while the main
        model embeds the question: each runs on its own core (both release the GIL in
        their matrix code; with `model_processes` each model has a process of its own
        and this thread waits on its pipe). The two embeddings took 7.2 ms p50 side by
        side against 9.1 one after the other on 2 idle cores, and 9.8 against 10.0 with
        one core taken by another process (a one-off timing); bench/retrieval_latency.py
        reports e5, USE and both side by side on every run."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="second-model")

    def idf(self, token: str) -> float:
        """How rare a search token is in the live index (see `LexicalIndex.idf`)."""
        return self.reader.lexical.idf(token)

    def search(
        self,
        question: str | Question,
        k: int = 5,
        mode: str = "default",
        where: PassageFilter | None = None,
    ) -> list[Passage]:
        """The k best passages for the question, best first, within `where` if given."""
        if k < 1:
            raise QuestionError(f"k must be at least 1, got {k}")
        if mode not in MODES:
            raise QuestionError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        if isinstance(question, str):
            question = Question.parse(question, self.settings.max_question_chars)
        reader = self.reader  # one generation for the whole search
        allowed = (
            reader.chunk_ids_where(where.sources, where.date_from, where.date_to) if where else None
        )
        hits = self._rank(reader, question.text, k, mode, allowed)
        rows = reader.chunks([chunk_id for chunk_id, _ in hits])
        return [
            Passage(
                rank=rank,
                score=round(score, 6),
                text=rows[chunk_id].text,
                source=rows[chunk_id].article_id,
                title=rows[chunk_id].title,
                date=rows[chunk_id].date,
                start=rows[chunk_id].start,
                end=rows[chunk_id].end,
                outlet=rows[chunk_id].outlet,
            )
            for rank, (chunk_id, score) in enumerate(hits, start=1)
        ]

    def _rank(
        self, reader: IndexReader, text: str, k: int, mode: str, allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        """(chunk id, score) best first for one configuration."""
        if mode == "bm25":
            return reader.lexical.search(tokenize_for_search(text), k, allowed)
        second = None
        if mode == "default" and self.aux_embedder:
            second = self._aux_worker.submit(self._aux_hits, reader, text, allowed)
        dense = reader.search(self.embedder.embed_query(text), max(k, CANDIDATES), allowed=allowed)
        if mode == "dense":
            return dense[:k]
        lexical = reader.lexical.search(tokenize_for_search(text), CANDIDATES, allowed)
        return fuse(dense, lexical, second.result() if second else [])[:k]

    def _aux_hits(self, reader: IndexReader, text: str, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """The second model's candidates for the question."""
        return reader.search(self.aux_embedder.embed_query(text), CANDIDATES, aux=True, allowed=allowed)
