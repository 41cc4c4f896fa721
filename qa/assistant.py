"""The assistant: a question (maybe a follow-up) in, a streamed, cited answer out.

One place decides the order of things, for the CLI, the chat and the API alike:
validate the question, resolve a follow-up against the conversation, retrieve, compose
the extractive answer, and, when a language model is configured and asked for, let it
write the answer instead, keeping it only if its citations check out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.config import Settings
from index.models import SecondModel, load_models
from qa.answer import Answer, Citation, ExtractiveAnswerer
from qa.citations import check_citations
from qa.followup import resolve_followup
from qa.grounding import GroundingChecker, as_written
from qa.language import detect_language, phrases_for
from qa.llm import LLMClient, LLMConfig, LLMError, build_messages
from qa.nouns import german_nouns
from qa.retriever import PassageFilter, Question, Retriever

if TYPE_CHECKING:  # imported by `add_files` only: `qa serve` answers sooner without them
    from index.articles import SkippedFile
    from index.builder import IndexReport


#: Passages an answer is composed from (and shown beside it), unless asked otherwise.
PASSAGES = 5

class Assistant:
    """Answers questions over one index, with or without a language model."""

    def __init__(
        self, retriever: Retriever, answerer: ExtractiveAnswerer, llm: LLMClient | None = None,
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.llm = llm

    @property
    def settings(self) -> Settings:
        return self.retriever.settings

    def articles(self) -> list[tuple[str, str, str | None]]:
        """(id, title, date) of every indexed article, newest first (the page's picker).
        Raises IndexMissingError when there is no index yet."""
        return self.retriever.reader.articles()

    def check_index(self) -> None:
        """Open the index now, so a missing or unusable one fails with a clear message."""
        self.retriever.reader  # noqa: B018

    def warm_up(self) -> None:
        """Load the models and what a question needs before the first reader asks
        (seconds of imports and weights; `Retriever.warm_up`), then what the answer step
        needs (`warm_up_answers`)."""
        self.retriever.warm_up()
        self.warm_up_answers()

    def warm_up_answers(self) -> None:
        """What the answer step needs beyond a warm retriever: the passage graph, and the
        German nouns the answer gate reads German questions by (`qa.nouns`)."""
        self.answerer.embedder.embed_passages(["warm up"])
        german_nouns()

    def add_files(self, paths: Sequence[Path]) -> tuple[IndexReport, list[SkippedFile]]:
        """Index uploaded files into the live index, incrementally; searchable at once."""
        from index.articles import SkippedFile, load_file
        from index.builder import IndexReport, update_index
        from index.sources import UPLOADED

        articles, skipped = [], []
        limit_mb = self.retriever.settings.max_upload_mb
        for path in paths:
            size_mb = path.stat().st_size / 1_000_000
            if size_mb > limit_mb:
                skipped.append(SkippedFile(
                    str(path), f"the file is {size_mb:.1f} MB; the limit is {limit_mb} MB (QA_MAX_UPLOAD_MB)"
                ))
                continue
            loaded = load_file(path)
            articles += loaded.articles
            skipped += loaded.skipped
        if not articles:
            return IndexReport(chunk_count=self.retriever.reader.manifest.chunk_count), skipped
        report = update_index(
            articles, self.retriever.settings, UPLOADED, embedder=self.retriever.embedder,
            aux_embedder=self.retriever.aux_embedder, progress=False,
        )
        return report, skipped + report.skipped

    @classmethod
    def from_settings(
        cls, settings: Settings, llm_config: LLMConfig | None = None, model_processes: bool = False,
    ) -> "Assistant":
        """The shipped wiring: one copy of each model, shared by retrieval and answers.

        `model_processes` runs each model in a child process of its own
        (index/model_process.py): what `qa serve` does, so the models load while Gradio
        is imported instead of after it.
        """
        models = load_models(settings, in_processes=model_processes)
        retriever = Retriever(settings, embedder=models.main, aux_embedder=models.aux)
        return cls.over(retriever, models.aux, LLMClient(llm_config) if llm_config else None)

    @classmethod
    def over(
        cls, retriever: Retriever, aux_embedder: SecondModel | None, llm: LLMClient | None = None,
    ) -> "Assistant":
        """Answers over `retriever`, sharing its models (`qa bench --answers` uses it too):
        sentence vectors come from the index, word similarity from the second model.
        Nothing is opened yet: the index may not exist when a server starts."""
        checker = GroundingChecker(aux_embedder.embed_passages if aux_embedder else None, retriever.idf)
        answerer = ExtractiveAnswerer(retriever.embedder, checker, stored=lambda ids: retriever.searched.sentences(ids),
                                      chunk_vectors=lambda ids: retriever.searched.vectors(ids),
                                      question_vector=retriever.question_vector, asked=retriever.asked_words,
                                      spelled=retriever.name_spellings)
        return cls(retriever, answerer, llm)

    def ask(
        self,
        question: str,
        previous: Sequence[str] = (),
        k: int = PASSAGES,
        where: PassageFilter | None = None,
        use_llm: bool = True,
    ) -> Iterator[Answer]:
        """Partial answers as they grow (`done=False`), then the final one.

        `previous` holds the queries searched earlier in this conversation, oldest first;
        the final answer's `searched` is what to append to it for the next turn.
        """
        asked = Question.parse(question, self.retriever.settings.max_question_chars)
        query = resolve_followup(asked.text, previous)
        passages = tuple(self.retriever.search(query.text, k=k, where=where))
        notes = []
        if asked.truncated_from:
            notes.append(
                f"The question had {asked.truncated_from} characters; the first "
                f"{len(asked.text)} were used."
            )
        if query.rewritten and query.rule:
            notes.append(query.rule)

        extracted = replace(self.answerer.answer(asked.text, passages, searched=query.text), notes=tuple(notes))
        if self.llm is None or not use_llm or not passages:
            yield from _stream_lines(extracted)
            return
        base = Answer(asked.text, query.text, "", False, passages, (), detect_language(asked.text),
                      mode="llm", notes=tuple(notes))
        yield from self._ask_llm(base, extracted)

    def answer(self, question: str, previous: Sequence[str] = (), k: int = PASSAGES) -> Answer:
        """The final answer only (CLI, API): what `ask` streams last."""
        *_, final = self.ask(question, previous, k=k)  # `ask` always ends with a final answer or raises
        return final

    def _ask_llm(self, base: Answer, extracted: Answer) -> Iterator[Answer]:
        """Stream the model's answer; fall back to the extractive one if it fails its checks.

        The same evidence gate holds: where the extractive answer abstained, the model is
        told that the passages hold too little (and which names they lack).
        """
        assert self.llm is not None
        phrases = phrases_for(base.language)
        unsupported = as_written(base.searched, extracted.missing) if extracted.abstained else None
        messages = build_messages(base.searched, base.passages, phrases.name, unsupported)
        text = ""
        try:
            for token in self.llm.stream_chat(messages):
                text += token
                yield replace(base, text=text, done=False)
        except LLMError as exc:
            yield _with_note(extracted, f"{phrases.llm_unavailable} ({exc})")
            return
        checked = check_citations(text, len(base.passages))
        if not checked.has_citations:
            yield _with_note(extracted, phrases.llm_uncited)
            return
        by_rank = {p.rank: p for p in base.passages}
        notes = base.notes
        if checked.removed:
            removed = ", ".join(f"[{n}]" for n in checked.removed)
            notes += (f"Removed citation markers that match no source: {removed}.",)
        yield replace(
            base, text=checked.text.strip(), notes=notes,
            citations=tuple(Citation.of(by_rank[n]) for n in sorted(checked.cited)),
        )


def _with_note(answer: Answer, note: str) -> Answer:
    return replace(answer, notes=(*answer.notes, note))


def _stream_lines(answer: Answer) -> Iterator[Answer]:
    """An extractive answer is ready at once; it is still shown line by line."""
    lines = answer.text.split("\n")
    for end in range(1, len(lines)):
        yield replace(answer, text="\n".join(lines[:end]), done=False)
    yield answer
