"""How the index is laid out in Qdrant, in one place for the reader and the publisher.

Two collections per index: `NAME` holds one point per chunk (named dense vectors for each
model, the chunk's sentences as one multivector, a sparse BM25 vector, and the payload a
citation needs); `NAME_catalog` holds one point per article (content hash, metadata,
near-duplicate signature) and the state point (live generation, manifest, BM25 constants).
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from index.errors import QAError
from index.segment import AUX_VECTORS, VECTORS

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

#: Named vectors of a chunk point: the store's vector file names mapped to Qdrant names.
DENSE = {VECTORS: "main", AUX_VECTORS: "second"}
SENTENCES = "sentences"
BM25 = "bm25"
#: Payload field of a chunk's distinct search tokens (keyword-indexed: df, coverage).
TERMS = "terms"
STATE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "qa-news/state"))
ARTICLE, STATE = "article", "state"
DEFAULT_PORT = 6333
#: Points per page of a scroll (filters resolved to ids, the article list, the catalog).
SCROLL_PAGE = 2048


@dataclass(frozen=True)
class QdrantAddress:
    """Where the collection is: a server (`qdrant://HOST[:PORT]/COLLECTION`, optional
    `?shards=N&replicas=N` used when the collection is created) or qdrant-client's local
    mode in a folder (`qdrant+local://FOLDER/COLLECTION`: one process at a time, for
    tests and trials)."""

    url: str
    collection: str
    host: str | None = None
    port: int = DEFAULT_PORT
    folder: Path | None = None
    shards: int = 1
    replicas: int = 1

    @classmethod
    def parse(cls, url: str) -> "QdrantAddress":
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"shards", "replicas"}
        if unknown:
            raise QAError(f"unknown option(s) {', '.join(sorted(unknown))} in store {url!r} (shards, replicas)")
        if parts.scheme == "qdrant+local":
            path = (parts.netloc + parts.path).rstrip("/")
            folder, _, collection = path.rpartition("/")
            if not folder or not collection:
                raise QAError(f"store {url!r}: write qdrant+local://FOLDER/COLLECTION")
            return cls(url, collection, folder=Path(folder))
        if parts.scheme != "qdrant":
            raise QAError(f"unknown store {url!r}: give qdrant://HOST:PORT/COLLECTION (or leave it unset)")
        collection = parts.path.strip("/")
        if not parts.hostname or not collection or "/" in collection:
            raise QAError(f"store {url!r}: write qdrant://HOST:PORT/COLLECTION")
        try:
            shards, replicas = int(query.get("shards", 1)), int(query.get("replicas", 1))
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise QAError(f"store {url!r}: {exc}") from None
        return cls(url, collection, host=parts.hostname, port=port, shards=shards, replicas=replicas)

    @property
    def catalog(self) -> str:
        return f"{self.collection}_catalog"


_CLIENTS: dict[tuple[str | None, int, str | None], "QdrantClient"] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(address: QdrantAddress) -> "QdrantClient":
    """One client per address and process (local mode admits one per folder)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise QAError(
            "the qdrant store needs qdrant-client: pip install -e '.[cluster]'"
        ) from None
    key = (address.host, address.port, str(address.folder) if address.folder else None)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            if address.folder is not None:
                address.folder.mkdir(parents=True, exist_ok=True)
                _CLIENTS[key] = QdrantClient(path=str(address.folder))
            else:
                _CLIENTS[key] = QdrantClient(host=address.host, port=address.port, timeout=60)
            if len(_CLIENTS) == 1:
                atexit.register(_close_clients)
        return _CLIENTS[key]


def _close_clients() -> None:
    """Close before the interpreter tears down (local mode's own finaliser fails then)."""
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            client.close()
        _CLIENTS.clear()


def live_filter(generation: int, *more: "qm.Condition") -> "qm.Filter":
    """Points of the published state `generation` (added by it or before, not removed by
    it) that meet every condition in `more`."""
    from qdrant_client import models as qm

    return qm.Filter(
        must=[qm.FieldCondition(key="added", range=qm.Range(lte=generation)), *more],
        must_not=[qm.FieldCondition(key="removed", range=qm.Range(lte=generation))],
    )


def scroll(client: "QdrantClient", collection: str, query_filter: "qm.Filter",
           payload: list[str] | bool = False, vectors: bool = False) -> Iterator["qm.Record"]:
    """Every point passing the filter, page by page."""
    offset = None
    while True:
        points, offset = client.scroll(collection, scroll_filter=query_filter, limit=SCROLL_PAGE, offset=offset,
                                       with_payload=payload, with_vectors=vectors)
        yield from points
        if offset is None:
            return


def chunk_point_id(profile: str, article_id: str, content_hash: str, ordinal: int) -> int:
    """A chunk's point id: the same chunk of the same article text made with the same
    models and chunking always gets the same id, so a retried publication overwrites
    what a failed one wrote instead of adding it twice (63 bits: Qdrant's ids are u64,
    numpy's int64 holds them)."""
    digest = hashlib.blake2b(f"{profile}\0{article_id}\0{content_hash}\0{ordinal}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


def article_point_id(profile: str, article_id: str, content_hash: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qa-news/{profile}/{article_id}/{content_hash}"))


def term_id(token: str) -> int:
    """A search token's sparse index (u32). Distinct tokens may share one (about one pair in
    a million for a 100,000-term vocabulary); BM25 then adds their weights."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")


def day_number(date: str) -> int:
    """An ISO date (or its prefix) as YYYYMMDD, ordered as the embedded store's string
    comparisons order them."""
    return int(date[:10].replace("-", "").ljust(8, "0"))


@dataclass(frozen=True)
class BM25Constants:
    """The document side of Lucene's BM25 (bm25s's "lucene" method), fixed per collection
    at its first publication so every later writer weighs terms the same way; idf is the
    engine's (the sparse vector's IDF modifier counts live documents)."""

    k1: float
    b: float
    average_length: float

    def weights(self, tokens: list[str]) -> tuple[list[int], list[float]]:
        """A chunk's sparse vector: each distinct term's saturated frequency."""
        counts = Counter(tokens)
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.average_length)
        merged: dict[int, float] = {}
        for token, tf in counts.items():
            index = term_id(token)
            merged[index] = merged.get(index, 0.0) + tf / (tf + norm)
        return list(merged), list(merged.values())


def query_weights(tokens: list[str]) -> tuple[list[int], list[float]]:
    """A question's sparse vector: a repeated token counts once per occurrence, as in Lucene."""
    merged: Counter[int] = Counter(term_id(t) for t in tokens)
    return list(merged), [float(v) for v in merged.values()]


def create_collections(client: "QdrantClient", address: QdrantAddress, dimensions: dict[str, int]) -> None:
    """The two collections and their payload indexes, as `qa` sets them up: dense vectors
    on disk with int8 copies in memory (searched, then re-scored with the originals),
    sentences as a max-sim multivector, BM25 as a sparse vector with the IDF modifier."""
    from qdrant_client import models as qm

    quantised = qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(type=qm.ScalarType.INT8, always_ram=True))
    vectors: dict[str, Any] = {
        DENSE[name]: qm.VectorParams(size=size, distance=qm.Distance.DOT, on_disk=True)
        for name, size in dimensions.items()
    }
    vectors[SENTENCES] = qm.VectorParams(
        size=dimensions[VECTORS], distance=qm.Distance.DOT, on_disk=True,
        multivector_config=qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM),
    )
    client.create_collection(
        address.collection, vectors_config=vectors,
        sparse_vectors_config={BM25: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        quantization_config=quantised, shard_number=address.shards, replication_factor=address.replicas,
    )
    client.create_collection(address.catalog, vectors_config={}, shard_number=1,
                             replication_factor=address.replicas)
    if address.folder is not None:  # local mode scans payloads; it has no indexes to make
        return
    keyword, integer = qm.PayloadSchemaType.KEYWORD, qm.PayloadSchemaType.INTEGER
    for name, kind in (("article_id", keyword), (TERMS, keyword), ("day", integer),
                       ("added", integer), ("removed", integer)):
        client.create_payload_index(address.collection, name, field_schema=kind)
    for name, kind in (("kind", keyword), ("article_id", keyword), ("added", integer), ("removed", integer)):
        client.create_payload_index(address.catalog, name, field_schema=kind)
