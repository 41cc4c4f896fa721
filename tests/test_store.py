"""Index store: real FAISS + SQLite, atomic generations, corruption and locking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.articles import Article
from index.chunking import Chunk
from index.errors import IndexCorruptError, IndexLockedError, IndexMissingError
from index.store import (
    CHUNKS_DB,
    CURRENT,
    MANIFEST,
    VECTORS,
    IndexReader,
    IndexWriter,
    Manifest,
    read_manifest,
    writer_lock,
)

DIM = 8


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def article(aid: str, n_chunks: int) -> tuple[Article, list[Chunk], np.ndarray]:
    text = " ".join(f"{aid}-part{i}" for i in range(n_chunks))
    parts = text.split(" ")
    chunks, cursor = [], 0
    for i, part in enumerate(parts):
        start = text.index(part, cursor)
        chunks.append(Chunk(aid, i, start, start + len(part), part))
        cursor = start + len(part)
    vectors = np.stack([unit(hash((aid, i)) % 2**32) for i in range(n_chunks)])
    return Article(aid, f"title {aid}", text, "2023-11-03", "تاس"), chunks, vectors


def write(index_dir: Path, articles, remove=(), fresh=False) -> Path:
    manifest = read_manifest(index_dir) or Manifest("m", DIM, {"max_tokens": 10})
    with writer_lock(index_dir):
        writer = IndexWriter(index_dir, manifest, start_fresh=fresh)
        writer.remove_articles(list(remove))
        for a, chunks, vectors in articles:
            writer.add_article(a, chunks, vectors, [c.text.split("-") for c in chunks])
        return writer.publish()


def test_write_then_search_returns_exact_chunk(tmp_path):
    a, chunks, vectors = article("a", 3)
    write(tmp_path, [(a, chunks, vectors), article("b", 2)])
    reader = IndexReader(tmp_path)
    assert reader.size == 5
    (chunk_id, score), *_ = reader.search(vectors[1], 3)
    assert score == pytest.approx(1.0, abs=1e-5)
    row = reader.chunks([chunk_id])[chunk_id]
    assert (row.article_id, row.ordinal, row.text) == ("a", 1, "a-part1")
    assert a.text[row.start : row.end] == row.text
    assert (row.title, row.date, row.outlet) == ("title a", "2023-11-03", "تاس")


def test_incremental_remove_and_replace(tmp_path):
    write(tmp_path, [article("a", 3), article("b", 2)])
    a2 = article("a", 1)
    write(tmp_path, [a2], remove=["a"])
    reader = IndexReader(tmp_path)
    assert reader.size == 3
    assert set(reader.manifest.articles) == {"a", "b"}
    hits = reader.search(a2[2][0], 1)
    assert reader.chunks([hits[0][0]])[hits[0][0]].text == "a-part0"


def test_only_two_generations_are_kept_and_current_is_newest(tmp_path):
    for i in range(4):
        last = write(tmp_path, [article(f"x{i}", 1)])
    generations = sorted(p.name for p in tmp_path.glob("gen-*"))
    assert len(generations) == 2
    assert (tmp_path / CURRENT).read_text() == last.name == generations[-1]


def test_discarded_write_leaves_last_good_index(tmp_path):
    write(tmp_path, [article("a", 2)])
    manifest = read_manifest(tmp_path)
    with writer_lock(tmp_path):
        writer = IndexWriter(tmp_path, manifest, start_fresh=False)
        writer.remove_articles(["a"])
        writer.discard()
    assert IndexReader(tmp_path).size == 2
    assert not list(tmp_path.glob(".tmp-gen-*"))


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="qa index"):
        IndexReader(tmp_path / "nothing")


def test_lexical_index_is_published_beside_vectors(tmp_path):
    write(tmp_path, [article("a", 3), article("b", 2)])
    write(tmp_path, [article("c", 1)], remove=["a"])
    reader = IndexReader(tmp_path)
    hits = reader.lexical.search(["part0"], 10)
    assert {reader.chunks([i])[i].article_id for i, _ in hits} == {"b", "c"}
    assert reader.lexical.search(["a"], 10) == []


@pytest.mark.parametrize("name", [MANIFEST, CHUNKS_DB, VECTORS])
@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_file_is_named_with_the_fix(tmp_path, name, damage):
    generation = write(tmp_path, [article("a", 3)])
    path = generation / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"\x00garbage" * 50)
    with pytest.raises(IndexCorruptError) as err:
        IndexReader(tmp_path)
    assert name in str(err.value) and "--rebuild" in str(err.value)


def test_current_pointing_nowhere_is_corrupt(tmp_path):
    write(tmp_path, [article("a", 1)])
    (tmp_path / CURRENT).write_text("gen-999999")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        IndexReader(tmp_path)


def test_second_writer_is_refused(tmp_path):
    with writer_lock(tmp_path):
        with pytest.raises(IndexLockedError, match="another `qa index`"):
            with writer_lock(tmp_path):
                pass
