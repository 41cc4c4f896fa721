"""Calibrate when the extractive answerer abstains, and measure both error rates.

Calibration set: the hand-checked seed questions (answerable) and the hand-written
unanswerable ones (tests/data/unanswerable_questions.jsonl), over the seed index.
Held-out check: XQuAD, half of its Wikipedia articles indexed; questions about the
indexed half are answerable, questions about the other half are not.

    .venv/bin/python -m bench.abstention --json docs/abstention.json

For each question it records the best evidence-sentence score, the share of salient
question terms found in the passages and the lead article's closest passage, then
grid-searches the sentence floors and the coverage threshold that minimise false answers +
false abstentions on the calibration set (the passage floor stays the shipped one), and
reports the error rates of that policy (and of the shipped `AbstentionPolicy`) on both sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import DEFAULT_XQUAD, ROOT
from index.articles import Article
from index.builder import build_index, update_index
from index.config import Settings
from index.models import SecondModel, load_models
from qa.answer import AbstentionPolicy, ExtractiveAnswerer, same_language
from qa.assistant import Assistant
from qa.retriever import Retriever

K = 5


@dataclass(frozen=True)
class Observation:
    question: str
    answerable: bool
    similarity: float
    coverage: float
    same_language: bool
    median: float  # median sentence score: how close the question is to anything at all
    missing: tuple[str, ...]
    evidence_hit: bool | None  # best sentence contains a gold snippet (seed questions)
    passage_similarity: float | None = None  # the lead article's best passage (None in features saved before it)


def observe(
    retriever: Retriever, answerer: ExtractiveAnswerer, question: str, answerable: bool,
    gold: list[str] | None = None,
) -> Observation:
    passages = retriever.search(question, k=K)
    evidence, grounding = answerer.weigh(question, passages)
    hit = None
    if gold and evidence:
        best = evidence[0].sentence.text
        hit = any(g in best or best in g for g in gold)
    return Observation(
        question, answerable, evidence[0].score if evidence else 0.0, grounding.coverage,
        bool(evidence) and same_language(question, evidence[0].sentence.text),
        float(np.median([e.score for e in evidence])) if evidence else 0.0,
        grounding.missing, hit, closest[1] if (closest := answerer.closest_passage(question, passages)) else None,
    )


def error_rates(observations: list[Observation], policy: AbstentionPolicy) -> dict[str, float]:
    answerable = [o for o in observations if o.answerable]
    unanswerable = [o for o in observations if not o.answerable]
    false_abstain = sum(_abstains(policy, o) for o in answerable)
    false_answer = sum(not _abstains(policy, o) for o in unanswerable)
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "false_abstention_rate": round(false_abstain / max(1, len(answerable)), 3),
        "false_answer_rate": round(false_answer / max(1, len(unanswerable)), 3),
    }


def _abstains(policy: AbstentionPolicy, o: Observation) -> bool:
    return policy.abstains(o.similarity, o.coverage, o.same_language, o.passage_similarity)


def calibrate(observations: list[Observation]) -> AbstentionPolicy:
    """Thresholds minimising the sum of both error rates (ties: the laxer policy).

    The two similarity floors are fitted separately on the questions of their case; the
    passage floor stays the shipped one (set on ARCD, docs/abstention.md): the seeds are
    too few to fit a third threshold.
    """
    best_coverage, best_cost, floors = 0.0, float("inf"), {}
    for coverage in (0.0, 0.25, 0.34, 0.5, 0.6, 0.67, 0.75, 0.8, 1.0):
        cost = 0.0
        chosen = {}
        for same in (True, False):
            group = [o for o in observations if o.same_language == same]
            best = (float("inf"), 0.0)
            for floor in np.arange(0.70, 0.95, 0.005):
                policy = AbstentionPolicy(float(floor), float(floor), coverage)
                rates = error_rates(group, policy)
                best = min(best, (rates["false_abstention_rate"] + rates["false_answer_rate"], round(float(floor), 3)))
            cost += best[0]
            chosen[same] = best[1]
        if cost < best_cost - 1e-9:
            best_coverage, best_cost, floors = coverage, cost, chosen
    return AbstentionPolicy(floors[True], floors[False], best_coverage)


def seed_observations(settings: Settings, retriever: Retriever, answerer: ExtractiveAnswerer) -> list[Observation]:
    build_index(ROOT / "seeds", settings, embedder=retriever.embedder, progress=False)
    rows = [(json.loads(line), True) for line in open(ROOT / "tests/data/seed_questions.jsonl")]
    rows += [(json.loads(line), False) for line in open(ROOT / "tests/data/unanswerable_questions.jsonl")]
    return [
        observe(retriever, answerer, row["question"], answerable, row.get("gold_text"))
        for row, answerable in tqdm(rows, desc="seed questions", unit="q", file=sys.stderr)
    ]


def xquad_observations(
    folder: Path, settings: Settings, retriever: Retriever, answerer: ExtractiveAnswerer, per_side: int,
) -> dict[str, list[Observation]]:
    """Index the even-numbered Wikipedia articles; odd-numbered ones are unanswerable."""
    arabic = json.loads((folder / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    english = json.loads((folder / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    english_by_id = {
        qa["id"]: qa["question"] for doc in english for p in doc["paragraphs"] for qa in p["qas"]
    }
    articles: list[Article] = []
    questions: dict[str, list[tuple[str, bool]]] = {"xquad-en": [], "xquad-ar": []}  # (question, answerable)
    for number, doc in enumerate(arabic):
        indexed = number % 2 == 0
        for paragraph_number, paragraph in enumerate(doc["paragraphs"]):
            if indexed:
                articles.append(Article(f"xq-{number:02d}-{paragraph_number}", doc["title"], paragraph["context"]))
            for qa in paragraph["qas"]:
                questions["xquad-ar"].append((qa["question"], indexed))
                questions["xquad-en"].append((english_by_id[qa["id"]], indexed))
    update_index(articles, settings, embedder=retriever.embedder, progress=True)
    rng = np.random.default_rng(0)
    result = {}
    for name, rows in questions.items():
        sample = []
        for answerable in (True, False):
            side = [q for q in rows if q[1] == answerable]
            picks = rng.choice(len(side), size=min(per_side, len(side)), replace=False)
            sample += [side[i] for i in sorted(picks)]
        result[name] = [
            observe(retriever, answerer, question, answerable)
            for question, answerable in tqdm(sample, desc=name, unit="q", file=sys.stderr)
        ]
    return result


def answerer_for(retriever: Retriever, aux: SecondModel | None) -> ExtractiveAnswerer:
    """Wired as the product wires it, over this retriever's index."""
    return Assistant.over(retriever, aux).answerer


def collect(xquad: Path, per_side: int) -> dict[str, list[Observation]]:
    """Features of every calibration and held-out question (the slow part: minutes)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(index_dir=Path(tmp) / "seeds")
        models = load_models(settings)
        aux = models.aux
        retriever = Retriever(settings, embedder=models.main, aux_embedder=aux)
        observations = {"seeds": seed_observations(settings, retriever, answerer_for(retriever, aux))}
        if xquad.exists():
            xq_settings = Settings.from_env(index_dir=Path(tmp) / "xquad")
            xq_retriever = Retriever(xq_settings, embedder=retriever.embedder, aux_embedder=aux)
            xq_answerer = answerer_for(xq_retriever, aux)
            observations.update(xquad_observations(xquad, xq_settings, xq_retriever, xq_answerer, per_side))
    return observations


def summarize(observations: dict[str, list[Observation]]) -> dict[str, object]:
    """Fit on the seed set; error rates of the fitted and shipped policies on every set."""
    seeds = observations["seeds"]
    fitted, shipped = calibrate(seeds), AbstentionPolicy()
    report: dict[str, object] = {"fitted_policy": vars(fitted), "shipped_policy": vars(shipped)}
    for name, rows in observations.items():
        report[name] = {"shipped": error_rates(rows, shipped), "fitted": error_rates(rows, fitted)}
    hits = [o.evidence_hit for o in seeds if o.evidence_hit is not None]
    report["seed_best_sentence_hit_rate"] = round(float(np.mean(hits)), 3) if hits else None
    report["wrong_on_seeds"] = [
        {"question": o.question, "answerable": o.answerable, "similarity": round(o.similarity, 3),
         "coverage": round(o.coverage, 2), "same_language": o.same_language, "missing": list(o.missing),
         "passage_similarity": None if o.passage_similarity is None else round(o.passage_similarity, 3)}
        for o in seeds if _abstains(shipped, o) == o.answerable
    ]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--per-side", type=int, default=100, help="XQuAD questions per side and language")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--observations", type=Path, help="write every question's features here")
    parser.add_argument("--from-observations", type=Path, help="re-fit from features written before")
    args = parser.parse_args(argv)

    if args.from_observations:
        raw = json.loads(args.from_observations.read_text(encoding="utf-8"))
        observations = {
            name: [Observation(**{**row, "missing": tuple(row["missing"])}) for row in rows]
            for name, rows in raw.items()
        }
        if any(o.passage_similarity is None for rows in observations.values() for o in rows):
            print("warning: features saved before passages were recorded: the passage floor is not applied "
                  "to them, and their rates are the sentence floors' alone", file=sys.stderr)
    else:
        observations = collect(args.xquad, args.per_side)
    if args.observations:
        dump = {name: [vars(o) for o in rows] for name, rows in observations.items()}
        args.observations.write_text(json.dumps(dump, ensure_ascii=False, indent=1), encoding="utf-8")
    text = json.dumps(summarize(observations), ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
