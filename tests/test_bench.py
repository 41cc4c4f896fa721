"""`qa bench` end to end on the seed questions, plus its dataset readers."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import qa.bench
from index.aux_embedder import AuxEmbedder
from index.config import Settings
from index.embedder import Embedder
from qa.answer import Answer, Citation
from qa.bench import (
    LATENCY_KEYS, BenchQuestion, answer_outcome, answer_rates, index_cache_key, index_identity, load_haystack,
    arcd_datasets, read_questions, sample_haystack, xquad_datasets,
)
from qa.metrics import METRIC_KEYS
from qa.retriever import Passage
from qa.translation import DICTIONARIES, dictionary_file

ROOT = Path(__file__).resolve().parent.parent


def passage(source: str, text: str) -> Passage:
    return Passage(1, 0.5, text, source, "t", None, 0, len(text))


def test_relevance_needs_gold_article_and_normalized_gold_text():
    q = BenchQuestion("?", "a", ("إلى روسيا",))
    assert q.is_relevant(passage("a", "زيارة الى روسيا اليوم"))  # alef forms unified
    assert not q.is_relevant(passage("b", "زيارة إلى روسيا"))
    assert not q.is_relevant(passage("a", "زيارة إلى موسكو"))
    assert BenchQuestion("?", "a").is_relevant(passage("a", "anything"))


def write_xquad(folder: Path, questions: dict[str, tuple[str, str]]) -> None:
    """XQuAD files: Arabic paragraphs, and per language the questions q1 and q2."""
    contexts = {"ar": ("نص عربي أول", "نص عربي ثان")}
    for lang, (first, second) in questions.items():
        one, two = contexts.get(lang, ("x", "y"))
        data = {"data": [{"title": "Super Bowl", "paragraphs": [
            {"context": one, "qas": [{"id": "q1", "question": first, "answers": []}]},
            {"context": two, "qas": [{"id": "q2", "question": second, "answers": []}]},
        ]}]}
        (folder / f"xquad.{lang}.json").write_text(json.dumps(data, ensure_ascii=False),
                                                  encoding="utf-8")


def test_xquad_reader_builds_parallel_question_sets(tmp_path):
    write_xquad(tmp_path, {"ar": ("سؤال؟", "سؤال ٢؟"), "en": ("Q one?", "Q two?")})
    en_set, ar_set = xquad_datasets(tmp_path)
    assert [a.text for a in en_set.articles] == ["نص عربي أول", "نص عربي ثان"]
    assert all(a.title == "" for a in en_set.articles)  # English titles are not indexed
    assert [(q.question, q.gold_source) for q in en_set.questions] == [
        ("Q one?", "xquad-000"), ("Q two?", "xquad-001")]
    assert [q.question for q in ar_set.questions] == ["سؤال؟", "سؤال ٢؟"]
    assert ar_set.shares_index_with == "xquad-en-ar"


def write_arcd(folder: Path) -> None:
    """ARCD's two files: one article each, the first with two paragraphs."""
    files = {
        "arcd-train.json": [{"title": "الكويت", "paragraphs": [
            {"context": "الكويت دولة عربية.", "qas": [{"id": "t1", "question": "ما هي الكويت؟", "answers": []}]},
            {"context": "عاصمتها مدينة الكويت.", "qas": [
                {"id": "t2", "question": "ما عاصمة الكويت؟", "answers": []},
                {"id": "t3", "question": "أين تقع العاصمة؟", "answers": []}]},
        ]}],
        "arcd-test.json": [{"title": "عمان", "paragraphs": [
            {"context": "سلطنة عمان في الخليج.", "qas": [{"id": "s1", "question": "أين تقع عمان؟", "answers": []}]},
        ]}],
    }
    for name, data in files.items():
        (folder / name).write_text(json.dumps({"data": data}, ensure_ascii=False), encoding="utf-8")


def test_arcd_reader_indexes_both_files_and_matches_translations_by_question_id(tmp_path):
    write_arcd(tmp_path)
    translated = tmp_path / "translated.jsonl"
    translated.write_text("\n".join(json.dumps(r) for r in [
        {"id": "s1", "question": "Where is Oman?", "lang": "en"},
        {"id": "t2", "question": "What is the capital of Kuwait?", "lang": "en"},
        {"id": "t1", "question": "Was ist Kuwait?", "lang": "de"},
    ]) + "\n", encoding="utf-8")
    arabic, english, german = arcd_datasets(tmp_path, [translated])
    assert [a.id for a in arabic.articles] == ["arcd-000", "arcd-001", "arcd-002"]
    assert all(a.title == "" for a in arabic.articles)  # no titles, as XQuAD's
    assert [(q.question, q.gold_source, q.lang) for q in arabic.questions] == [
        ("ما هي الكويت؟", "arcd-000", "ar"), ("ما عاصمة الكويت؟", "arcd-001", "ar"),
        ("أين تقع العاصمة؟", "arcd-001", "ar"), ("أين تقع عمان؟", "arcd-002", "ar")]
    assert (english.name, german.name) == ("arcd-en-ar", "arcd-de-ar")
    assert [(q.question, q.gold_source) for q in english.questions] == [
        ("Where is Oman?", "arcd-002"), ("What is the capital of Kuwait?", "arcd-001")]
    assert english.shares_index_with == german.shares_index_with == "arcd-ar-ar"
    assert english.articles == arabic.articles

    translated.write_text(json.dumps({"id": "nope", "question": "?", "lang": "en"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1 .*no ARCD question has id 'nope'"):
        arcd_datasets(tmp_path, [translated])
    (tmp_path / "arcd-test.json").unlink()
    with pytest.raises(SystemExit, match="no arcd-test.json"):
        arcd_datasets(tmp_path)


def test_held_out_indexes_even_articles_and_leaves_questions_about_the_others_unanswered(tmp_path):
    """ARCD's first article (two paragraphs) is article 0, kept; the second file's is
    article 1, held out: its paragraph is not a document and its questions have no answer."""
    write_arcd(tmp_path)
    translated = tmp_path / "translated.jsonl"
    translated.write_text("\n".join(json.dumps(r) for r in [
        {"id": "s1", "question": "Where is Oman?", "lang": "en"},
        {"id": "t2", "question": "What is the capital of Kuwait?", "lang": "en"},
    ]) + "\n", encoding="utf-8")
    arabic, english = arcd_datasets(tmp_path, [translated], held_out=True)
    assert (arabic.name, english.name) == ("arcd-ar-ar-held-out", "arcd-en-ar-held-out")
    assert english.shares_index_with == "arcd-ar-ar-held-out"
    assert [a.id for a in arabic.articles] == ["arcd-000", "arcd-001"]
    assert [(q.question, q.gold_source) for q in arabic.questions] == [
        ("ما هي الكويت؟", "arcd-000"), ("ما عاصمة الكويت؟", "arcd-001"),
        ("أين تقع العاصمة؟", "arcd-001"), ("أين تقع عمان؟", None)]
    assert [(q.question, q.answerable) for q in english.questions] == [
        ("Where is Oman?", False), ("What is the capital of Kuwait?", True)]

    write_xquad(tmp_path, {"ar": ("سؤال؟", "سؤال ٢؟"), "en": ("Q one?", "Q two?")})
    en_set, _ = xquad_datasets(tmp_path, held_out=True)  # one article: kept whole
    assert en_set.name == "xquad-en-ar-held-out" and len(en_set.articles) == 2
    assert all(q.answerable for q in en_set.questions)


def test_held_out_needs_a_squad_dataset(capsys):
    with pytest.raises(SystemExit, match="--held-out needs --xquad DIR or --arcd DIR"):
        qa.bench.main(["--corpus", str(ROOT / "seeds"), "--questions",
                    str(ROOT / "tests/data/seed_questions.jsonl"), "--held-out"])


#: Our translated ARCD questions: file -> (languages, how many of the English 200, the first).
TRANSLATED_ARCD = {"arcd_translated.jsonl": (("en",), 200),
                   "arcd_translated_de_es_fr_ru_tr.jsonl": (("de", "es", "fr", "ru", "tr"), 200),
                   "arcd_translated_hi.jsonl": (("hi",), 200), "arcd_translated_it_pt.jsonl": (("it", "pt"), 100),
                   "arcd_translated_zh.jsonl": (("zh",), 100)}


@pytest.mark.parametrize(("name", "languages", "count"), [(name, *spec) for name, spec in TRANSLATED_ARCD.items()])
def test_shipped_arcd_translations_name_real_arcd_questions(name, languages, count):
    """Our translated ARCD questions: the same ones in each language (the first `count`
    of the English 200), every id one of ARCD's (when the data is here)."""
    rows = [json.loads(line) for line in (ROOT / "tests/data" / name).read_text(encoding="utf-8").splitlines()]
    english = [json.loads(line)["id"] for line in (ROOT / "tests/data/arcd_translated.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert len(english) == 200 and len(set(english)) == 200
    for language in languages:
        mine = [r for r in rows if r["lang"] == language]
        assert [r["id"] for r in mine] == english[:count] and all(r["question"].strip() for r in mine)
    assert len(rows) == count * len(languages)
    arcd = ROOT.parent / "shared/data/arcd"
    if not (arcd / "arcd-train.json").is_file():
        pytest.skip(f"ARCD is not at {arcd}")
    arabic, *translated = arcd_datasets(arcd, [ROOT / "tests/data" / name])
    assert len(arabic.articles) == 465 and len(arabic.questions) == 1395
    assert [d.name for d in translated] == [f"arcd-{language}-ar" for language in languages]
    assert all(len(d.questions) == count for d in translated)


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
         "--questions", str(ROOT / "tests/data/unanswerable_questions.jsonl"), "--answers",
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
    if seed_bench["backend"] == "onnx-int8":  # the bundled e5's questions run in its own 4 bits
        assert seed_bench["question_weights"] == "4-bit"
    # The dictionary English questions were translated with (make test fetches FreeDict's).
    found = dictionary_file(Settings.from_env().dictionary, "en")
    assert seed_bench["dictionary"] == ("freedict-eng-ara" if found else None)
    # and the languages translated through it, English's with it.
    languages = seed_bench["translated_languages"]
    assert ("en" in languages) == bool(found) and set(languages) <= set(DICTIONARIES)


def test_answers_are_scored_beside_retrieval(seed_bench):
    seeds = seed_bench["datasets"]["seed_questions"]["answers"]
    negatives = seed_bench["datasets"]["unanswerable_questions"]
    assert (seeds["answerable"], seeds["unanswerable"]) == (56, 0) and seeds["false_answers"] is None
    # three shares rounded to 4 decimals: their sum is 1 within 3 x 0.00005
    assert seeds["answered_right"] + seeds["answered_wrong"] + seeds["abstained"] == pytest.approx(1, abs=1.5e-4)
    assert seeds["answered_right"] >= 0.5  # the seed questions are mostly answered right
    assert set(seeds["by_language"]) >= {"en", "ar"}
    assert 0 < seeds["answer_ms_p50"] <= seeds["answer_ms_p95"]
    # Questions nothing answers are not ranked, only answered (or, rightly, refused).
    assert negatives["configs"] == {} and negatives["index_shared_with"] == "seed_questions"
    assert (negatives["answers"]["answerable"], negatives["answers"]["unanswerable"]) == (0, 26)
    assert 0 <= negatives["answers"]["false_answers"] <= 1


def _answer(passages: list[Passage], cited: list[int], abstained: bool = False) -> Answer:
    citations = tuple(Citation.of(p) for p in passages if p.rank in cited)
    return Answer("q?", "q?", "" if abstained else "text [1]", abstained, tuple(passages), citations, "en")


def test_an_answer_is_right_when_it_cites_a_right_article():
    right, wrong = passage("gold", "نص"), passage("other", "نص")
    right, wrong = replace(right, rank=2), replace(wrong, rank=1)
    answerable = BenchQuestion("q?", ("gold", "gold-copy"))
    unanswerable = BenchQuestion("q?", None)
    assert answer_outcome(answerable, _answer([wrong, right], [1, 2])) == "right"
    assert answer_outcome(answerable, _answer([wrong, right], [1])) == "wrong"
    assert answer_outcome(answerable, _answer([wrong, right], [], abstained=True)) == "abstained"
    assert answer_outcome(unanswerable, _answer([wrong], [1])) == "false_answer"
    assert answer_outcome(unanswerable, _answer([wrong], [], abstained=True)) == "refused"
    rates = answer_rates(["right", "right", "wrong", "abstained", "refused", "false_answer"], [1.0] * 6)
    assert (rates["answerable"], rates["answered_right"], rates["answered_wrong"]) == (4, 0.5, 0.25)
    assert (rates["unanswerable"], rates["false_answers"]) == (2, 0.5)


def test_default_meets_the_seed_target_and_never_loses_to_dense(seed_bench):
    configs = seed_bench["datasets"]["seed_questions"]["configs"]
    assert configs["default"]["recall@5"] >= 0.95
    assert configs["default"]["mrr@10"] >= configs["dense"]["mrr@10"]


def test_xquad_reader_takes_any_language_and_shares_one_index(tmp_path):
    write_xquad(tmp_path, {"ar": ("سؤال؟", "سؤال ٢؟"), "en": ("Q one?", "Q two?"),
                           "de": ("Frage eins?", "Frage zwei?")})
    datasets = xquad_datasets(tmp_path, ["de", "ar"])
    assert [d.name for d in datasets] == ["xquad-de-ar", "xquad-ar-ar"]
    assert [d.shares_index_with for d in datasets] == [None, "xquad-de-ar"]
    assert [(q.question, q.gold_source, q.lang) for q in datasets[0].questions] == [
        ("Frage eins?", "xquad-000", "de"), ("Frage zwei?", "xquad-001", "de")]
    with pytest.raises(SystemExit, match="xquad.zh.json"):
        xquad_datasets(tmp_path, ["zh"])


def test_gold_source_may_list_several_articles(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"question": "old?", "gold_source": "a"}\n'
        '{"question": "wire?", "gold_source": ["a", "b"], "gold_text": ["روسيا"], "lang": "ar"}\n',
        encoding="utf-8")
    old, wire = read_questions(path)
    assert (old.gold_source, old.gold_sources, old.lang) == ("a", ("a",), None)
    assert wire.gold_sources == ("a", "b") and wire.lang == "ar"
    assert wire.is_relevant(passage("b", "زيارة الى روسيا"))
    assert not wire.is_relevant(passage("c", "زيارة الى روسيا"))
    path.write_text('{"question": "?", "gold_source": []}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1"):
        read_questions(path)


HAYSTACK = [
    {"id": "snn-1", "title": "الأمطار في جدة", "date": "2015-07-21", "outlet": "okaz",
     "text": "هطلت أمطار غزيرة على مدينة جدة أمس وأغلقت عدة طرق رئيسية في المدينة."},
    {"id": "snn-2", "title": "سوق الأسهم", "outlet": "aleqt",
     "text": "ارتفع مؤشر سوق الأسهم السعودية في ختام تعاملات اليوم بدعم من قطاع البنوك."},
    {"id": "snn-3", "title": "", "text": ""},  # skipped by the reader, as `qa index` skips it
    {"id": "snn-4", "title": "كرة القدم", "text": "فاز نادي الهلال على نادي النصر بهدفين مقابل هدف في الدوري."},
    {"id": "snn-5", "title": "التعليم", "text": "أعلنت وزارة التعليم موعد بدء العام الدراسي الجديد في المدارس."},
    {"id": "snn-6", "title": "الحج", "text": "استعدت مكة المكرمة لاستقبال ضيوف الرحمن في موسم الحج هذا العام."},
    {"id": "snn-7", "title": "النفط", "text": "استقرت أسعار النفط في الأسواق العالمية بعد قرار أوبك الأخير."},
]


@pytest.fixture(scope="module")
def haystack_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("haystack") / "news.jsonl.gz"
    lines = "\n".join(json.dumps(a, ensure_ascii=False) for a in HAYSTACK) + "\n"
    path.write_bytes(gzip.compress(lines.encode("utf-8")))
    return path


def test_haystack_is_read_in_file_order_and_sampled_like_random_sample(haystack_file):
    articles = load_haystack(haystack_file)
    assert [a.id for a in articles] == ["snn-1", "snn-2", "snn-4", "snn-5", "snn-6", "snn-7"]
    assert articles[0].outlet == "okaz" and articles[0].date == "2015-07-21"
    for seed in (1, 2, 12345):
        random.seed(seed)
        expected = random.sample(articles, 4)
        assert sample_haystack(articles, 4, seed) == expected
        assert sample_haystack(articles, 4, seed) == expected  # and again: deterministic
    with pytest.raises(SystemExit, match="haystack-size"):
        sample_haystack(articles, 7, 1)


def test_cache_key_covers_everything_that_changes_the_index(haystack_file, monkeypatch):
    articles = load_haystack(haystack_file)
    settings = Settings()
    key = index_cache_key(index_identity(articles, settings))
    assert key == index_cache_key(index_identity(list(articles), replace(
        settings, index_dir=Path("elsewhere"), max_question_chars=10)))  # not index inputs
    changed = [
        index_identity(articles, replace(settings, backend="torch")),
        index_identity(articles, replace(settings, aux_model="none")),
        index_identity(articles, replace(settings, model="intfloat/multilingual-e5-small")),
        index_identity(articles, replace(settings, chunk_tokens=128)),
        index_identity(articles, replace(settings, chunk_overlap_tokens=0)),
        index_identity(articles, replace(settings, sentence_vectors="in-context")),
        index_identity(articles[:-1], settings),
        index_identity([replace(articles[0], text="نص آخر"), *articles[1:]], settings),
    ]
    monkeypatch.setattr(qa.bench, "index_code_hash", lambda: "edited index/ code")
    changed.append(index_identity(articles, settings))
    assert len({key, *map(index_cache_key, changed)}) == len(changed) + 1


def test_index_code_hash_covers_the_subpackages(tmp_path, monkeypatch):
    import index

    package = tmp_path / "index"
    (package / "onnx").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "onnx" / "runtime.py").write_text("A = 1\n", encoding="utf-8")
    monkeypatch.setattr(index, "__file__", str(package / "__init__.py"))
    before = qa.bench.index_code_hash()
    (package / "onnx" / "runtime.py").write_text("A = 2\n", encoding="utf-8")
    assert qa.bench.index_code_hash() != before


@pytest.fixture(scope="module")
def haystack_bench(tmp_path_factory, haystack_file):
    """`qa bench --haystack --index-cache` run twice in-process on a tiny corpus; the
    second run must not embed a single passage. Returns both JSON results, the second
    run's stdout and its plot."""
    tmp = tmp_path_factory.mktemp("haystack-bench")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "lavrov.txt").write_text(
        "لافروف في الكويت\n\nبحث وزير الخارجية الروسي سيرغي لافروف مع نظيره الكويتي "
        "تطورات الأوضاع في المنطقة والتعاون في مجال الطاقة.\n", encoding="utf-8")
    (corpus / "lavrov-wire.txt").write_text(
        "لافروف يزور الكويت\n\nوصل وزير الخارجية الروسي سيرغي لافروف إلى الكويت في زيارة "
        "رسمية يبحث خلالها العلاقات الثنائية.\n", encoding="utf-8")
    questions = tmp / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        {"question": "Who did Lavrov meet in Kuwait?", "gold_source": ["lavrov", "lavrov-wire"],
         "lang": "en"},
        {"question": "ماذا بحث لافروف في الكويت؟", "gold_source": "lavrov", "lang": "ar"},
        {"question": "What did Lavrov discuss about energy?", "gold_source": "lavrov", "lang": "en"},
    ]) + "\n", encoding="utf-8")
    args = ["--corpus", str(corpus), "--questions", str(questions), "--haystack",
            str(haystack_file), "--haystack-size", "4", "--seed", "3",
            "--index-cache", str(tmp / "cache"), "--configs", "dense,default"]
    return tmp, args


def _bench(tmp: Path, args: list[str], name: str, *extra: str) -> dict:
    out = tmp / f"{name}.json"
    assert qa.bench.main([*args, "--json", str(out), *extra]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_haystack_bench_reports_languages_and_reuses_its_cached_index(
    haystack_bench, haystack_file, embedder, monkeypatch, capsys
):
    tmp, args = haystack_bench
    aux = AuxEmbedder()
    monkeypatch.setattr(qa.bench, "Embedder", lambda settings: embedder)  # one model load
    monkeypatch.setattr(qa.bench, "AuxEmbedder", lambda: aux)
    first = _bench(tmp, args, "first")
    dataset = first["datasets"]["questions-haystack"]
    assert dataset["documents"] == 2 + 4 and dataset["questions"] == 3
    assert dataset["index_cached"] is False and dataset["chunks"] >= 6
    assert first["haystack"] == {"file": str(haystack_file), "articles_in_file": 6, "size": 4, "seed": 3}
    assert first["cpu"]["simd"]
    for metrics in dataset["configs"].values():
        by_language = metrics["by_language"]
        assert set(by_language) == {"ar", "en"}
        assert [by_language[lang]["n_questions"] for lang in ("ar", "en")] == [1, 2]
        assert set(METRIC_KEYS) | set(LATENCY_KEYS) <= set(by_language["en"])
    capsys.readouterr()

    def no_embedding(*_args, **_kwargs):
        raise AssertionError("a cached index must not be embedded again")

    monkeypatch.setattr(Embedder, "embed_passages", no_embedding)
    monkeypatch.setattr(AuxEmbedder, "embed_passages", no_embedding)
    plot = tmp / "second.png"
    second = _bench(tmp, args, "second", "--plot", str(plot))
    again = second["datasets"]["questions-haystack"]
    assert again["index_cached"] is True and again["index_cache"] == dataset["index_cache"]
    assert again["chunks"] == dataset["chunks"]
    assert again["index_build_s"] == dataset["index_build_s"]  # of the run that built it
    for config, metrics in again["configs"].items():
        assert metrics["mrr@10"] == dataset["configs"][config]["mrr@10"]
    stdout = capsys.readouterr().out
    assert "questions-haystack[ar]" in stdout and "questions-haystack[en]" in stdout
    assert "reused from cache" in stdout and "haystack" in stdout.splitlines()[2]
    assert plot.stat().st_size > 10_000


def test_a_copy_folded_into_a_passage_is_a_right_answer():
    from qa.retriever import Copy

    folded = replace(passage("okaz-1", "نص"), also_in=(Copy("riyadh-7", "t", None, "الرياض"),))
    assert BenchQuestion("?", "riyadh-7").is_relevant(folded)
    assert not BenchQuestion("?", "other").is_relevant(folded)


def test_questions_about_the_archive_index_their_right_articles_and_share_one_index(
    tmp_path, haystack_file, embedder, monkeypatch
):
    aux = AuxEmbedder()
    monkeypatch.setattr(qa.bench, "Embedder", lambda settings: embedder)
    monkeypatch.setattr(qa.bench, "AuxEmbedder", lambda: aux)
    sampled = {a.id for a in sample_haystack(load_haystack(haystack_file), 2, 3)}
    outside = next(i for i in ("snn-1", "snn-2", "snn-4", "snn-5", "snn-6", "snn-7") if i not in sampled)
    first, second = tmp_path / "hajj.jsonl", tmp_path / "more.jsonl"
    first.write_text(json.dumps({"question": "What did the article say?", "gold_source": [outside],
                                 "lang": "en"}) + "\n", encoding="utf-8")
    second.write_text(json.dumps({"question": "ماذا قال المقال؟", "gold_source": outside, "lang": "ar"})
                      + "\n", encoding="utf-8")
    results = _bench(tmp_path, ["--questions", str(first), "--questions", str(second), "--haystack",
                                str(haystack_file), "--haystack-size", "2", "--seed", "3",
                                "--configs", "dense"], "archive")
    owner, other = results["datasets"]["hajj-haystack"], results["datasets"]["more-haystack"]
    assert owner["documents"] == 3 and other["index_shared_with"] == "hajj-haystack"
    assert owner["configs"]["dense"]["recall@10"] == 1.0  # its article was indexed, sampled or not
    with pytest.raises(SystemExit, match="needs the articles"):
        qa.bench.main(["--questions", str(first)])
    with pytest.raises(SystemExit, match="needs --arcd"):
        qa.bench.main(["--xquad", str(tmp_path), "--arcd-translated", str(first)])


def test_arcd_bench_asks_every_language_on_one_index(tmp_path, embedder, monkeypatch):
    aux = AuxEmbedder()
    monkeypatch.setattr(qa.bench, "Embedder", lambda settings: embedder)
    monkeypatch.setattr(qa.bench, "AuxEmbedder", lambda: aux)
    write_arcd(tmp_path)
    translated = tmp_path / "translated.jsonl"
    translated.write_text(json.dumps({"id": "s1", "question": "Where is Oman?", "lang": "en"}) + "\n",
                          encoding="utf-8")
    results = _bench(tmp_path, ["--arcd", str(tmp_path), "--arcd-translated", str(translated),
                                "--configs", "dense"], "arcd")
    arabic, english = results["datasets"]["arcd-ar-ar"], results["datasets"]["arcd-en-ar"]
    assert arabic["documents"] == 3 and arabic["questions"] == 4
    assert english["index_shared_with"] == "arcd-ar-ar" and english["questions"] == 1
    assert english["configs"]["dense"]["recall@10"] == 1.0  # three documents, top ten
