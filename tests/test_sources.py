"""The kept sources and origins (index/sources.py): real SQLite files, real articles."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from index.articles import CLEAN, Article, Source, read_source
from index.errors import IndexCorruptError
from index.sources import ADDED, SOURCES, UPLOADED, SourceStore, folder_origin, is_folder_origin


def article(article_id: str, text: str, source: Source | None = None) -> Article:
    return Article(article_id, f"عنوان {article_id}", text, "2024-03-12", "عمان", f"/in/{article_id}.txt",
                   source or Source(".txt", f"عنوان {article_id}\n\n{text}"))


def kept(store: SourceStore) -> dict[str, tuple[str | None, Source]]:
    return {i: (origin, source) for i, origin, _, source in store.articles()}


def test_sources_round_trip_compressed_with_their_origins(tmp_path):
    a, b = article("a", "نص أول " * 200), article("b", "نص ثان")
    with SourceStore(tmp_path) as store:
        store.put([(a, "/news"), (b, UPLOADED)])
        assert kept(store) == {"a": ("/news", a.source), "b": (UPLOADED, b.source)}
        assert store.owned_by("/news") == ["a"] and store.origins(["b", "zz"]) == {"b": UPLOADED}
    db = sqlite3.connect(tmp_path / SOURCES)
    (stored,) = db.execute("SELECT length(data) FROM sources WHERE id = 'a'").fetchone()
    db.close()
    assert stored < len(a.source.text.encode()) // 10  # zlib: repeated Arabic text shrinks


def test_a_write_runs_ahead_then_keeps_only_what_went_live(tmp_path):
    old, new, gone = article("a", "قديم"), article("a", "جديد"), article("b", "يحذف")
    with SourceStore(tmp_path) as store:
        store.put([(old, ADDED), (gone, ADDED)])
        store.published("gen-000001", {"a": old.content_hash, "b": gone.content_hash}, ["a", "b"])
        assert store.synced == "gen-000001"
        store.put([(new, ADDED)])  # ahead of the next generation
        assert store.synced is None and len(list(store.origins())) == 2
        store.published("gen-000002", {"a": new.content_hash}, ["a", "b"])
        assert kept(store) == {"a": (ADDED, new.source)} and store.synced == "gen-000002"


def test_sync_reconciles_with_the_live_catalog_and_keeps_clean_text_of_the_rest(tmp_path):
    live, stale, legacy = article("a", "حي"), article("b", "لم ينشر"), article("c", "قديم")
    with SourceStore(tmp_path) as store:
        store.put([(live, ADDED), (stale, UPLOADED)])  # a writer died before publishing b
        added = store.sync("gen-000007", {"a": live.content_hash, "c": legacy.content_hash},
                           lambda ids: [legacy] if ids == ["c"] else [])
        assert added == 1 and store.synced == "gen-000007"
        rows = kept(store)
        assert set(rows) == {"a", "c"} and rows["c"][0] is None and rows["c"][1].format == CLEAN
        (again,) = read_source("c", rows["c"][1], "/in/c.txt").articles
        assert again == replace(legacy, source=None) and again.content_hash == legacy.content_hash
        assert store.unrecorded() == {"c": "/in/c.txt"}


def test_a_damaged_source_is_named_not_returned(tmp_path):
    with SourceStore(tmp_path) as store:
        store.put([(article("a", "نص"), ADDED)])
    db = sqlite3.connect(tmp_path / SOURCES)
    db.execute("UPDATE sources SET sha256 = 'x'")
    db.commit()
    db.close()
    with SourceStore(tmp_path) as store, pytest.raises(IndexCorruptError, match=f"{SOURCES}.*'a'"):
        kept(store)


def test_a_damaged_file_is_one_clear_error(tmp_path):
    (tmp_path / SOURCES).write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexCorruptError, match=f"{SOURCES} is unreadable.*move it aside"):
        SourceStore(tmp_path)


def test_origins_of_folders_are_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    assert folder_origin(Path("news/")) == str(tmp_path / "news")
    assert is_folder_origin(folder_origin(Path("news")))
    assert not any(is_folder_origin(o) for o in (ADDED, UPLOADED, None))
