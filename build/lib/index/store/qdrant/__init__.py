"""The index on Qdrant: the same `ChunkStore` as the embedded store, over a collection.

    schema.py    the address (`qdrant://HOST:PORT/COLLECTION`), the points and their
                 payload, term ids and BM25 weights, the filter of a published state
    reader.py    what runs per question: `QdrantLocation`, `QdrantReader`, `QdrantLexical`
    publish.py   bring a collection in line with the embedded index that was just written
    lineage.py   which state of a collection a writer folder holds (may it publish?)
    pull.py      an empty writer folder filled from the collection, nothing embedded

How a state is published without readers ever seeing half of it: every point carries the
generation that added it (`added`) and, once replaced or deleted, the one that removed it
(`removed`). Readers read the live generation G from the catalog's state point and search
with the filter `added <= G and not removed <= G`, inside the engine. A publication writes
its points as G + 1, marks what it replaces, then moves the state point to G + 1: one
write, so a failure before it leaves the collection answering from G, and the next
publication clears what the failed one left.

qdrant-client is an optional dependency (`pip install -e '.[cluster]'`); nothing here is
imported unless a `qdrant` store is configured.
"""
