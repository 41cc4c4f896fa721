"""The index on Qdrant (index/store/qdrant/), against qdrant-client's local mode: the same
passages, scores and filters as the embedded store, publications that add, replace and
remove articles, and a publication that fails half-way leaving the previous state live.

The engine semantics the scoring relies on (sparse idf, filters inside the search,
max-sim) are checked against the engine's own core in tests/test_qdrant_engine.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.articles import Article
from index.builder import remove_articles, update_index
from index.config import Settings
from index.sources import ADDED, SourceStore
from index.store.reader import IndexReader
from index.errors import IndexMissingError, ModelMismatchError, QAError
from index.store.qdrant import schema
from index.store.qdrant.publish import publish
from index.store.qdrant.reader import QdrantLocation, QdrantReader
from qa.retriever import MODES, PassageFilter, Retriever
from server import qa_serve

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "tests/data/seed_questions.jsonl").open()]


@pytest.fixture
def writable(seed_settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the seed index that publishes to a fresh local-mode collection."""
    index_dir = tmp_path / ".qa"
    shutil.copytree(seed_settings.index_dir, index_dir)
    return replace(seed_settings, index_dir=index_dir, store=f"qdrant+local://{tmp_path}/qdrant/news")


@pytest.fixture
def both(writable: Settings, embedder, aux) -> tuple[Retriever, Retriever]:
    """Retrievers over the embedded seed index and over its publication to Qdrant."""
    assert writable.store and publish(writable.index_dir, writable.store, progress=False).generation == 1
    return Retriever(replace(writable, store=None), embedder, aux), Retriever(writable, embedder, aux)


def ranked(retriever: Retriever, question: str, mode: str, where: PassageFilter | None = None) -> list[tuple]:
    """What a reader sees of a search, chunk ids aside (each store numbers its own)."""
    return [(p.source, p.start, p.end, p.score, [c.source for c in p.also_in])
            for p in retriever.search(question, k=5, mode=mode, where=where)]


def assert_same_ranking(got: list[tuple], want: list[tuple], question: str) -> None:
    """The same passages in the same order, scores equal but for float rounding (the two
    stores add the same terms in another order; rounding both to 3 places once split
    1.1145 into 1.114 and 1.115)."""
    assert [r[:3] + r[4:] for r in got] == [r[:3] + r[4:] for r in want], question
    assert [r[3] for r in got] == pytest.approx([r[3] for r in want], abs=1e-4), question


@pytest.mark.parametrize("mode", MODES)
def test_every_seed_question_ranks_the_same_passages_on_both_stores(both, mode):
    embedded, qdrant = both
    assert isinstance(qdrant.reader, QdrantReader)
    for question in QUESTIONS:
        assert_same_ranking(ranked(qdrant, question, mode), ranked(embedded, question, mode), question)


def test_search_tokens_are_the_ones_the_embedded_store_keeps(both):
    """Qdrant keeps a chunk's distinct terms, not their order: its tokens are made again
    from the text, and must be what indexing stored (the proximity signal reads them)."""
    embedded, qdrant = both

    def by_place(reader, ids: list[int]) -> dict[tuple[str, int], list[str]]:
        rows, tokens = reader.chunks(ids), reader.search_tokens(ids)
        return {(rows[i].article_id, rows[i].ordinal): tokens[i] for i in rows}

    got = by_place(qdrant.reader, [p.chunk_id for q in QUESTIONS for p in qdrant.search(q, k=10)])
    want = by_place(embedded.reader, list(range(1, embedded.reader.size + 1)))
    assert len(got) > 10 and all(got[place] == want[place] for place in got)


def test_filters_run_inside_the_search_as_in_the_embedded_store(both):
    embedded, qdrant = both
    articles = embedded.reader.articles()
    assert qdrant.reader.articles() == articles
    dated = sorted(date[:10] for _, _, date in articles if date)
    for where in (PassageFilter(sources=(articles[-1][0],)), PassageFilter(date_from=dated[1]),
                  PassageFilter(date_to=dated[0]), PassageFilter(date_from=dated[0], date_to=dated[1])):
        for question in QUESTIONS[:6]:
            assert_same_ranking(ranked(qdrant, question, "default", where),
                                ranked(embedded, question, "default", where), question)
    chunks = len(embedded.reader.chunk_ids_where(sources=(articles[-1][0],)))
    only = qdrant.search(QUESTIONS[0], k=chunks, where=PassageFilter(sources=(articles[-1][0],)))
    assert len(only) == chunks and {p.source for p in only} == {articles[-1][0]}


def test_answers_quote_the_sentences_stored_in_qdrant(both):
    embedded, qdrant = both
    ids = [p.chunk_id for p in qdrant.search(QUESTIONS[0], k=3)]
    stored = qdrant.reader.sentences(ids)
    assert set(stored) == set(ids)
    for spans, vectors in stored.values():
        assert len(spans) == len(vectors) and vectors.shape[1] == qdrant.reader.manifest.dimension


def test_publications_add_replace_and_remove_articles(writable, embedder, aux):
    assert writable.store
    publish(writable.index_dir, writable.store, progress=False)
    location = QdrantLocation(writable.store)
    qdrant = Retriever(writable, embedder, aux)
    question = "What did the mayor of Tromsø say about the midnight sun festival?"
    text = "The mayor of Tromsø said the midnight sun festival drew a record number of visitors this summer."
    update_index([Article("tromso", "Tromsø festival", text, "2024-06-30", None)], writable,
                 embedder=embedder, aux_embedder=aux, progress=False)
    assert location.live() == 2
    assert qdrant.search(question, k=1)[0].source == "tromso"
    catalog = {p.payload["article_id"]: p.payload for p in schema.scroll(
        location.client, location.address.catalog, schema.live_filter(2), True) if p.payload}
    assert catalog["tromso"]["origin"] == ADDED and text in catalog["tromso"]["source"]["text"]
    assert set(catalog) == {a for a, _, _ in qdrant.reader.articles()}  # the catalog lives in the cluster
    replaced = text.replace("record number", "small number")
    update_index([Article("tromso", "Tromsø festival", replaced, "2024-06-30", None)], writable,
                 embedder=embedder, aux_embedder=aux, progress=False)
    assert location.live() == 3
    found = [p for p in qdrant.search(question, k=10) if p.source == "tromso"]
    assert [p.text for p in found] == [replaced]  # the old version is no longer searchable
    remove_articles(["tromso"], writable)
    assert location.live() == 4
    assert "tromso" not in {p.source for p in qdrant.search(question, k=10)}
    assert [a for a, _, _ in qdrant.reader.articles()] == [a for a, _, _ in
                                                            Retriever(replace(writable, store=None)).reader.articles()]
    # What the last publication removed stays a generation for readers mid-question; earlier removals are gone.
    points = location.client.count(location.address.collection, exact=True).count
    assert points == qdrant.reader.size + 1


def test_a_publication_that_fails_half_way_leaves_the_previous_state_live(writable, embedder, aux, monkeypatch):
    assert writable.store
    publish(writable.index_dir, writable.store, progress=False)
    location = QdrantLocation(writable.store)
    qdrant = Retriever(writable, embedder, aux)
    before = [ranked(qdrant, q, "default") for q in QUESTIONS[:5]]
    articles = [Article(f"extra{n}", f"Extra {n}", f"Extra article number {n} about the Gulf. " * 20, None, None)
                for n in range(3)]
    calls = {"n": 0}
    real_upsert = location.client.upsert

    def upsert_then_fail(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first batch of chunk points went in
            raise ConnectionError("connection reset by the engine")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(location.client, "upsert", upsert_then_fail)
    with pytest.raises(QAError, match="still answers from generation 1"):
        update_index(articles, writable, embedder=embedder, aux_embedder=aux, progress=False)
    monkeypatch.setattr(location.client, "upsert", real_upsert)
    assert location.live() == 1
    assert [ranked(qdrant, q, "default") for q in QUESTIONS[:5]] == before
    report = publish(writable.index_dir, writable.store, progress=False)  # the next run finishes the job
    assert report.generation == 2 and report.added == ["extra0", "extra1", "extra2"]
    live = location.client.count(location.address.collection, exact=True).count
    assert live == qdrant.reader.size  # nothing written twice


def test_a_fresh_writer_folder_reads_the_collection_back_and_goes_on_from_it(writable, tmp_path, embedder, aux):
    """A writer on another machine: its empty folder takes the collection's articles, vectors and sources
    back (nothing embedded), adds its own, publishes; the first folder is then behind and refused."""
    assert writable.store
    publish(writable.index_dir, writable.store, progress=False)
    fresh = replace(writable, index_dir=tmp_path / "elsewhere" / ".qa")
    text = "The mayor of Tromsø said the midnight sun festival drew a record number of visitors this summer."
    report = update_index([Article("tromso", "Tromsø festival", text, "2024-06-30", None)], fresh,
                          embedder=embedder, aux_embedder=aux, progress=False)
    assert report.added == ["tromso"] and not report.updated  # the seeds came back unchanged, not re-embedded
    location = QdrantLocation(writable.store)
    assert location.live() == 2
    first, second = IndexReader(writable.index_dir), IndexReader(fresh.index_dir)
    seeds = [a for a, _, _ in first.articles()]
    assert sorted(a for a, _, _ in second.articles()) == sorted(seeds + ["tromso"])
    for article in seeds:  # the same chunks, vectors and sentence vectors as the folder that embedded them
        mine, theirs = (r.chunk_ids_where(sources=[article]) for r in (first, second))
        rows = [{c.ordinal: c.text for c in r.chunks(ids.tolist()).values()} for r, ids in ((first, mine), (second, theirs))]
        assert rows[0] == rows[1]
        for aux_vectors in (False, True):
            assert np.allclose(first.vectors(mine.tolist(), aux_vectors), second.vectors(theirs.tolist(), aux_vectors))
        assert [s[0] for s in first.sentences(mine.tolist()).values()] == [s[0] for s in second.sentences(theirs.tolist()).values()]
    with SourceStore(fresh.index_dir) as kept:
        assert set(kept.origins()) == set(seeds) | {"tromso"}
    with pytest.raises(QAError, match="another index folder published since"):
        update_index([Article("other", "Other", "Another article about the Gulf.", None, None)], writable,
                     embedder=embedder, aux_embedder=aux, progress=False)
    assert location.live() == 2
    first.close()
    second.close()


def test_a_collection_of_other_models_is_refused(writable, tmp_path):
    assert writable.store
    publish(writable.index_dir, writable.store, progress=False)
    other = tmp_path / "other"
    shutil.copytree(writable.index_dir, other)
    manifest = other / (other / "CURRENT").read_text().strip() / "manifest.json"
    data = json.loads(manifest.read_text())
    data["aux_model"] = "another-model"
    data.pop("checksum")
    from index.store.manifest import _checksum

    data["checksum"] = _checksum(data)
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelMismatchError, match="publish to a new collection"):
        publish(other, writable.store, progress=False)


@pytest.mark.parametrize("url, message", [
    ("http://localhost:6333/news", "unknown store"),
    ("qdrant://localhost:6333/", "qdrant://HOST:PORT/COLLECTION"),
    ("qdrant://localhost:6333/news?shard=2", "unknown option"),
    ("qdrant+local://news", "qdrant\\+local://FOLDER/COLLECTION"),
])
def test_a_malformed_store_url_is_refused_before_any_work(url, message):
    with pytest.raises(QAError, match=message):
        Settings.from_env(store=url)


def test_an_empty_collection_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissingError, match="qa index --store"):
        QdrantLocation(f"qdrant+local://{tmp_path}/q/empty").open()


@pytest.mark.slow
def test_cli_indexes_into_qdrant_and_asks_it_with_nothing_local(tmp_path):
    """`qa index --store` then `qa ask --store` from another folder: the reader needs no index folder."""
    url = f"qdrant+local://{tmp_path}/qdrant/seeds"
    run = [sys.executable, "-m", "qa.cli"]
    env_dir = ["--index-dir", str(tmp_path / "writer")]
    indexed = subprocess.run([*run, "index", *env_dir, "--store", url, "--quiet", str(ROOT / "seeds")],
                             capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert indexed.returncode == 0, indexed.stderr
    assert f"and {url}" in indexed.stdout
    elsewhere = tmp_path / "reader"
    elsewhere.mkdir()
    asked = subprocess.run([*run, "ask", "--index-dir", str(elsewhere / ".qa"), "--store", url, "--json",
                            "What did Lavrov discuss with Kuwait's foreign minister?"],
                           capture_output=True, text=True, cwd=elsewhere, timeout=600)
    assert asked.returncode == 0, asked.stderr
    assert not (elsewhere / ".qa").exists()
    assert json.loads(asked.stdout)["passages"][0]["source"] == "002_717a5c15cf0cef70"
    schema._close_clients()


@pytest.mark.slow
def test_the_chat_answers_and_indexes_uploads_on_qdrant(writable, tmp_path):
    """`qa serve --store`: answers with citations from the collection; an upload is embedded by the
    server's writer and published to the collection, then found."""
    from gradio_client import Client, handle_file

    assert writable.store
    publish(writable.index_dir, writable.store, progress=False)
    schema._close_clients()  # local mode admits one process per folder: the server's now
    upload = tmp_path / "tromso-festival.txt"
    upload.write_text("Tromsø festival\n\nThe mayor of Tromsø said the midnight sun festival drew a record "
                      "number of visitors this summer, most of them from Finland.", encoding="utf-8")
    with qa_serve(writable.index_dir, tmp_path / "serve.log", extra_args=("--store", writable.store)) as url:
        client = Client(url, verbose=False)
        kuwait = client.submit("what did Lavrov discuss with Kuwait?", 5, [], api_name="/answer").result(timeout=120)
        assert "002_717a5c15cf0cef70" in {c["source"] for c in kuwait["citations"]}
        report, _ = client.predict([handle_file(str(upload))], api_name="/add_articles")
        assert "Indexed 1 new" in report, report
        festival = client.submit("Where did the festival's visitors come from?", 5, [],
                                 api_name="/answer").result(timeout=120)
        assert festival["passages"][0]["source"] == "tromso-festival"
    assert QdrantLocation(writable.store).live() == 2
    schema._close_clients()
