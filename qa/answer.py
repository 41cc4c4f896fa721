"""Answers: cited evidence sentences from the retrieved passages, or an honest abstention.

The extractive answerer needs no language model: it scores every sentence of the best
passage's article among the retrieved passages against the question (the same embedding
model that retrieved them, plus word overlap; the vectors were stored at index time),
quotes the best few verbatim, each followed by `[n]`, the number of the passage shown
with the answer, and leads with the article and date they come from; another article
that answers as well (every name asked about, a sentence as close) is quoted beside it.
It abstains when the evidence is weak: the best sentence is far from the question (and,
for a question in the article's language, so is each of the article's passages, whence
the quotes then come), or the names the question asks about are not in that article
(`qa.grounding`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import islice

import numpy as np

from index.sentences import with_sentences
from index.text.scripts import dominant_script
from index.text.search import tokenize_for_search
from index.models import MainModel
from qa.grounding import Grounding, GroundingChecker, as_written
from qa.language import Phrases, detect_language, join_list, phrases_for
from qa.retriever import Passage
from qa.sentences import Sentence, split_sentences
from qa.translation import asked_words

#: At most this many sentences are quoted from the article an answer leads with...
MAX_EVIDENCE = 3
#: ...and at most this many articles are quoted (`ExtractiveAnswerer.corroborating`).
MAX_SOURCES = 3
#: A further sentence is quoted only if it scores within this margin of the best one.
EVIDENCE_MARGIN = 0.02
#: Weight of the share of question words a sentence contains, beside the cosine.
OVERLAP_WEIGHT = 0.1
#: Sentences embedded per question, for passages whose sentences the index does not hold
#: (segments written before sentences were embedded): the cost of an answer is bounded.
MAX_EMBEDDED = 60

#: chunk ids -> each chunk's sentences as stored in the index: ([(start, end) in the
#: article, ...], their vectors) (`IndexReader.sentences`).
StoredSentences = Callable[[Sequence[int]], dict[int, tuple[list[tuple[int, int]], np.ndarray]]]
#: chunk ids -> the chunks' own vectors as stored in the index, one row each (`IndexReader.vectors`).
StoredVectors = Callable[[Sequence[int]], np.ndarray]


@dataclass(frozen=True)
class AbstentionPolicy:
    """When the evidence is too weak to answer. The sentence floors and coverage are
    calibrated by `bench/abstention.py`, the passage floor on ARCD (docs/abstention.md).

    Cosines between a question and a sentence in the same language run higher than
    across languages (an Arabic question against Arabic text vs. an English or a Persian
    one), so each case has its own similarity floor.
    """

    min_similarity_same_language: float = 0.925
    min_similarity_cross_language: float = 0.805
    min_coverage: float = 0.6
    #: A passage of the lead article this close to a question in its language answers it
    #: though no one sentence reaches the floor: a passage can hold as a whole what each
    #: of its sentences holds in part. Across languages it answered no more questions
    #: right on our sets (docs/abstention.md); None turns the rule off.
    min_passage_similarity_same_language: float | None = 0.87

    def abstains(
        self, similarity: float, coverage: float, same_language: bool, passage_similarity: float | None = None,
    ) -> bool:
        if coverage < self.min_coverage:
            return True
        floor = self.min_similarity_same_language if same_language else self.min_similarity_cross_language
        if similarity >= floor:
            return False
        passage_floor = self.min_passage_similarity_same_language
        return not (same_language and passage_floor is not None and passage_similarity is not None
                    and passage_similarity >= passage_floor)


@dataclass(frozen=True)
class Citation:
    """Source `n` of an answer: the passage shown as [n], and the sentences quoted from it."""

    n: int
    source: str
    title: str
    date: str | None
    start: int
    end: int
    outlet: str | None = None
    quotes: tuple[tuple[int, int], ...] = ()  # (start, end) in the article of each quote

    @classmethod
    def of(cls, passage: Passage, quotes: Sequence[Sentence] = ()) -> "Citation":
        return cls(
            n=passage.rank, source=passage.source, title=passage.title, date=passage.date,
            start=passage.start, end=passage.end, outlet=passage.outlet,
            quotes=tuple((s.start, s.end) for s in quotes),
        )


@dataclass(frozen=True)
class Answer:
    """What the reader sees: the answer text, the numbered sources it cites, and why."""

    question: str
    searched: str  # the query actually searched (differs for a resolved follow-up)
    text: str
    abstained: bool
    passages: tuple[Passage, ...]
    citations: tuple[Citation, ...]
    language: str
    mode: str = "extractive"  # or "llm"
    notes: tuple[str, ...] = ()
    done: bool = True  # False for the partial answers of a stream
    missing: tuple[str, ...] = ()  # salient terms not found in the evidence

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "searched": self.searched,
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "language": self.language,
            "notes": list(self.notes),
            "citations": [asdict(c) for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
        }


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    score: float


#: Scripts whose questions the gate also checks by their words' index spellings
#: (`ExtractiveAnswerer._grounding`): no capitals, and names read
#: letter by letter as their press writes them (`qa.grounding`, anyascii). Not Indic
#: scripts: their words' spellings are poorer (सऊदी ~ سود), and on our Hindi questions
#: the rule lost right answers and stopped no wrong one (docs/benchmarks.md).
SPELLED_SCRIPTS = frozenset({"georgian", "ethiopic"})


class ExtractiveAnswerer:
    """Composes a cited answer from passages without a language model."""

    def __init__(
        self,
        embedder: MainModel,
        grounding: GroundingChecker | None = None,
        policy: AbstentionPolicy | None = None,
        stored: StoredSentences | None = None,
        chunk_vectors: StoredVectors | None = None,
        question_vector: Callable[[str], np.ndarray] | None = None,
        asked: Callable[[str], Sequence[frozenset[str]]] = asked_words,
        spelled: Callable[[str], Mapping[str, str]] = lambda question: {},
    ) -> None:
        self.embedder = embedder
        self.grounding = grounding or GroundingChecker()
        self.policy = policy or AbstentionPolicy()
        self.stored = stored
        self.chunk_vectors = chunk_vectors
        #: The question's vector; the retriever's remembers the one its search just made.
        self.question_vector = question_vector or embedder.embed_query
        #: The question's words, each a set of tokens that stand for it in a sentence; the
        #: retriever's adds an English question's translations (`Retriever.asked_words`).
        self.asked = asked
        #: The index spellings of the names the gate cannot check as written, by the
        #: question's word (`Retriever.name_spellings`).
        self.spelled = spelled

    def score_sentences(self, question: str, passages: Sequence[Passage]) -> list[Evidence]:
        """Every sentence of the passages, scored against the question, best first.

        The index embedded each chunk's sentences when it was written (`stored`); only
        passages without them are split and embedded here (`_embed_now`).
        """
        chunk_ids = [p.chunk_id for p in passages if p.chunk_id is not None]
        stored = self.stored(chunk_ids) if self.stored and chunk_ids else {}
        sentences: list[Sentence] = []
        vectors: list[np.ndarray] = []
        for passage in passages:
            if passage.chunk_id in stored:
                spans, found = stored[passage.chunk_id]
                sentences += [Sentence(passage.text[start - passage.start:end - passage.start], passage.source,
                                       start, end, passage.rank, position)
                              for position, (start, end) in enumerate(spans)]
                vectors.append(found)
        unembedded = [p for p in passages if p.chunk_id not in stored]
        if unembedded:
            new, new_vectors = self._embed_now(unembedded)
            sentences += new
            vectors += new_vectors
        if not sentences:
            return []
        cosines = np.concatenate(vectors) @ self.question_vector(question)
        asked = self.asked(question)
        scored = [
            Evidence(s, float(cos) + OVERLAP_WEIGHT * _overlap(asked, s.text))
            for s, cos in zip(sentences, cosines)
        ]
        return sorted(scored, key=lambda e: -e.score)

    def _embed_now(self, passages: Sequence[Passage]) -> tuple[list[Sentence], list[np.ndarray]]:
        """The passages' sentences and their vectors, made as indexing makes them
        (`MainModel.span_vectors`), MAX_EMBEDDED sentences at most: "alone" embeds only
        the sentences; "in-context" needs each whole passage's pass."""
        split = [split_sentences(p) for p in passages]
        if self.embedder.span_vectors == "alone":
            sentences = [s for own in split for s in own][:MAX_EMBEDDED]
            return sentences, [self.embedder.embed_passages([s.text for s in sentences])]
        kept: list[tuple[Passage, list[Sentence]]] = []
        for passage, own in zip(passages, split):
            if sum(len(k) for _, k in kept) + len(own) > MAX_EMBEDDED:
                break
            kept.append((passage, own))
        if not kept:
            return [], []
        pairs = [with_sentences(p.title, p.text) for p, _ in kept]
        _, pooled = self.embedder.embed_passages_with_spans([text for text, _ in pairs], [own for _, own in pairs])
        return [s for _, own in kept for s in own], pooled

    def weigh(self, question: str, passages: Sequence[Passage]) -> tuple[list[Evidence], Grounding]:
        """The scored sentences of the article an answer leads with, best first, and how
        much of what the question names that article holds: what the policy decides on.

        The answer stands or falls with the best passage's article: the retriever's order
        weighs every model, the question's names and the best sentence, and picks the
        right article more often than the best-scoring sentence alone does; and the names
        asked about must hold together in one article, not be scattered over several.
        """
        own = [p for p in passages if p.source == passages[0].source] if passages else []
        return self.score_sentences(question, own), self._grounding(question, own)

    def closest_passage(self, question: str, passages: Sequence[Passage]) -> tuple[Passage, float] | None:
        """The lead article's passage closest to the question and its cosine (the vectors
        the index searched with); None without stored chunk vectors (hand-made passages)."""
        own = [(p, p.chunk_id) for p in passages if p.source == passages[0].source and p.chunk_id is not None]
        if not own or self.chunk_vectors is None:
            return None
        cosines = self.chunk_vectors([chunk_id for _, chunk_id in own]) @ self.question_vector(question)
        best = int(np.argmax(cosines))
        return own[best][0], float(cosines[best])

    def _grounding(self, question: str, own: Sequence[Passage]) -> Grounding:
        """What of the question one article's passages hold. What only names the
        article's publication date ("in August 2015") is not asked of it.

        A Georgian or Amharic question (`SPELLED_SCRIPTS`: no capitals) names more than
        the lexicon's few names the gate can check as written: each of its words that
        ranking took for a name has an index spelling (`spelled`), and the article must
        hold one of them. Most such words are common words whose spelling is a chance
        match, so one is enough; an article holding none is about something else."""
        date = own[0].date if own else None
        texts = [f"{p.title}\n{p.text}" for p in own]
        grounding = self.grounding.check(question, texts, date=date)
        if not own or dominant_script(question) not in SPELLED_SCRIPTS:
            return grounding
        spelled = self.spelled(question)
        if not spelled or set(spelled.values()) & set(tokenize_for_search(" ".join(texts))):
            return grounding
        # nothing of it counts as held; what the abstention names as missing is what the
        # gate missed and those words, not the gate's names the article does hold
        unheld = tuple(dict.fromkeys([*grounding.missing, *spelled]))
        return Grounding(unheld, unheld)

    def answer(self, question: str, passages: Sequence[Passage], searched: str | None = None) -> Answer:
        """The cited answer, or an abstention that still shows the nearest passages."""
        searched = searched or question
        language = detect_language(question)
        phrases = phrases_for(language)
        passages = tuple(passages)
        weighed, grounding = self.weigh(searched, passages)
        evidence = self._of_the_month_asked(searched, weighed)
        same = bool(evidence) and same_language(searched, evidence[0].sentence.text)
        closest = None
        # No sentence answers: a passage may, unless a sentence of another month was set
        # aside, which the passage's vector still reads.
        month_set_aside = len(evidence) < len(weighed)
        if evidence and not month_set_aside and self.policy.abstains(evidence[0].score, grounding.coverage, same):
            closest = self.closest_passage(searched, passages)
        if not evidence or self.policy.abstains(
            evidence[0].score, grounding.coverage, same, closest[1] if closest else None,
        ):
            return Answer(
                question, searched, abstention_text(phrases, searched, grounding), True, passages, (), language,
                missing=grounding.missing,
            )
        if closest:
            # The passage answers as a whole, so its best sentences are quoted, however far
            # apart their scores: the one that answers may score below another of it.
            evidence = [e for e in evidence if e.sentence.source_rank == closest[0].rank] or evidence
            chosen = list(islice(
                (e for e in evidence if not self.grounding.another_month(searched, e.sentence.text)), MAX_EVIDENCE))
        else:
            chosen = select_evidence(evidence, self._names_held(searched))
        chosen += self.corroborating(searched, passages, evidence[0], grounding.coverage, chosen)
        by_rank = {p.rank: p for p in passages}
        cited = sorted({e.sentence.source_rank for e in chosen})
        citations = tuple(
            Citation.of(by_rank[n], [e.sentence for e in chosen if e.sentence.source_rank == n])
            for n in cited
        )
        text = compose(phrases, [by_rank[n] for n in _first_seen(chosen)], chosen)
        return Answer(question, searched, text, False, passages, citations, language)

    def _of_the_month_asked(self, question: str, evidence: Sequence[Evidence]) -> list[Evidence]:
        """The evidence less the sentences that speak of another month than the one asked
        (`GroundingChecker.another_month`), among those that could be quoted: the best
        that is left and those within EVIDENCE_MARGIN of it (`select_evidence`). August's
        figure is no answer to September's, however close its sentence scores."""
        kept: list[Evidence] = []
        for position, e in enumerate(evidence):
            if kept and e.score < kept[0].score - EVIDENCE_MARGIN:
                return kept + list(evidence[position:])  # never quoted: not read
            if not self.grounding.another_month(question, e.sentence.text):
                kept.append(e)
        return kept

    def corroborating(
        self, question: str, passages: Sequence[Passage], best: Evidence, coverage: float,
        quoted: Sequence[Evidence],
    ) -> list[Evidence]:
        """The best sentence of each further article that answers as well as the first
        one, in the retriever's order, MAX_SOURCES articles in all: the policy would answer
        from its best sentence alone (a passage close to the question does not do here),
        it holds at least as much of what the question names (`coverage`, the first
        article's), its best sentence scores within EVIDENCE_MARGIN of `best`,
        the first article's, and the sentence it would quote names as much of what was
        asked as the first article's quotes (`quoted`) do: an article on Lavrov and the
        Gulf states that names Kuwait somewhere is not quoted for a sentence on Lavrov alone.

        Articles about one event (the same aid flight, the same canal) often differ only
        in the detail asked, a figure or a name, and their scores cannot tell which one
        holds it: on our development questions most answers from a wrong article quoted
        the retriever's first article while a right one came next with all the names and
        a sentence as close (docs/benchmarks.md). Each is quoted, cited, side by side; an
        article that lacks something the question names is not.
        """
        others = [p for p in passages if p.source != passages[0].source]
        by_article: dict[str, list[Evidence]] = {}
        for e in self.score_sentences(question, others):  # best first, so each article's too
            by_article.setdefault(e.sentence.article_id, []).append(e)
        names_held = self._names_held(question)
        needed = names_held(quoted[0])
        found: list[Evidence] = []
        for source in dict.fromkeys(p.source for p in others):
            if len(found) + 1 >= MAX_SOURCES:
                break
            evidence = self._of_the_month_asked(question, by_article.get(source, ()))
            if not evidence or evidence[0].score < best.score - EVIDENCE_MARGIN:
                continue  # the cheap test first: most articles stop here
            same = same_language(question, evidence[0].sentence.text)
            if self.policy.abstains(evidence[0].score, 1.0, same):
                continue  # below the similarity floor, which no coverage makes up for
            grounding = self._grounding(question, [p for p in others if p.source == source])
            if grounding.coverage < coverage or self.policy.abstains(evidence[0].score, grounding.coverage, same):
                continue
            lead = select_evidence(evidence, names_held)[0]
            if names_held(lead) < needed or any(_same_span(lead.sentence, e.sentence) for e in [*quoted, *found]):
                continue
            found.append(lead)
        return found

    def _names_held(self, question: str) -> Callable[[Evidence], float]:
        """How much of what the question names one sentence holds (`select_evidence`). A
        sentence names one thing at a time: another place beside it replaces nothing."""
        return lambda e: self.grounding.check(
            question, [e.sentence.text], words=False, replacements=False).coverage


def same_language(question: str, text: str) -> bool:
    """Whether a sentence is in the question's language, which the similarity floor
    depends on. Not its script: a Persian or Urdu question scores an Arabic sentence as
    another language does."""
    return detect_language(question) == detect_language(text)


def select_evidence(
    evidence: Sequence[Evidence], coverage: Callable[[Evidence], float],
) -> list[Evidence]:
    """Up to three sentences, best first, among those scoring within EVIDENCE_MARGIN of
    the best: the ones that name the most of what was asked.

    A sentence about Lavrov and Jordan can score close to one about Lavrov and Kuwait,
    or even a hair above it (0.8132 against 0.8130 with the int8 model, while fp32 put
    the Kuwait one 0.005 ahead): near-equal scores do not say which answers, naming
    Kuwait does. So coverage of the question's names decides among near-equals, and
    the order within it is the score's.
    """
    near = [e for e in evidence if e.score >= evidence[0].score - EVIDENCE_MARGIN]
    covered = [coverage(e) for e in near]
    needed = max(covered)
    chosen: list[Evidence] = []
    for candidate, covers in zip(near, covered):
        if len(chosen) == MAX_EVIDENCE:
            break
        if covers < needed or any(_same_span(candidate.sentence, c.sentence) for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def compose(phrases: Phrases, sources: Sequence[Passage], chosen: Sequence[Evidence]) -> str:
    """Lead line naming the articles and dates, then one quoted sentence per line with [n]."""
    names = list(dict.fromkeys(_source_name(p) for p in sources))
    lead = phrases.according_to.format(sources=join_list(names, phrases))
    lines = [f"{e.sentence.text} [{e.sentence.source_rank}]" for e in chosen]
    return "\n".join([lead, *lines])


def abstention_text(phrases: Phrases, question: str = "", grounding: Grounding | None = None) -> str:
    """The refusal, then what the nearest article lacks of what was asked (in the
    question's language and words), then the heading of the nearest passages."""
    lines = [phrases.abstain]
    if grounding is not None and grounding.missing:
        missing = join_list([_isolate(t) for t in as_written(question, grounding.missing)], phrases)
        found = [_isolate(t) for t in as_written(question, grounding.found)]
        lines.append(phrases.found_but_not.format(found=join_list(found, phrases), missing=missing)
                     if found else phrases.not_found.format(missing=missing))
    return "\n".join([*lines, f"{phrases.nearest}:"])


def _source_name(passage: Passage) -> str:
    """«title» (outlet, date), each name bidi-isolated so an Arabic title inside an
    English lead line (or the reverse) cannot reorder the punctuation around it."""
    details = ", ".join(_isolate(x) for x in (passage.outlet, passage.date) if x)
    title = _isolate(f"«{passage.title}»") if passage.title else passage.source
    return f"{title} ({details})" if details else title


def _isolate(text: str) -> str:
    return f"\u2068{text}\u2069"  # FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE


def _first_seen(chosen: Sequence[Evidence]) -> list[int]:
    return list(dict.fromkeys(e.sentence.source_rank for e in chosen))


def _overlap(asked: Sequence[frozenset[str]], text: str) -> float:
    """The share of the question's words that the text holds in one of their forms."""
    if not asked:
        return 0.0
    held = set(tokenize_for_search(text))
    return sum(not word.isdisjoint(held) for word in asked) / len(asked)


def _same_span(a: Sentence, b: Sentence) -> bool:
    """Overlapping chunks repeat sentences; the same article span is quoted once."""
    return a.text == b.text or (a.article_id == b.article_id and a.start < b.end and b.start < a.end)
