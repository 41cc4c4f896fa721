"""Bring a Qdrant collection in line with the embedded index the writer just published.

`qa index|add|remove --store qdrant://...` embed and publish into the writer's local index
folder as always (its lock, steps and catalog make indexing resumable), then call
`publish`: articles whose content hash the collection does not hold are written as points
of the next generation, articles gone or replaced are marked removed by it, and one write
of the state point makes it live (see the package docstring). Readers need nothing local.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from index.chunking import Chunk
from index.compat import IndexProfile
from index.errors import ModelMismatchError, QAError
from index.segment import AUX_VECTORS, StoredChunk
from index.store.qdrant.lineage import check_current, record
from index.store.qdrant.reader import QdrantLocation
from index.store.qdrant.schema import (
    ARTICLE, BM25, DENSE, SENTENCES, STATE, STATE_ID, TERMS, BM25Constants, article_point_id, chunk_point_id,
    create_collections, day_number, live_filter, scroll,
)
from index.sources import SourceStore
from index.store.reader import IndexReader

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

#: Articles per batch of points sent to the engine.
BATCH_ARTICLES = 64
#: Manifest fields a collection keeps (the rest describe local files).
MANIFEST_FIELDS = ("model", "dimension", "chunking", "chunk_count", "article_count", "aux_model",
                   "aux_dimension", "backend", "quantization", "sentence_vectors")


@dataclass
class PublishReport:
    """What a publication changed in the collection."""

    generation: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def profile_key(profile: IndexProfile) -> str:
    """What the collection's vectors and chunks are made with, as one short string."""
    return hashlib.sha256(json.dumps(asdict(profile), sort_keys=True).encode()).hexdigest()[:16]


def publish(index_dir: Path, url: str, progress: bool = True) -> PublishReport:
    """Make the collection at `url` hold exactly the live articles of the index in `index_dir`."""
    location = QdrantLocation(url)
    source = IndexReader(index_dir)
    try:
        with SourceStore(index_dir) as kept:
            return _Publication(location, source, kept, progress).run()
    finally:
        source.close()


class _Publication:
    def __init__(self, location: QdrantLocation, source: IndexReader, kept: SourceStore, progress: bool) -> None:
        self.location = location
        self.index_dir = source.generation.parent
        self.kept = kept
        self.address = location.address
        self.client: QdrantClient = location.client
        self.source = source
        self.profile = profile_key(IndexProfile.of(source.manifest))
        self.progress = progress

    def run(self) -> PublishReport:
        state = self.location.state()
        if state is not None and state["profile"] != self.profile:
            raise ModelMismatchError(
                f"{self.address.url} holds vectors made with {state['manifest']['model']} "
                f"({state['manifest']['backend']}, second model {state['manifest']['aux_model']}), "
                "not with this index's settings; publish to a new collection, or delete this one first"
            )
        if state is not None:
            check_current(self.index_dir, self.address.url, int(state["generation"]))
        if not self.client.collection_exists(self.address.catalog):
            create_collections(self.client, self.address, self.source.manifest.dimensions)
        live = int(state["generation"]) if state else 0
        bm25 = BM25Constants(**state["bm25"]) if state else self._first_bm25()
        self._clear_failed(live)
        wanted = self.source.catalog.hashes()
        held = self._held(live)
        added = sorted(a for a, h in wanted.items() if held.get(a) != h)
        removed = sorted(a for a, h in held.items() if wanted.get(a) != h)
        report = PublishReport(live + 1, added, removed)
        if not added and not removed and state is not None:
            return PublishReport(live)  # this folder holds the live state already (checked above)
        self._write(added, wanted, report.generation, bm25)
        self._mark_removed(removed, live, report.generation)
        manifest = {name: getattr(self.source.manifest, name) for name in MANIFEST_FIELDS}
        self.client.upsert(self.address.catalog, wait=True, points=[self._point(STATE_ID, {
            "kind": STATE, "generation": report.generation, "profile": self.profile,
            "manifest": manifest, "bm25": asdict(bm25),
        })])
        record(self.index_dir, self.address.url, report.generation)
        self._drop_removed_before(report.generation)
        return report

    def _point(
        self, point_id: int | str, payload: dict[str, Any], vector: dict[str, Any] | None = None,
    ) -> "qm.PointStruct":
        from qdrant_client import models as qm

        return qm.PointStruct(id=point_id, payload=payload, vector=vector or {})

    def _first_bm25(self) -> BM25Constants:
        """BM25 constants from the whole source index: its segments' k1 and b, and the mean
        token count of its chunks (what one bm25s index over all of them would use)."""
        lexical = self.source.segments[0].lexical if self.source.segments else None
        lengths = [len(tokens) for batch in self._batches(sorted(self.source.catalog.hashes()))
                   for _, tokens in batch[1]]
        return BM25Constants(k1=lexical.k1 if lexical else 1.5, b=lexical.b if lexical else 0.75,
                             average_length=float(np.mean(lengths)) if lengths else 1.0)

    def _batches(self, article_ids: Sequence[str]) -> Iterator[tuple[list[str], list[tuple[StoredChunk, list[str]]]]]:
        """Articles in batches, each with its live chunks (in order) and their search tokens."""
        for start in range(0, len(article_ids), BATCH_ARTICLES):
            batch = list(article_ids[start:start + BATCH_ARTICLES])
            rows = self.source.chunks(self.source.chunk_ids_where(sources=batch).tolist())
            chunks = sorted(rows.values(), key=lambda c: (c.article_id, c.ordinal))
            yield batch, [(c, Chunk(c.article_id, c.ordinal, c.start, c.end, c.text).search_tokens(c.title))
                          for c in chunks]

    def _clear_failed(self, live: int) -> None:
        """Undo what a publication that never went live left: its points, its removal marks."""
        from qdrant_client import models as qm

        for collection in (self.address.collection, self.address.catalog):
            if not self.client.collection_exists(collection):
                continue
            self.client.delete(collection, wait=True, points_selector=qm.FilterSelector(filter=qm.Filter(
                must=[qm.FieldCondition(key="added", range=qm.Range(gt=live))])))
            self.client.delete_payload(collection, keys=["removed"], wait=True, points=qm.Filter(
                must=[qm.FieldCondition(key="removed", range=qm.Range(gt=live))]))

    def _held(self, live: int) -> dict[str, str]:
        """Content hash of each article the live state holds."""
        from qdrant_client import models as qm

        query = live_filter(live, qm.FieldCondition(key="kind", match=qm.MatchValue(value=ARTICLE)))
        return {p.payload["article_id"]: p.payload["content_hash"]
                for p in scroll(self.client, self.address.catalog, query, ["article_id", "content_hash"]) if p.payload}

    def _write(self, added: list[str], hashes: dict[str, str], generation: int, bm25: BM25Constants) -> None:
        """Points for every chunk of the added articles, then their catalog points."""
        bar = tqdm(total=len(added), desc=f"Publishing to {self.address.collection}", unit="article",
                   disable=not self.progress or not added)
        hubness_keys = sorted({(name, key) for s in self.source.segments
                               for name, key in (s.entry.get("hubness") or {}).items()})
        titles = {a: (title, date) for a, title, date in self.source.articles()}
        origins = self.kept.origins(added)
        wanted = set(added)
        texts = {a: source for a, _, _, source in self.kept.articles() if a in wanted}
        done = 0
        try:
            for batch, chunks in self._batches(added):
                self._write_chunks(chunks, hashes, origins, generation, bm25, hubness_keys)
                signatures = self.source.signatures(batch)
                outlets = {c.article_id: c.outlet for c, _ in chunks}
                counts = {a: sum(c.article_id == a for c, _ in chunks) for a in batch}
                self.client.upsert(self.address.catalog, wait=True, points=[
                    self._point(article_point_id(self.profile, a, hashes[a]), {
                        "kind": ARTICLE, "article_id": a, "content_hash": hashes[a], "title": titles[a][0],
                        "date": titles[a][1], "outlet": outlets.get(a), "chunks": counts[a], "added": generation,
                        "signature": base64.b64encode(signatures[a]).decode() if a in signatures else None,
                        "origin": origins.get(a), "source": asdict(texts[a]) if a in texts else None,
                    }) for a in batch
                ])
                done += len(batch)
                bar.update(len(batch))
        except Exception as exc:
            raise QAError(
                f"publishing to {self.address.url} failed after {done} of {len(added)} articles ({exc}); "
                f"it still answers from generation {generation - 1}; run the same command again to finish"
            ) from exc
        finally:
            bar.close()

    def _write_chunks(self, chunks: list[tuple[StoredChunk, list[str]]], hashes: dict[str, str],
                      origins: dict[str, str | None], generation: int, bm25: BM25Constants,
                      hubness_keys: list[tuple[str, str]]) -> None:
        from qdrant_client import models as qm

        if not chunks:
            return
        ids = [c.id for c, _ in chunks]
        dense = {name: self.source.vectors(ids, aux=name == AUX_VECTORS) for name in self.source.manifest.dimensions}
        sentences = self.source.sentences(ids)
        hubness = {(name, key): self.source.hubness(ids, key, aux=name == AUX_VECTORS) for name, key in hubness_keys}
        points = []
        for n, (chunk, tokens) in enumerate(chunks):
            indices, values = bm25.weights(tokens)
            vector: dict[str, Any] = {DENSE[name]: rows[n].tolist() for name, rows in dense.items()}
            vector[BM25] = qm.SparseVector(indices=indices, values=values)
            spans, sentence_vectors = sentences.get(chunk.id, ([], None))
            if spans:
                vector[SENTENCES] = np.asarray(sentence_vectors, dtype=np.float32).tolist()
            points.append(self._point(chunk_point_id(self.profile, chunk.article_id, hashes[chunk.article_id],
                                                     chunk.ordinal), {
                "article_id": chunk.article_id, "content_hash": hashes[chunk.article_id], "ordinal": chunk.ordinal,
                "start": chunk.start, "end": chunk.end, "text": chunk.text, "title": chunk.title,
                "date": chunk.date, "day": day_number(chunk.date) if chunk.date else None, "outlet": chunk.outlet,
                "origin": origins.get(chunk.article_id),
                TERMS: sorted(set(tokens)), "sentences": [list(span) for span in spans], "added": generation,
                "hubness": [[name, key, float(values[n])] for (name, key), values in hubness.items()
                            if not np.isnan(values[n])],
            }, vector))
        self.client.upsert(self.address.collection, points=points, wait=True)

    def _mark_removed(self, removed: list[str], live: int, generation: int) -> None:
        """Mark the live points of removed or replaced articles as removed by `generation`."""
        from qdrant_client import models as qm

        if not removed:
            return
        for collection in (self.address.collection, self.address.catalog):
            self.client.set_payload(collection, payload={"removed": generation}, wait=True, points=qm.Filter(
                must=[qm.FieldCondition(key="article_id", match=qm.MatchAny(any=removed)),
                      qm.FieldCondition(key="added", range=qm.Range(lte=live))],
                must_not=[qm.FieldCondition(key="removed", range=qm.Range(lte=live))],
            ))

    def _drop_removed_before(self, generation: int) -> None:
        """Delete what earlier publications removed; what this one removed stays a generation
        longer, for readers that began a question on the previous state."""
        from qdrant_client import models as qm

        for collection in (self.address.collection, self.address.catalog):
            self.client.delete(collection, wait=True, points_selector=qm.FilterSelector(filter=qm.Filter(
                must=[qm.FieldCondition(key="removed", range=qm.Range(lt=generation))])))
