"""Make an empty index folder the writer of a collection, with nothing embedded: every live
article is read back from the cluster (its source text and origin from the catalog, its
chunks, vectors and sentences from the chunk points) and written as the folder's first
generation. A writer on any machine can then index incrementally against the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from index.articles import Article, Source, read_source
from index.chunking import Chunk
from index.errors import QAError
from index.segment import AUX_VECTORS, VECTORS
from index.sources import SourceStore
from index.store.manifest import Manifest
from index.store.qdrant.lineage import record
from index.store.qdrant.publish import BATCH_ARTICLES, MANIFEST_FIELDS
from index.store.qdrant.reader import QdrantLocation
from index.store.qdrant.schema import ARTICLE, DENSE, SENTENCES, live_filter, scroll
from index.store.writer import IndexWriter


def pull(index_dir: Path, url: str, vector_index: str = "auto", progress: bool = True) -> int:
    """Write the collection's live articles into the empty index folder `index_dir`; returns
    how many. Call with the folder's writer lock held."""
    from qdrant_client import models as qm

    location = QdrantLocation(url)
    state = location.state()
    if state is None:
        return 0
    generation = int(state["generation"])
    stored = {k: v for k, v in state["manifest"].items() if k in MANIFEST_FIELDS}
    manifest = Manifest(**{**stored, "chunk_count": 0, "article_count": 0})
    kind = qm.FieldCondition(key="kind", match=qm.MatchValue(value=ARTICLE))
    catalog = [p.payload for p in scroll(location.client, location.address.catalog, live_filter(generation, kind), True)
               if p.payload]
    writer = IndexWriter(index_dir, manifest, start_fresh=True, vector_index=vector_index)
    bar = tqdm(total=len(catalog), desc=f"Reading back {location.address.collection}", unit="article",
               disable=not progress or not catalog)
    with SourceStore(index_dir) as sources:
        try:
            for start in range(0, len(catalog), BATCH_ARTICLES):
                batch = catalog[start:start + BATCH_ARTICLES]
                articles = [_article(entry) for entry in batch]
                points = _chunk_points(location, generation, [a.id for a in articles])
                sources.put((a, entry.get("origin")) for a, entry in zip(articles, batch))
                for article in articles:
                    _stage(writer, article, points.get(article.id, []), manifest)
                bar.update(len(batch))
            published = writer.publish()
        except BaseException:
            writer.discard()
            raise
        finally:
            bar.close()
        sources.published(published.name, {e["article_id"]: e["content_hash"] for e in catalog},
                          [e["article_id"] for e in catalog])
    record(index_dir, url, generation)
    return len(catalog)


def _article(entry: dict[str, Any]) -> Article:
    """The article again from the source text the catalog keeps, exactly as published."""
    if not entry.get("source"):
        raise QAError(f"the catalog keeps no source for {entry['article_id']!r}; it cannot be read back")
    loaded = read_source(entry["article_id"], Source(**entry["source"]))
    if len(loaded.articles) != 1 or loaded.articles[0].content_hash != entry["content_hash"]:
        raise QAError(
            f"{entry['article_id']!r} no longer reads as it was published (the cleaning rules changed); "
            "rebuild the collection from the articles' folders instead"
        )
    return loaded.articles[0]


def _chunk_points(location: QdrantLocation, generation: int, article_ids: Sequence[str]) -> dict[str, list[Any]]:
    """The live chunk points of these articles with payload and vectors, by article, in order."""
    from qdrant_client import models as qm

    of_batch = qm.FieldCondition(key="article_id", match=qm.MatchAny(any=list(article_ids)))
    points: dict[str, list[Any]] = {}
    for point in scroll(location.client, location.address.collection, live_filter(generation, of_batch),
                        True, vectors=True):
        points.setdefault(point.payload["article_id"], []).append(point)  # type: ignore[index]
    for found in points.values():
        found.sort(key=lambda p: p.payload["ordinal"])
    return points


def _stage(writer: IndexWriter, article: Article, points: list[Any], manifest: Manifest) -> None:
    """One article's chunks with the vectors the cluster holds."""
    chunks = [Chunk(article.id, p.payload["ordinal"], p.payload["start"], p.payload["end"], p.payload["text"])
              for p in points]
    dense = {name: np.array([p.vector[DENSE[name]] for p in points], dtype=np.float32).reshape(len(points), size)
             for name, size in manifest.dimensions.items()}
    sentences = [(position, int(s), int(e)) for position, p in enumerate(points) for s, e in p.payload["sentences"]]
    sentence_rows = [row for p in points if p.payload["sentences"] for row in p.vector[SENTENCES]]
    writer.add_article(
        article, chunks, dense[VECTORS], [c.search_tokens(article.title) for c in chunks], dense.get(AUX_VECTORS),
        sentences, np.asarray(sentence_rows, dtype=np.float32).reshape(len(sentences), manifest.dimension),
    )
