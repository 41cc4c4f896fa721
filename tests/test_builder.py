"""Indexing a folder: incremental by content hash, model mismatch refused, bad files skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.builder import build_index, chunker_for
from index.config import Settings
from index.embedder import Embedder
from index.errors import ModelMismatchError, NoArticlesError
from index.store import IndexReader, read_manifest


class CountingEmbedder(Embedder):
    """The real model, counting how many passages it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.__dict__.update(inner.__dict__)
        self.embedded = 0

    def embed_passages(self, texts, progress=False):
        self.embedded += len(texts)
        return super().embed_passages(texts, progress)


def test_reindex_embeds_only_new_or_changed_and_drops_removed(seed_copy, tmp_path, embedder):
    settings = Settings.from_env(index_dir=tmp_path / "idx")
    counting = CountingEmbedder(embedder)
    first = build_index(seed_copy, settings, embedder=counting, progress=False)
    assert sorted(first.added) == sorted(p.stem for p in seed_copy.glob("*.txt"))
    assert counting.embedded == first.chunk_count

    counting.embedded = 0
    again = build_index(seed_copy, settings, embedder=counting, progress=False)
    assert counting.embedded == 0 and not again.changed
    assert len(again.unchanged) == 5

    changed = seed_copy / "004_e35452bbc36f1cf2.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nفقرة جديدة أضيفت إلى المقال للاختبار.\n",
        encoding="utf-8",
    )
    (seed_copy / "001_8d1177553da27e06.txt").unlink()
    third = build_index(seed_copy, settings, embedder=counting, progress=False)
    assert third.updated == ["004_e35452bbc36f1cf2"]
    assert third.removed == ["001_8d1177553da27e06"]
    reader = IndexReader(settings.index_dir)
    assert set(reader.catalog.hashes()) == {p.stem for p in seed_copy.glob("*.txt")}
    chunks_004 = [
        c for c in reader.chunks(range(1, 10_000)).values() if c.article_id.startswith("004")
    ]
    assert counting.embedded == len(chunks_004)
    assert reader.size == third.chunk_count


def test_chunks_fit_the_model_and_are_exact_spans(seed_settings, embedder):
    reader = IndexReader(seed_settings.index_dir)
    rows = reader.chunks(range(1, reader.size + 100)).values()
    texts = {row[0]: row[1] for row in reader.rows("SELECT id, text FROM articles")}
    budget = chunker_for(seed_settings, embedder).max_tokens
    assert len(rows) == reader.size
    for row in rows:
        assert texts[row.article_id][row.start : row.end] == row.text
        assert embedder.count_tokens(f"{row.title}\n{row.text}") <= budget + 2


def test_other_model_is_refused_not_mixed(seed_settings, seed_copy):
    other = Settings.from_env(index_dir=seed_settings.index_dir, model="some/other-model")
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        build_index(seed_copy, other, progress=False)
    assert read_manifest(seed_settings.index_dir).model == seed_settings.model


def test_folder_without_articles_is_a_clear_error(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("a,b", encoding="utf-8")
    with pytest.raises(NoArticlesError, match="no articles"):
        build_index(tmp_path, Settings.from_env(index_dir=tmp_path / "idx"), progress=False)


def test_bad_files_are_skipped_and_named_rest_indexed(tmp_path, embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(
        "عنوان الخبر\n\nهذا نص خبر قصير عن لقاء وزيرين في موسكو.", encoding="utf-8"
    )
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 20)
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (folder / "empty.md").write_text("   \n", encoding="utf-8")
    report = build_index(
        folder, Settings.from_env(index_dir=tmp_path / "idx"), embedder=embedder, progress=False
    )
    assert report.added == ["good"]
    assert {Path(s.path).name for s in report.skipped} == {"binary.txt", "latin1.txt", "empty.md"}
