"""`qa index --ray local`: real Ray, the real models, `qa index` as a user runs it. The
index it writes holds the chunks and vectors of the in-process path, and an actor killed
mid-run is restarted without an article lost or written twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.config import Settings
from index.store.generation import CURRENT, read_manifest
from index.store.reader import IndexReader

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def write_archive(folder: Path, count: int, paragraphs_each: int = 1) -> set[str]:
    """`count` short articles of `paragraphs_each` paragraphs of the seeds, in one .jsonl
    file; their ids."""
    paragraphs = [p.strip() for path in sorted(SEEDS.glob("*.txt"))
                  for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 80]
    folder.mkdir()
    lines = [{"id": f"r{n:03d}", "title": f"خبر {n}",
              "text": "\n\n".join(paragraphs[(n + k) % len(paragraphs)] for k in range(paragraphs_each))}
             for n in range(count)]
    (folder / "archive.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return {line["id"] for line in lines}


def index_on_ray(folder: Path, index_dir: Path, publish_every: int = 512) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(index_dir),
           "QA_PUBLISH_EVERY": str(publish_every), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "qa.cli", "index", str(folder), "--ray", "local", "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored(index_dir: Path) -> dict[tuple[str, int], tuple[str, np.ndarray, np.ndarray, list, np.ndarray]]:
    """(article, ordinal) -> (chunk text, e5 vector, USE vector, sentence spans, their vectors)."""
    reader = IndexReader(index_dir, background_hash_bytes=0)
    try:
        reader.check()
        chunks = reader.chunks(range(1, reader.manifest.next_chunk_id))
        ids = sorted(chunks)
        vectors, aux = reader.vectors(ids), reader.vectors(ids, aux=True)
        sentences = reader.sentences(ids)
        out = {}
        for n, chunk_id in enumerate(ids):
            chunk = chunks[chunk_id]
            key = (chunk.article_id, chunk.ordinal)
            assert key not in out, f"chunk {key} is indexed twice"
            spans, sentence_vectors = sentences[chunk_id]
            out[key] = (chunk.text, vectors[n], aux[n], spans, sentence_vectors)
        return out
    finally:
        reader.close()


def ray_workers(root: int) -> dict[int, str]:
    """The embedding actors among the descendants of process `root`, pid -> process title
    (Ray titles a worker `ray::Class` when idle, `ray::Class.method` while it runs one)."""
    parents: dict[int, int] = {}
    titles: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return {pid: title for pid, title in titles.items() if title.startswith("ray::EmbeddingWorker") and descends(pid)}


@pytest.mark.slow
def test_ray_index_holds_the_in_process_chunks_and_vectors(tmp_path, embedder, aux):
    from index.builder import build_index

    write_archive(tmp_path / "articles", 6, paragraphs_each=6)
    ray_run = index_on_ray(tmp_path / "articles", tmp_path / "ray-index")
    here = Settings.from_env(index_dir=tmp_path / "index")
    build_index(tmp_path / "articles", here, embedder=embedder, aux_embedder=aux, progress=False)
    out, err = ray_run.communicate(timeout=240)
    assert ray_run.returncode == 0, err[-3000:]
    assert "6 added" in out

    expected, got = stored(here.index_dir), stored(tmp_path / "ray-index")
    assert set(got) == set(expected) and max(ordinal for _, ordinal in got) > 0  # articles of several chunks
    for key, (text, vector, aux_vector, spans, sentence_vectors) in expected.items():
        ray_text, ray_vector, ray_aux, ray_spans, ray_sentences = got[key]
        assert ray_text == text and ray_spans == spans, key
        assert np.allclose(ray_vector, vector, atol=1e-5), key
        assert np.allclose(ray_aux, aux_vector, atol=1e-5), key
        assert np.allclose(ray_sentences, sentence_vectors, atol=1e-5), key


@pytest.mark.slow
def test_an_actor_killed_mid_run_is_restarted_and_nothing_is_lost_or_doubled(tmp_path):
    expected = write_archive(tmp_path / "articles", 40)
    index_dir = tmp_path / "index"
    run = index_on_ray(tmp_path / "articles", index_dir, publish_every=6)
    try:
        # Once a first step is published the actors are embedding: kill one of them.
        deadline = time.monotonic() + 180
        while run.poll() is None and time.monotonic() < deadline:
            if (index_dir / CURRENT).exists() and read_manifest(index_dir).article_count > 0:
                break
            time.sleep(0.05)
        workers = ray_workers(run.pid)
        assert run.poll() is None and len(workers) == 2, "the run is still embedding on its two actors"
        assert read_manifest(index_dir).article_count < len(expected)
        busy = [pid for pid, title in workers.items() if title.endswith(".embed")]
        assert busy, workers
        os.kill(busy[0], signal.SIGKILL)
        out, err = run.communicate(timeout=240)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err[-3000:]
    assert f"{len(expected)} added" in out
    assert "will be retried" in out + err  # Ray's own word that the batch ran again
    ordinals: dict[str, list[int]] = {}
    for article, ordinal in stored(index_dir):  # raises if any chunk is there twice
        ordinals.setdefault(article, []).append(ordinal)
    assert set(ordinals) == expected
    assert all(sorted(found) == list(range(len(found))) for found in ordinals.values())


def test_qa_starts_without_ray_and_names_the_extra_that_brings_it(tmp_path):
    write_archive(tmp_path / "articles", 1)
    code = ("import sys; import qa.cli, index.builder; assert 'ray' not in sys.modules, 'ray imported'; "
            "sys.modules['ray'] = None; sys.exit(qa.cli.main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "index", str(tmp_path / "articles"), "--ray", "local"],
                            cwd=ROOT, env={**os.environ, "QA_INDEX_DIR": str(tmp_path / "index"),
                                           "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "pip install -e '.[cluster]'" in result.stderr
    assert not (tmp_path / "index" / CURRENT).exists()
