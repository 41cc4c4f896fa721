"""What runs per question on Qdrant: the live state's `ChunkStore` and its BM25.

Every search carries the published state's filter (schema.live_filter) and the caller's
chunk ids, inside the engine, so a filter never leaves fewer than k results when k exist.
Scores are the engine's: inner products for the dense vectors, max-sim over a chunk's
sentences, and BM25 as sparse vectors whose idf the engine computes from live documents.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import IndexMissingError
from index.lexical import lucene_idf
from index.segment import AUX_VECTORS, VECTORS, StoredChunk
from index.sentences import search_tokens
from index.store.base import Hits
from index.store.manifest import Manifest
from index.store.qdrant.schema import (
    ARTICLE, BM25, DENSE, SENTENCES, STATE_ID, TERMS, QdrantAddress, client_for, day_number, live_filter,
    query_weights, scroll,
)

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

#: Chunks whose terms a reader keeps for `contains` (a few hundred bytes each).
MAX_CACHED_TERMS = 200_000


class QdrantLocation:
    """A collection as a `StoreLocation`: its live generation is the catalog's state point."""

    def __init__(self, url: str) -> None:
        self.address = QdrantAddress.parse(url)

    def describe(self) -> str:
        return self.address.url

    @property
    def client(self) -> "QdrantClient":
        return client_for(self.address)

    def state(self) -> dict[str, Any] | None:
        """The state point's payload, None before the first publication (one request: the
        retriever asks before every question)."""
        try:
            found = self.client.retrieve(self.address.catalog, [STATE_ID], with_payload=True)
        except Exception:
            if not self.client.collection_exists(self.address.catalog):
                return None
            raise
        return dict(found[0].payload or {}) if found else None

    def live(self) -> int | None:
        state = self.state()
        return int(state["generation"]) if state else None

    def open(self, previous: object = None) -> "QdrantReader":
        state = self.state()
        if state is None:
            raise IndexMissingError(
                f"no index in {self.address.url}; build one with `qa index --store {self.address.url} FOLDER`"
            )
        return QdrantReader(self.client, self.address, state)


class QdrantReader:
    """One published state of a collection, read-only (the `ChunkStore` of Qdrant)."""

    def __init__(self, client: "QdrantClient", address: QdrantAddress, state: dict[str, Any]) -> None:
        self.client = client
        self.address = address
        self.generation = int(state["generation"])
        self.manifest = Manifest(**state["manifest"])

    @property
    def size(self) -> int:
        return self.manifest.chunk_count

    @cached_property
    def lexical(self) -> "QdrantLexical":
        return QdrantLexical(self)

    def filter(self, ids: np.ndarray | Sequence[int] | None = None, *more: "qm.Condition") -> "qm.Filter":
        """The live state's filter, narrowed to chunk `ids` and any further conditions."""
        from qdrant_client import models as qm

        if ids is not None:
            more = (*more, qm.HasIdCondition(has_id=[int(i) for i in ids]))
        return live_filter(self.generation, *more)

    def query(self, query: "qm.Query | list[float] | list[list[float]] | qm.SparseVector", using: str,
              k: int, ids: np.ndarray | Sequence[int] | None = None) -> Hits:
        """The engine's top-k for one named vector, best first, ties by ascending id."""
        if k <= 0 or (ids is not None and not len(ids)):
            return []
        from qdrant_client import models as qm

        if using == BM25:
            # idf over the published state only: not over points a publication is writing, nor
            # over deleted ones the engine still counts until it rewrites their segment.
            params = qm.SearchParams(idf=qm.IdfCorpusParams(corpus=live_filter(self.generation)))
        elif self.address.folder is None:  # int8 copies find candidates, full vectors score them
            params = qm.SearchParams(quantization=qm.QuantizationSearchParams(rescore=True))
        else:
            params = None  # local mode searches exactly
        found = self.client.query_points(
            self.address.collection, query=query, using=using, query_filter=self.filter(ids), limit=k,
            with_payload=False, search_params=params,
        ).points
        return sorted(((int(p.id), float(p.score)) for p in found), key=lambda hit: (-hit[1], hit[0]))

    def search(self, query: np.ndarray, k: int, aux: bool = False, allowed: np.ndarray | None = None) -> Hits:
        name = AUX_VECTORS if aux else VECTORS
        if name not in self.manifest.dimensions:
            return []
        return self.query(np.asarray(query, dtype=np.float32).tolist(), DENSE[name], k, allowed)

    def scroll_ids(self, query_filter: "qm.Filter") -> list[int]:
        """Every chunk id passing the filter."""
        return [int(p.id) for p in scroll(self.client, self.address.collection, query_filter)]

    def chunk_ids_where(
        self, sources: Sequence[str] = (), date_from: str | None = None, date_to: str | None = None,
    ) -> np.ndarray:
        from qdrant_client import models as qm

        conditions: list[qm.Condition] = []
        if sources:
            conditions.append(qm.FieldCondition(key="article_id", match=qm.MatchAny(any=list(sources))))
        if date_from or date_to:
            conditions.append(qm.FieldCondition(key="day", range=qm.Range(
                gte=day_number(date_from) if date_from else None, lte=day_number(date_to) if date_to else None,
            )))
        return np.unique(np.asarray(self.scroll_ids(self.filter(None, *conditions)), dtype=np.int64))

    def articles(self) -> list[tuple[str, str, str | None]]:
        from qdrant_client import models as qm

        kind = qm.FieldCondition(key="kind", match=qm.MatchValue(value=ARTICLE))
        rows: list[tuple[str, str, str | None]] = [
            (p.payload["article_id"], p.payload["title"], p.payload.get("date"))
            for p in scroll(self.client, self.address.catalog, self.filter(None, kind), ["article_id", "title", "date"])
            if p.payload
        ]
        rows.sort(key=lambda r: r[0])
        rows.sort(key=lambda r: r[2] or "", reverse=True)  # undated last, as the embedded store
        return rows

    def _live_records(
        self, chunk_ids: Sequence[int], fields: list[str], vector: str | None = None,
    ) -> dict[int, tuple[dict[str, Any], Any]]:
        """(payload fields, the named vector) of the live chunks among `chunk_ids`, by id."""
        ids = [int(i) for i in dict.fromkeys(chunk_ids)]
        if not ids:
            return {}
        found = self.client.retrieve(self.address.collection, ids, with_payload=[*fields, "added", "removed"],
                                     with_vectors=[vector] if vector else False)
        return {int(p.id): (p.payload, p.vector.get(vector) if vector and isinstance(p.vector, dict) else None)
                for p in found if p.payload and self._is_live(p.payload)}

    def _is_live(self, payload: dict[str, Any]) -> bool:
        """What `live_filter` says, for points fetched by id (retrieval takes no filter)."""
        removed = payload.get("removed")
        return payload["added"] <= self.generation and (removed is None or removed > self.generation)

    def hubness(self, chunk_ids: Sequence[int], key: str, aux: bool = False) -> np.ndarray:
        name = AUX_VECTORS if aux else VECTORS
        stored = self._live_records(chunk_ids, ["hubness"])
        out = np.full(len(chunk_ids), np.nan, dtype=np.float32)
        for n, chunk_id in enumerate(chunk_ids):
            payload = stored[int(chunk_id)][0] if int(chunk_id) in stored else {}
            for vectors, measured_under, value in payload.get("hubness", []):
                if vectors == name and measured_under == key:
                    out[n] = value
        return out

    def signatures(self, article_ids: Sequence[str]) -> dict[str, bytes]:
        from qdrant_client import models as qm

        if not article_ids:
            return {}
        condition = qm.FieldCondition(key="article_id", match=qm.MatchAny(any=list(article_ids)))
        points, _ = self.client.scroll(self.address.catalog, scroll_filter=self.filter(None, condition),
                                       limit=len(article_ids), with_payload=["article_id", "signature"])
        return {p.payload["article_id"]: base64.b64decode(p.payload["signature"])
                for p in points if p.payload and p.payload.get("signature")}

    def vectors(self, chunk_ids: Sequence[int], aux: bool = False) -> np.ndarray:
        name = AUX_VECTORS if aux else VECTORS
        stored = self._live_records(chunk_ids, [], DENSE[name])
        out = np.zeros((len(chunk_ids), self.manifest.dimensions[name]), dtype=np.float32)
        for n, chunk_id in enumerate(chunk_ids):
            if int(chunk_id) in stored:
                out[n] = stored[int(chunk_id)][1]
        return out

    def sentences(self, chunk_ids: Sequence[int]) -> dict[int, tuple[list[tuple[int, int]], np.ndarray]]:
        return {
            chunk_id: ([(int(start), int(end)) for start, end in payload["sentences"]],
                       np.asarray(rows, dtype=np.float32))
            for chunk_id, (payload, rows) in self._live_records(chunk_ids, ["sentences"], SENTENCES).items() if rows
        }

    def best_sentences(self, query: np.ndarray, chunk_ids: Sequence[int]) -> np.ndarray:
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        best = dict(self.query([np.asarray(query, dtype=np.float32).tolist()], SENTENCES, len(ids), ids))
        return np.array([best.get(int(i), np.nan) for i in chunk_ids], dtype=np.float32)

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        rows = self._live_records(ids, ["article_id", "ordinal", "start", "end", "text", "title", "date", "outlet"])
        return {
            chunk_id: StoredChunk(chunk_id, p["article_id"], p["ordinal"], p["start"], p["end"], p["text"],
                                  p["title"], p.get("date"), p.get("outlet"))
            for chunk_id, (p, _) in rows.items()
        }

    def search_tokens(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Made again from the chunk's title and text by the rule indexing follows
        (`index.sentences.search_tokens`): points keep only their distinct terms, not their
        order. A later version of the tokenizer would make them anew, not as stored."""
        rows = self._live_records(ids, ["text", "title"])
        return {chunk_id: search_tokens(p["title"], p["text"]) for chunk_id, (p, _) in rows.items()}

    def close(self) -> None:
        """Nothing to release: the client is shared per address (schema.client_for)."""


class QdrantLexical:
    """BM25 on Qdrant: sparse vectors for ranking, the `terms` keyword field for document
    frequencies (a facet, read once per state) and for which chunks hold a term (read
    once per chunk)."""

    def __init__(self, reader: QdrantReader) -> None:
        self._reader = reader
        #: chunk id -> its distinct search terms, for `contains` (coverage of named terms).
        self._terms: dict[int, frozenset[str]] = {}

    def __len__(self) -> int:
        return self._reader.size

    @cached_property
    def _frequencies(self) -> dict[str, int]:
        reader = self._reader
        found = reader.client.facet(reader.address.collection, key=TERMS, facet_filter=reader.filter(),
                                    limit=2**31 - 1, exact=True)
        return {str(hit.value): int(hit.count) for hit in found.hits}

    def terms(self) -> list[str]:
        return list(self._frequencies)

    @property
    def parts(self) -> list["QdrantLexical"]:
        return [self]

    def df(self, token: str) -> int:
        return self._frequencies.get(token, 0)

    def idf(self, token: str) -> float:
        return lucene_idf(self._reader.size, self.df(token))

    def contains(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(chunk_ids, dtype=np.int64)
        missing = [i for i in dict.fromkeys(ids.tolist()) if i not in self._terms]
        if missing:  # a point's terms never change: fetched once per chunk, one request
            if len(self._terms) > MAX_CACHED_TERMS:
                self._terms.clear()
            for chunk_id, (payload, _) in self._reader._live_records(missing, [TERMS]).items():
                self._terms[chunk_id] = frozenset(payload[TERMS])
        wanted = set(tokens)
        return np.array([not wanted.isdisjoint(self._terms.get(int(i), ())) for i in ids], dtype=bool)

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> Hits:
        from qdrant_client import models as qm

        if not tokens:
            return []
        indices, values = query_weights(tokens)
        return self._reader.query(qm.SparseVector(indices=indices, values=values), BM25, k, allowed)
