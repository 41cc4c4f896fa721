"""Retrieval: a question in any language -> ranked passages that cite their article span."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from index.aux_embedder import AuxEmbedder
from index.compat import check_compatible
from index.config import Settings
from index.duplicates import SAME_STORY, similarities
from index.embedder import Embedder
from index.errors import QAError
from index.hubness import PENALTY, Hubness, hubness_for
from index.segment import AUX_VECTORS, VECTORS, StoredChunk
from index.sentences import embedding_text
from index.text.search import tokenize_for_search, written_words
from index.text.words import other_function_words
from index.store.base import ChunkStore
from index.store.location import store_location
from index.models import MainModel, SecondModel
from qa.coverage import Named, coverage, named_in
from qa.fusion import PROXIMITY_WEIGHT, WRITTEN_PROXIMITY_WEIGHT, fuse, lexical_weight_for
from qa.proximity import proximity, written_weights
from qa.translation import (
    asked_words, index_spellings, lexical_query, load_dictionary, searched_as_written, translated_languages,
)

#: Retrieval configurations: embedding only, BM25 only, and what `qa ask` uses.
MODES = ("dense", "bm25", "default")
#: How deep each ranking is read before fusion.
CANDIDATES = 100
#: Each embedding ranking is read this many times deeper, then re-scored (hubness,
#: sentences) and cut to CANDIDATES.
RESCORED = 2
#: How much the best sentence's cosine adds to a chunk's (measured in docs/benchmarks.md).
SENTENCE_WEIGHT = 0.5
#: How many of the fused chunks the proximity of the question's words re-scores...
HEAD_DEPTH = 40
#: ... and how many of them also by its written words, whose chunk side is made from the
#: text per question: deeper chunks were not lifted into the passages by them.
WRITTEN_DEPTH = 20
#: Rankings are read this many times deeper than the passages asked for, so that k
#: different stories remain once copies of one story are folded together.
STORY_DEPTH = 4
#: Question vectors remembered (`Retriever.question_vector`): enough for the answers
#: composed right after their searches, few enough that a benchmark asking the same
#: questions again under another configuration embeds them again.
RECENT_QUESTIONS = 8
#: What `Retriever.warm_up` asks: a name in Latin letters, and in Arabic.
WARM_UP_QUESTIONS = ("Who is Lavrov?", "من هو لافروف؟")


class QuestionError(QAError):
    pass


@dataclass(frozen=True)
class Copy:
    """Another article that carries the same story (a wire story republished)."""

    source: str  # article id
    title: str
    date: str | None
    outlet: str | None


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
    #: Other articles with the same story, found further down and folded into this one.
    also_in: tuple[Copy, ...] = ()
    #: The chunk it is, in the index it was read from (its sentence vectors are there).
    chunk_id: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["chunk_id"]  # internal: valid only in one index
        return data


@dataclass(frozen=True)
class Question:
    """A validated question: the text searched and whether it had to be cut."""

    text: str
    truncated_from: int | None = None

    @classmethod
    def parse(cls, raw: str, max_chars: int) -> "Question":
        text = " ".join(_IN_WORD_PUNCTUATION.sub("", raw or "").split())
        if not text:
            raise QuestionError("the question is empty; type a question, e.g. "
                                "qa ask \"what did Lavrov discuss with Kuwait?\"")
        if len(text) > max_chars:
            return cls(text[:max_chars], truncated_from=len(text))
        return cls(text)


#: Armenian writes its question, exclamation and emphasis marks on the stressed vowel of a
#: word (Ինչպե՞ս, "how?"); dropped, so the word is whole for every step that reads words.
_IN_WORD_PUNCTUATION = re.compile("[\u055b\u055c\u055e]")


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
        embedder: MainModel | None = None,
        aux_embedder: SecondModel | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._aux_embedder = aux_embedder
        self._reader: ChunkStore | None = None
        self._reader_lock = threading.Lock()
        self._searched = threading.local()  # .reader: each thread's latest search's (`searched`)
        self.location = store_location(settings)

    @property
    def reader(self) -> ChunkStore:
        """The reader of the live generation, reopened when a writer has published."""
        live = self.location.live()
        reader = self._reader
        if reader is not None and reader.generation == live:
            return reader
        with self._reader_lock:
            if self._reader is None or self._reader.generation != live:
                self._reader = self._open_reader(self._reader)
            return self._reader

    @property
    def searched(self) -> ChunkStore:
        """The index this thread's latest search read (the live one before any search).
        The answer composed from its passages reads their sentences, vectors and word
        weights there, whatever a writer has published since: chunk ids are valid in one
        generation only (a merge renumbers them), and asking which generation is live
        costs a file read, or a request to a Qdrant store, each time."""
        reader = getattr(self._searched, "reader", None)
        return reader if reader is not None else self.reader

    def _open_reader(self, previous: ChunkStore | None) -> ChunkStore:
        reader = self.location.open(previous)
        check_compatible(self.location.describe(), reader.manifest, self.settings.model,
                         reader.manifest.article_count)
        return reader

    @cached_property
    def embedder(self) -> MainModel:
        return self._embedder or Embedder(self.settings)

    def question_vector(self, text: str) -> np.ndarray:
        """The main model's vector of a question. The last few are remembered: the answer
        composed after a search scores sentences against the same vector."""
        return self._recent_questions(text).copy()

    @cached_property
    def _recent_questions(self) -> Callable[[str], np.ndarray]:
        return lru_cache(maxsize=RECENT_QUESTIONS)(self.embedder.embed_query)

    @cached_property
    def aux_embedder(self) -> SecondModel | None:
        """The second model the index was built with, if any (the index decides)."""
        if not self.reader.manifest.aux_model:
            return None
        return self._aux_embedder or AuxEmbedder()

    @cached_property
    def _aux_worker(self) -> ThreadPoolExecutor:
        """The thread that embeds and searches with the second model while the main
        model embeds the question: each runs on its own core (both release the GIL in
        their matrix code; with `model_processes` each model has a process of its own
        and this thread waits on its pipe). Side by side measured faster than one after
        the other, even with one core taken by another process; bench/retrieval_latency.py
        reports e5, USE and both side by side on every run."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="second-model")

    def idf(self, token: str) -> float:
        """How rare a search token is in the index this thread's latest search read
        (`searched`, `LexicalStore.idf`): the answer step weighs dozens of words per
        answer by it."""
        return self.searched.lexical.idf(token)

    def warm_up(self) -> None:
        """Open the index and load the models before the first question is timed or
        waited for, with a question that names someone in Latin letters: that also builds
        the index's spellings by consonant skeleton (`qa.coverage.Spellings`) and loads
        the language identifier, which the first such question would otherwise wait for;
        and the same question in Arabic, which builds the lexicon of Arabic names
        (`qa.lexicon.lexicon`, another one than a Latin question's).
        Then it reads the dictionary of every language it translates, which a first
        question in that language would wait for (docs/benchmarks.md), and the function
        words of the languages we list none of, which a question's first word is looked
        up in (`index.text.words.other_function_words`). A dictionary that cannot be read
        is left to fail the questions that need it, with its error."""
        for question in WARM_UP_QUESTIONS:
            self.search(question, k=1)
        other_function_words()
        for language in translated_languages(self.settings.dictionary):
            try:
                load_dictionary(self.settings.dictionary, language)
            except QAError:
                pass

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
        reader = self.reader  # one generation for the whole search, and for its answer
        self._searched.reader = reader
        allowed = (
            reader.chunk_ids_where(where.sources, where.date_from, where.date_to) if where else None
        )
        hits = self._rank(reader, question.text, k * STORY_DEPTH, mode, allowed)
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
                also_in=tuple(Copy(rows[c].article_id, rows[c].title, rows[c].date, rows[c].outlet) for c in copies),
                chunk_id=chunk_id,
            )
            for rank, (chunk_id, score, copies) in enumerate(_one_per_story(reader, hits, rows, k), start=1)
        ]

    def _rank(
        self, reader: ChunkStore, text: str, k: int, mode: str, allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        """(chunk id, score) best first for one configuration."""
        if mode == "bm25":
            return reader.lexical.search(self._lexical_query(reader, text, lambda: named_in(text, reader.lexical)),
                                         k, allowed)
        if mode == "dense":
            return self._dense_hits(reader, self.question_vector(text), max(k, CANDIDATES), allowed)[:k]
        fused = fuse(*self.candidates(reader, text, max(k, CANDIDATES), allowed),
                     lexical_weight=lexical_weight_for(text))
        return self._rescored_head(reader, text, fused)[:k]

    def _rescored_head(
        self, reader: ChunkStore, text: str, fused: list[tuple[int, float]],
    ) -> list[tuple[int, float]]:
        """The first HEAD_DEPTH fused chunks re-scored by how close together they hold the
        question's words as search tokens, then the first WRITTEN_DEPTH of those by how
        close together they hold them as written (qa/proximity.py), for a question that
        proximity serves. The depths are fixed, not the number of passages asked for, so
        the first passages are the same whatever k; re-scoring only adds, so the head
        stays above the rest."""
        if not searched_as_written(text):
            return fused
        lexical = reader.lexical
        weights = {t: lexical.idf(t) for t in set(tokenize_for_search(text)) if lexical.df(t)}
        if not weights:
            return fused
        head = fused[:HEAD_DEPTH]
        near = proximity(reader.search_tokens([chunk_id for chunk_id, _ in head]), weights)
        head = _best_first((chunk_id, score + PROXIMITY_WEIGHT * near.get(chunk_id, 0.0)) for chunk_id, score in head)
        written_weighed = written_weights(text, lexical.idf, lexical.df)
        if written_weighed:
            rows = reader.chunks([chunk_id for chunk_id, _ in head[:WRITTEN_DEPTH]])
            written = {chunk_id: written_words(embedding_text(row.title, row.text)) for chunk_id, row in rows.items()}
            near = proximity(written, written_weighed)
            head = _best_first((chunk_id, score + WRITTEN_PROXIMITY_WEIGHT * near.get(chunk_id, 0.0))
                               for chunk_id, score in head)
        return head + fused[HEAD_DEPTH:]

    def candidates(
        self, reader: ChunkStore, text: str, depth: int = CANDIDATES, allowed: np.ndarray | None = None,
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]], list[tuple[int, float]], dict[int, float]]:
        """What `fuse` combines for one question: the main model's `depth` best chunks,
        BM25's and the second model's CANDIDATES best, and the coverage of the names the
        question holds. Public so that bench/ re-ranks and times the very lists a search
        fuses rather than a copy of how they are made."""
        model = self.aux_embedder
        second = self._aux_worker.submit(self._aux_hits, model, reader, text, allowed) if model else None
        dense = self._dense_hits(reader, self.question_vector(text), depth, allowed)
        named = named_in(text, reader.lexical)
        lexical = reader.lexical.search(self._lexical_query(reader, text, lambda: named), CANDIDATES, allowed)
        aux = second.result() if second else []
        found = sorted({chunk_id for hits in (dense, lexical, aux) for chunk_id, _ in hits})
        return dense, lexical, aux, coverage(named, found, reader.lexical)

    def _lexical_query(self, reader: ChunkStore, text: str, named: Callable[[], Sequence[Named]]) -> list[str]:
        """The question's BM25 tokens: a question in another script than Arabic with its
        names' Arabic spellings, an English one's words translated (qa/translation.py)."""
        return lexical_query(text, self.settings.dictionary, reader.lexical.df, named)

    def asked_words(self, text: str) -> list[frozenset[str]]:
        """The question's words for the answer step to find in sentences, an English
        one's with their translations, its names left to the grounding check
        (`qa.translation.asked_words`), in the index the search read."""
        reader = self.searched
        return asked_words(text, self.settings.dictionary, reader.lexical.df, lambda: named_in(text, reader.lexical))

    def name_spellings(self, text: str) -> dict[str, str]:
        """The Arabic search token that spells each name of the question in the live index
        (`qa.translation.index_spellings`), by the question's word: for the answer gate
        (`qa.answer.SPELLED_SCRIPTS`). The last few questions' are remembered by generation:
        the gate asks once for the cited article and again for each corroborating one."""
        reader = self.searched
        return dict(self._recent_spellings(text, reader.generation))

    @cached_property
    def _recent_spellings(self) -> Callable[[str, Hashable], tuple[tuple[str, str], ...]]:
        return lru_cache(maxsize=RECENT_QUESTIONS)(self._spellings_now)

    def _spellings_now(self, text: str, generation: Hashable) -> tuple[tuple[str, str], ...]:
        lexical = self.searched.lexical
        named = named_in(text, lexical)
        return tuple((n.term, spelling) for n, spelling in zip(named, index_spellings(named, lexical.df)) if spelling)

    def _dense_hits(
        self, reader: ChunkStore, query: np.ndarray, depth: int, allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        """The main model's candidates: a chunk's cosine less its hubness, plus the cosine
        of its best sentence (the chunk's own where its segment has no sentences)."""
        hits = reader.search(query, depth * RESCORED, allowed=allowed)
        ids = [chunk_id for chunk_id, _ in hits]
        cosine = np.array([score for _, score in hits], dtype=np.float32)
        best = reader.best_sentences(query, ids)
        best = np.where(np.isnan(best), cosine, best)
        score = cosine - PENALTY * _hubness(reader, ids, self._hubness, aux=False) + SENTENCE_WEIGHT * best
        return _best(ids, score, depth)

    def _aux_hits(
        self, aux: SecondModel, reader: ChunkStore, text: str, allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        """The second model's candidates for the question: cosine less hubness; none for a
        question it cannot read."""
        if not aux.reads(text):
            return []
        hits = reader.search(aux.embed_query(text), CANDIDATES * RESCORED, aux=True,
                             allowed=allowed)
        ids = [chunk_id for chunk_id, _ in hits]
        cosine = np.array([score for _, score in hits], dtype=np.float32)
        return _best(ids, cosine - PENALTY * _hubness(reader, ids, self._aux_hubness, aux=True), CANDIDATES)

    @cached_property
    def _hubness_of(self) -> dict[str, Hubness]:
        return hubness_for(self.settings, self.embedder, self.aux_embedder)

    @property
    def _hubness(self) -> Hubness:
        return self._hubness_of[VECTORS]

    @property
    def _aux_hubness(self) -> Hubness:
        return self._hubness_of[AUX_VECTORS]


def _one_per_story(
    reader: ChunkStore, hits: list[tuple[int, float]], rows: dict[int, StoredChunk], k: int,
) -> list[tuple[int, float, list[int]]]:
    """The first k hits whose article is not a copy of a better hit's article, each with
    one chunk of every copy found below it (index/duplicates.py), best first."""
    articles = list(dict.fromkeys(rows[chunk_id].article_id for chunk_id, _ in hits))
    signatures = reader.signatures(articles)
    story: dict[str, str] = {}  # article -> the article that stands for its story
    kept: list[tuple[int, float, list[int]]] = []
    by_story: dict[str, list[int]] = {}
    for chunk_id, score in hits:
        article = rows[chunk_id].article_id
        if article not in story:
            story[article] = _story_of(article, [a for a in by_story if a in signatures], signatures)
        if story[article] != article:
            copies = by_story[story[article]]
            if all(rows[c].article_id != article for c in copies):
                copies.append(chunk_id)
        elif len(kept) < k:
            copies = by_story.setdefault(article, [])
            kept.append((chunk_id, score, copies))
    return kept


def _hubness(reader: ChunkStore, ids: list[int], hubness: Hubness, aux: bool) -> np.ndarray:
    """The chunks' hubness: stored by the segments that have it, computed for the rest."""
    values = reader.hubness(ids, hubness.key, aux=aux)
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        values[missing] = hubness.of(reader.vectors([ids[n] for n in missing], aux=aux))
    return values


def _story_of(article: str, stories: list[str], signatures: dict[str, bytes]) -> str:
    """The first of `stories` whose article `article` is a copy of, else itself."""
    if article not in signatures or not stories:
        return article
    similar = similarities(signatures[article], [signatures[s] for s in stories])
    return stories[int(np.argmax(similar >= SAME_STORY))] if (similar >= SAME_STORY).any() else article


def _best(ids: list[int], scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (id, score), best first; equal scores keep the given order."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[n], float(scores[n])) for n in order]


def _best_first(hits: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """(chunk id, score) by score, highest first; equal scores keep their order."""
    return sorted(hits, key=lambda hit: -hit[1])
