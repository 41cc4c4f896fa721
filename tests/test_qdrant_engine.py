"""Pins the Qdrant semantics our store relies on to the engine's own Rust core.

qdrant-client's local mode (`QdrantClient(":memory:")`) is a re-implementation in Python, not the engine:
qdrant-client#1372 showed a top-level filter on fused queries being ignored locally while the server applied it.
So every behaviour our scoring relies on is checked here against the real engine core (`qdrant_edge`, a shard in
pytest's tmp_path), with the expected numbers computed in the test, and then local mode is checked to agree with
the engine on the same points and queries (ids in order, scores to ~1e-5).

Where local mode and the engine disagree, the test asserts the engine's behaviour and says so in a comment.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pytest
import qdrant_edge as qe
from qdrant_client import QdrantClient
from qdrant_client import models as qm

COLLECTION = "engine_semantics"

Sparse = Mapping[int, float]  # term id -> weight
VectorSpec = Union[list[float], list[list[float]], Sparse]
Hits = list[tuple[Any, float]]


@dataclass
class P:
    """One point, written the same way to both engines. A dict vector is sparse, a list of lists a multivector."""

    id: int
    vectors: dict[str, VectorSpec]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pair:
    """The same collection in the engine core and in local mode."""

    shard: qe.EdgeShard
    client: QdrantClient
    path: Path


# ---------------------------------------------------------------------------------------------------------------------
# Building the same corpus in both engines
# ---------------------------------------------------------------------------------------------------------------------


def _edge_vector(v: VectorSpec) -> Any:
    if isinstance(v, Mapping):
        return qe.SparseVector(indices=list(v), values=list(v.values()))
    return v


def _local_vector(v: VectorSpec) -> Any:
    if isinstance(v, Mapping):
        return qm.SparseVector(indices=list(v), values=list(v.values()))
    return v


def _edge_config(
    dense: Mapping[str, int], multi: Mapping[str, int], sparse_idf: Sequence[str], **extra: Any
) -> qe.EdgeConfig:
    vectors = {name: qe.EdgeVectorParams(size=size, distance=qe.Distance.Dot) for name, size in dense.items()}
    max_sim = qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
    vectors |= {
        name: qe.EdgeVectorParams(size=size, distance=qe.Distance.Dot, multivector_config=max_sim)
        for name, size in multi.items()
    }
    sparse = {name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for name in sparse_idf}
    return qe.EdgeConfig(vectors=vectors, sparse_vectors=sparse, **extra)


def _create_local(client: QdrantClient, dense: Mapping[str, int], multi: Mapping[str, int], sparse_idf: Sequence[str]):
    vectors = {name: qm.VectorParams(size=size, distance=qm.Distance.DOT) for name, size in dense.items()}
    max_sim = qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM)
    vectors |= {
        name: qm.VectorParams(size=size, distance=qm.Distance.DOT, multivector_config=max_sim)
        for name, size in multi.items()
    }
    sparse = {name: qm.SparseVectorParams(modifier=qm.Modifier.IDF) for name in sparse_idf}
    client.create_collection(COLLECTION, vectors_config=vectors, sparse_vectors_config=sparse)


BuildBoth = Callable[..., Pair]


@pytest.fixture
def build_both(tmp_path: Path) -> Iterator[BuildBoth]:
    """Builds the same points in a fresh engine shard and a fresh local-mode collection; all dense vectors use DOT.

    dense/multi map vector name -> dimension (multi = MAX_SIM multivector), sparse_idf lists sparse vectors with
    the IDF modifier, and `edge_options` go to EdgeConfig (optimizer/HNSW settings, for the indexed test).
    """
    pairs: list[Pair] = []

    def build(
        points: Sequence[P],
        *,
        dense: Mapping[str, int] | None = None,
        multi: Mapping[str, int] | None = None,
        sparse_idf: Sequence[str] = (),
        edge_options: Mapping[str, Any] | None = None,
        edge_index: Mapping[str, qe.PayloadSchemaType] | None = None,
    ) -> Pair:
        dense, multi = dense or {}, multi or {}
        path = tmp_path / f"shard{len(pairs)}"
        shard = qe.EdgeShard.create(str(path), _edge_config(dense, multi, sparse_idf, **(edge_options or {})))
        for key, schema in (edge_index or {}).items():
            shard.update(qe.UpdateOperation.create_field_index(key, schema))
        shard.update(
            qe.UpdateOperation.upsert_points(
                [
                    qe.Point(id=p.id, vector={k: _edge_vector(v) for k, v in p.vectors.items()}, payload=p.payload)
                    for p in points
                ]
            )
        )
        client = QdrantClient(":memory:")
        _create_local(client, dense, multi, sparse_idf)
        client.upsert(
            COLLECTION,
            [
                qm.PointStruct(id=p.id, vector={k: _local_vector(v) for k, v in p.vectors.items()}, payload=p.payload)
                for p in points
            ],
        )
        pair = Pair(shard, client, path)
        pairs.append(pair)
        return pair

    yield build
    for pair in pairs:
        pair.shard.close()  # closing twice (after a test reloads) is harmless
        pair.client.close()


def edge_query(shard: qe.EdgeShard, request: qe.QueryRequest) -> Hits:
    return [(hit.id, hit.score) for hit in shard.query(request)]


def local_query(client: QdrantClient, **kwargs: Any) -> Hits:
    return [(hit.id, hit.score) for hit in client.query_points(COLLECTION, **kwargs).points]


def assert_hits(got: Hits, expected: Sequence[tuple[int, float]]) -> None:
    """Same ids in the same order, scores to ~1e-5 (the engine scores in float32)."""
    assert [pid for pid, _ in got] == [pid for pid, _ in expected]
    assert [score for _, score in got] == pytest.approx([score for _, score in expected], rel=1e-5, abs=1e-6)


def ranked(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


# ---------------------------------------------------------------------------------------------------------------------
# 1. Sparse vectors with the IDF modifier
# ---------------------------------------------------------------------------------------------------------------------

LEX_DOCS: dict[int, dict[int, float]] = {
    1: {1: 1.0, 2: 2.0},
    2: {1: 0.5},
    3: {2: 1.0, 3: 1.0},
    4: {3: 3.0},
    5: {4: 1.0},  # shares no term with the query: neither engine returns it
    6: {1: 1.0, 4: 0.5},
}
# Point 7 has no sparse vector at all: it must not count in N.
LEX_POINTS = [P(pid, {"lex": doc}, {"n": pid}) for pid, doc in LEX_DOCS.items()] + [P(7, {"dense": [1.0, 0.0]})]
LEX_QUERY = {1: 1.0, 2: 1.0, 3: 1.0}


def idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def idf_scores(docs: Mapping[int, Sparse], query: Sparse) -> list[tuple[int, float]]:
    """sum over shared terms of idf(t) * query(t) * doc(t); N = len(docs), n_t = docs containing t."""
    df = Counter(term for doc in docs.values() for term in doc)
    return ranked(
        {
            pid: sum(idf(len(docs), df[t]) * query[t] * w for t, w in doc.items() if t in query)
            for pid, doc in docs.items()
            if set(doc) & set(query)
        }
    )


def _sparse_edge(params: qe.SearchParams | None = None) -> qe.QueryRequest:
    query = qe.Query.Nearest(_edge_vector(LEX_QUERY), using="lex")
    return qe.QueryRequest(limit=10, query=query, params=params)


def _sparse_local(client: QdrantClient, params: qm.SearchParams | None = None) -> Hits:
    return local_query(client, query=_local_vector(LEX_QUERY), using="lex", limit=10, search_params=params)


def test_sparse_idf_scores_match_formula(build_both: BuildBoth) -> None:
    pair = build_both(LEX_POINTS, dense={"dense": 2}, sparse_idf=["lex"])
    expected = idf_scores(LEX_DOCS, LEX_QUERY)  # N = 6: point 7 (no "lex") is not counted
    assert [pid for pid, _ in expected] == [4, 1, 3, 6, 2]
    # Point 4 holds term 3 with weight 3.0; term 3 is in 2 of the 6 docs: 3 * ln(1 + 4.5 / 2.5).
    assert expected[0][1] == pytest.approx(3 * math.log(2.8))

    assert_hits(edge_query(pair.shard, _sparse_edge()), expected)
    assert_hits(_sparse_local(pair.client), expected)


def test_sparse_idf_after_delete(build_both: BuildBoth) -> None:
    """Deleting a point: which N and n_t the IDF is computed from.

    DISAGREEMENT. Local mode recomputes N and n_t from the live points at once. The engine core does NOT: its
    collection-wide IDF takes n_t from the posting lists of the sparse index and N from its indexed-vector count
    (since qdrant#6739, the fix for qdrant#6735), and deletions leave both in place until the segment is rebuilt:
    reloading the shard, or a vacuum by the optimizer (by default only past 1000 vectors and 20% deleted), drops
    them. Asking for an IDF corpus of every point, `SearchParams(idf=IdfParams(corpus=Filter()))`, makes the engine
    count the live points only.
    """
    pair = build_both(LEX_POINTS, dense={"dense": 2}, sparse_idf=["lex"])
    pair.shard.update(qe.UpdateOperation.delete_points([4]))
    pair.client.delete(COLLECTION, qm.PointIdsList(points=[4]))

    live = {pid: doc for pid, doc in LEX_DOCS.items() if pid != 4}
    live_expected = idf_scores(live, LEX_QUERY)  # N = 5, term 3 now in 1 doc
    assert live_expected[0] == (1, pytest.approx(math.log(1 + 2.5 / 3.5) + 2 * math.log(1 + 3.5 / 2.5)))
    stale_expected = [hit for hit in idf_scores(LEX_DOCS, LEX_QUERY) if hit[0] != 4]  # N = 6, n_3 = 2 as before
    assert [pid for pid, _ in live_expected] == [1, 3, 6, 2]
    assert live_expected[1][1] != pytest.approx(stale_expected[1][1])  # the two readings really differ

    # Engine core, collection-wide IDF: the deleted point still counts in N and n_t.
    assert_hits(edge_query(pair.shard, _sparse_edge()), stale_expected)
    # Engine core, IDF corpus = every point: the live points only.
    all_points = qe.SearchParams(idf=qe.IdfParams(corpus=qe.Filter()))
    assert_hits(edge_query(pair.shard, _sparse_edge(all_points)), live_expected)

    # Local mode differs from the engine here: its collection-wide IDF is already the live one.
    assert_hits(_sparse_local(pair.client), live_expected)
    assert_hits(_sparse_local(pair.client, qm.SearchParams(idf=qm.IdfCorpusParams(corpus=qm.Filter()))), live_expected)

    # Reloading the shard rebuilds the sparse index from the live points: now the engine agrees with local mode.
    pair.shard.close()
    pair.shard = qe.EdgeShard.load(str(pair.path))
    assert_hits(edge_query(pair.shard, _sparse_edge()), live_expected)


def test_sparse_idf_over_a_filtered_corpus(build_both: BuildBoth) -> None:
    """What the store's BM25 asks (index/store/qdrant/reader.py): idf over the points of the published state only,
    `added <= G and not removed <= G`, so points a publication is still writing (added = G + 1) and points it
    marked removed change no score before the state moves."""
    lifetimes = {1: {"added": 1}, 2: {"added": 1}, 3: {"added": 2}, 4: {"added": 1, "removed": 1},
                 5: {"added": 1}, 6: {"added": 1, "removed": 2}}
    points = [P(pid, {"lex": doc}, lifetimes[pid]) for pid, doc in LEX_DOCS.items()]
    pair = build_both(points, sparse_idf=["lex"],
                      edge_index={"added": qe.PayloadSchemaType.Integer, "removed": qe.PayloadSchemaType.Integer})
    published = {pid: doc for pid, doc in LEX_DOCS.items() if pid in (1, 2, 5, 6)}  # G = 1
    expected = idf_scores(published, LEX_QUERY)  # N = 4: 3 is staged, 4 removed
    assert [pid for pid, _ in expected] == [1, 6, 2]

    live = qe.Filter(must=[qe.FieldCondition(key="added", range=qe.RangeFloat(lte=1))],
                     must_not=[qe.FieldCondition(key="removed", range=qe.RangeFloat(lte=1))])
    request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(_edge_vector(LEX_QUERY), using="lex"), filter=live,
                              params=qe.SearchParams(idf=qe.IdfParams(corpus=live)))
    assert_hits(edge_query(pair.shard, request), expected)
    local_live = qm.Filter(must=[qm.FieldCondition(key="added", range=qm.Range(lte=1))],
                           must_not=[qm.FieldCondition(key="removed", range=qm.Range(lte=1))])
    local = local_query(pair.client, query=_local_vector(LEX_QUERY), using="lex", limit=10, query_filter=local_live,
                        search_params=qm.SearchParams(idf=qm.IdfCorpusParams(corpus=local_live)))
    assert_hits(local, expected)


# ---------------------------------------------------------------------------------------------------------------------
# 2. Filtered dense search: the filter is applied inside the search
# ---------------------------------------------------------------------------------------------------------------------

# Against the query [1, 0] point i scores 9 - i, so the best unfiltered points are 1, 2, 3.
LIFETIMES: dict[int, dict[str, int]] = {
    1: {"added": 5},
    2: {"added": 5},
    3: {"added": 4, "removed": 9},
    4: {"added": 1, "removed": 2},  # removed <= 3: out
    5: {"added": 2},  # never removed: in
    6: {"added": 3, "removed": 7},  # added == 3 is in (lte), removed 7 > 3: in
    7: {"added": 0, "removed": 3},  # removed == 3 is not > 3: out
    8: {"added": 1},  # in
}
DENSE_POINTS = [P(pid, {"dense": [float(9 - pid), 1.0]}, payload) for pid, payload in LIFETIMES.items()]
DENSE_QUERY = [1.0, 0.0]


def alive_at_3_edge(min_should: bool = False) -> qe.Filter:
    """added <= 3 and (removed missing or removed > 3), as must + should, or as must + min_should(1)."""
    added = qe.FieldCondition(key="added", range=qe.RangeFloat(lte=3))
    not_removed: list[Any] = [
        qe.IsEmptyCondition(key="removed"),
        qe.FieldCondition(key="removed", range=qe.RangeFloat(gt=3)),
    ]
    if min_should:
        return qe.Filter(must=[added], min_should=qe.MinShould(conditions=not_removed, min_count=1))
    return qe.Filter(must=[added], should=not_removed)


def alive_at_3_local(min_should: bool = False) -> qm.Filter:
    added = qm.FieldCondition(key="added", range=qm.Range(lte=3))
    not_removed: list[Any] = [
        qm.IsEmptyCondition(is_empty=qm.PayloadField(key="removed")),
        qm.FieldCondition(key="removed", range=qm.Range(gt=3)),
    ]
    if min_should:
        return qm.Filter(must=[added], min_should=qm.MinShould(conditions=not_removed, min_count=1))
    return qm.Filter(must=[added], should=not_removed)


def test_filtered_dense_search_returns_k_passing_points(build_both: BuildBoth) -> None:
    pair = build_both(DENSE_POINTS, dense={"dense": 2})

    def edge(limit: int, flt: qe.Filter | None) -> Hits:
        return edge_query(
            pair.shard, qe.QueryRequest(limit=limit, query=qe.Query.Nearest(DENSE_QUERY, using="dense"), filter=flt)
        )

    def local(limit: int, flt: qm.Filter | None) -> Hits:
        return local_query(pair.client, query=DENSE_QUERY, using="dense", limit=limit, query_filter=flt)

    unfiltered = [(1, 8.0), (2, 7.0), (3, 6.0)]
    assert_hits(edge(3, None), unfiltered)
    assert_hits(local(3, None), unfiltered)

    # The three best points all fail the range filter, yet k = 3 passing points come back.
    for min_should in (False, True):
        assert_hits(edge(3, alive_at_3_edge(min_should)), [(5, 4.0), (6, 3.0), (8, 1.0)])
        assert_hits(local(3, alive_at_3_local(min_should)), [(5, 4.0), (6, 3.0), (8, 1.0)])
    # Asking for more than pass returns only those that pass.
    assert_hits(edge(5, alive_at_3_edge()), [(5, 4.0), (6, 3.0), (8, 1.0)])
    assert_hits(local(5, alive_at_3_local()), [(5, 4.0), (6, 3.0), (8, 1.0)])
    assert pair.shard.count(qe.CountRequest(filter=alive_at_3_edge())) == 3
    assert pair.client.count(COLLECTION, count_filter=alive_at_3_local()).count == 3

    # HasId: only the three worst points are allowed.
    by_id = [(6, 3.0), (7, 2.0), (8, 1.0)]
    assert_hits(edge(3, qe.Filter(must=[qe.HasIdCondition(point_ids={6, 7, 8})])), by_id)
    assert_hits(local(3, qm.Filter(must=[qm.HasIdCondition(has_id=[6, 7, 8])])), by_id)


def test_filtered_dense_search_on_hnsw_index(build_both: BuildBoth) -> None:
    """Same property once the engine has built an HNSW graph and payload indexes (the small corpus above is always
    searched by brute force): k filtered results, equal to the brute-force filtered top k, even when the filter
    excludes the best points. Local mode is always brute force."""
    rng = random.Random(7)
    dim, k = 8, 10
    vectors = {pid: [rng.gauss(0, 1) for _ in range(dim)] for pid in range(1, 401)}
    payloads = {pid: {"added": pid % 7} | ({"removed": pid % 5 + 1} if pid % 3 == 0 else {}) for pid in vectors}
    query = [rng.gauss(0, 1) for _ in range(dim)]

    def dot(v: list[float]) -> float:
        return sum(a * b for a, b in zip(query, v))

    best = sorted(vectors, key=lambda pid: -dot(vectors[pid]))
    excluded: set[Any] = set(best[:20])  # the 20 best points are kept out by HasId in must_not

    def passes(pid: int) -> bool:
        p = payloads[pid]
        return pid not in excluded and p["added"] <= 3 and ("removed" not in p or p["removed"] > 3)

    expected = [(pid, dot(vectors[pid])) for pid in best if passes(pid)][:k]
    assert len(expected) == k

    pair = build_both(
        [P(pid, {"dense": vectors[pid]}, payloads[pid]) for pid in vectors],
        dense={"dense": dim},
        edge_options={
            "hnsw_config": qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=1),
            "optimizers": qe.EdgeOptimizersConfig(indexing_threshold=1),
        },
        edge_index={"added": qe.PayloadSchemaType.Integer, "removed": qe.PayloadSchemaType.Integer},
    )
    pair.shard.optimize()
    assert pair.shard.info().indexed_vectors_count == len(vectors)  # searched through HNSW, not brute force

    edge_filter = alive_at_3_edge()
    edge_filter = qe.Filter(
        must=edge_filter.must, should=edge_filter.should, must_not=[qe.HasIdCondition(point_ids=excluded)]
    )
    got = edge_query(
        pair.shard, qe.QueryRequest(limit=k, query=qe.Query.Nearest(query, using="dense"), filter=edge_filter)
    )
    assert_hits(got, expected)

    local_filter = alive_at_3_local()
    local_filter.must_not = [qm.HasIdCondition(has_id=sorted(excluded))]
    assert_hits(local_query(pair.client, query=query, using="dense", limit=k, query_filter=local_filter), expected)


# ---------------------------------------------------------------------------------------------------------------------
# 3. Multivector, MAX_SIM
# ---------------------------------------------------------------------------------------------------------------------

SENTENCES: dict[int, list[list[float]]] = {
    1: [[1.0, 0.0, 0.0]],
    2: [[0.0, 1.0, 0.0], [0.5, 0.4, 0.0]],
    3: [[0.2, 0.1, 0.9], [0.9, 0.0, 0.1], [-1.0, 2.1, 0.0]],
    4: [[-0.5, -0.5, 1.0], [0.0, 0.0, 2.0], [0.1, 0.1, 0.1], [0.3, 0.3, -0.3]],
}


def test_multivector_max_sim(build_both: BuildBoth) -> None:
    pair = build_both([P(pid, {"sentences": rows}) for pid, rows in SENTENCES.items()], multi={"sentences": 3})
    q = [0.6, 0.8, -0.1]

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b))

    # One-row query: each point scores the max over its rows of dot(q, row).
    expected = ranked({pid: max(dot(q, row) for row in rows) for pid, rows in SENTENCES.items()})
    # 3: its third row (-0.6 + 1.68); 2: its first row, not 0.3 + 0.32; 4: its fourth row, 0.18 + 0.24 + 0.03.
    assert expected == [
        (3, pytest.approx(1.08)),
        (2, pytest.approx(0.8)),
        (1, pytest.approx(0.6)),
        (4, pytest.approx(0.45)),
    ]
    assert_hits(
        edge_query(pair.shard, qe.QueryRequest(limit=10, query=qe.Query.Nearest([q], using="sentences"))), expected
    )
    assert_hits(local_query(pair.client, query=[q], using="sentences", limit=10), expected)

    # Several query rows: the sum over query rows of that max.
    qs = [q, [0.0, 0.0, 1.0]]
    expected2 = ranked({pid: sum(max(dot(r, row) for row in rows) for r in qs) for pid, rows in SENTENCES.items()})
    assert expected2 == [
        (4, pytest.approx(0.45 + 2.0)),
        (3, pytest.approx(1.08 + 0.9)),
        (2, pytest.approx(0.8)),
        (1, pytest.approx(0.6)),
    ]
    assert_hits(
        edge_query(pair.shard, qe.QueryRequest(limit=10, query=qe.Query.Nearest(qs, using="sentences"))), expected2
    )
    assert_hits(local_query(pair.client, query=qs, using="sentences", limit=10), expected2)


# ---------------------------------------------------------------------------------------------------------------------
# 4. Facet on a keyword list field, and count
# ---------------------------------------------------------------------------------------------------------------------

TERMS: dict[int, list[str]] = {1: ["a", "b"], 2: ["a"], 3: ["b", "c", "a"], 4: [], 5: ["c"], 6: ["a", "a"]}


def test_facet_counts_documents_per_value(build_both: BuildBoth) -> None:
    pair = build_both(
        [P(pid, {"dense": [1.0, 0.0]}, {"terms": terms}) for pid, terms in TERMS.items()], dense={"dense": 2}
    )
    df = {"a": 4, "b": 2, "c": 2}  # points containing the value; point 6's repeated "a" counts once
    assert df == dict(Counter(t for terms in TERMS.values() for t in set(terms)))

    # DISAGREEMENT (API, not numbers): the engine refuses to facet a field without a keyword payload index;
    # local mode facets any field (and ignores payload indexes, warning if one is created).
    with pytest.raises(Exception, match="No appropriate index for faceting"):
        pair.shard.facet(qe.FacetRequest(key="terms", limit=10, exact=True))
    pair.shard.update(qe.UpdateOperation.create_field_index("terms", qe.PayloadSchemaType.Keyword))

    engine_facet = pair.shard.facet(qe.FacetRequest(key="terms", limit=10, exact=True))
    assert {hit.value: hit.count for hit in engine_facet.hits} == df
    local_facet = pair.client.facet(COLLECTION, key="terms", limit=10, exact=True)
    assert {hit.value: hit.count for hit in local_facet.hits} == df

    for value in ["a", "b", "c", "d"]:
        edge_count = pair.shard.count(
            qe.CountRequest(filter=qe.Filter(must=[qe.FieldCondition(key="terms", match=qe.MatchValue(value))]))
        )
        local_count = pair.client.count(
            COLLECTION,
            count_filter=qm.Filter(must=[qm.FieldCondition(key="terms", match=qm.MatchValue(value=value))]),
        ).count
        assert edge_count == local_count == df.get(value, 0)


# ---------------------------------------------------------------------------------------------------------------------
# 5. Prefetch on two named vectors + RRF
# ---------------------------------------------------------------------------------------------------------------------

# Against the query [1, 0] each vector scores its first component, so these fix each prefetch's ranking:
# "a" ranks 1, 2, 3, 4, 5, 6 and "b" ranks 3, 1, 5, 6, 2, 4.
A_SCORES = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.6, 5: 0.5, 6: 0.4}
B_SCORES = {3: 0.9, 1: 0.8, 5: 0.7, 6: 0.6, 2: 0.5, 4: 0.4}
FUSION_POINTS = [
    P(pid, {"a": [A_SCORES[pid], 1 - A_SCORES[pid]], "b": [B_SCORES[pid], 0.5]}, {"g": "x" if pid in (1, 4) else "y"})
    for pid in A_SCORES
]


def rrf(rankings: Sequence[Sequence[int]], k: int) -> list[tuple[int, float]]:
    """What the engine computes: sum over prefetches of 1 / (k + rank), rank counted from 0."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + 1 / (k + rank)
    return ranked(scores)


def test_prefetch_rrf_fusion(build_both: BuildBoth) -> None:
    pair = build_both(FUSION_POINTS, dense={"a": 2, "b": 2})
    q = [1.0, 0.0]

    def edge(k: int, flt: qe.Filter | None = None) -> Hits:
        prefetches = [
            qe.Prefetch(limit=3, query=qe.Query.Nearest(q, using="a")),
            qe.Prefetch(limit=4, query=qe.Query.Nearest(q, using="b")),
        ]
        fusion: Any = qe.Fusion.Rrf(k=k)  # the .pyi leaves Fusion.Rrf out of QueryRequest's query types
        return edge_query(pair.shard, qe.QueryRequest(limit=10, prefetches=prefetches, query=fusion, filter=flt))

    def local(query: Any, flt: qm.Filter | None = None) -> Hits:
        prefetch = [qm.Prefetch(query=q, using="a", limit=3), qm.Prefetch(query=q, using="b", limit=4)]
        return local_query(pair.client, prefetch=prefetch, query=query, limit=10, query_filter=flt)

    expected = rrf([[1, 2, 3], [3, 1, 5, 6]], k=2)
    assert expected == [
        (1, pytest.approx(1 / 2 + 1 / 3)),
        (3, pytest.approx(1 / 4 + 1 / 2)),
        (2, pytest.approx(1 / 3)),
        (5, pytest.approx(1 / 4)),
        (6, pytest.approx(1 / 5)),
    ]
    assert_hits(edge(2), expected)
    assert_hits(local(qm.FusionQuery(fusion=qm.Fusion.RRF)), expected)  # local default k is 2 as well
    assert_hits(local(qm.RrfQuery(rrf=qm.Rrf(k=2))), expected)

    expected60 = rrf([[1, 2, 3], [3, 1, 5, 6]], k=60)
    assert_hits(edge(60), expected60)
    assert_hits(local(qm.RrfQuery(rrf=qm.Rrf(k=60))), expected60)

    # A top-level filter goes into each prefetch (qdrant-client#1372): with 1 and 4 filtered out, "a" prefetches
    # 2, 3, 5 and "b" 3, 5, 6, 2 -- not the unfiltered fusion with 1 dropped afterwards.
    filtered = rrf([[2, 3, 5], [3, 5, 6, 2]], k=2)
    assert [pid for pid, _ in filtered] == [3, 2, 5, 6]
    assert_hits(edge(2, qe.Filter(must=[qe.FieldCondition(key="g", match=qe.MatchValue("y"))])), filtered)
    # Local mode agrees here (qdrant-client 1.20.0 carries the #1373 fix).
    flt = qm.Filter(must=[qm.FieldCondition(key="g", match=qm.MatchValue(value="y"))])
    assert_hits(local(qm.FusionQuery(fusion=qm.Fusion.RRF), flt), filtered)
