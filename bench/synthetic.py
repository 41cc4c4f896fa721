"""Synthetic chunks at any scale, built from real sentences and their real embeddings.

    .venv/bin/python -m bench.synthetic pool                 # build (or load) the sentence pool
    .venv/bin/python -m bench.synthetic calibrate            # real vs synthetic neighbour similarity
    .venv/bin/python -m bench.synthetic sample -n 3          # print a few synthetic chunks

How the data is made
--------------------
1. Sentence pool (real text, real vectors). The 240 Arabic XQuAD paragraphs
   (`xquad.ar.json`) and the clean bodies of the five seed articles (`seeds/`, read with
   `index.articles.load_folder`, so page furniture is gone) are split into sentences at
   `.`, `؟`, `!`, `?` (when followed by white space or the end) and at newlines;
   fragments of fewer than 4 words are dropped and exact duplicates removed. Every
   sentence is embedded for real with both models of the product: e5 through
   `Embedder.embed_passages` (384-d, "passage: " prompt, normalized) and USE multilingual
   v3 through `AuxEmbedder.embed_passages` (512-d, normalized), and tokenised with
   `index.text.search.tokenize_for_search` (the BM25 tokens). The pool is cached under
   `<QA_CACHE_DIR or ~/.cache/qa>/bench/pool-<hash>.{npz,json}`, keyed by a hash of the
   sentence list and the two model names, so a second run embeds nothing.
2. Sentence neighbourhoods. Pool similarity is the mean of the two models' cosines, each
   standardised (z-score over all sentence pairs, because e5's cosines live in a narrow
   band near 0.8 and USE's are spread over [-0.1, 0.9]). Each sentence gets its
   `TOPIC_NEIGHBOURS` nearest other sentences and its `THEME_NEIGHBOURS` nearest.
3. Articles and chunks. Chunks come in articles of 8-12 chunks (uniform, ~10), ids
   `syn-0000123`. An article draws a *theme* sentence uniformly from the pool; each of
   its chunks draws a *topic* sentence among the theme and its `THEME_NEIGHBOURS`
   neighbours, then 2-5 more distinct sentences among the topic's `TOPIC_NEIGHBOURS`
   neighbours (3-6 sentences per chunk, uniform). Neighbours rather than random
   sentences, because a real chunk is a run of sentences about one thing, and the
   chunks of one article share a subject: random sentences would make every chunk an
   average of unrelated content, which pulls all vectors towards the corpus mean and
   makes their neighbour structure unlike real chunks. The chunk's text is its
   sentences joined by a space (topic sentence first), its search tokens the
   concatenation of theirs.
4. Vectors. For each model, `normalize(u + sigma * g / sqrt(d))` where
   `u = normalize(sum_i w_i s_i)` over the chunk's sentence vectors `s_i`,
   `w_i = words_i * U(0.5, 1.5)` (mean pooling weights a sentence by its length, the
   uniform factor varies the mix) and `g` is standard gaussian noise in `d`
   dimensions, so `sigma` is the noise norm relative to the unit signal. Both models
   use the same sentences and weights and independent noise. `sigma` per model
   (`NOISE`) was chosen by `calibrate` (below) so that the distribution of each
   chunk's top-1 and mean top-10 neighbour cosine among 240 synthetic chunks matches
   the one among the 240 real XQuAD paragraphs embedded by the same models.
   Isotropic noise is a pessimistic choice for approximate search: it fills every
   dimension, where real variation is concentrated in fewer directions.
5. Determinism and memory. Article `a` draws everything (its size, theme, sentences,
   weights, noise) from `numpy.random.default_rng([seed, a])`, so chunk `i` is the
   same for every batch size and every `n >= i` (the 100k set is the first 100k chunks
   of the 1M set). `synthetic_chunks` streams float32 batches; nothing of size `n` is
   held.

Calibration (measured, `bench/synthetic.py calibrate --sigmas 0.25,0.3,...,0.7`)
----------------------------------------------------------------------------------
Pool: 1,271 sentences (23.0 words, 18.9 search tokens on average). Real side: the 240
XQuAD-ar paragraphs (48 articles x 5 paragraphs, 5.0 pool sentences per paragraph at the
median) embedded as passages; synthetic side: 10 sets of 240 chunks (seeds 1000-1009).
Cosine to the nearest other chunk (top-1), mean cosine to the 10 nearest (top-10) and
cosine of random pairs, p10 / p50 / p90:

    model  set            top-1              mean top-10        random pair
    e5     real           0.842/0.874/0.901  0.824/0.840/0.852  0.752/0.782/0.813
    e5     sigma = 0      0.946/0.969/0.986  0.927/0.945/0.961  0.866/0.896/0.927
    e5     sigma = 0.35   0.847/0.867/0.883  0.830/0.847/0.861  0.767/0.799/0.830  (chosen)
    use    real           0.390/0.502/0.641  0.299/0.372/0.442  0.028/0.119/0.248
    use    sigma = 0      0.463/0.701/0.878  0.313/0.447/0.621 -0.039/0.066/0.236
    use    sigma = 0.6    0.347/0.518/0.650  0.238/0.332/0.462 -0.037/0.051/0.180  (chosen)

The chosen sigma minimises W1(top-1) + W1(top-10) between real and synthetic over the
grid 0, 0.2, ..., 1.5 and then 0.25, 0.3, ..., 0.7 (e5 0.016, USE 0.061). Without noise,
synthetic chunks are far closer to each other than real ones (they share sentences).
Remaining differences: the synthetic top-1 spread is narrower than the real one for e5
(real paragraphs of one article are sometimes near-duplicates), and USE's random pairs
are less anisotropic (0.05 vs 0.12 median). Cross-check: the recipe without noise,
applied to a real paragraph's own sentences, gives cosine 0.964 (e5) / 0.898 (USE) at
the median to the paragraph's real vector, i.e. a residual of relative norm 0.28 / 0.49,
of the same order as the calibrated sigma.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NotRequired, TypedDict

import numpy as np

from bench.common import DEFAULT_XQUAD, ROOT, xquad_paragraphs
from index.config import Settings

DEFAULT_SEEDS = ROOT / "seeds"
MODELS = ("e5", "use")
DIMENSIONS = {"e5": 384, "use": 512}
MIN_WORDS = 4
SENTENCES_PER_CHUNK = (3, 6)  # inclusive
CHUNKS_PER_ARTICLE = (8, 12)  # inclusive
TOPIC_NEIGHBOURS = 12
THEME_NEIGHBOURS = 48
#: Noise norm relative to the unit signal, per model; chosen by `calibrate`.
NOISE = {"e5": 0.35, "use": 0.6}
#: Bumped when the recipe changes, so cached vector files are not reused.
RECIPE_VERSION = 1

_SPLIT = re.compile(r"(?<=[.؟!?])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` cut at . ؟ ! ? (before white space) and newlines, >= 4 words."""
    parts = (" ".join(p.split()) for p in _SPLIT.split(text))
    return [p for p in parts if len(p.split()) >= MIN_WORDS]


def seed_texts(seeds_dir: Path = DEFAULT_SEEDS) -> list[str]:
    from index.articles import load_folder

    return [a.text for a in load_folder(Path(seeds_dir)).articles]


def pool_sentences(xquad_dir: Path = DEFAULT_XQUAD, seeds_dir: Path = DEFAULT_SEEDS) -> list[str]:
    """Every distinct sentence of the XQuAD-ar paragraphs and the seed articles, in order."""
    seen: dict[str, None] = {}
    for text in [*xquad_paragraphs(xquad_dir), *seed_texts(seeds_dir)]:
        for sentence in split_sentences(text):
            seen.setdefault(sentence, None)
    return list(seen)


def cache_dir() -> Path:
    return Settings.from_env().cache_dir / "bench"


def load_models():
    """The product's two embedders (e5 and USE), loaded once per process."""
    from index.aux_embedder import AuxEmbedder
    from index.embedder import Embedder

    return Embedder(Settings.from_env()), AuxEmbedder()


def _zscore_offdiag(sim: np.ndarray) -> np.ndarray:
    mask = ~np.eye(len(sim), dtype=bool)
    values = sim[mask]
    return (sim - values.mean()) / values.std()


@dataclass
class Pool:
    """Real sentences with their real vectors and search tokens."""

    sentences: list[str]
    tokens: list[list[str]]
    vectors: dict[str, np.ndarray]  # model -> (n, d) float32, normalized
    key: str

    @cached_property
    def words(self) -> np.ndarray:
        return np.array([len(s.split()) for s in self.sentences], dtype=np.float32)

    @cached_property
    def neighbours(self) -> np.ndarray:
        """(n, THEME_NEIGHBOURS) nearest other sentences, nearest first (mean z-cosine)."""
        start = np.zeros((len(self), len(self)), dtype=np.float32)
        sim = sum((_zscore_offdiag(v @ v.T) for v in self.vectors.values()), start) / len(self.vectors)
        np.fill_diagonal(sim, -np.inf)
        order = np.argsort(-sim, axis=1, kind="stable")[:, :THEME_NEIGHBOURS]
        return order.astype(np.int32)

    def __len__(self) -> int:
        return len(self.sentences)


def load_pool(
    xquad_dir: Path = DEFAULT_XQUAD, seeds_dir: Path = DEFAULT_SEEDS, progress: bool = True,
    models=None,
) -> Pool:
    """The sentence pool, from the cache when its sentences and models are unchanged."""
    sentences = pool_sentences(xquad_dir, seeds_dir)
    from index.aux_embedder import USE_MODEL

    e5_name = Settings.from_env().model
    digest = hashlib.sha256("\0".join([e5_name, USE_MODEL, *sentences]).encode("utf-8"))
    key = digest.hexdigest()[:16]
    folder = cache_dir()
    npz, meta = folder / f"pool-{key}.npz", folder / f"pool-{key}.json"
    if npz.exists() and meta.exists():
        with np.load(npz) as data:
            vectors = {m: np.ascontiguousarray(data[m], dtype=np.float32) for m in MODELS}
        info = json.loads(meta.read_text(encoding="utf-8"))
        return Pool(info["sentences"], info["tokens"], vectors, key)

    from index.text.search import tokenize_for_search

    e5, use = models or load_models()
    if progress:
        print(f"embedding {len(sentences)} pool sentences with e5 and USE ...", file=sys.stderr)
    vectors = {
        "e5": e5.embed_passages(sentences, progress=progress),
        "use": use.embed_passages(sentences, progress=progress),
    }
    tokens = [tokenize_for_search(s) for s in sentences]
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".pool-{key}.tmp.npz"
    np.savez(tmp, allow_pickle=False, **vectors)
    tmp.replace(npz)
    meta.write_text(json.dumps({"sentences": sentences, "tokens": tokens, "e5_model": e5_name,
                                "use_model": USE_MODEL}, ensure_ascii=False), encoding="utf-8")
    return Pool(sentences, tokens, vectors, key)


@dataclass
class SyntheticBatch:
    """A batch of consecutive synthetic chunks."""

    ids: np.ndarray  # int64 global chunk numbers, 0-based
    article_ids: list[str]
    ordinals: np.ndarray  # position of the chunk in its article
    sentences: np.ndarray  # (b, 6) pool indices, -1 padded
    vectors: dict[str, np.ndarray]  # model -> (b, d) float32, normalized
    texts: list[str] | None = None
    tokens: list[list[str]] | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _article(pool: Pool, seed: int, number: int):
    """Sentence picks, weights and noise of article `number`: its own RNG stream."""
    rng = np.random.default_rng([seed, number])
    size = int(rng.integers(CHUNKS_PER_ARTICLE[0], CHUNKS_PER_ARTICLE[1] + 1))
    theme = int(rng.integers(len(pool)))
    theme_choices = np.concatenate([[theme], pool.neighbours[theme]])
    topics = theme_choices[rng.integers(len(theme_choices), size=size)]
    counts = rng.integers(SENTENCES_PER_CHUNK[0], SENTENCES_PER_CHUNK[1] + 1, size=size)
    width = SENTENCES_PER_CHUNK[1]
    # 2-5 distinct neighbours of each topic: the first count-1 of a random permutation.
    order = np.argsort(rng.random((size, TOPIC_NEIGHBOURS)), axis=1)[:, : width - 1]
    others = pool.neighbours[topics][:, :TOPIC_NEIGHBOURS]
    picked = np.take_along_axis(others, order, axis=1)
    sentences = np.concatenate([topics[:, None], picked], axis=1).astype(np.int32)
    sentences[np.arange(width)[None, :] >= counts[:, None]] = -1
    jitter = rng.uniform(0.5, 1.5, size=(size, width)).astype(np.float32)
    gauss = {m: rng.standard_normal((size, DIMENSIONS[m]), dtype=np.float32) for m in MODELS}
    return sentences, jitter, gauss


def _vectors(pool: Pool, sentences: np.ndarray, jitter: np.ndarray,
             gauss: dict[str, np.ndarray], noise: dict[str, float]) -> dict[str, np.ndarray]:
    valid = sentences >= 0
    weights = np.where(valid, pool.words[np.maximum(sentences, 0)] * jitter, 0.0).astype(np.float32)
    out = {}
    for model in MODELS:
        base = pool.vectors[model]
        mean = np.einsum("bs,bsd->bd", weights, base[np.maximum(sentences, 0)])
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
        sigma = noise[model] / np.sqrt(base.shape[1])
        x = mean + np.float32(sigma) * gauss[model]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[model] = np.ascontiguousarray(x, dtype=np.float32)
    return out


def synthetic_chunks(
    n: int, seed: int = 0, batch: int = 10_000, pool: Pool | None = None, text: bool = True,
    noise: dict[str, float] | None = None,
) -> Iterator[SyntheticBatch]:
    """Yield `n` synthetic chunks in batches of `batch` (the last may be shorter).

    `text=False` skips building texts and token lists (vectors only, much faster).
    `noise` overrides `NOISE` (the calibration uses it).
    """
    pool = pool or load_pool()
    noise = dict(NOISE if noise is None else noise)
    made, article = 0, 0
    # Articles drawn but not yet fully emitted: (number, ordinals, sentences, jitter, gauss).
    pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
    while made < n:
        take = min(batch, n - made)
        while sum(len(p[1]) for p in pending) < take:
            sentences, jitter, gauss = _article(pool, seed, article)
            pending.append((article, np.arange(len(sentences)), sentences, jitter, gauss))
            article += 1
        parts, rest, need = [], [], take
        for number, ordinals, sentences, jitter, gauss in pending:
            k = min(need, len(ordinals))
            if k:
                parts.append((np.full(k, number), ordinals[:k], sentences[:k], jitter[:k],
                              {m: g[:k] for m, g in gauss.items()}))
            if k < len(ordinals):  # the article continues in the next batch
                rest.append((number, ordinals[k:], sentences[k:], jitter[k:],
                             {m: g[k:] for m, g in gauss.items()}))
            need -= k
        pending = rest
        arts = np.concatenate([p[0] for p in parts])
        sentences = np.concatenate([p[2] for p in parts])
        vectors = _vectors(pool, sentences, np.concatenate([p[3] for p in parts]),
                           {m: np.concatenate([p[4][m] for p in parts]) for m in MODELS}, noise)
        result = SyntheticBatch(
            ids=np.arange(made, made + take, dtype=np.int64),
            article_ids=[f"syn-{a:07d}" for a in arts],
            ordinals=np.concatenate([p[1] for p in parts]),
            sentences=sentences,
            vectors=vectors,
        )
        if text:
            result.texts = [" ".join(pool.sentences[i] for i in row if i >= 0) for row in sentences]
            result.tokens = [[t for i in row if i >= 0 for t in pool.tokens[i]] for row in sentences]
        made += take
        yield result


# --- calibration --------------------------------------------------------------------------

def embedded_passages(texts: list[str], name: str, models=None, progress: bool = False) -> dict[str, np.ndarray]:
    """`texts` embedded as passages by both models, cached as `<name>-<key>.npz` (the key
    hashes the texts and the model names)."""
    from index.aux_embedder import USE_MODEL

    model = Settings.from_env().model
    key = hashlib.sha256("\0".join([model, USE_MODEL, *texts]).encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{key}.npz"
    if path.exists():
        with np.load(path) as data:
            return {m: data[m] for m in MODELS}
    e5, use = models or load_models()
    vectors = {"e5": e5.embed_passages(texts, progress=progress),
               "use": use.embed_passages(texts, progress=progress)}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, allow_pickle=False, **vectors)
    return vectors


def real_paragraph_vectors(xquad_dir: Path = DEFAULT_XQUAD, models=None) -> dict[str, np.ndarray]:
    """The 240 real XQuAD-ar paragraphs embedded as chunks by both models (cached)."""
    return embedded_passages(xquad_paragraphs(xquad_dir), "real-xquad", models)


def real_windows(xquad_dir: Path = DEFAULT_XQUAD, seeds_dir: Path = DEFAULT_SEEDS) -> list[str]:
    """Every run of 3-6 consecutive pool sentences of one XQuAD paragraph or seed article.

    Real chunks (real text, embedded for real) at the only scale real data allows here
    (~2k), used to check that approximate search finds synthetic chunks as hard as real
    ones at the same N (`bench/ann_choice.py --realism`).
    """
    low, high = SENTENCES_PER_CHUNK
    out = []
    for text in [*xquad_paragraphs(xquad_dir), *seed_texts(seeds_dir)]:
        sentences = split_sentences(text)
        for length in range(low, high + 1):
            out += [" ".join(sentences[i:i + length]) for i in range(len(sentences) - length + 1)]
    return out


def real_window_vectors(xquad_dir: Path = DEFAULT_XQUAD, seeds_dir: Path = DEFAULT_SEEDS,
                        models=None) -> dict[str, np.ndarray]:
    """`real_windows` embedded as passages by both models (cached)."""
    return embedded_passages(real_windows(xquad_dir, seeds_dir), "real-windows", models, progress=True)


def neighbour_similarities(vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Per vector: cosine of its nearest other vector, mean cosine of its 10 nearest."""
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    top = -np.sort(-sim, axis=1)[:, :10]
    upper = sim[np.triu_indices(len(sim), k=1)]
    return {"top1": top[:, 0], "top10": top.mean(axis=1), "pairs": upper}


def _quantile_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance between two samples, from their quantile functions."""
    qs = np.linspace(0.01, 0.99, 99)
    return float(np.mean(np.abs(np.quantile(a, qs) - np.quantile(b, qs))))


def _summary(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {"mean": round(float(values.mean()), 4), "p10": round(float(p10), 4),
            "p50": round(float(p50), 4), "p90": round(float(p90), 4)}


def recipe_check(pool: Pool, xquad_dir: Path, real: dict[str, np.ndarray]) -> dict[str, object]:
    """How well the recipe without noise reproduces each real paragraph from its own sentences.

    cos(real paragraph vector, normalized word-weighted mean of its sentences' vectors);
    the residual relative to the mean, sqrt(1 - c^2) / c, is the noise norm that would
    turn the recipe into the real vector (if the residual were pure noise).
    """
    index = {s: i for i, s in enumerate(pool.sentences)}
    out: dict[str, object] = {}
    counts = []
    for model in MODELS:
        cosines = []
        for p, paragraph in enumerate(xquad_paragraphs(xquad_dir)):
            ids = [index[s] for s in split_sentences(paragraph) if s in index]
            if model == "e5":
                counts.append(len(ids))
            if not ids:
                continue
            mean = (pool.words[ids, None] * pool.vectors[model][ids]).sum(axis=0)
            cosines.append(float(real[model][p] @ (mean / np.linalg.norm(mean))))
        c = np.clip(np.array(cosines), -1.0, 1.0)
        out[model] = {"cos_real_vs_recipe": _summary(c),
                      "implied_sigma_p50": round(float(np.median(np.sqrt(1 - c**2) / c)), 3)}
    out["sentences_per_paragraph"] = _summary(np.array(counts, dtype=float))
    return out


class CalibrationRow(TypedDict):
    """One model and noise scale: the neighbour-similarity summaries of its synthetic
    chunks and their distance (`gap`) from the real ones."""

    model: str
    sigma: float
    gap: float
    top1: dict[str, float]
    top10: dict[str, float]
    pairs: dict[str, float]


class Calibration(TypedDict):
    real: dict[str, dict[str, dict[str, float]]]  # model -> statistic -> summary
    synthetic: list[CalibrationRow]
    best_sigma: dict[str, float]
    pool_sentences: int
    repeats: int
    set_size: int
    recipe_check: NotRequired[dict[str, object]]


def calibrate(
    pool: Pool, real: dict[str, np.ndarray], sigmas: list[float], repeats: int = 10,
    progress: bool = True,
) -> Calibration:
    """Neighbour-similarity distributions of real vs synthetic chunks, per model and sigma.

    The synthetic side is `repeats` independent sets (seeds 1000, 1001, ...) of as many
    chunks as there are real paragraphs (240), each the first chunks of
    `synthetic_chunks`, i.e. articles of ~10 chunks, as the benchmark generates them.
    """
    from tqdm import tqdm

    size = len(next(iter(real.values())))
    real_stats = {m: neighbour_similarities(real[m]) for m in MODELS}
    rows: list[CalibrationRow] = []
    for sigma in tqdm(sigmas, desc="calibrate", disable=not progress, file=sys.stderr):
        stats: dict[str, dict[str, list[np.ndarray]]] = {m: {"top1": [], "top10": [], "pairs": []} for m in MODELS}
        for r in range(repeats):
            (batch,) = synthetic_chunks(size, seed=1000 + r, batch=size, pool=pool, text=False,
                                        noise={m: sigma for m in MODELS})
            for m in MODELS:
                for key, values in neighbour_similarities(batch.vectors[m]).items():
                    stats[m][key].append(values)
        for m in MODELS:
            syn = {k: np.concatenate(v) for k, v in stats[m].items()}
            rows.append({
                "model": m, "sigma": sigma,
                "gap": round(_quantile_gap(syn["top1"], real_stats[m]["top1"])
                             + _quantile_gap(syn["top10"], real_stats[m]["top10"]), 4),
                "top1": _summary(syn["top1"]), "top10": _summary(syn["top10"]), "pairs": _summary(syn["pairs"]),
            })
    best = {m: min((r for r in rows if r["model"] == m), key=lambda r: r["gap"]) for m in MODELS}
    return {
        "real": {m: {k: _summary(v) for k, v in real_stats[m].items()} for m in MODELS},
        "synthetic": rows,
        "best_sigma": {m: best[m]["sigma"] for m in MODELS},
        "pool_sentences": len(pool),
        "repeats": repeats,
        "set_size": size,
    }


def _print_calibration(result: Calibration) -> None:
    def fmt(s: dict[str, float]) -> str:
        return f"{s['p10']:.3f}/{s['p50']:.3f}/{s['p90']:.3f}"

    print("neighbour cosine among 240 chunks, p10/p50/p90 (gap = W1(top1) + W1(top10))")
    print(f"{'model':5} {'set':>12} {'top-1':>20} {'mean top-10':>20} {'random pair':>20} {'gap':>7}")
    for m in MODELS:
        real = result["real"][m]
        print(f"{m:5} {'real':>12} {fmt(real['top1']):>20} {fmt(real['top10']):>20} "
              f"{fmt(real['pairs']):>20}")
        for row in result["synthetic"]:
            if row["model"] == m:
                mark = " *" if row["sigma"] == result["best_sigma"][m] else ""
                print(f"{m:5} {'sigma=' + str(row['sigma']):>12} {fmt(row['top1']):>20} "
                      f"{fmt(row['top10']):>20} {fmt(row['pairs']):>20} {row['gap']:>7.4f}{mark}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["pool", "calibrate", "sample"])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--sigmas", default="0,0.2,0.4,0.6,0.8,1.0,1.2,1.5",
                        help="noise scales to try (calibrate)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("-n", type=int, default=3, help="chunks to print (sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the calibration result here")
    args = parser.parse_args(argv)

    pool = load_pool(args.xquad, args.seeds)
    if args.command == "pool":
        lengths = np.array([len(t) for t in pool.tokens])
        print(f"pool {pool.key}: {len(pool)} sentences, {pool.words.mean():.1f} words and "
              f"{lengths.mean():.1f} search tokens on average; cached in {cache_dir()}")
    elif args.command == "calibrate":
        real = real_paragraph_vectors(args.xquad)
        sigmas = [float(s) for s in args.sigmas.split(",")]
        result = calibrate(pool, real, sigmas, args.repeats)
        result["recipe_check"] = recipe_check(pool, args.xquad, real)
        _print_calibration(result)
        print("recipe check (real paragraph vs recipe from its own sentences, no noise):")
        print(json.dumps(result["recipe_check"], indent=1))
        print(f"best sigma: {result['best_sigma']}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    else:
        (batch,) = synthetic_chunks(args.n, seed=args.seed, batch=args.n, pool=pool)
        assert batch.texts is not None and batch.tokens is not None  # made with text=True
        for i in range(len(batch)):
            print(f"{batch.article_ids[i]} #{batch.ordinals[i]} sentences {batch.sentences[i].tolist()}")
            print(f"  text: {batch.texts[i][:300]}")
            print(f"  tokens: {batch.tokens[i][:20]}")


if __name__ == "__main__":
    main()
