"""`qa bench`: retrieval quality and latency of every configuration, side by side.

Datasets:
  --corpus DIR --questions FILE   articles + JSON-lines questions ({"question",
                                  "gold_source", "gold_text": [...], "lang"}). `gold_source`
                                  is an article id, or a list of ids when the same story is
                                  in several articles (a wire story republished by several
                                  outlets): any of them is a right answer, and so is a
                                  passage that lists one among its copies (`also_in`).
                                  --questions may be repeated (one index for all files) and
                                  may ask about the haystack itself (without --corpus).
  --xquad DIR                     XQuAD: the 240 Arabic paragraphs as 240 documents (no
                                  titles), every question asked in each of
                                  --xquad-languages (default en,ar; the folder's
                                  xquad.<lang>.json files share question ids with
                                  xquad.ar.json): datasets xquad-<lang>-ar, one index.
                                  XQuAD is the test: nothing is fitted on it.
  --arcd DIR                      ARCD, for development and fitting: the paragraphs of
                                  arcd-train.json and arcd-test.json as 465 documents (no
                                  titles), its 1,395 Arabic questions (arcd-ar-ar) and,
                                  with --arcd-translated FILE (JSON lines {"id": ARCD
                                  question id, "question", "lang"}), those questions in
                                  other languages (arcd-<lang>-ar), one index. Our own
                                  English translations of 200 of them:
                                  tests/data/arcd_translated.jsonl (and other
                                  languages: tests/data/arcd_translated_*.jsonl).
  --held-out                      the answers issue's held-out protocol for --xquad and
                                  --arcd: only the even-numbered Wikipedia articles are
                                  indexed, and the questions about the others have no right
                                  answer (datasets <name>-held-out). With --answers: how many
                                  answerable questions are answered, and how many of the
                                  others are answered anyway.
  --haystack FILE                 archive scale: a seeded sample of --haystack-size articles
                                  of FILE (.jsonl or .jsonl.gz, as `qa index` reads .jsonl)
                                  is indexed together with each dataset's own documents.
                                  The datasets become <name>-haystack and only they are
                                  reported (omit --haystack for the plain ones). Articles of
                                  FILE that questions name as right answers are indexed
                                  too, sampled or not; every other haystack article is a
                                  distraction.

The sample: every article the `qa index` reader accepts from FILE, in file order, then
`random.seed(S); random.sample(articles, N)` (a `random.Random(S)` instance gives the
identical sample without touching the global generator; tests/test_bench.py checks it).

Each dataset is indexed into a temporary directory with the configured model, so the
numbers never depend on a user's own index. With --index-cache DIR the index is kept in
DIR/<key> and reused by later runs whose key matches: the key hashes everything that
changes the index (article ids and content hashes, model, backend, second model, chunking,
the source of the `index` package), so several runs over a 5,000-article haystack embed
it once (17 minutes on a 2-core machine) while ranking code in `qa/` changes between them.

Metrics are per document (qa/metrics.py: passages collapse to their article). When a
dataset's questions carry more than one "lang", each config also reports `by_language`.

A question line without `gold_source` is unanswerable: nothing indexed answers it (hard
negatives: the same people with another counterpart, place or event). Ranking metrics
skip it; with --answers every question is also answered as the chat answers it and
scored: answerable ones answered citing a right article, citing only wrong ones, or
abstained on; unanswerable ones answered anyway (false answers).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

import numpy as np
from tqdm import tqdm

from index.articles import Article, load_file, load_folder
from index.aux_embedder import AuxEmbedder
from index.builder import update_index
from index.cache_folder import sources_digest
from index.chunking import SEPARATORS
from index.config import Settings
from index.cpu import this_cpu
from index.embedder import Embedder
from index.text.folding import normalize_for_search
from index.onnx.quantize import int8_recipe
from index.models import MainModel, SecondModel
from qa.answer import Answer
from qa.assistant import PASSAGES, Assistant
from qa.metrics import METRIC_KEYS, RankedHit, aggregate, question_metrics
from qa.nouns import german_nouns
from qa.retriever import MODES, Passage, Retriever
from qa.translation import dictionary_file, translated_languages

LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")

CUTOFF = 10
ANSWER_OUTCOMES = ("right", "wrong", "abstained", "refused", "false_answer")
AnswerKey = Literal["answered_right", "answered_wrong", "abstained", "false_answers"]
#: The answer metrics, in table order: shares of answerable (the first three) and of
#: unanswerable questions (the last).
ANSWER_KEYS: tuple[AnswerKey, ...] = ("answered_right", "answered_wrong", "abstained", "false_answers")

#: Bump when the bench changes what it puts into an index, to orphan old cache entries.
INDEX_CACHE_SALT = "qa-bench-index/1"
#: ARCD's files (`--arcd`): both are read, one index.
ARCD_FILES = ("arcd-train.json", "arcd-test.json")


@dataclass(frozen=True)
class BenchQuestion:
    question: str
    #: The right article's id, or a tuple of ids that are each a right answer; None when
    #: no indexed article answers it (it should be refused).
    gold_source: str | tuple[str, ...] | None
    gold_text: tuple[str, ...] = ()
    lang: str | None = None

    @property
    def gold_sources(self) -> tuple[str, ...]:
        if self.gold_source is None:
            return ()
        return (self.gold_source,) if isinstance(self.gold_source, str) else self.gold_source

    @property
    def answerable(self) -> bool:
        return self.gold_source is not None

    def is_right_article(self, passage: Passage) -> bool:
        """From a right article, or from a copy of one folded into it (`also_in`)."""
        return passage.source in self.gold_sources or any(
            copy.source in self.gold_sources for copy in passage.also_in
        )

    def is_relevant(self, passage: Passage) -> bool:
        """A right article and, when gold text is given, the passage contains one of them."""
        if not self.is_right_article(passage):
            return False
        if not self.gold_text:
            return True
        text = normalize_for_search(passage.text)
        return any(normalize_for_search(g) in text for g in self.gold_text)


@dataclass
class ConfigResult:
    """One config's scores on one dataset: `qa.metrics.aggregate`'s (METRIC_KEYS,
    LATENCY_KEYS, n_questions) over all its questions and, when they are in several
    languages, over each language's. The JSON report writes them as one object, with
    `by_language` beside the scores (`as_json`)."""

    scores: dict[str, float]
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {**self.scores, "by_language": self.by_language} if self.by_language else dict(self.scores)


class AnswerRates(TypedDict):
    """`answer_rates`: shares of the answerable questions answered right, wrong or
    abstained on, and of the unanswerable ones answered; None where there were none."""

    answerable: int
    answered_right: float | None
    answered_wrong: float | None
    abstained: float | None
    unanswerable: int
    false_answers: float | None
    answer_ms_p50: float | None
    answer_ms_p95: float | None
    by_language: NotRequired[dict[str, AnswerRates]]


#: The columns of `format_answers`, in order.
RateKey = Literal[AnswerKey, "answerable", "unanswerable", "answer_ms_p50", "answer_ms_p95"]


class DatasetResults(TypedDict, total=False):
    """What `run` reports of one dataset: its index (built, reused from the cache, or
    another dataset's), its size, each config's scores and, with `answers`, the rates."""

    index_build_s: float | None
    chunks: int
    index_cached: bool
    index_cache: str
    index_shared_with: str
    documents: int
    questions: int
    configs: dict[str, ConfigResult]
    answers: AnswerRates


class Haystack(TypedDict):
    file: str
    articles_in_file: int
    size: int
    seed: int


class BenchResults(TypedDict):
    """`run`'s report (`main` adds `haystack`); `to_json` writes it."""

    date: str
    model: str
    backend: str
    int8_recipe: str | None
    #: "4-bit" when questions ran through the model's own 4-bit weights (index.onnx.blockwise).
    question_weights: NotRequired[str | None]
    sentence_vectors: str
    aux_model: str
    #: The dictionary that gave English questions BM25 words (qa/translation.py), if any.
    dictionary: NotRequired[str | None]
    #: The question languages whose words BM25 read in Arabic translation.
    translated_languages: NotRequired[list[str]]
    #: How many common nouns the answer gate told German names from (qa/nouns.py); 0
    #: without their dictionary.
    german_nouns: NotRequired[int]
    machine: str
    cpu: dict[str, object]
    datasets: dict[str, DatasetResults]
    haystack: NotRequired[Haystack]


def to_json(results: BenchResults) -> str:
    return json.dumps(results, ensure_ascii=False, indent=1, default=_json_value)


def _json_value(value: object) -> object:
    if isinstance(value, ConfigResult):
        return value.as_json()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass
class Dataset:
    name: str
    articles: list[Article]
    questions: list[BenchQuestion]
    shares_index_with: str | None = None
    results: DatasetResults = field(default_factory=lambda: DatasetResults())


def _gold_source(value: object) -> str | tuple[str, ...]:
    """A question file's `gold_source`: one id, or a non-empty list of ids."""
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value[0] if len(value) == 1 else tuple(value)
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"gold_source must be an article id or a list of ids, not {value!r}")


def read_questions(path: Path) -> list[BenchQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            gold = record.get("gold_source")
            questions.append(BenchQuestion(
                record["question"], None if gold is None else _gold_source(gold),
                tuple(record.get("gold_text") or ()), record.get("lang"),
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SystemExit(f"error: {path} line {number} is not a benchmark question: {exc}") from None
    if not questions:
        raise SystemExit(f"error: {path} holds no questions")
    return questions


def squad_paragraphs(
    data: list[dict], prefix: str, held_out: bool = False,
) -> tuple[list[Article], list[tuple[str, str | None, str]]]:
    """The paragraphs of SQuAD-format articles as documents `<prefix>-NNN` with no titles,
    and each question as (question id, its paragraph's document id, question).

    With `held_out`, only the paragraphs of the even-numbered articles are documents and
    a question about an odd-numbered one has no document (None): nothing indexed answers
    it, though indexed articles may be about the same kind of thing. Paragraphs keep
    their numbers either way."""
    numbered = [(number, p) for number, doc in enumerate(data) for p in doc["paragraphs"]]
    articles: list[Article] = []
    asked: list[tuple[str, str | None, str]] = []
    for n, (number, paragraph) in enumerate(numbered):
        doc_id = f"{prefix}-{n:03d}"
        if held_out and number % 2:
            asked += [(qa["id"], None, qa["question"]) for qa in paragraph["qas"]]
            continue
        articles.append(Article(id=doc_id, title="", text=paragraph["context"]))
        asked += [(qa["id"], doc_id, qa["question"]) for qa in paragraph["qas"]]
    return articles, asked


#: What `held_out` datasets add to their names, so their results are never read as the
#: whole set's.
HELD_OUT_SUFFIX = "-held-out"


def xquad_datasets(
    folder: Path, languages: Sequence[str] = ("en", "ar"), held_out: bool = False,
) -> list[Dataset]:
    """The Arabic paragraphs as documents; each language's questions matched to them by
    XQuAD's shared question ids. The first dataset owns the index, the others share it.
    With `held_out`, half the articles are left out (`squad_paragraphs`)."""

    def read(lang: str) -> list[dict]:
        path = folder / f"xquad.{lang}.json"
        if not path.is_file():
            raise SystemExit(f"error: no {path.name} in {folder} (for --xquad-languages {lang})")
        return json.loads(path.read_text(encoding="utf-8"))["data"]

    arabic = read("ar")
    articles, asked_in_arabic = squad_paragraphs(arabic, "xquad", held_out)
    gold = [(qid, doc_id) for qid, doc_id, _ in asked_in_arabic]
    datasets: list[Dataset] = []
    for lang in languages:
        data = arabic if lang == "ar" else read(lang)
        asked = {qa["id"]: qa["question"]
                 for doc in data for paragraph in doc["paragraphs"] for qa in paragraph["qas"]}
        if missing := [qid for qid, _ in gold if qid not in asked]:
            raise SystemExit(f"error: xquad.{lang}.json lacks {len(missing)} question ids "
                             f"of xquad.ar.json, e.g. {missing[0]}")
        questions = [BenchQuestion(asked[qid], doc_id, lang=lang) for qid, doc_id in gold]
        owner = datasets[0].name if datasets else None
        name = f"xquad-{lang}-ar{HELD_OUT_SUFFIX if held_out else ''}"
        datasets.append(Dataset(name, articles, questions, shares_index_with=owner))
    return datasets


def arcd_datasets(folder: Path, translated: Sequence[Path] = (), held_out: bool = False) -> list[Dataset]:
    """ARCD, the Arabic set we may fit on (XQuAD is the test): the paragraphs of both
    files as documents `arcd-NNN` with no titles, as XQuAD's, and its Arabic questions as
    dataset arcd-ar-ar. Each language of the `translated` files (JSON lines {"id": an ARCD
    question id, "question", "lang"}) is a dataset arcd-<lang>-ar on the same index.
    With `held_out`, half the articles are left out (`squad_paragraphs`)."""
    data: list[dict] = []
    for name in ARCD_FILES:
        path = folder / name
        if not path.is_file():
            raise SystemExit(f"error: no {name} in {folder} (--arcd wants ARCD's two files)")
        data += json.loads(path.read_text(encoding="utf-8"))["data"]
    articles, asked = squad_paragraphs(data, "arcd", held_out)
    paragraph_of = {qid: doc_id for qid, doc_id, _ in asked}
    suffix = HELD_OUT_SUFFIX if held_out else ""
    owner = f"arcd-ar-ar{suffix}"
    datasets = [Dataset(owner, articles, [BenchQuestion(q, doc_id, lang="ar") for _, doc_id, q in asked])]
    by_language: dict[str, list[BenchQuestion]] = {}
    for path in translated:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if record["id"] not in paragraph_of:
                    raise KeyError(f"no ARCD question has id {record['id']!r}")
                doc_id = paragraph_of[record["id"]]
                by_language.setdefault(record["lang"], []).append(
                    BenchQuestion(record["question"], doc_id, lang=record["lang"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise SystemExit(f"error: {path} line {number} is not a translated ARCD question: {exc}") from None
    datasets += [Dataset(f"arcd-{lang}-ar{suffix}", articles, questions, shares_index_with=owner)
                 for lang, questions in by_language.items()]
    return datasets


def load_haystack(path: Path) -> list[Article]:
    """Every article `qa index` would read from the .jsonl (or .jsonl.gz) file, in order.

    A .gz file is decompressed into a temporary file of the same name minus ".gz" and read
    with the project's own loader, so cleaning and default ids (`<stem>-<line>`) are
    exactly what `qa index` gives the uncompressed file.
    """
    if not path.is_file():
        raise SystemExit(f"error: haystack file {path} does not exist")
    print(f"Reading haystack {path}", file=sys.stderr)
    if path.suffix != ".gz":
        loaded = load_file(path)
    else:
        with tempfile.TemporaryDirectory(prefix="qa-bench-haystack-") as tmp:
            plain = Path(tmp) / path.name.removesuffix(".gz")
            with gzip.open(path, "rb") as source, plain.open("wb") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
            loaded = load_file(plain)
    if loaded.skipped:
        print(f"haystack: {len(loaded.skipped)} lines skipped by the reader "
              f"(e.g. {loaded.skipped[0].reason})", file=sys.stderr)
    if not loaded.articles:
        raise SystemExit(f"error: no articles in haystack file {path}")
    return loaded.articles


def sample_haystack(articles: Sequence[Article], size: int, seed: int) -> list[Article]:
    """`random.seed(seed); random.sample(articles, size)`, without the global generator."""
    if not 0 < size <= len(articles):
        raise SystemExit(f"error: --haystack-size must be 1..{len(articles)}, got {size}")
    return random.Random(seed).sample(list(articles), size)


def with_haystack(
    datasets: Sequence[Dataset], sample: Sequence[Article], archive: Sequence[Article] = (),
) -> list[Dataset]:
    """Each dataset as `<name>-haystack`, its documents indexed together with `sample`,
    plus the articles of `archive` (the whole haystack file) that its questions name as
    right answers: questions about the archive itself stay answerable whatever the sample."""
    ids = {a.id for d in datasets for a in d.articles}
    if clash := sorted(ids & {a.id for a in sample}):
        raise SystemExit(f"error: haystack ids clash with dataset ids, e.g. {clash[0]}")
    named = {g for d in datasets for q in d.questions for g in q.gold_sources} - {a.id for a in sample} - ids
    gold = [a for a in archive if a.id in named]  # the same for every dataset: they may share an index
    return [
        replace(d, name=f"{d.name}-haystack", articles=[*d.articles, *sample, *gold], results={},
                shares_index_with=d.shares_index_with and f"{d.shares_index_with}-haystack")
        for d in datasets
    ]


def index_identity(articles: Sequence[Article], settings: Settings) -> dict[str, object]:
    """Everything that changes a built index, for the --index-cache key (readable, too).

    Besides the articles and settings, the key holds a hash of the `index` package's
    source, the code that writes indexes: a change there (even a comment) orphans the
    cache. Too cautious at times, but an index written by older code can still be read
    by newer code that would write more (sentence vectors at index time, commit 9f7bf18),
    and a reused one would then be measured silently as something else. Ranking code in
    `qa/` is left out on purpose: re-ranking a cached index is what the cache is for.
    """
    digest = hashlib.sha256()
    for article in articles:
        digest.update(f"{article.id}\0{article.content_hash}\n".encode("utf-8"))
    return {
        "salt": INDEX_CACHE_SALT,
        "index_code": index_code_hash(),
        "articles": len(articles),
        "articles_sha256": digest.hexdigest(),
        "model": settings.model,
        "backend": settings.backend,
        "int8_recipe": int8_recipe() if settings.backend == "onnx-int8" else None,
        "aux_model": settings.aux_model if settings.uses_aux_model else "none",
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_tokens": settings.chunk_overlap_tokens,
        "separators": list(SEPARATORS),
        "vector_index": settings.vector_index,
        "sentence_vectors": settings.sentence_vectors,
    }


def index_code_hash() -> str:
    """SHA-256 of the `index` package's Python files, subpackages included (paths and
    bytes), sorted by path."""
    import index

    return sources_digest(Path(index.__file__).parent)


def index_cache_key(identity: dict[str, object]) -> str:
    text = json.dumps(identity, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def build_or_reuse_index(
    dataset: Dataset, settings: Settings, embedder: MainModel, aux_embedder: SecondModel,
    identity: dict[str, object] | None,
) -> DatasetResults:
    """Index the dataset's articles in `settings.index_dir`; with the cache `identity`
    given, reuse the index already there.

    The cached index is handed to the normal incremental `update_index`: when every
    article is already there with the same content hash nothing is embedded; anything
    else (an interrupted build, a chunking change) is rebuilt as `qa index` would. A
    sidecar `<key>.json` keeps the identity and the original build time.
    """
    started = time.perf_counter()
    report = update_index(dataset.articles, settings, embedder=embedder, progress=True,
                          aux_embedder=aux_embedder)
    info: DatasetResults = {"index_build_s": round(time.perf_counter() - started, 2),
                            "chunks": report.chunk_count, "index_cached": False}
    if identity is None:  # not cached
        return info
    sidecar = settings.index_dir.with_suffix(".json")
    info["index_cache"], info["index_cached"] = str(settings.index_dir), not report.changed
    if report.changed:
        sidecar.write_text(json.dumps({**identity, **info, "built": _now()}, indent=1,
                                      ensure_ascii=False), encoding="utf-8")
        print(f"index cache: built {settings.index_dir}", file=sys.stderr)
    else:
        built = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        info["index_build_s"] = built.get("index_build_s")  # of the run that built it
        print(f"index cache: reused {settings.index_dir}", file=sys.stderr)
    return info


def evaluate(
    questions: Sequence[BenchQuestion],
    search: Callable[[str, int], list[Passage]],
    label: str,
) -> ConfigResult:
    """Aggregated metrics, plus `by_language` when the questions have several languages.
    Only answerable questions count: a question nothing answers has no right rank."""
    questions = [q for q in questions if q.answerable]
    per_question, latencies = [], []
    for q in tqdm(questions, desc=label, unit="q", file=sys.stderr):
        start = time.perf_counter()
        passages = search(q.question, CUTOFF)
        latencies.append((time.perf_counter() - start) * 1000)
        hits = [RankedHit(p.source, p.score, q.is_relevant(p)) for p in passages]
        per_question.append(question_metrics(hits))
    result = ConfigResult(aggregate(per_question, latencies))
    languages = sorted({q.lang for q in questions if q.lang})
    if len(languages) > 1:
        for lang in languages:
            picked = [i for i, q in enumerate(questions) if q.lang == lang]
            result.by_language[lang] = aggregate(
                [per_question[i] for i in picked], [latencies[i] for i in picked])
    return result


def answer_outcome(question: BenchQuestion, answer: Answer) -> str:
    """One of ANSWER_OUTCOMES: an answerable question is answered `right` (a cited
    passage is from a right article), `wrong`, or `abstained` on; an unanswerable one
    is `refused` or gets a `false_answer`."""
    if not question.answerable:
        return "refused" if answer.abstained else "false_answer"
    if answer.abstained:
        return "abstained"
    cited = {c.n for c in answer.citations}
    right = any(question.is_right_article(p) for p in answer.passages if p.rank in cited)
    return "right" if right else "wrong"


def answer_rates(outcomes: Sequence[str], latencies: Sequence[float]) -> AnswerRates:
    """Shares of the answerable questions answered right, wrong or abstained on, and of
    the unanswerable ones answered (false answers); None where there were none."""
    counts = {o: outcomes.count(o) for o in ANSWER_OUTCOMES}
    answerable = counts["right"] + counts["wrong"] + counts["abstained"]
    unanswerable = counts["false_answer"] + counts["refused"]

    def share(n: int, of: int) -> float | None:
        return round(n / of, 4) if of else None

    return {
        "answerable": answerable,
        "answered_right": share(counts["right"], answerable),
        "answered_wrong": share(counts["wrong"], answerable),
        "abstained": share(counts["abstained"], answerable),
        "unanswerable": unanswerable,
        "false_answers": share(counts["false_answer"], unanswerable),
        "answer_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        "answer_ms_p95": round(float(np.percentile(latencies, 95)), 2) if latencies else None,
    }


def evaluate_answers(questions: Sequence[BenchQuestion], assistant: Assistant, label: str) -> AnswerRates:
    """Each question answered as `Assistant.ask` answers a first question without a
    language model (retrieve PASSAGES, compose); the answer step alone is timed, its
    dictionaries read first (the retriever is warm already: `run`)."""
    outcomes, latencies = [], []
    assistant.warm_up_answers()
    for q in tqdm(questions, desc=f"{label}/answers", unit="q", file=sys.stderr):
        passages = assistant.retriever.search(q.question, k=PASSAGES)
        start = time.perf_counter()
        answer = assistant.answerer.answer(q.question, passages)
        latencies.append((time.perf_counter() - start) * 1000)
        outcomes.append(answer_outcome(q, answer))
    result = answer_rates(outcomes, latencies)
    languages = sorted({q.lang for q in questions if q.lang})
    if len(languages) > 1:
        result["by_language"] = {
            lang: answer_rates([o for o, q in zip(outcomes, questions) if q.lang == lang],
                               [t for t, q in zip(latencies, questions) if q.lang == lang])
            for lang in languages
        }
    return result


def run(
    datasets: list[Dataset],
    settings: Settings,
    configs: Sequence[str],
    index_cache: Path | None = None,
    embedder: MainModel | None = None,
    aux_embedder: SecondModel | None = None,
    answers: bool = False,
) -> BenchResults:
    """Index each dataset (or reuse its cached index) and measure every config on it;
    with `answers`, score the answers too (`evaluate_answers`). With `settings.store`
    (a Qdrant URL), each index is also published to a collection of its own (the URL's
    collection name, a dash, the dataset's) and every config is measured on both stores
    in the same run, the Qdrant one as `qdrant:CONFIG`."""
    store, settings = settings.store, replace(settings, store=None)
    embedder = embedder or Embedder(settings)  # each model loads once
    aux_embedder = aux_embedder or AuxEmbedder()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        retrievers: dict[str, Retriever] = {}
        for dataset in datasets:
            owner = dataset.shares_index_with or dataset.name
            if owner not in retrievers:
                if index_cache:
                    identity = index_identity(dataset.articles, settings)
                    index_dir = index_cache / index_cache_key(identity)
                else:
                    identity, index_dir = None, Path(tmp) / owner
                index_settings = replace(settings, index_dir=index_dir)
                dataset.results.update(build_or_reuse_index(
                    dataset, index_settings, embedder, aux_embedder, identity))
                retrievers[owner] = Retriever(index_settings, embedder, aux_embedder)
                retrievers[owner].warm_up()
                if store:
                    retrievers[f"qdrant:{owner}"] = _published(index_settings, store, owner, embedder, aux_embedder)
            else:
                dataset.results["index_shared_with"] = owner
            retriever = retrievers[owner]
            dataset.results["documents"] = len(dataset.articles)
            dataset.results["questions"] = len(dataset.questions)
            on_store = [(f"qdrant:{c}", c, retrievers[f"qdrant:{owner}"]) for c in configs] if store else []
            dataset.results["configs"] = {
                label: evaluate(dataset.questions, partial(searcher.search, mode=config),
                                f"{dataset.name}/{label}")
                for label, config, searcher in [(c, c, retriever) for c in configs] + on_store
            } if any(q.answerable for q in dataset.questions) else {}
            if answers:
                dataset.results["answers"] = evaluate_answers(
                    dataset.questions, Assistant.over(retriever, aux_embedder), dataset.name)
    return {
        "date": _now(),
        "model": settings.model,
        "backend": embedder.backend,  # what ran: "torch" after a fallback
        "int8_recipe": embedder.quantization,
        "question_weights": embedder.question_weights,
        "sentence_vectors": embedder.span_vectors,
        "aux_model": settings.aux_model if settings.uses_aux_model else "none",
        "dictionary": path.with_suffix("").name if (path := dictionary_file(settings.dictionary, "en")) else None,
        "translated_languages": translated_languages(settings.dictionary),
        "german_nouns": len(german_nouns().common),
        "machine": f"{platform.machine()}, {platform.python_version()}, {_cpu_count()} cores",
        "cpu": this_cpu().as_dict(),
        "datasets": {d.name: d.results for d in datasets},
    }


def _published(
    settings: Settings, store: str, owner: str, embedder: MainModel, aux_embedder: SecondModel,
) -> Retriever:
    """A retriever over the index in `settings.index_dir` published to its own collection."""
    from index.store.qdrant.publish import publish
    from index.store.qdrant.schema import QdrantAddress

    address = QdrantAddress.parse(store)
    url = address.url.replace(f"/{address.collection}", f"/{address.collection}-{owner}", 1)
    started = time.perf_counter()
    publish(settings.index_dir, url)
    print(f"published {settings.index_dir} to {url} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    retriever = Retriever(replace(settings, store=url), embedder, aux_embedder)
    retriever.warm_up()
    return retriever


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def format_header(results: BenchResults) -> str:
    """What was measured where: model, CPU, haystack, and each index (cached or built)."""
    cpu = results["cpu"]
    recipe = f" recipe {results['int8_recipe']}" if results.get("int8_recipe") else ""
    if results.get("question_weights"):
        recipe += f", questions {results['question_weights']}"
    lines = [
        f"{results['date']}  model {results['model']} ({results['backend']}{recipe}, sentence vectors "
        f"{results.get('sentence_vectors', 'alone')}, second model {results['aux_model']}, "
        f"dictionary {results.get('dictionary') or 'none'}, "
        f"translating {', '.join(results.get('translated_languages', [])) or 'nothing'}, "
        f"German nouns {results.get('german_nouns', 0)})",
        f"machine {results['machine']}; CPU {cpu['model']} ({cpu['simd']})",
    ]
    if haystack := results.get("haystack"):
        lines.append(f"haystack {haystack['file']}: {haystack['size']} of "
                     f"{haystack['articles_in_file']} articles, seed {haystack['seed']}")
    for name, dataset in results["datasets"].items():
        if "chunks" not in dataset:  # shares another dataset's index
            continue
        line = (f"index {name}: {dataset['documents']} documents, {dataset['chunks']} chunks, "
                f"built in {dataset['index_build_s']} s")
        if cache := dataset.get("index_cache"):
            line += f", {'reused from' if dataset['index_cached'] else 'saved to'} cache {cache}"
        lines.append(line)
    return "\n".join(lines)


def format_table(results: BenchResults) -> str:
    """One row per dataset and config, then `dataset[lang]` rows for each language."""
    columns = ["dataset", "config", "n", *METRIC_KEYS, *LATENCY_KEYS]
    rows = [columns]

    def cells(label: str, config: str, metrics: dict[str, float]) -> list[str]:
        return [label, config, str(metrics["n_questions"]), *(f"{metrics[k]}" for k in columns[3:])]

    for name, dataset in results["datasets"].items():
        configs = dataset["configs"]
        rows.extend(cells(name, config, result.scores) for config, result in configs.items())
        for lang in _languages(dataset):
            rows.extend(cells(f"{name}[{lang}]", config, result.by_language[lang])
                        for config, result in configs.items())
    return _aligned(rows)


def format_answers(results: BenchResults) -> str:
    """One row per dataset (then per language) of `evaluate_answers`' rates."""
    columns: list[RateKey] = ["answerable", *ANSWER_KEYS[:3], "unanswerable", ANSWER_KEYS[3],
                              "answer_ms_p50", "answer_ms_p95"]
    rows: list[list[str]] = [["dataset", *columns]]
    for name, dataset in results["datasets"].items():
        if not (answers := dataset.get("answers")):
            continue
        parts = [(name, answers), *((f"{name}[{lang}]", rates)
                                    for lang, rates in answers.get("by_language", {}).items())]
        rows.extend([label, *(f"{rates[k]}" if rates[k] is not None else "-" for k in columns)]
                    for label, rates in parts)
    return _aligned(rows)


def _aligned(rows: list[list[str]]) -> str:
    """Rows as text columns, the first row a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _languages(dataset: DatasetResults) -> list[str]:
    """The languages a dataset's results are broken down by (none for one language)."""
    first = next(iter(dataset["configs"].values()), None)
    return list(first.by_language) if first else []


def plot(results: BenchResults, path: Path) -> None:
    """A readable PNG: with several datasets, a full-width row of MRR@10 per dataset (for
    XQuAD, the question languages side by side); then per dataset every metric of every
    config, and per language (when a dataset has several) MRR@10. Three panels a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = results["datasets"]
    panels: list[tuple[str, list[str], dict[str, list[float]]]] = []  # (title, x labels, {config: values})
    for name, dataset in datasets.items():
        configs = dataset["configs"]
        if configs:
            scored = int(next(iter(configs.values())).scores["n_questions"])  # the answerable ones
            panels.append((f"{name} ({scored} questions)", list(METRIC_KEYS),
                           {c: [m.scores[k] for k in METRIC_KEYS] for c, m in configs.items()}))
        if answers := dataset.get("answers"):
            panels.append((f"{name}: answers ({answers['answerable']} answerable, "
                           f"{answers['unanswerable']} not)", list(ANSWER_KEYS),
                           {"default": [answers[k] or 0.0 for k in ANSWER_KEYS]}))
        if languages := _languages(dataset):
            counts = next(iter(configs.values())).by_language
            panels.append((f"{name}: mrr@10 by language",
                           [f"{lang} ({counts[lang]['n_questions']})" for lang in languages],
                           {c: [m.by_language[lang]["mrr@10"] for lang in languages]
                            for c, m in configs.items()}))
    ncols = min(3, len(panels))
    summary = len(datasets) > 1
    nrows = summary + -(-len(panels) // ncols)
    fig = plt.figure(figsize=(6.5 * ncols, 4.2 * nrows))
    grid = fig.add_gridspec(nrows, ncols)
    if summary:
        ranked = {n: d for n, d in datasets.items() if d["configs"]}
        first: DatasetResults = next(iter(ranked.values()), {"configs": {}})
        _bars(fig.add_subplot(grid[0, :]), "mrr@10 per dataset", list(ranked),
              {c: [d["configs"][c].scores["mrr@10"] for d in ranked.values()] for c in first["configs"]})
    for i, panel in enumerate(panels):
        _bars(fig.add_subplot(grid[summary + i // ncols, i % ncols]), *panel)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _bars(ax, title: str, labels: list[str], series: dict[str, list[float]]) -> None:
    """Grouped bars, one group per label and one bar per config, each with its value."""
    width = 0.8 / len(series)
    for i, (config, values) in enumerate(series.items()):
        bars = ax.bar([x + i * width for x in range(len(labels))], values, width, label=config)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90, padding=2)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels)
    ax.set_ylim(0, 1.3)  # room above the bars for their labels and the legend
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", fontsize=8, ncols=len(series))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder of articles")
    parser.add_argument("--questions", type=Path, action="append",
                        help="JSON-lines questions about --corpus and/or --haystack; repeat it for "
                             "several files, which share one index (their right answers taken from "
                             "the haystack file are always indexed)")
    parser.add_argument("--xquad", type=Path, help="folder with xquad.ar.json and xquad.<lang>.json")
    parser.add_argument("--xquad-languages", default="en,ar",
                        help="question languages for --xquad, e.g. en,ar,de,ru,zh,tr,hi "
                             "(default: en,ar): one dataset xquad-<lang>-ar each, one index")
    parser.add_argument("--arcd", type=Path, help="folder with arcd-train.json and arcd-test.json")
    parser.add_argument("--arcd-translated", type=Path, action="append", default=[],
                        help="JSON lines of ARCD questions in other languages ({\"id\", \"question\", "
                             "\"lang\"}); repeatable; one dataset arcd-<lang>-ar each")
    parser.add_argument("--held-out", action="store_true",
                        help="index only the even-numbered articles of --xquad and --arcd; questions "
                             "about the others have no right answer (datasets <name>-held-out): with "
                             "--answers, how often the answer step refuses what nothing indexed answers")
    parser.add_argument("--haystack", type=Path,
                        help=".jsonl or .jsonl.gz of articles; a sample of it is indexed with "
                             "every dataset, which is then named <name>-haystack (only those are "
                             "reported; omit --haystack for the plain datasets)")
    parser.add_argument("--haystack-size", type=int, default=5000,
                        help="articles sampled from --haystack (default 5000)")
    parser.add_argument("--seed", type=int, default=1,
                        help="random.seed of the haystack sample (default 1)")
    parser.add_argument("--index-cache", type=Path,
                        help="keep each built index in DIR/<key> and reuse it while the articles, "
                             "model, backend, second model, chunking and index/ code are the same")
    parser.add_argument("--configs", default=",".join(MODES),
                        help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--answers", action="store_true",
                        help="also answer every question as the chat does (extractive) and report "
                             "how many were answered from a right article, from a wrong one, or "
                             "abstained on, and how many unanswerable ones (no gold_source) were "
                             "answered anyway")
    parser.add_argument("--store", default=None, metavar="URL",
                        help="also publish each index to Qdrant (qdrant://HOST:PORT/PREFIX, one collection "
                             "PREFIX-DATASET each) and measure every config there too, as qdrant:CONFIG "
                             "(default: $QA_STORE)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write a bar chart (PNG) here")
    return parser


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.corpus and not args.questions:
        raise SystemExit("error: --corpus needs --questions FILE")
    if args.questions and not (args.corpus or args.haystack):
        raise SystemExit("error: --questions needs the articles they ask about: --corpus DIR and/or --haystack FILE")
    if not (args.questions or args.xquad or args.arcd):
        raise SystemExit("error: give --questions FILE (with --corpus DIR and/or --haystack FILE), "
                         "--xquad DIR and/or --arcd DIR")
    if args.arcd_translated and not args.arcd:
        raise SystemExit("error: --arcd-translated needs --arcd DIR")
    if args.held_out and not (args.xquad or args.arcd):
        raise SystemExit("error: --held-out needs --xquad DIR or --arcd DIR")
    configs = _csv(args.configs)
    if unknown := [c for c in configs if c not in MODES]:
        raise SystemExit(f"error: unknown configs {unknown}; choose from {', '.join(MODES)}")
    datasets = []
    corpus = load_folder(args.corpus).articles if args.corpus else []
    for number, path in enumerate(args.questions or []):  # one index for all question files
        datasets.append(Dataset(path.stem, corpus, read_questions(path),
                                shares_index_with=args.questions[0].stem if number else None))
    if args.xquad:
        datasets.extend(xquad_datasets(args.xquad, _csv(args.xquad_languages), args.held_out))
    if args.arcd:
        datasets.extend(arcd_datasets(args.arcd, args.arcd_translated, args.held_out))
    haystack: Haystack | None = None
    if args.haystack:
        articles = load_haystack(args.haystack)
        datasets = with_haystack(datasets, sample_haystack(articles, args.haystack_size, args.seed), articles)
        haystack = {"file": str(args.haystack), "articles_in_file": len(articles),
                    "size": args.haystack_size, "seed": args.seed}
    results = run(datasets, Settings.from_env(store=args.store), configs, index_cache=args.index_cache,
                  answers=args.answers)
    if haystack:
        results["haystack"] = haystack
    print(format_header(results))
    print(format_table(results))
    if args.answers:
        print(format_answers(results))
    if args.json:
        args.json.write_text(to_json(results), encoding="utf-8")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
