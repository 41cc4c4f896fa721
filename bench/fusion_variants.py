"""Compare ways of fusing the retriever's candidate lists, on the `qa bench` datasets.

    .venv/bin/python -m bench.fusion_variants --xquad ../shared/data/xquad \
        --corpus seeds/ --questions tests/data/seed_questions.jsonl

Each question's three candidate lists (e5 top 100, USE top 100, BM25 top 100) and the
coverage of its names are computed once by `Retriever.candidates`, as a search makes
them; every variant then re-ranks the same lists, so differences come from fusion alone.
Prints R@1 / MRR@10 per dataset and variant. The shipped choice is `qa.fusion.fuse`
with its weights; the weighted variants are `fuse` with other weights and no coverage,
the reciprocal-rank ones live only here. No variant re-scores by the proximity of an
Arabic question's words (qa/proximity.py), as a search then does: fusion alone.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from index.articles import load_folder
from index.aux_embedder import AuxEmbedder
from index.builder import update_index
from index.config import Settings
from index.embedder import Embedder
from index.store.reader import IndexReader
from qa.bench import BenchQuestion, Dataset, read_questions, xquad_datasets
from qa.fusion import Hits, fuse
from qa.metrics import RankedHit, aggregate, question_metrics
from qa.retriever import CANDIDATES, Passage, Retriever

#: (dense, lexical, aux, pseudo-relevance feedback hits, coverage) -> ranking
Fusion = Callable[[Hits, Hits, Hits, Hits, dict[int, float]], list[tuple[int, float]]]


def rrf(lists: list[Hits], weights: list[float], k: int = 60) -> list[tuple[int, float]]:
    scores: defaultdict[int, float] = defaultdict(float)
    for hits, weight in zip(lists, weights):
        for rank, (chunk_id, _) in enumerate(hits, start=1):
            scores[chunk_id] += weight / (k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)  # as Counter.most_common


def weighted(aux_weight: float, lexical_weight: float) -> Fusion:
    """`fuse` with these weights and no coverage."""
    return lambda d, lex, a, prf, cover: fuse(d, lex, a, aux_weight=aux_weight, lexical_weight=lexical_weight)


def run(datasets: list[Dataset]) -> None:
    settings = Settings.from_env()
    embedder, aux = Embedder(settings), AuxEmbedder()
    variants: dict[str, Fusion] = {
        "e5 dense only": lambda d, lex, a, prf, cover: list(d),
        "RRF(e5, BM25) k=60": lambda d, lex, a, prf, cover: rrf([d, lex], [1, 1]),
        "RRF, BM25 weight 0.5": lambda d, lex, a, prf, cover: rrf([d, lex], [1, 0.5]),
        "score e5 + 0.3 BM25": lambda d, lex, a, prf, cover: fuse(d, lex, lexical_weight=0.3),
        "score e5 + 1.0 BM25": lambda d, lex, a, prf, cover: fuse(d, lex, lexical_weight=1.0),
        "RRF(e5, BM25, PRF top-3 x 20 terms)": lambda d, lex, a, prf, cover: rrf([d, lex, prf], [1, 1, 1]),
        **{f"score e5 + {wa} USE + {wl} BM25": weighted(wa, wl)
           for wa in (0.5, 0.6, 0.7) for wl in (0.7, 1.0, 1.3)},
        "qa.fusion.fuse (no proximity)": lambda d, lex, a, prf, cover: fuse(d, lex, a, cover),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in datasets:
            index_settings = replace(settings, index_dir=Path(tmp) / dataset.name)
            update_index(dataset.articles, index_settings, embedder=embedder, progress=False, aux_embedder=aux)
            retriever = Retriever(index_settings, embedder, aux)
            reader = retriever.reader
            assert isinstance(reader, IndexReader), "measures the embedded store's own tables"
            rows = reader.chunks(list(range(1, reader.size + 1)))
            tokens = reader.search_tokens(list(rows))
            idf = _idf(tokens)
            candidates = []
            for q in tqdm(dataset.questions, desc=dataset.name, file=sys.stderr):
                d, lex, a, cover = retriever.candidates(reader, q.question)
                prf = reader.lexical.search(_feedback_terms(d[:3], tokens, idf, 20), CANDIDATES)
                candidates.append((q, d, lex, a, prf, cover))
            for name, fusion in variants.items():
                r1, mrr = _score(candidates, fusion, rows)
                print(f"{dataset.name:16s} {name:36s} R@1 {r1:.4f}  MRR@10 {mrr:.4f}")


def _idf(tokens: dict[int, list[str]]) -> dict[str, float]:
    df = Counter(t for toks in tokens.values() for t in set(toks))
    n = len(tokens)
    return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}


def _feedback_terms(top: Hits, tokens: dict[int, list[str]], idf: dict[str, float], n: int) -> list[str]:
    """The top dense chunks' most distinctive terms, as a second lexical query."""
    counts = Counter(t for chunk_id, _ in top for t in set(tokens[chunk_id]))
    return sorted(counts, key=lambda t: -counts[t] * idf[t])[:n]


def _score(candidates, fusion: Fusion, rows) -> tuple[float, float]:
    per_question = []
    for q, d, lex, a, prf, cover in candidates:
        hits = []
        for chunk_id, score in fusion(d, lex, a, prf, cover)[:10]:
            row = rows[chunk_id]
            p = Passage(0, score, row.text, row.article_id, row.title, row.date, row.start, row.end)
            hits.append(RankedHit(p.source, score, BenchQuestion.is_relevant(q, p)))
        per_question.append(question_metrics(hits))
    metrics = aggregate(per_question, [0.0] * len(per_question))
    return metrics["recall@1"], metrics["mrr@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--questions", type=Path)
    args = parser.parse_args()
    datasets = xquad_datasets(args.xquad) if args.xquad else []
    if args.corpus and args.questions:
        datasets.append(Dataset(args.questions.stem, load_folder(args.corpus).articles,
                                read_questions(args.questions)))
    # both XQuAD question sets share one corpus; indexing it twice keeps the script simple
    run(datasets)


if __name__ == "__main__":
    main()
