"""An index written before this version (commit b80129c, 2026-12-03) keeps working.

tests/data/legacy-index was made by that commit's `qa index` from
tests/data/legacy-articles (read then from /tmp/legacy_in): no kept sources, no
sentence vectors, no near-duplicate signatures. It must open and answer as it is, keep
all its articles, and gain what it lacks on its next write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.builder import build_index, rebuild_index
from index.config import Settings
from index.sources import SourceStore
from index.store.reader import IndexReader
from qa.retriever import Retriever

DATA = Path(__file__).resolve().parent / "data"
QUESTION = "When did Oman open a new port in Duqm?"


@pytest.fixture
def legacy(tmp_path) -> Settings:
    shutil.copytree(DATA / "legacy-index", tmp_path / "idx")
    return Settings.from_env(index_dir=tmp_path / "idx")


def test_an_old_index_answers_as_it_is(legacy, embedder, aux):
    reader = IndexReader(legacy.index_dir)
    assert set(reader.catalog.hashes()) == {"oman", "dates"}
    assert reader.sentences(range(1, 10)) == {} and reader.signatures(["oman"]) == {}
    assert Retriever(legacy, embedder, aux).search(QUESTION, k=1)[0].source == "oman"


def test_an_old_index_gains_sources_sentences_and_signatures_on_its_next_writes(legacy, tmp_path, embedder, aux):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(DATA / "legacy-articles" / "oman.txt", folder)
    (folder / "new.txt").write_text(
        "معرض الكتاب\n\nافتتح معرض الكتاب في الشارقة أبوابه للزوار بمشاركة دور نشر عربية كثيرة.",
        encoding="utf-8")
    report = build_index(folder, legacy, embedder=embedder, aux_embedder=aux, progress=False)
    assert report.added == ["new"] and report.unchanged == ["oman"] and not report.removed
    with SourceStore(legacy.index_dir) as sources:
        kept = {i: (origin, source.format) for i, origin, _, source in sources.articles()}
    assert kept == {"oman": (str(folder.resolve()), ".txt"), "dates": (None, "article"), "new": (str(folder.resolve()), ".txt")}
    reader = IndexReader(legacy.index_dir)
    assert set(reader.catalog.hashes()) == {"oman", "dates", "new"}
    assert set(reader.signatures(["oman", "dates", "new"])) == {"new"}  # old segment as it was
    assert Retriever(legacy, embedder, aux).search(QUESTION, k=1)[0].source == "oman"

    rebuild_index(legacy, embedder=embedder, aux_embedder=aux, progress=False)  # files not needed
    reader = IndexReader(legacy.index_dir)
    assert set(reader.signatures(["oman", "dates", "new"])) == {"oman", "dates", "new"}
    assert len(reader.sentences(range(1, 100))) == reader.size
