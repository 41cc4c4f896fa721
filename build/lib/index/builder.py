"""Indexing: articles -> chunks -> vectors -> a new index generation, nothing ever lost.

Every indexed article has an origin, kept with its source text (index/sources.py): the
folder `qa index FOLDER` read it from, `add` (`qa add`) or `upload` (the chat).
`qa index FOLDER` mirrors that folder only: it adds, updates and removes the articles
whose origin is FOLDER and leaves every other article alone; `qa remove` deletes any.
Incremental by content hash: only new or changed articles are chunked and embedded.
Whether the index can take vectors made with the current settings at all is decided in
index/compat.py; a rebuild re-embeds every kept article, from every origin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from index.articles import Article, SkippedFile, load_folder, read_source
from index.aux_embedder import AuxEmbedder
from index.chunking import SEPARATORS, Chunk, Chunker
from index.compat import IndexProfile, check_compatible
from index.config import Settings
from index.embedder import Embedder
from index.errors import IndexCorruptError, NoArticlesError, QAError
from index.ann import EXACT_MAX
from index.hubness import Hubness, hubness_for
from index.sentences import sentence_spans, with_sentences
from index.sources import ADDED, UPLOADED, SourceStore, folder_origin, is_folder_origin
from index.store.generation import article_rows, current_generation, open_catalog, read_manifest
from index.store.integrity import verify_generation
from index.store.manifest import Manifest
from index.store.writer import IndexWriter, StagedArticle, writer_lock
from index.models import EmbeddingModel, MainModel, check_aux_model

T = TypeVar("T")

#: A finished run merges the segments its steps wrote into one up to this many chunks: the
#: merged segment is still searched exactly, and writing it costs seconds, not an ANN
#: training (`_Update._fold`).
FOLD_MAX = EXACT_MAX


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


def chunker_for(settings: Settings, embedder: MainModel) -> Chunker:
    """A chunker whose budget fits the model: prompt and special tokens leave room."""
    room = embedder.max_tokens - embedder.prompt_tokens("passage")
    return Chunker(
        embedder.count_tokens,
        max_tokens=min(settings.chunk_tokens, room),
        overlap_tokens=settings.chunk_overlap_tokens,
    )


def aux_embedder_for(settings: Settings, loaded: EmbeddingModel | None = None) -> EmbeddingModel | None:
    """The second model named by the settings (reusing `loaded`), or None for one model."""
    return (loaded or AuxEmbedder()) if check_aux_model(settings) else None


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
    embedder: MainModel | None = None,
    rebuild: bool = False,
    progress: bool = True,
    aux_embedder: EmbeddingModel | None = None,
    ray: str | None = None,
) -> IndexReport:
    """Mirror `folder` into the index: add, update and remove the articles it owns.

    With `rebuild`, every other kept article is re-embedded too, into a fresh index.
    With `ray` (a cluster address, `local` or `auto`: index/ray_embedding.py), the
    chunking and embedding run on Ray actors; this process still writes the index.
    """
    loaded = load_folder(folder)
    if not loaded.articles:
        reasons = "".join(f"\n  skipped {s.path}: {s.reason}" for s in loaded.skipped)
        raise NoArticlesError(
            f"no articles found in {folder} (readable .txt, .md, .html or .jsonl files){reasons}"
        )
    report = update_index(
        loaded.articles, settings, folder_origin(folder), mirror=True, rebuild=rebuild,
        embedder=embedder, aux_embedder=aux_embedder, progress=progress, ray=ray,
    )
    report.skipped = loaded.skipped + report.skipped
    return report


def rebuild_index(
    settings: Settings,
    embedder: MainModel | None = None,
    progress: bool = True,
    aux_embedder: EmbeddingModel | None = None,
    ray: str | None = None,
) -> IndexReport:
    """Re-embed every kept article, from every origin, with the current settings
    (on Ray actors with `ray`, as in `build_index`)."""
    return update_index([], settings, None, rebuild=True, embedder=embedder,
                        aux_embedder=aux_embedder, progress=progress, ray=ray)


def update_index(
    articles: Sequence[Article],
    settings: Settings,
    origin: str | None = ADDED,
    *,
    mirror: bool = False,
    rebuild: bool = False,
    embedder: MainModel | None = None,
    aux_embedder: EmbeddingModel | None = None,
    progress: bool = True,
    ray: str | None = None,
) -> IndexReport:
    """Add or replace `articles`, which come from `origin`, taking them over from any
    other origin. With `mirror`, `origin` is a folder and `articles` is all of it: its
    other articles are removed, and an article another origin holds is skipped (unless
    that origin was never recorded or is a folder that no longer exists). With
    `rebuild`, every other kept article is re-embedded too, into a fresh index.

    Pass loaded embedders to reuse them across calls; each one loads its model once.
    With `ray`, chunking and embedding run on Ray actors (index/ray_embedding.py) and
    this process writes what they return, in the same steps as without.
    """
    # The lock comes first: the live manifest read below must be the one the writer
    # copies, or an index published meanwhile by another writer would be overwritten
    # with stale article hashes (or the same article inserted twice).
    with writer_lock(settings.index_dir):
        _join_store(settings, progress)
        report = _Update(settings, origin, mirror, rebuild, progress, ray).run(
            articles, embedder, aux_embedder
        )
        _publish_to_store(settings, progress)
        return report


def remove_articles(article_ids: Sequence[str], settings: Settings) -> IndexReport:
    """Delete articles by id, whatever their origin: their chunks become tombstones and
    their kept sources go; nothing is re-embedded.

    Unknown ids are refused, all of them named, before anything is written.
    """
    with writer_lock(settings.index_dir):
        _join_store(settings, progress=False)
        previous = read_manifest(settings.index_dir)
        if previous is None:
            raise NoArticlesError(f"no index in {settings.index_dir}; nothing to remove")
        with SourceStore(settings.index_dir) as sources:
            _reconcile(sources, settings.index_dir, previous)
            unknown = sorted(set(article_ids) - set(_known_hashes(settings.index_dir, previous, article_ids)))
            if unknown:
                raise QAError(
                    f"not in the index: {', '.join(unknown)} (article ids are file stems; "
                    "`qa ask --json` shows them as `source`, `qa list` lists them)"
                )
            manifest = previous.successor()
            ids = list(dict.fromkeys(article_ids))
            writer = IndexWriter(settings.index_dir, manifest, start_fresh=False,
                                 vector_index=settings.vector_index, live_manifest=previous)
            try:
                writer.remove_articles(ids)
                generation = writer.publish()
            except BaseException:
                writer.discard()
                raise
            sources.published(generation.name, {}, ids)
        _publish_to_store(settings, progress=False)
        return IndexReport(removed=sorted(ids), chunk_count=manifest.chunk_count)


def _join_store(settings: Settings, progress: bool) -> None:
    """With a Qdrant store, before anything is embedded: an empty index folder reads the
    collection back (no embedding), and a folder that does not hold the collection's live
    state is refused (another folder published since; mirroring this one would lose that)."""
    if not settings.store:
        return
    from index.store.qdrant.lineage import check_current
    from index.store.qdrant.pull import pull
    from index.store.qdrant.reader import QdrantLocation

    live = QdrantLocation(settings.store).live()
    if live is None:
        return
    if current_generation(settings.index_dir) is None:
        pull(settings.index_dir, settings.store, settings.vector_index, progress)
    else:
        check_current(settings.index_dir, settings.store, live)


def _publish_to_store(settings: Settings, progress: bool) -> None:
    """Bring a configured Qdrant collection in line with what was just published here
    (under the writer lock, so publications reach it in order); the embedded store
    needs nothing more."""
    if settings.store:
        from index.store.qdrant.publish import publish

        publish(settings.index_dir, settings.store, progress)


class _Update:
    """One locked run of `update_index`: check, plan, embed, publish, keep sources."""

    def __init__(self, settings: Settings, origin: str | None, mirror: bool, rebuild: bool,
                 progress: bool, ray: str | None) -> None:
        self.settings = settings
        self.index_dir = settings.index_dir
        self.origin = origin
        self.mirror = mirror
        self.rebuild = rebuild
        self.progress = progress
        self.ray = ray
        self.report = IndexReport(rebuilt=rebuild)

    def run(self, articles: Sequence[Article], embedder: MainModel | None,
            aux_embedder: EmbeddingModel | None) -> IndexReport:
        if self.ray is not None:
            from index.ray_embedding import import_ray

            import_ray()  # without Ray, say so before any model loads
        previous, damaged = self._live_manifest()
        if previous is not None and not self.rebuild:
            check_compatible(self.index_dir, previous, self.settings.model)  # before any model loads
        embedder = embedder or Embedder(self.settings)
        aux = aux_embedder_for(self.settings, aux_embedder)
        chunker = chunker_for(self.settings, embedder)  # loads the model: its backend is now known
        profile = IndexProfile(self.settings.model, embedder.backend,
                               aux.name if aux else None, chunking_signature(chunker))
        if previous is not None and not self.rebuild:
            check_compatible(self.index_dir, previous, profile, previous.article_count)
        with SourceStore(self.index_dir) as sources:
            live = {} if damaged else self._reconcile(sources, previous)
            todo, owners, adopted = self._plan(articles, sources, previous, live)
            if not (todo or self.report.removed or self.rebuild) and previous is not None:
                # Nothing to write, but never report success over a damaged index.
                verify_generation(_live_generation(self.index_dir), previous.files)
                sources.put(((a, self.origin) for a in adopted), ahead=False)
                self.report.chunk_count = previous.chunk_count
                return self.report
            manifest = self._write(sources, previous, profile, todo, owners, chunker, embedder, aux)
            sources.put(((a, self.origin) for a in adopted), ahead=False)
        self.report.chunk_count = manifest.chunk_count
        return self.report

    def _write(
        self, sources: SourceStore, previous: Manifest | None, profile: IndexProfile, todo: list[Article],
        owners: dict[str, str | None], chunker: Chunker, embedder: MainModel, aux: EmbeddingModel | None,
    ) -> Manifest:
        """Embed `todo` in steps of about `publish_every` chunks and publish each step as a
        complete generation: an interrupted run keeps every step it published, and the
        next run skips those articles as unchanged. A rebuild publishes once, after the
        last step, so readers never see a half-rebuilt index. Returns the live manifest."""
        hubness = hubness_for(self.settings, embedder, aux)
        kept = previous if previous and not self.rebuild else None
        quantization = sorted({*(kept.quantization if kept else ()), *filter(None, [embedder.quantization])})
        sentence_vectors = sorted({*(kept.sentence_vectors if kept else ()), embedder.span_vectors})
        live, removals = (None if self.rebuild else previous), list(self.report.removed)
        updated, rebuilt = set(self.report.updated), {a.id: a.content_hash for a in todo}
        older = {entry["name"] for entry in live.segments} if live else set()
        writer: IndexWriter | None = None
        progress = _Progress(len(todo), enabled=self.progress)
        with ExitStack() as stack:
            for step in self._embedded_steps(stack, todo, chunker, embedder, aux):
                articles = [e.article for e in step]
                if writer is None:
                    manifest = Manifest(
                        model=profile.model, dimension=embedder.dimension, chunking=profile.chunking,
                        aux_model=profile.aux_model, aux_dimension=aux.dimension if aux else 0,
                        backend=profile.backend, quantization=quantization, sentence_vectors=sentence_vectors,
                    )
                    writer = IndexWriter(self.index_dir, manifest, start_fresh=self.rebuild,
                                         vector_index=self.settings.vector_index, live_manifest=live,
                                         hubness=hubness)
                try:
                    # An updated article's old version leaves in the step that adds the new one.
                    writer.remove_articles(removals + [a.id for a in articles if a.id in updated])
                    sources.put((a, owners[a.id]) for a in articles)  # kept before they are indexed
                    for staged in step:
                        writer.add(staged)
                    if not self.rebuild:
                        generation = writer.publish()
                except BaseException:
                    writer.discard()
                    raise
                if not self.rebuild:
                    changed = sorted({a.id for a in articles} | set(removals))
                    sources.published(generation.name, {a.id: a.content_hash for a in articles}, changed)
                    writer, live, removals = None, manifest, []
                progress.step(len(articles), sum(len(e.chunks) for e in step))
        if writer is not None:  # a rebuild: everything at once
            try:
                generation = writer.publish()
            except BaseException:
                writer.discard()
                raise
            # The fresh index holds what was embedded, nothing else.
            sources.published(generation.name, rebuilt, sorted(set(rebuilt) | set(sources.origins())))
        else:
            manifest = self._fold(sources, manifest, older, hubness)
        progress.close()
        return manifest

    def _fold(self, sources: SourceStore, live: Manifest, older: set[str], hubness: dict[str, Hubness]) -> Manifest:
        """Merge the segments this run's steps wrote into one, unless that one would be
        too large to search exactly (`FOLD_MAX`). Steps make a run resumable, but each
        search reads every segment (a FAISS scan per model, BM25, SQLite for the rows), so
        a finished run leaves one. Returns the live manifest."""
        fresh = [entry for entry in live.segments if entry["name"] not in older]
        if len(fresh) < 2 or sum(entry["hi"] - entry["lo"] for entry in fresh) > FOLD_MAX:
            return live
        manifest = live.successor()
        writer = IndexWriter(self.index_dir, manifest, start_fresh=False, vector_index=self.settings.vector_index,
                             live_manifest=live, hubness=hubness)
        try:
            generation = writer.publish(merge=[entry["name"] for entry in fresh])
        except BaseException:
            writer.discard()
            raise
        sources.published(generation.name, {}, [])
        return manifest

    def _embedded_steps(
        self, stack: ExitStack, todo: list[Article], chunker: Chunker, embedder: MainModel,
        aux: EmbeddingModel | None,
    ) -> Iterator[list[StagedArticle]]:
        """`todo` chunked and embedded, in the steps `_steps` cuts: in this process, or on
        Ray actors (started here, stopped when `stack` closes) when the run asks for Ray
        and there is something to embed. Either way this process writes every article
        once, in order, so steps, resumption and progress are the same."""
        per_step = self.settings.publish_every
        if self.ray is None or not todo:
            second_model = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="second-model"))
            return (
                embed_articles([a for a, _ in step], [chunks for _, chunks in step], embedder, aux, second_model)
                for step in _steps(((a, chunker.split(a)) for a in todo), lambda pair: len(pair[1]), per_step)
            )
        from index.ray_embedding import RayEmbedding

        on_ray = stack.enter_context(RayEmbedding(self.ray, self.settings, embedding_profile(embedder, aux, chunker)))
        return _steps(on_ray.embed(todo), lambda embedded: len(embedded.chunks), per_step)

    def _reconcile(self, sources: SourceStore, previous: Manifest | None) -> dict[str, str]:
        """`_reconcile` for this run; a rebuild goes on from the kept sources alone when
        the index is too damaged to reconcile with (and says what that may cost)."""
        try:
            return _reconcile(sources, self.index_dir, previous, full=self.rebuild)
        except IndexCorruptError as exc:
            if not self.rebuild:
                raise
            self.report.skipped.append(SkippedFile(str(self.index_dir), (
                f"rebuilt from the kept sources only, the index could not be read ({exc}); "
                "articles indexed before sources were kept are back only if their folder was given"
            )))
            return {}

    def _live_manifest(self) -> tuple[Manifest | None, bool]:
        """The live manifest (None before the first build) and whether it is damaged."""
        try:
            return read_manifest(self.index_dir), False
        except IndexCorruptError:
            if not self.rebuild:  # the message says to rebuild; a rebuild must then work
                raise
            return None, True

    def _plan(
        self, articles: Sequence[Article], sources: SourceStore, previous: Manifest | None,
        live: dict[str, str],
    ) -> tuple[list[Article], dict[str, str | None], list[Article]]:
        """(articles to embed, the origin of each, unchanged articles that change owner);
        fills the report's added, updated, removed, unchanged and skipped."""
        report = self.report
        unique = _unique_by_id(articles, report)
        holders = sources.origins([a.id for a in unique])
        incoming = [a for a in unique if self._may_take(a, holders)]
        ids = {a.id for a in incoming}
        owned = self._owned(sources) if self.mirror else set()
        if previous is None or self.rebuild:
            indexed = live
        else:
            indexed = _known_hashes(self.index_dir, previous, sorted(ids | owned))
        report.removed = sorted(i for i in owned - ids if self.rebuild or i in indexed)
        owners: dict[str, str | None] = {a.id: self.origin for a in incoming}
        if self.rebuild:
            kept = self._kept_articles(sources, skip=ids | owned)
            owners.update((a.id, origin) for a, origin in kept)
            todo = incoming + [a for a, _ in kept]
        else:
            todo = [a for a in incoming if indexed.get(a.id) != a.content_hash]
        embedded = {a.id for a in todo}
        for article in todo + [a for a in incoming if a.id not in embedded]:
            old = indexed.get(article.id)
            kind = report.added if old is None else report.updated if old != article.content_hash else report.unchanged
            kind.append(article.id)
        adopted = [a for a in incoming
                   if a.id not in embedded and holders.get(a.id, self.origin) != self.origin]
        return todo, owners, adopted

    def _owned(self, sources: SourceStore) -> set[str]:
        """Ids this folder owns: its own, and those of unrecorded origin read from it."""
        folder = Path(str(self.origin))
        return set(sources.owned_by(str(self.origin))) | {
            i for i, path in sources.unrecorded().items() if path and _inside(path, folder)
        }

    def _may_take(self, article: Article, holders: dict[str, str | None]) -> bool:
        """Whether this run may index `article`; a refusal is reported as skipped."""
        if not self.mirror or article.id not in holders:
            return True
        holder = holders[article.id]
        if holder == self.origin or holder is None:
            return True
        if is_folder_origin(holder) and not Path(holder).is_dir():
            return True  # its folder is gone (moved or renamed): this one takes it over
        self.report.skipped.append(SkippedFile(
            article.path or article.id,
            f"article id {article.id!r} is already in the index from {_describe(holder)}; "
            f"`qa remove {article.id}` first to index this file instead",
        ))
        return False

    def _kept_articles(self, sources: SourceStore, skip: set[str]) -> list[tuple[Article, str | None]]:
        """Every kept article but `skip`, read again from its source, with its origin."""
        kept = []
        for article_id, origin, path, source in sources.articles():
            if article_id in skip:
                continue
            loaded = read_source(article_id, source, path)
            self.report.skipped += [
                SkippedFile(s.path, f"kept source no longer gives an article: {s.reason}")
                for s in loaded.skipped
            ]
            kept += [(a, origin) for a in loaded.articles]
        return kept


def _reconcile(
    sources: SourceStore, index_dir: Path, previous: Manifest | None, full: bool = False,
) -> dict[str, str]:
    """Bring the source store in line with the live generation when a writer died
    between the two (or the index predates it); returns the live catalog (id -> content
    hash) when it had to be read, or `full` asks for it, else {}."""
    if previous is None:
        return {}
    generation = _live_generation(index_dir)
    if sources.synced == generation.name and not full:
        return {}
    live = _known_hashes(index_dir, previous, None)
    if sources.synced != generation.name:
        sources.sync(generation.name, live, lambda ids: [
            Article(id=r[0], title=r[1], date=r[2], outlet=r[3], path=r[4], text=r[6])
            for r in article_rows(generation, previous, ids)
        ])
    return live


def _known_hashes(index_dir: Path, live: Manifest, ids: Sequence[str] | None) -> dict[str, str]:
    """Content hash of each indexed article among `ids` (of every one without `ids`)."""
    catalog = open_catalog(_live_generation(index_dir), live)
    try:
        return catalog.hashes(ids)
    finally:
        catalog.close()


def _live_generation(index_dir: Path) -> Path:
    """The live generation's folder, for a caller that has read its manifest under the lock."""
    generation = current_generation(index_dir)
    assert generation is not None, "its manifest was read under the writer lock"
    return generation


def _inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder)


def _describe(origin: str) -> str:
    return {ADDED: "`qa add`", UPLOADED: "an upload"}.get(origin, f"folder {origin}")


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


def _steps(items: Iterable[T], chunks_of: Callable[[T], int], chunks_per_step: int) -> Iterator[list[T]]:
    """The items (one per article, in order) in runs that each reach `chunks_per_step`
    chunks (the last may hold fewer); one empty run when there are none, so removals
    still publish. Both ways of embedding cut their steps here, so they publish alike."""
    step: list[T] = []
    count, emitted = 0, False
    for item in items:
        step.append(item)
        count += chunks_of(item)
        if count >= chunks_per_step:
            yield step
            step, count, emitted = [], 0, True
    if step or not emitted:
        yield step


class _Progress:
    """One bar for the whole run: articles embedded, chunks, their rate and time left."""

    def __init__(self, articles: int, enabled: bool) -> None:
        self.bar = tqdm(total=articles, desc="Indexing", unit="article", disable=not enabled or not articles)
        self.chunks = 0
        self.started = time.monotonic()

    def step(self, articles: int, chunks: int) -> None:
        self.chunks += chunks
        rate = self.chunks / max(time.monotonic() - self.started, 1e-9)
        self.bar.set_postfix(chunks=self.chunks, chunks_per_s=f"{rate:.1f}", refresh=False)
        self.bar.update(articles)

    def close(self) -> None:
        self.bar.close()


def embedding_profile(embedder: MainModel, aux: EmbeddingModel | None, chunker: Chunker) -> dict[str, object]:
    """Everything about the models and the chunker that decides the stored chunks and
    vectors: a Ray worker whose profile differs from the writer's (another backend after
    a fallback, another int8 recipe on another CPU) would make vectors the index must
    not mix, so it is refused."""
    return {
        "model": embedder.name, "backend": embedder.backend, "quantization": embedder.quantization,
        "dimension": embedder.dimension, "aux_model": aux.name if aux else None,
        "aux_dimension": aux.dimension if aux else 0, "chunking": chunking_signature(chunker),
    }


def embed_articles(
    articles: Sequence[Article],
    per_article: Sequence[Sequence[Chunk]],
    embedder: MainModel,
    aux: EmbeddingModel | None,
    second_model: ThreadPoolExecutor,
) -> list[StagedArticle]:
    """Embed chunked articles and their sentences: the one definition that both this
    process and the Ray actors (index/ray_embedding.py) run. The second model runs on
    `second_model`'s thread while the first embeds, so both cores work; each sentence's
    vector comes from its chunk's own pass (`MainModel.embed_passages_with_spans`)."""
    pairs = [with_sentences(a.title, c.text) for a, chunks in zip(articles, per_article) for c in chunks]
    texts, spans = [text for text, _ in pairs], [own for _, own in pairs]
    aux_future = second_model.submit(aux.embed_passages, texts) if aux and texts else None
    try:
        tokens = [c.search_tokens(a.title) for a, chunks in zip(articles, per_article) for c in chunks]
        sentences = [_sentences_of(chunks) for chunks in per_article]
        if texts:
            vectors, per_chunk = embedder.embed_passages_with_spans(texts, spans)
        else:
            vectors, per_chunk = np.zeros((0, embedder.dimension), np.float32), []
    finally:
        aux_vectors = aux_future.result() if aux_future else None
    out, offset = [], 0
    for article, chunks, rows in zip(articles, per_article, sentences):
        end = offset + len(chunks)
        sentence_vectors = (np.concatenate(per_chunk[offset:end]) if rows
                            else np.zeros((0, embedder.dimension), np.float32))
        out.append(StagedArticle(
            article, list(chunks), vectors[offset:end], tokens[offset:end],
            aux_vectors[offset:end] if aux_vectors is not None else None, rows, sentence_vectors,
        ))
        offset = end
    return out


def _sentences_of(chunks: Sequence[Chunk]) -> list[tuple[int, int, int]]:
    """(chunk position, start, end) of every sentence of the chunks, article offsets."""
    return [
        (i, chunk.start + start, chunk.start + end)
        for i, chunk in enumerate(chunks) for start, end in sentence_spans(chunk.text)
    ]
