"""The index on disk: generations of immutable segments, published atomically (writer.py)."""
