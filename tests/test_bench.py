"""`qa bench` end to end on the seed questions, plus its dataset readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.bench import LATENCY_KEYS, BenchQuestion, read_questions, xquad_datasets
from qa.metrics import METRIC_KEYS
from qa.retriever import Passage

ROOT = Path(__file__).resolve().parent.parent


def passage(source: str, text: str) -> Passage:
    return Passage(1, 0.5, text, source, "t", None, 0, len(text))


def test_relevance_needs_gold_article_and_normalised_gold_text():
    q = BenchQuestion("?", "a", ("إلى روسيا",))
    assert q.is_relevant(passage("a", "زيارة الى روسيا اليوم"))  # alef forms unified
    assert not q.is_relevant(passage("b", "زيارة إلى روسيا"))
    assert not q.is_relevant(passage("a", "زيارة إلى موسكو"))
    assert BenchQuestion("?", "a").is_relevant(passage("a", "anything"))


def test_xquad_reader_builds_parallel_question_sets(tmp_path):
    ar = {"data": [{"title": "Super Bowl", "paragraphs": [
        {"context": "نص عربي أول", "qas": [{"id": "q1", "question": "سؤال؟", "answers": []}]},
        {"context": "نص عربي ثان", "qas": [{"id": "q2", "question": "سؤال ٢؟", "answers": []}]},
    ]}]}
    en = {"data": [{"title": "Super Bowl", "paragraphs": [
        {"context": "x", "qas": [{"id": "q1", "question": "Q one?", "answers": []}]},
        {"context": "y", "qas": [{"id": "q2", "question": "Q two?", "answers": []}]},
    ]}]}
    (tmp_path / "xquad.ar.json").write_text(json.dumps(ar, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "xquad.en.json").write_text(json.dumps(en), encoding="utf-8")
    en_set, ar_set = xquad_datasets(tmp_path)
    assert [a.text for a in en_set.articles] == ["نص عربي أول", "نص عربي ثان"]
    assert all(a.title == "" for a in en_set.articles)  # English titles are not indexed
    assert [(q.question, q.gold_source) for q in en_set.questions] == [
        ("Q one?", "xquad-000"), ("Q two?", "xquad-001")]
    assert [q.question for q in ar_set.questions] == ["سؤال؟", "سؤال ٢؟"]
    assert ar_set.shares_index_with == "xquad-en-ar"


def test_seed_questions_file_is_valid_and_large_enough():
    questions = read_questions(ROOT / "tests/data/seed_questions.jsonl")
    assert len(questions) >= 40
    assert {q.gold_source for q in questions} == {p.stem for p in (ROOT / "seeds").glob("*.txt")}


@pytest.fixture(scope="module")
def seed_bench(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "out.json"
    plot = out.with_suffix(".png")
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "bench", "--corpus", str(ROOT / "seeds"),
         "--questions", str(ROOT / "tests/data/seed_questions.jsonl"),
         "--json", str(out), "--plot", str(plot)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "seed_questions" in result.stdout and "latency_ms_p95" in result.stdout
    assert plot.stat().st_size > 10_000
    return json.loads(out.read_text(encoding="utf-8"))


def test_bench_json_has_every_metric_for_every_config(seed_bench):
    configs = seed_bench["datasets"]["seed_questions"]["configs"]
    assert set(configs) == {"dense", "bm25", "default"}
    for metrics in configs.values():
        assert set(METRIC_KEYS) | set(LATENCY_KEYS) <= set(metrics)
        assert all(0 <= metrics[k] <= 1 for k in METRIC_KEYS)
        assert 0 < metrics["latency_ms_p50"] <= metrics["latency_ms_p95"]
    assert seed_bench["datasets"]["seed_questions"]["index_build_s"] > 0


def test_default_meets_the_seed_target_and_never_loses_to_dense(seed_bench):
    configs = seed_bench["datasets"]["seed_questions"]["configs"]
    assert configs["default"]["recall@5"] >= 0.95
    assert configs["default"]["mrr@10"] >= configs["dense"]["mrr@10"]
