"""Which store the settings name: the embedded store in the index folder, or Qdrant."""

from __future__ import annotations

from index.config import Settings
from index.store.base import StoreLocation
from index.store.reader import LocalFolder


def store_location(settings: Settings) -> StoreLocation:
    """Where questions are answered from (`QA_STORE`, `--store`; unset: `QA_INDEX_DIR`)."""
    if not settings.store:
        return LocalFolder(settings.index_dir)
    from index.store.qdrant.reader import QdrantLocation

    return QdrantLocation(settings.store)
