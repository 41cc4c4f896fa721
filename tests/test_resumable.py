"""A long `qa index` killed at random moments loses at most a step, and the next run goes
on from there: real processes, SIGKILL, the real model, a few hundred articles."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from index.articles import load_folder
from index.store.generation import CURRENT, read_manifest
from index.store.reader import IndexReader

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARTICLES = 240
#: Chunks per published step: small, so a kill lands between and inside many steps.
STEP = 12

pytestmark = pytest.mark.slow


def write_archive(folder: Path) -> set[str]:
    """ARTICLES short articles (two sentences of the seeds each) in one .jsonl file;
    returns the ids of those the reader accepts as articles."""
    sentences = [s.strip() for path in sorted(SEEDS.glob("*.txt"))
                 for s in re.split(r"(?<=[.!؟?])\s+", path.read_text(encoding="utf-8")) if len(s.strip()) > 40]
    folder.mkdir()
    lines = [
        {"id": f"a{n:03d}", "title": f"خبر {n}", "text": f"{sentences[n % len(sentences)]} "
                                                         f"{sentences[(7 * n + 3) % len(sentences)]}"}
        for n in range(ARTICLES)
    ]
    (folder / "archive.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return {a.id for a in load_folder(folder).articles}


def index_command(folder: Path, index_dir: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(index_dir),
           "QA_PUBLISH_EVERY": str(STEP)}
    return [sys.executable, "-m", "qa.cli", "index", str(folder)], env


def live_articles(index_dir: Path) -> Counter[str]:
    """Article id -> live chunks, after checking every file of the live generation."""
    reader = IndexReader(index_dir, background_hash_bytes=0)
    try:
        reader.check()
        chunks = reader.chunks(range(1, reader.manifest.next_chunk_id))
        assert len(chunks) == reader.manifest.chunk_count
        pairs = Counter((c.article_id, c.ordinal) for c in chunks.values())
        assert max(pairs.values(), default=1) == 1, "a chunk is indexed twice"
        assert set(reader.catalog.hashes(None)) == {c.article_id for c in chunks.values()}
        return Counter(c.article_id for c in chunks.values())
    finally:
        reader.close()


def test_sigkill_at_random_moments_loses_at_most_a_step(tmp_path):
    expected = write_archive(tmp_path / "archive")
    index_dir = tmp_path / "index"
    command, env = index_command(tmp_path / "archive", index_dir)
    rng = random.Random(17)
    published_before = 0
    for _ in range(3):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # Wait until this run has published something new, then kill it at a random moment.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            manifest = read_manifest(index_dir) if (index_dir / CURRENT).exists() else None
            if manifest is not None and manifest.article_count > published_before:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kept = live_articles(index_dir)
        assert set(kept) <= expected
        assert len(kept) > published_before, "every run publishes steps before it is killed"
        published_before = len(kept)

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    # The last run embedded only what the killed runs had not published.
    assert f"{published_before} unchanged" in result.stdout
    assert f"{len(expected) - published_before} added" in result.stdout
    assert set(live_articles(index_dir)) == expected
