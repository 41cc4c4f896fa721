"""Fault injection: SIGKILL `qa index` mid-run, damage index files, run two writers at once.

    .venv/bin/python -m bench.faults                       # defaults: 10 kills, 64 paragraphs
    .venv/bin/python -m bench.faults --kills 10 --paragraphs 64 --seed 1 --json /tmp/faults.json

What it does, all with the real `qa` command in subprocesses (as a user runs it):

1. Writes the first N XQuAD Arabic paragraphs as .txt files (as `qa bench --xquad` turns
   them into articles) and indexes the first half: the last good index.
2. Builds the full folder into a separate directory (the clean reference; its duration is
   "one full index run"), then times the run that will be killed (full folder on top of
   a copy of the half index): kill moments are drawn uniformly within that duration.
3. `--kills` times: starts `qa index FULL`, SIGKILLs its process group at a random moment,
   then checks that the index opens (sizes and hashes verified), that
   `qa ask --extractive --json` exits 0 with passages from the live index's articles, and
   what the killed writer left behind (temp folders, their size; the next writer removes
   them). A run that finished before its kill is put back to the half index (`qa index
   HALF`) so that the next kill again lands in real work.
4. A final `qa index FULL` must complete; its chunk count, every chunk's
   (source, start, end) and the top-3 (source, start, end) of 5 questions must match the
   clean build.
5. Two `qa index FULL` at once on a copy of the half index: one refuses at once (exit 2,
   one line) or waits; the index is then verified against the clean build.
6. Every file of the live generation (manifest, chunks.sqlite, vectors.faiss, aux.faiss,
   each bm25/ file) and CURRENT, truncated to half and with 8 bytes flipped in the
   middle, each in a fresh copy: `qa ask` must exit 2 with one line that names the file
   and says `qa index --rebuild`. Plus CURRENT naming a missing generation.

Progress goes to stderr, a results table to stdout, everything to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import NotRequired, Required, TypedDict

from bench.common import DEFAULT_XQUAD, ROOT
from index.store.generation import CURRENT, current_generation
from index.store.reader import IndexReader

#: About 45 s for one full `qa index` run of 64 paragraphs on the 2-core, busy test machine.
DEFAULT_PARAGRAPHS = 64
COMPARE_QUESTIONS = 5
TOP = 3


# --- what the report holds ------------------------------------------------------------


class Opened(TypedDict, total=False):
    """`open_checked`: the live index as `qa ask` opens it, or the error it gave."""

    ok: Required[bool]
    error: str
    generation: str
    chunks: int
    articles: list[str]


class Asked(TypedDict, total=False):
    """`ask`: a `qa ask` run and where its passages came from."""

    rc: Required[int]
    seconds: Required[float]
    error: str
    passages: int
    sources: list[str]
    from_live_index: bool


class Kill(TypedDict):
    """`kill_once`, then what `run` found after it (the last four)."""

    kill: int
    at_s: float
    elapsed_s: float
    outcome: str
    phase: str
    live_before: str | None
    live_after: str | None
    published: bool
    tmp_dirs: int
    tmp_bytes: int
    stale_tmp_before: int
    stale_tmp_removed: int
    generations: list[str]
    log: str
    index: NotRequired[Opened]
    question: NotRequired[str]
    ask: NotRequired[Asked]
    ok: NotRequired[bool]


Span = tuple[str, int, int]  # (source, start, end)


class TopCompared(TypedDict):
    question: str
    top: list[Span]
    top_clean: list[Span]
    equal: bool


class Comparison(TypedDict):
    """`compare_with_clean`."""

    chunks: int
    clean_chunks: int
    chunk_spans_equal: bool
    questions: list[TopCompared]
    ok: bool


class FinalRun(TypedDict):
    """The last `qa index` over the killed runs' index."""

    rc: int
    seconds: float
    stdout: str
    leftovers: int
    generations: list[str]
    compare: Comparison
    ok: bool


class WriterRun(TypedDict):
    rc: int
    seconds: float
    stdout: str
    stderr: list[str]


class Concurrent(TypedDict):
    """`concurrent_writers`."""

    runs: list[WriterRun]
    outcome: str
    refusal_one_line: bool
    index: dict[str, object]  # Opened without the article list
    leftovers: int
    ok: bool


class Damaged(TypedDict):
    """One case of `corruption_matrix`."""

    file: str
    damage: str
    rc: int
    seconds: float
    one_line: bool
    names_file: bool
    says_rebuild: bool
    traceback: bool
    message: str | list[str]
    ok: bool


class Timings(TypedDict):
    half_build_s: float
    full_build_s: float
    kill_window_s: float
    final_index_s: float
    total_s: NotRequired[float]


class Report(TypedDict):
    """`run`'s results (`main` adds the total time): the --json file."""

    date: str
    machine: str
    args: dict[str, int]
    paragraphs: int
    timings: Timings
    kills: list[Kill]
    max_tmp_dirs: int
    final: FinalRun
    concurrent: Concurrent
    corruption: list[Damaged]
    ok: bool


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def qa_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", *args]


def qa_env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("QA_INDEX_DIR", None)
    return env


def run_qa(*args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(
        qa_command(*args), capture_output=True, text=True, cwd=ROOT, env=qa_env(), timeout=timeout
    )
    return result, round(time.monotonic() - started, 2)


def index_run(folder: Path, index_dir: Path) -> float:
    result, seconds = run_qa("index", str(folder), "--index-dir", str(index_dir), "--quiet")
    if result.returncode != 0:
        raise SystemExit(f"error: qa index {folder} failed ({result.returncode}): {result.stderr.strip()}")
    log(f"  {result.stdout.strip()} ({seconds} s)")
    return seconds


def error_lines(stderr: str) -> list[str]:
    """The non-blank lines of stderr (a clean failure has exactly one)."""
    return [line for line in stderr.splitlines() if line.strip()]


# --- data -----------------------------------------------------------------------------


def write_paragraphs(xquad: Path, count: int, half: Path, full: Path) -> list[tuple[str, str]]:
    """Write `count` paragraphs to `full` (first half also to `half`); return (question, id)."""
    from qa.bench import xquad_datasets

    arabic = xquad_datasets(xquad)[1]  # xquad-ar-ar: Arabic questions, Arabic paragraphs
    if not 2 <= count <= len(arabic.articles):
        raise SystemExit(f"error: --paragraphs must be between 2 and {len(arabic.articles)}")
    articles = arabic.articles[:count]
    for folder in (half, full):
        folder.mkdir(parents=True)
    for number, article in enumerate(articles):
        name = f"{article.id}.txt"
        (full / name).write_text(article.text + "\n", encoding="utf-8")
        if number < count // 2:
            (half / name).write_text(article.text + "\n", encoding="utf-8")
    ids = {a.id for a in articles}
    return [(q.question, q.gold_source) for q in arabic.questions
            if isinstance(q.gold_source, str) and q.gold_source in ids]  # XQuAD: one gold paragraph


# --- inspecting an index directory ----------------------------------------------------


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def leftovers(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob(".tmp-gen-*"))


def live_name(index_dir: Path) -> str | None:
    try:
        return (index_dir / CURRENT).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def phase_of(tmp_dirs: list[Path], published: bool) -> str:
    """Where the writer was when it died, judged from what it left on disk."""
    if published:
        return "after publish"
    if not tmp_dirs:
        return "before writing (imports, model, reading files)"
    files = {p.name for p in tmp_dirs[-1].iterdir()}
    if "manifest.json" in files:
        return "publishing (manifest written)"
    if "vectors.faiss" in files or "bm25" in files:
        return "publishing (writing files)"
    return "writer open (chunking/embedding)"


def open_checked(index_dir: Path) -> Opened:
    """Open the live index as `qa ask` does (verifying sizes and hashes)."""
    try:
        reader = IndexReader(index_dir)
    except Exception as exc:  # noqa: BLE001 - any failure here is a finding
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    try:
        return {
            "ok": True,
            "generation": reader.generation.name,
            "chunks": reader.size,
            "articles": sorted(reader.catalog.hashes()),
        }
    finally:
        reader.close()


def chunk_spans(index_dir: Path) -> list[Span]:
    reader = IndexReader(index_dir)
    try:
        rows = reader.chunks(reader.chunk_ids_where().tolist()).values()
        return sorted((row.article_id, row.start, row.end) for row in rows)
    finally:
        reader.close()


def ask(index_dir: Path, question: str, live_articles: list[str]) -> Asked:
    result, seconds = run_qa(
        "ask", "--extractive", "--json", "-k", str(TOP), question, "--index-dir", str(index_dir)
    )
    record: Asked = {"rc": result.returncode, "seconds": seconds}
    if result.returncode != 0:
        record["error"] = " | ".join(error_lines(result.stderr))[-500:]
        return record
    try:
        passages = json.loads(result.stdout)["passages"]
    except (json.JSONDecodeError, KeyError) as exc:
        record["error"] = f"unreadable output: {exc}"
        return record
    sources = [p["source"] for p in passages]
    record["passages"], record["sources"] = len(passages), sources
    record["from_live_index"] = bool(sources) and set(sources) <= set(live_articles)
    return record


# --- phases ---------------------------------------------------------------------------


def kill_once(
    number: int, full: Path, index_dir: Path, at: float, logs: Path,
) -> Kill:
    before = live_name(index_dir)
    stale_before = {p.name for p in leftovers(index_dir)}
    log_path = logs / f"kill-{number:02d}.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            qa_command("index", str(full), "--index-dir", str(index_dir), "--quiet"),
            cwd=ROOT, env=qa_env(), stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes every child
        )
        started = time.monotonic()
        try:
            proc.wait(timeout=at)
        except subprocess.TimeoutExpired:
            pass
        elapsed = round(time.monotonic() - started, 2)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            outcome = "killed"
        else:
            outcome = f"finished first (rc {proc.returncode})"
    after = live_name(index_dir)
    left = leftovers(index_dir)
    new = [p for p in left if p.name not in stale_before]
    published = after != before
    return {
        "kill": number,
        "at_s": round(at, 2),
        "elapsed_s": elapsed,
        "outcome": outcome,
        "phase": phase_of(new, published) if outcome == "killed" else "completed",
        "live_before": before,
        "live_after": after,
        "published": published,
        "tmp_dirs": len(left),
        "tmp_bytes": sum(folder_bytes(p) for p in left),
        "stale_tmp_before": len(stale_before),
        "stale_tmp_removed": len(stale_before - {p.name for p in left}),
        "generations": sorted(p.name for p in index_dir.glob("gen-*")),
        "log": str(log_path),
    }


def compare_with_clean(index_dir: Path, clean_dir: Path, questions: list[str]) -> Comparison:
    from index.config import Settings
    from index.models import load_models
    from qa.retriever import Retriever

    settings = Settings.from_env()
    models = load_models(settings)
    embedder, aux = models.main, models.aux
    ours = Retriever(replace(settings, index_dir=index_dir), embedder, aux)
    clean = Retriever(replace(settings, index_dir=clean_dir), embedder, aux)
    spans, clean_spans = chunk_spans(index_dir), chunk_spans(clean_dir)
    rows: list[TopCompared] = []
    for question in questions:
        top = [(p.source, p.start, p.end) for p in ours.search(question, k=TOP)]
        top_clean = [(p.source, p.start, p.end) for p in clean.search(question, k=TOP)]
        rows.append({"question": question, "top": top, "top_clean": top_clean, "equal": top == top_clean})
    return {
        "chunks": len(spans),
        "clean_chunks": len(clean_spans),
        "chunk_spans_equal": spans == clean_spans,
        "questions": rows,
        "ok": len(spans) == len(clean_spans) and spans == clean_spans and all(r["equal"] for r in rows),
    }


def concurrent_writers(full: Path, snapshot: Path, work: Path, clean_chunks: int) -> Concurrent:
    index_dir = work / "concurrent"
    shutil.copytree(snapshot, index_dir)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            qa_command("index", str(full), "--index-dir", str(index_dir), "--quiet"),
            cwd=ROOT, env=qa_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    ended: dict[int, float] = {}
    while len(ended) < len(procs):  # when each one ended, not when we got to read it
        for number, proc in enumerate(procs):
            if number not in ended and proc.poll() is not None:
                ended[number] = round(time.monotonic() - started, 2)
        time.sleep(0.1)
    runs: list[WriterRun] = []
    for number, proc in enumerate(procs):
        out, err = proc.communicate()
        runs.append({
            "rc": proc.returncode,
            "seconds": ended[number],
            "stdout": out.strip(),
            "stderr": error_lines(err),
        })
    refused = [r for r in runs if r["rc"] == 2]
    completed = [r for r in runs if r["rc"] == 0]
    opened = open_checked(index_dir)
    outcome = ("one refused, one completed" if len(refused) == 1 and len(completed) == 1
               else "both completed (one waited)" if len(completed) == 2 else "unexpected")
    refusal_one_line = all(
        len(r["stderr"]) == 1 and "another `qa index` is writing" in r["stderr"][0] for r in refused
    )
    left = len(leftovers(index_dir))
    record: Concurrent = {
        "runs": runs,
        "outcome": outcome,
        "refusal_one_line": refusal_one_line,
        "index": {k: v for k, v in opened.items() if k != "articles"},
        "leftovers": left,
        "ok": (outcome != "unexpected" and refusal_one_line
               and opened.get("ok") is True and opened.get("chunks") == clean_chunks and left == 0),
    }
    shutil.rmtree(index_dir, ignore_errors=True)
    return record


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flip":
        middle, span = len(data) // 2, min(8, max(1, len(data) // 4))
        flipped = bytes(b ^ 0xFF for b in data[middle : middle + span])
        path.write_bytes(data[:middle] + flipped + data[middle + span :])
    elif how == "missing-generation":
        path.write_text("gen-999999", encoding="ascii")
    else:
        raise ValueError(how)


def corruption_matrix(good: Path, work: Path, question: str) -> list[Damaged]:
    generation = current_generation(good)
    if generation is None:
        raise SystemExit(f"error: {good} has no live generation to damage")
    targets = sorted(
        p.relative_to(good).as_posix() for p in generation.rglob("*") if p.is_file()
    ) + [CURRENT]
    cases = [(t, how) for t in targets for how in ("truncate", "flip")]
    cases.append((CURRENT, "missing-generation"))
    results: list[Damaged] = []
    for number, (target, how) in enumerate(cases, start=1):
        copy = work / "damaged"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(good, copy)
        damage(copy / target, how)
        result, seconds = run_qa(
            "ask", "--extractive", "--json", question, "--index-dir", str(copy), timeout=600
        )
        lines = error_lines(result.stderr)
        name = Path(target).name
        one_line = len(lines) == 1
        names_file = bool(lines) and name in lines[0]
        says_rebuild = bool(lines) and "qa index --rebuild" in lines[0]
        traceback = "Traceback" in result.stderr
        record: Damaged = {
            "file": target,
            "damage": how,
            "rc": result.returncode,
            "seconds": seconds,
            "one_line": one_line,
            "names_file": names_file,
            "says_rebuild": says_rebuild,
            "traceback": traceback,
            "message": lines[0] if one_line else lines,
            "ok": (result.returncode == 2 and one_line and names_file and says_rebuild and not traceback
                   and result.stdout == ""),
        }
        log(f"  damage {number}/{len(cases)}: {target} {how}: rc {result.returncode}, "
            f"{'ok' if record['ok'] else 'FAIL'}: {record['message']}")
        results.append(record)
    shutil.rmtree(work / "damaged", ignore_errors=True)
    return results


# --- report ---------------------------------------------------------------------------


def table(rows: list[list[object]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_results(results: Report) -> str:
    out = []
    rows: list[list[object]] = [["kill", "at s", "outcome", "phase", "live after", "tmp dirs", "tmp KB",
             "earlier tmp removed", "index opens", "qa ask", "passages from live index"]]
    for k in results["kills"]:
        ask_record, opened = k["ask"], k["index"]
        rows.append([
            k["kill"], k["at_s"], k["outcome"], k["phase"], k["live_after"], k["tmp_dirs"],
            round(k["tmp_bytes"] / 1024), f"{k['stale_tmp_removed']}/{k['stale_tmp_before']}",
            "yes" if opened["ok"] else f"NO {opened.get('error')}",
            f"rc {ask_record['rc']} ({ask_record['seconds']} s)",
            ask_record.get("from_live_index", ask_record.get("error")),
        ])
    out.append(table(rows))
    final = results["final"]
    out.append(
        f"\nfinal qa index: rc {final['rc']} in {final['seconds']} s, leftovers {final['leftovers']}; "
        f"chunks {final['compare']['chunks']} vs clean {final['compare']['clean_chunks']}, "
        f"all chunk spans equal: {final['compare']['chunk_spans_equal']}"
    )
    rows = [["question", f"top-{TOP} (source, start, end)", "same as clean build"]]
    for q in final["compare"]["questions"]:
        rows.append([q["question"][:40], " ".join(f"{s}:{a}-{b}" for s, a, b in q["top"]), q["equal"]])
    out.append(table(rows))
    conc = results["concurrent"]
    out.append(
        f"\ntwo qa index at once: {conc['outcome']}; refusal is one line: {conc['refusal_one_line']}; "
        f"index afterwards: {conc['index']}; ok: {conc['ok']}"
    )
    for run in conc["runs"]:
        out.append(f"  rc {run['rc']} after {run['seconds']} s: {run['stdout'] or ' '.join(run['stderr'])}")
    rows = [["file", "damage", "rc", "one line", "names file", "says --rebuild", "ok"]]
    for c in results["corruption"]:
        rows.append([c["file"], c["damage"], c["rc"], c["one_line"], c["names_file"],
                     c["says_rebuild"], c["ok"]])
    out.append("\n" + table(rows))
    t = results["timings"]
    out.append(
        f"\nparagraphs {results['paragraphs']}: half build {t['half_build_s']} s, full (clean) build "
        f"{t['full_build_s']} s, killed command when left alone {t['kill_window_s']} s; "
        f"max temp dirs at once {results['max_tmp_dirs']}; total {t['total_s']} s"
    )
    out.append(f"ALL OK: {results['ok']}")
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs to inject (default 10)")
    parser.add_argument("--paragraphs", type=int, default=DEFAULT_PARAGRAPHS,
                        help=f"XQuAD Arabic paragraphs to index (default {DEFAULT_PARAGRAPHS})")
    parser.add_argument("--seed", type=int, default=0, help="random seed for kill moments and questions")
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="folder with xquad.ar.json")
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="qa-faults-"))
    log(f"working in {work}")
    try:
        results = run(args, rng, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["timings"]["total_s"] = round(time.monotonic() - started, 1)
    print(format_results(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0 if results["ok"] else 1


def run(args: argparse.Namespace, rng: random.Random, work: Path) -> Report:
    half, full, logs = work / "half", work / "articles", work / "logs"
    logs.mkdir()
    questions = write_paragraphs(args.xquad, args.paragraphs, half, full)
    first_half_ids = {p.stem for p in half.iterdir()}
    ask_questions = [q for q, source in questions if source in first_half_ids]
    index_dir, clean_dir, snapshot = work / "index", work / "clean", work / "half-snapshot"

    log(f"1/6 indexing the first half ({len(first_half_ids)} paragraphs): the last good index")
    half_s = index_run(half, index_dir)
    shutil.copytree(index_dir, snapshot)
    log(f"2/6 clean build of all {args.paragraphs} paragraphs in another directory (one full run)")
    full_s = index_run(full, clean_dir)
    calibration = work / "calibration"
    shutil.copytree(snapshot, calibration)
    log("    timing the command that will be killed (full folder over the half index), unkilled")
    window = index_run(full, calibration)
    shutil.rmtree(calibration)

    log(f"3/6 {args.kills} SIGKILLs at random moments within {window} s")
    kills: list[Kill] = []
    max_tmp = 0
    for number in range(1, args.kills + 1):
        at = rng.uniform(0, window)
        record = kill_once(number, full, index_dir, at, logs)
        max_tmp = max(max_tmp, record["tmp_dirs"])
        record["index"] = opened = open_checked(index_dir)
        question = rng.choice(ask_questions)
        record["question"] = question
        record["ask"] = ask(index_dir, question, opened.get("articles", []))
        record["ok"] = (
            opened["ok"] and record["ask"]["rc"] == 0 and bool(record["ask"].get("from_live_index"))
        )
        log(f"  kill {number}/{args.kills} at {record['at_s']} s: {record['outcome']}, "
            f"{record['phase']}; live {record['live_after']} "
            f"({opened.get('chunks')} chunks), {record['tmp_dirs']} temp dir(s) "
            f"{record['tmp_bytes'] // 1024} KB; qa ask rc {record['ask']['rc']}, "
            f"from live index: {record['ask'].get('from_live_index')} "
            f"{'' if record['ok'] else 'FAIL ' + str(record['ask'].get('error') or opened.get('error'))}")
        kills.append(record)
        complete = opened.get("articles") and len(opened["articles"]) == args.paragraphs
        if complete and number < args.kills:
            log("    the run got to publish: back to the half index so the next kill lands in work")
            index_run(half, index_dir)

    log("4/6 final qa index over the killed runs' index, then comparing with the clean build")
    result, final_s = run_qa("index", str(full), "--index-dir", str(index_dir), "--quiet")
    log(f"  rc {result.returncode}: {result.stdout.strip() or result.stderr.strip()} ({final_s} s)")
    left = len(leftovers(index_dir))
    generations = sorted(p.name for p in index_dir.glob("gen-*"))
    by_source: dict[str, str] = {}
    for question, source in questions:
        by_source.setdefault(source, question)
    compare_pool = list(by_source.values())
    compare = compare_with_clean(index_dir, clean_dir, rng.sample(compare_pool, COMPARE_QUESTIONS))
    final: FinalRun = {"rc": result.returncode, "seconds": final_s, "stdout": result.stdout.strip(),
                       "leftovers": left, "generations": generations, "compare": compare,
                       "ok": result.returncode == 0 and left == 0 and compare["ok"]}
    log(f"  chunks {final['compare']['chunks']} vs clean {final['compare']['clean_chunks']}, "
        f"spans equal {final['compare']['chunk_spans_equal']}, top-{TOP} equal "
        f"{sum(q['equal'] for q in final['compare']['questions'])}/{COMPARE_QUESTIONS}")

    log("5/6 two qa index at once on a copy of the half index")
    concurrent = concurrent_writers(full, snapshot, work, final["compare"]["clean_chunks"])
    log(f"  {concurrent['outcome']}; ok {concurrent['ok']}")

    log("6/6 damaged files: each file of the live generation and CURRENT, truncated and flipped")
    corruption = corruption_matrix(clean_dir, work, ask_questions[0])

    ok = (all(k["ok"] for k in kills) and final["ok"] and concurrent["ok"]
          and all(c["ok"] for c in corruption))
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
                   f"{len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.1f}",
        "args": {"kills": args.kills, "paragraphs": args.paragraphs, "seed": args.seed},
        "paragraphs": args.paragraphs,
        "timings": {"half_build_s": half_s, "full_build_s": full_s, "kill_window_s": window,
                    "final_index_s": final_s},
        "kills": kills,
        "max_tmp_dirs": max_tmp,
        "final": final,
        "concurrent": concurrent,
        "corruption": corruption,
        "ok": ok,
    }


if __name__ == "__main__":
    sys.exit(main())
