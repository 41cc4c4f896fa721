"""Which state of a collection an index folder last published or read back.

A writer's folder may publish to a collection only if it holds the collection's live
state: it published it, or read it back when it was empty (`pull`). Otherwise another
folder has published since, and mirroring this folder would remove what only that one
added. The record lives in the folder (`qdrant-published.json`: collection URL ->
generation), so copying the folder to another machine moves the writer with it.
"""

from __future__ import annotations

import json
from pathlib import Path

from index.errors import QAError

RECORD = "qdrant-published.json"


def last_seen(index_dir: Path, url: str) -> int | None:
    """The generation of `url` this folder last published or read back, if any."""
    path = index_dir / RECORD
    if not path.exists():
        return None
    seen = json.loads(path.read_text(encoding="utf-8")).get(url)
    return int(seen) if seen is not None else None


def record(index_dir: Path, url: str, generation: int) -> None:
    """Remember that this folder holds generation `generation` of `url` (written atomically)."""
    path = index_dir / RECORD
    seen = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    seen[url] = generation
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(seen, indent=1), encoding="utf-8")
    temporary.replace(path)


def check_current(index_dir: Path, url: str, live: int) -> None:
    """Refuse a folder that does not hold the collection's live generation `live`."""
    seen = last_seen(index_dir, url)
    if seen != live:
        held = f"generation {seen}" if seen is not None else "none of its states"
        raise QAError(
            f"{url} is at generation {live} but {index_dir} holds {held}: another index folder "
            "published since, and publishing from this one would remove what only that one added. "
            "Index from an empty folder (--index-dir NEW or QA_INDEX_DIR): it reads the collection "
            "back first, with no embedding"
        )
