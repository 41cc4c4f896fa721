"""Index store: real FAISS + SQLite, atomic generations, corruption and locking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.articles import Article
from index.chunking import Chunk
from index.errors import IndexCorruptError, IndexLockedError, IndexMissingError
from index.catalog import CATALOG
from index.duplicates import signature
from index.segment import CHUNKS_DB, VECTORS
from index.store.generation import CURRENT, read_manifest
from index.store.manifest import MANIFEST, Manifest
from index.store.reader import IndexReader
from index.store.writer import IndexWriter, writer_lock

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


def write(index_dir: Path, articles, remove=(), fresh=False, vector_index="auto",
          tokens=lambda chunk: chunk.text.split("-")) -> Path:
    manifest = read_manifest(index_dir) or Manifest("m", DIM, {"max_tokens": 10})
    with writer_lock(index_dir):
        writer = IndexWriter(index_dir, manifest, start_fresh=fresh, vector_index=vector_index)
        writer.remove_articles(list(remove))
        for a, chunks, vectors in articles:
            writer.add_article(a, chunks, vectors, [tokens(c) for c in chunks],
                               sentences=[(i, c.start, c.end) for i, c in enumerate(chunks)],
                               sentence_vectors=sentence_vectors(a.id, len(chunks)))
        return writer.publish()


def sentence_vectors(aid: str, n: int) -> np.ndarray:
    """One made-up sentence vector per chunk, told apart by article and position."""
    return np.stack([unit(hash((aid, i, "sentence")) % 2**32) for i in range(n)])


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
    assert set(reader.catalog.hashes()) == {"a", "b"}
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


@pytest.mark.parametrize("name", [MANIFEST, CATALOG, CHUNKS_DB, VECTORS])
@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_file_is_named_with_the_fix(tmp_path, name, damage):
    generation = write(tmp_path, [article("a", 3)])
    path = generation / name if name in (MANIFEST, CATALOG) else next(generation.glob(f"seg-*/{name}"))
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


# --- segments: incremental writes that do not rewrite what is already stored -----------


def segment_files(index_dir: Path) -> dict[str, int]:
    """Relative path -> inode of every segment file of the live generation."""
    generation = IndexReader(index_dir).generation
    return {p.relative_to(generation).as_posix(): p.stat().st_ino for p in generation.glob("seg-*/**/*") if p.is_file()}


def test_adding_an_article_links_existing_segments_instead_of_rewriting(tmp_path):
    write(tmp_path, [article("a", 3), article("b", 2)])
    before = segment_files(tmp_path)
    write(tmp_path, [article("c", 2)])
    after = segment_files(tmp_path)
    assert {n: i for n, i in after.items() if n in before} == before  # same inodes: linked
    assert len({n.split("/")[0] for n in after}) == 2
    reader = IndexReader(tmp_path)
    assert reader.size == 7 and set(reader.catalog.hashes()) == {"a", "b", "c"}
    c = article("c", 2)
    (chunk_id, score), *_ = reader.search(c[2][1], 1)
    assert score == pytest.approx(1.0, abs=1e-5) and reader.chunks([chunk_id])[chunk_id].text == "c-part1"


def test_search_tokens_are_read_back_in_order_from_every_segment(tmp_path):
    def tokens(chunk: Chunk) -> list[str]:  # neither sorted nor distinct: order is kept
        return ["zeta", *chunk.text.split("-"), "alpha", "zeta"]

    write(tmp_path, [article("a", 2)], tokens=tokens)
    write(tmp_path, [article("b", 3)], tokens=tokens)  # a second segment
    reader = IndexReader(tmp_path)
    assert len(reader.manifest.segments) == 2
    rows = reader.chunks(range(1, 6))
    stored = reader.search_tokens(range(1, 6))
    assert sorted(stored) == sorted(rows) == [1, 2, 3, 4, 5]
    assert all(stored[i] == tokens(Chunk(row.article_id, row.ordinal, row.start, row.end, row.text))
               for i, row in rows.items())


def test_deleted_article_is_a_tombstone_until_its_segment_empties(tmp_path):
    a = article("a", 3)
    write(tmp_path, [a, article("b", 2)])
    write(tmp_path, [], remove=["a"])
    reader = IndexReader(tmp_path)
    assert reader.size == 2 and reader.manifest.deleted_count == 3
    assert all(reader.chunks([i])[i].article_id == "b" for i, _ in reader.search(a[2][0], 5))
    assert [i for i, _ in reader.lexical.search(["a"], 5)] == []
    assert [r[0] for r in reader.articles()] == ["b"]
    assert not set(reader.chunks(range(1, 10))) & {1, 2, 3}
    assert not set(reader.search_tokens(range(1, 10))) & {1, 2, 3}
    write(tmp_path, [], remove=["b"])  # the segment holds nothing live: it goes
    reader = IndexReader(tmp_path)
    assert reader.size == 0 and reader.manifest.segments == [] and reader.manifest.deleted_count == 0


def test_many_small_writes_are_merged_and_nothing_is_lost(tmp_path):
    from index.store.writer import MAX_SEGMENTS

    written = {}
    for i in range(MAX_SEGMENTS * 2 + 1):
        written[f"x{i}"] = article(f"x{i}", 2)
        write(tmp_path, [written[f"x{i}"]], remove=["x3"] if i == 5 else ())
    written.pop("x3")
    reader = IndexReader(tmp_path)
    assert len(reader.manifest.segments) <= MAX_SEGMENTS
    assert reader.size == 2 * len(written) and set(reader.catalog.hashes()) == set(written)
    signatures = reader.signatures(list(written))
    for aid, (a, chunks, vectors) in written.items():
        (chunk_id, score), *_ = reader.search(vectors[1], 1)
        row = reader.chunks([chunk_id])[chunk_id]
        assert (row.article_id, row.text) == (aid, chunks[1].text)
        assert a.text[row.start:row.end] == row.text
        spans, found = reader.sentences([chunk_id])[chunk_id]  # carried through the merges
        assert spans == [(row.start, row.end)]
        assert np.allclose(found[0], sentence_vectors(aid, 2)[1], atol=1e-3)
        assert signatures[aid] == signature(a.text)


def test_bm25_scores_of_segments_rank_as_one_index_would(tmp_path):
    """Global idf across segments: a 2-segment index ranks like a 1-segment one."""
    articles = [article(f"d{i}", 1 + i % 3) for i in range(6)]
    write(tmp_path / "one", articles)
    write(tmp_path / "two", articles[:4])
    write(tmp_path / "two", articles[4:])
    one, two = IndexReader(tmp_path / "one"), IndexReader(tmp_path / "two")
    assert len(two.manifest.segments) == 2
    def ranked(reader: IndexReader, query: list[str]) -> list[tuple[str, int]]:
        hits = reader.lexical.search(query, 10)
        return [(c.article_id, c.ordinal) for c in (reader.chunks([i])[i] for i, _ in hits)]

    for query in (["part0"], ["part2", "d5"], ["d1", "part1", "part0"]):
        assert ranked(two, query) == ranked(one, query)
        assert two.lexical.idf(query[0]) == pytest.approx(one.lexical.idf(query[0]))


@pytest.mark.parametrize("spec", ["IVF{nlist},SQ8", "HNSW16,SQ8", "IVF16,Flat"])
def test_approximate_index_override_finds_what_exact_search_finds(tmp_path, spec):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, DIM))
    docs = []
    for n in range(120):
        a, chunks, _ = article(f"n{n}", 10)
        vectors = centres[rng.integers(0, 20, size=10)] + 0.3 * rng.normal(size=(10, DIM))
        docs.append((a, chunks, (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)))
    write(tmp_path / "exact", docs)
    write(tmp_path / "ann", docs, vector_index=spec)
    exact, approx = IndexReader(tmp_path / "exact"), IndexReader(tmp_path / "ann")
    from index import ann

    assert approx.manifest.segments[0]["vector_index"] == spec.format(nlist=ann.nlist_for(1200))
    queries = rng.normal(size=(30, DIM)).astype(np.float32)
    overlap = np.mean([
        len({i for i, _ in exact.search(q, 10)} & {i for i, _ in approx.search(q, 10)}) / 10 for q in queries
    ])
    assert overlap >= 0.9
    # filters and deletions work inside the approximate index too
    allowed = exact.chunk_ids_where(["n1", "n2"])
    assert {i for i, _ in approx.search(queries[0], 5, allowed=allowed)} <= set(allowed.tolist())
    write(tmp_path / "ann", [], remove=["n1"])
    approx = IndexReader(tmp_path / "ann")
    gone = set(exact.chunk_ids_where(["n1"]).tolist())
    assert not {i for q in queries for i, _ in approx.search(q, 20)} & gone


def test_auto_choice_is_exact_when_small_and_approximate_when_large():
    from index import ann

    assert ann.choose_spec(1000) == "Flat"
    assert ann.choose_spec(10, "IVF{nlist},SQ8") == "Flat"  # too small to train: exact
    assert ann.nlist_for(1_000_000) == 4096 and ann.nlist_for(1200) == 16
    assert ann.choose_spec(ann.EXACT_MAX + 1).startswith("IVF")
    assert ann.choose_spec(1_000_000) == f"IVF{ann.nlist_for(1_000_000)},SQ8"
    assert ann.choose_spec(5000, "flat") == "Flat"
    assert ann.choose_spec(5000, "HNSW32") == "HNSW32"


def test_reader_of_a_new_generation_reuses_unchanged_segments(tmp_path):
    write(tmp_path, [article("a", 3)])
    first = IndexReader(tmp_path)
    write(tmp_path, [article("b", 2)])
    second = IndexReader(tmp_path, reuse=first)
    assert second.segments[0] is first.segments[0]  # the big one is not loaded again
    assert second.size == 5 and len(second.segments) == 2
    write(tmp_path, [article("c", 3)], fresh=True)  # a rebuild: same names, new content
    third = IndexReader(tmp_path, reuse=second)
    assert third.segments[0].name == first.segments[0].name
    assert all(s not in second.segments for s in third.segments)
    assert third.chunks([1])[1].article_id == "c"


def test_document_frequencies_are_those_of_the_reader_s_own_generation(tmp_path):
    """A generation's BM25 remembers frequencies: asked again, and after a new generation
    reuses its segments, each reader answers for its own chunks."""
    write(tmp_path, [article("a", 3)])
    first = IndexReader(tmp_path)
    assert first.lexical.df("part0") == first.lexical.df("part0") == 1
    idf_before = first.lexical.idf("part0")
    write(tmp_path, [article("b", 2)])
    second = IndexReader(tmp_path, reuse=first)
    assert second.lexical.df("part0") == 2 and second.lexical.df("b") == 2
    assert first.lexical.df("part0") == 1 and first.lexical.df("b") == 0
    assert second.lexical.idf("part0") < idf_before


def test_random_adds_replacements_and_deletes_match_a_reference(tmp_path: Path) -> None:
    """Against a plain dict of what should be live: contents, counts and exact search."""
    rng = np.random.default_rng(7)
    live: dict[str, tuple] = {}
    for step in range(40):
        remove = [aid for aid in live if rng.random() < 0.15]
        adds = []
        for _ in range(int(rng.integers(0, 4))):
            aid = f"r{int(rng.integers(0, 25))}"
            if aid in live and aid not in remove:
                remove.append(aid)  # a replacement: remove, then add the new version
            adds.append(article(aid, int(rng.integers(1, 5))))
        adds = list({a[0].id: a for a in adds}.values())
        write(tmp_path, adds, remove=remove)
        for aid in remove:
            live.pop(aid, None)
        live.update({a[0].id: a for a in adds})
        reader = IndexReader(tmp_path)
        assert reader.catalog.hashes() == {aid: a.content_hash for aid, (a, _, _) in live.items()}
        assert reader.manifest.article_count == len(live)
        assert reader.size == sum(len(chunks) for _, chunks, _ in live.values())
        assert len(reader.chunk_ids_where()) == reader.size
        assert sorted(r[0] for r in reader.articles()) == sorted(live)
        for aid, (a, chunks, vectors) in live.items():
            (chunk_id, score), *_ = reader.search(vectors[-1], 1)
            row = reader.chunks([chunk_id])[chunk_id]
            assert score == pytest.approx(1.0, abs=1e-5)
            assert (row.article_id, row.ordinal) == (aid, len(chunks) - 1), step
            assert a.text[row.start:row.end] == row.text
        assert len(reader.manifest.segments) <= 8


# --- the article catalog: outside the manifest, so a write does not grow with the index --


def test_manifest_size_does_not_grow_with_the_number_of_articles(tmp_path):
    sizes = []
    # Ids that are not hexadecimal: the manifest holds file hashes, which may contain "b399".
    for batch in (["a0"], ["a1"], [f"x{i}" for i in range(400)]):  # one new segment each
        generation = write(tmp_path, [article(aid, 1) for aid in batch])
        sizes.append((generation / MANIFEST).stat().st_size)
    assert abs((sizes[2] - sizes[1]) - (sizes[1] - sizes[0])) < 50  # 400 articles cost what 1 did
    reader = IndexReader(tmp_path)
    assert "x399" not in (reader.generation / MANIFEST).read_text()
    assert reader.manifest.article_count == len(reader.catalog) == 402
    assert reader.catalog.segments(["a0", "x399"]) == {"a0": "seg-000001", "x399": "seg-000003"}


def test_catalog_damaged_after_opening_is_not_copied_into_the_next_generation(tmp_path):
    generation = write(tmp_path, [article("a", 2)])
    path = generation / CATALOG
    path.write_bytes(path.read_bytes()[:-10] + b"\x00" * 10)  # same size, other content
    with pytest.raises(IndexCorruptError, match="catalog.sqlite.*--rebuild"):
        write(tmp_path, [article("b", 1)])
    assert (tmp_path / CURRENT).read_text() == generation.name and not list(tmp_path.glob(".tmp-gen-*"))


def test_index_of_format_2_is_read_and_moved_to_a_catalog_on_the_next_write(tmp_path):
    """Format 2 kept articles and placement in manifest.json: nothing indexed is lost."""
    import json

    from index.store.manifest import _checksum

    generation = write(tmp_path, [article("a", 2), article("b", 1)])
    data = json.loads((generation / MANIFEST).read_text())
    data.pop("checksum"), data.pop("article_count")
    data["files"].pop(CATALOG)
    (generation / CATALOG).unlink()
    data.update(format=2, articles={"a": "hash-a", "b": "hash-b"},
                placement={"a": "seg-000001", "b": "seg-000001"})
    data["checksum"] = _checksum(data)
    (generation / MANIFEST).write_text(json.dumps(data))

    reader = IndexReader(tmp_path)
    assert reader.catalog.hashes() == {"a": "hash-a", "b": "hash-b"}
    assert sorted(r[0] for r in reader.articles()) == ["a", "b"] and reader.size == 3
    write(tmp_path, [article("c", 1)], remove=["a"])
    reader = IndexReader(tmp_path)
    assert reader.manifest.format == 3 and CATALOG in reader.manifest.files
    assert reader.catalog.hashes() == {"b": "hash-b", "c": article("c", 1)[0].content_hash}
    assert reader.size == 2


def test_hits_of_several_segments_merge_best_first_with_ties_by_id() -> None:
    from index.store.reader import best_first

    hits = [(7, 0.5), (3, 0.9), (9, 0.5), (1, 0.2), (4, 0.5)]  # two segments' lists, concatenated
    assert best_first(hits, 4) == [(3, 0.9), (4, 0.5), (7, 0.5), (9, 0.5)]
    assert best_first(hits, 10) == [(3, 0.9), (4, 0.5), (7, 0.5), (9, 0.5), (1, 0.2)]
    assert best_first([], 5) == []


def test_best_sentences_match_every_sentence_read_back(tmp_path):
    """Each chunk's best sentence cosine (what ranking adds to a chunk's) against the max over
    the chunk's sentences as `sentences` reads them: chunks of 0-3 sentences, written out
    of chunk order, in two segments, one article deleted, ids asked in any order."""

    def with_sentences(aid: str, per_chunk: list[int], order_seed: int):
        a, chunks, vectors = article(aid, len(per_chunk))
        rows = [(i, chunks[i].start + k, chunks[i].start + k + 1) for i, n in enumerate(per_chunk) for k in range(n)]
        rows = [rows[j] for j in np.random.default_rng(order_seed).permutation(len(rows))]
        sentence_vecs = np.stack([unit(hash((aid, r, "s")) % 2**32) for r in rows])
        return a, chunks, vectors, rows, sentence_vecs

    manifest = Manifest("m", DIM, {"max_tokens": 10})
    for batch in ([with_sentences("a", [2, 0, 3, 1], 1), with_sentences("b", [1, 2], 2)],
                  [with_sentences("c", [0, 3, 1], 3)]):
        with writer_lock(tmp_path):
            writer = IndexWriter(tmp_path, read_manifest(tmp_path) or manifest, start_fresh=False)
            for a, chunks, vectors, rows, sentence_vecs in batch:
                writer.add_article(a, chunks, vectors, [c.text.split("-") for c in chunks],
                                   sentences=rows, sentence_vectors=sentence_vecs)
            writer.publish()
    write(tmp_path, [], remove=["b"])
    reader = IndexReader(tmp_path)
    assert len(reader.manifest.segments) == 2
    ids = list(np.random.default_rng(4).permutation(np.arange(1, reader.manifest.next_chunk_id)))
    for seed in range(5):
        query = unit(100 + seed)
        kept = reader.sentences(ids)
        expected = [float((kept[i][1] @ query).max()) if i in kept else np.nan for i in ids]
        np.testing.assert_allclose(reader.best_sentences(query, ids), expected, atol=1e-6)
    assert np.isnan(reader.best_sentences(unit(9), ids)).sum() == 2 + 1 + 1  # b deleted; a's and c's empty chunk
