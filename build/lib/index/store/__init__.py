"""The index on disk: generations of immutable segments, published atomically.

Layout of an index directory::

    CURRENT              name of the live generation, replaced atomically
    lock                 held by the one writer
    gen-000007/          one complete generation
        manifest.json    model, chunking, segments, file sizes and hashes
        catalog.sqlite   the articles: content hash and segment of each (index/catalog.py)
        deleted.npy      ids of deleted chunks (tombstones), when there are any
        seg-000003/      a segment (index/segment.py): SQLite, FAISS, BM25
        seg-000009/      ...

What lives where (import from the module; this package re-exports nothing):

    reader.py       what runs per question: IndexReader, SegmentedLexical
    generation.py   reading a published generation: CURRENT, manifest, catalog, tombstones
    integrity.py    the sizes and hashes a manifest records, and the checks against them
    manifest.py     the manifest and the reading of older index formats
    writer.py       the one writer: its lock, staging, merging, atomic publishing
"""
