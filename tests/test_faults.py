"""Faults: damaged index files, a killed writer, two writers at once.

Every damaged file must end in IndexCorruptError naming that file and the fix (exit 2
and one line from the CLI), never a traceback and never answers from damaged data.
The long version, with SIGKILLs during a real XQuAD build, is `bench/faults.py`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from index.builder import build_index
from index.errors import IndexCorruptError, IndexLockedError
from index.catalog import CATALOG
from index.sources import SOURCES, SourceStore
from index.segment import AUX_VECTORS, CHUNKS_DB, LEXICAL, VECTORS
from index.store.generation import CURRENT, current_generation
from index.store.manifest import MANIFEST
from index.store.reader import IndexReader
from index.store.writer import writer_lock
from qa.retriever import Retriever

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "ماذا ناقش لافروف مع الكويت؟"
FILE_KINDS = [MANIFEST, CATALOG, CHUNKS_DB, VECTORS, AUX_VECTORS, LEXICAL, CURRENT]


def copy_index(seed_settings, tmp_path: Path) -> Path:
    """A private copy of the session's seed index (which must never be changed)."""
    target = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, target)
    return target


def live_generation(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    assert generation is not None, f"{index_dir} has no live generation"
    return generation


def segment_file(index_dir: Path, name: str) -> Path:
    """A file of the live generation's (first) segment, e.g. its vectors.faiss."""
    found = sorted(live_generation(index_dir).glob(f"seg-*/{name}"))
    return found[0] if found else live_generation(index_dir) / name


def files_of_kind(index_dir: Path, kind: str) -> list[Path]:
    if kind == CURRENT:
        return [index_dir / CURRENT]
    if kind == MANIFEST:
        return [live_generation(index_dir) / MANIFEST]
    path = segment_file(index_dir, kind)
    if kind == LEXICAL:
        return sorted(p for p in path.rglob("*") if p.is_file())
    if not path.exists():
        pytest.skip(f"this index has no {kind} (QA_AUX_MODEL=none?)")
    return [path]


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # flip 8 bytes (or fewer) in the middle: inside vectors, pages, JSON, digits
        middle, span = len(data) // 2, min(8, max(1, len(data) // 4))
        flipped = bytes(b ^ 0xFF for b in data[middle : middle + span])
        path.write_bytes(data[:middle] + flipped + data[middle + span :])


def search(settings, index_dir: Path, embedder) -> list:
    return Retriever(replace(settings, index_dir=index_dir), embedder=embedder).search(QUESTION, k=3)


def qa_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("QA_INDEX_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout,
    )


# --- damaged files --------------------------------------------------------------------


def test_manifest_records_every_file_and_an_intact_copy_opens(seed_settings, tmp_path):
    index_dir = copy_index(seed_settings, tmp_path)
    reader = IndexReader(index_dir)
    on_disk = {
        p.relative_to(reader.generation).as_posix()
        for p in reader.generation.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    assert set(reader.manifest.files) == on_disk
    assert CATALOG in on_disk
    assert {CHUNKS_DB, VECTORS, f"{LEXICAL}/lexical.json"} <= {p.split("/", 1)[-1] for p in on_disk}
    assert all(len(r["sha256"]) == 64 and r["size"] > 0 for r in reader.manifest.files.values())


@pytest.mark.parametrize("how", ["truncate", "flip"])
@pytest.mark.parametrize("kind", FILE_KINDS)
def test_damaged_file_is_named_with_the_fix(seed_settings, embedder, tmp_path, kind, how):
    index_dir = copy_index(seed_settings, tmp_path)
    targets = files_of_kind(index_dir, kind)
    for target in targets:  # bm25/ holds several files: each one, in its own copy
        fresh = tmp_path / f"copy-{target.name}"
        shutil.copytree(index_dir, fresh)
        path = fresh / target.relative_to(index_dir)
        damage(path, how)
        with pytest.raises(IndexCorruptError) as err:
            search(seed_settings, fresh, embedder)
        message = str(err.value)
        assert path.name in message and "qa index --rebuild" in message, message
        assert "\n" not in message


def test_flipped_float_in_vectors_is_caught_not_searched(seed_settings, tmp_path):
    """The count checks alone pass here: only the hash sees it."""
    index_dir = copy_index(seed_settings, tmp_path)
    path = segment_file(index_dir, VECTORS)
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x40  # one bit of one float near the end: same size, same counts
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="vectors.faiss is damaged"):
        IndexReader(index_dir)


def test_manifest_edited_into_valid_json_is_caught(seed_settings, tmp_path):
    index_dir = copy_index(seed_settings, tmp_path)
    path = live_generation(index_dir) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["chunk_count"] += 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="manifest.json.*checksum"):
        IndexReader(index_dir)


@pytest.mark.parametrize("how", ["name", "deleted"])
def test_current_pointing_to_a_missing_generation(seed_settings, tmp_path, how):
    index_dir = copy_index(seed_settings, tmp_path)
    if how == "name":
        (index_dir / CURRENT).write_text("gen-999999")
    else:
        shutil.rmtree(live_generation(index_dir))
    with pytest.raises(IndexCorruptError, match="CURRENT names a missing generation.*--rebuild"):
        IndexReader(index_dir)


def test_missing_file_in_generation_is_named(seed_settings, tmp_path):
    index_dir = copy_index(seed_settings, tmp_path)
    (segment_file(index_dir, LEXICAL) / "lexical.json").unlink()
    with pytest.raises(IndexCorruptError, match="lexical.json is missing.*--rebuild"):
        IndexReader(index_dir)


def test_index_of_an_older_format_asks_for_a_rebuild(seed_settings, tmp_path):
    from index.store.manifest import _checksum

    index_dir = copy_index(seed_settings, tmp_path)
    path = live_generation(index_dir) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("checksum")
    data["format"] = 1
    data["checksum"] = _checksum(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="another version.*qa index --rebuild"):
        IndexReader(index_dir)


def test_update_refuses_to_copy_damaged_data_and_rebuild_repairs(
    seed_settings, embedder, tmp_path, seed_copy
):
    index_dir = copy_index(seed_settings, tmp_path)
    settings = replace(seed_settings, index_dir=index_dir)
    damage(segment_file(index_dir, CHUNKS_DB), "flip")
    # nothing changed in the folder, still no "success" over a damaged index
    with pytest.raises(IndexCorruptError, match="chunks.sqlite.*--rebuild"):
        build_index(seed_copy, settings, embedder=embedder, progress=False)
    damage(index_dir / CURRENT, "flip")  # even CURRENT unreadable: --rebuild must work
    report = build_index(seed_copy, settings, embedder=embedder, rebuild=True, progress=False)
    assert report.rebuilt and report.chunk_count == IndexReader(seed_settings.index_dir).size
    assert search(seed_settings, index_dir, embedder)


@pytest.mark.parametrize("kind", [VECTORS, CURRENT])
def test_cli_reports_damage_in_one_line_exit_2(seed_settings, tmp_path, kind):
    index_dir = copy_index(seed_settings, tmp_path)
    damage(files_of_kind(index_dir, kind)[0], "flip")
    result = qa_cli("ask", "--extractive", "--json", QUESTION, "--index-dir", str(index_dir))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and kind in lines[0]
    assert "qa index --rebuild" in lines[0] and result.stdout == ""


# --- concurrent writers ---------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from index.store.writer import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(index_dir: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(index_dir), str(seconds)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_second_writer_process_is_refused_and_index_untouched(seed_settings, embedder, tmp_path, seed_copy):
    index_dir = copy_index(seed_settings, tmp_path)
    (seed_copy / "new.txt").write_text("عنوان\n\nخبر جديد عن لقاء في موسكو.", encoding="utf-8")
    before = sorted(p.name for p in index_dir.iterdir())
    holder = hold_lock(index_dir, 30)
    try:
        started = time.monotonic()
        with pytest.raises(IndexLockedError, match="another `qa index` is writing"):
            build_index(seed_copy, replace(seed_settings, index_dir=index_dir),
                        embedder=embedder, progress=False)
        assert time.monotonic() - started < 5  # refused at once, before any embedding
    finally:
        holder.kill()
        holder.wait()
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert IndexReader(index_dir).size == IndexReader(seed_settings.index_dir).size


def test_waiting_writer_gets_the_lock_when_the_first_one_dies(tmp_path):
    holder = hold_lock(tmp_path, 60)
    got = threading.Event()

    def wait_for_lock() -> None:
        with writer_lock(tmp_path, wait=True):
            got.set()

    waiter = threading.Thread(target=wait_for_lock, daemon=True)
    waiter.start()
    assert not got.wait(0.5)
    holder.send_signal(signal.SIGKILL)  # the kernel releases an flock with its holder
    holder.wait()
    assert got.wait(10)


def test_lock_holder_removes_what_killed_writers_left(tmp_path):
    stale = tmp_path / ".tmp-gen-abc123"
    stale.mkdir(parents=True)
    (stale / CHUNKS_DB).write_bytes(b"x" * 1000)
    (tmp_path / ".CURRENT.tmp").write_text("gen-0000")
    with writer_lock(tmp_path):
        assert not stale.exists() and not (tmp_path / ".CURRENT.tmp").exists()


def test_orphan_generation_is_pruned_and_previous_live_kept(seed_settings, embedder, tmp_path, seed_copy):
    """A writer killed between renaming its generation and replacing CURRENT."""
    index_dir = copy_index(seed_settings, tmp_path)
    live = current_generation(index_dir)
    orphan = index_dir / "gen-000050"
    shutil.copytree(live, orphan)
    assert current_generation(index_dir) == live  # readers ignore it
    (seed_copy / "new.txt").write_text("عنوان\n\nخبر جديد عن لقاء في موسكو.", encoding="utf-8")
    build_index(seed_copy, replace(seed_settings, index_dir=index_dir), embedder=embedder, progress=False)
    new = current_generation(index_dir)
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [live.name, new.name]
    assert "new" in IndexReader(index_dir).catalog


# --- a writer killed mid-run ----------------------------------------------------------


def test_sigkilled_index_keeps_last_good_generation(seed_settings, embedder, tmp_path, seed_copy):
    index_dir = copy_index(seed_settings, tmp_path)
    good = current_generation(index_dir)
    (seed_copy / "new.txt").write_text(
        "خبر جديد\n\n" + "التقى وزير الخارجية نظيره في موسكو وبحثا العلاقات الثنائية. " * 40,
        encoding="utf-8",
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", str(seed_copy), "--index-dir", str(index_dir), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Kill while it writes: as soon as its temp folder exists, plus a short random delay.
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if any(index_dir.glob(".tmp-gen-*")):
            break
        time.sleep(0.05)
    time.sleep(random.uniform(0, 0.5))
    finished = proc.poll() is not None
    if not finished:
        os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(30) in (0, -signal.SIGKILL)

    reader = IndexReader(index_dir)  # verifies sizes and hashes of what it opens
    assert reader.generation in (good, current_generation(index_dir))
    if not finished:
        assert reader.generation == good
    settings = replace(seed_settings, index_dir=index_dir)
    report = build_index(seed_copy, settings, embedder=embedder, progress=False)
    assert not list(index_dir.glob(".tmp-gen-*"))
    reader = IndexReader(index_dir)
    assert reader.size == report.chunk_count
    assert "new" in reader.catalog
    assert search(seed_settings, index_dir, embedder)
    with SourceStore(index_dir) as sources:  # kept sources match the live index again
        assert {i: s.format for i, _, _, s in sources.articles()} == {i: ".txt" for i in reader.catalog.hashes()}


def test_damaged_sources_stop_writes_with_one_line_but_not_questions(seed_settings, tmp_path, seed_copy):
    index_dir = copy_index(seed_settings, tmp_path)
    (index_dir / SOURCES).write_bytes(b"\0garbage" * 4096)
    result = qa_cli("index", str(seed_copy), "--index-dir", str(index_dir), "--quiet")
    assert result.returncode == 2, result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert SOURCES in line and "move it aside" in line
    asked = qa_cli("ask", "--extractive", "--json", QUESTION, "--index-dir", str(index_dir))
    assert asked.returncode == 0, asked.stderr


def test_large_files_are_hashed_in_the_background_and_damage_stops_searches(seed_settings, tmp_path):
    """A 1M-chunk index has gigabytes to hash: the reader opens at once, then the check
    that runs behind it turns a damaged file into an error for every later search."""
    index_dir = copy_index(seed_settings, tmp_path)
    path = segment_file(index_dir, VECTORS)
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x40
    path.write_bytes(bytes(data))
    reader = IndexReader(index_dir, background_hash_bytes=1)  # everything "large"
    assert reader.verified.wait(30)
    with pytest.raises(IndexCorruptError, match="vectors.faiss is damaged.*--rebuild"):
        reader.search(reader.segments[0].all_vectors(VECTORS)[0], 3)
    with pytest.raises(IndexCorruptError, match="vectors.faiss is damaged"):
        reader.lexical.search(["كويت"], 3)


def test_intact_index_checked_in_the_background_answers(seed_settings, tmp_path):
    index_dir = copy_index(seed_settings, tmp_path)
    reader = IndexReader(index_dir, background_hash_bytes=1)
    assert reader.verified.wait(30)
    vector = reader.segments[0].all_vectors(VECTORS)[0]
    assert reader.search(vector, 1)[0][1] == pytest.approx(1.0, abs=1e-4)


def test_rebuild_of_a_damaged_index_made_before_sources_were_kept_recovers_its_folder(
    seed_settings, embedder, tmp_path, seed_copy
):
    index_dir = copy_index(seed_settings, tmp_path)
    (index_dir / SOURCES).unlink(missing_ok=True)  # an index of an earlier version
    damage(segment_file(index_dir, CHUNKS_DB), "flip")
    settings = replace(seed_settings, index_dir=index_dir)
    report = build_index(seed_copy, settings, embedder=embedder, rebuild=True, progress=False)
    assert report.rebuilt and any("kept sources only" in s.reason for s in report.skipped)
    assert set(IndexReader(index_dir).catalog.hashes()) == {p.stem for p in seed_copy.glob("*.txt")}
