"""Load test: many concurrent chat users against a real `qa serve`, with indexing mid-run.

    .venv/bin/python -m bench.stress --users 20 --questions 10 --json docs/stress.json

Starts `qa serve` on loopback over a fresh index of `seeds/`, then drives it with
`--users` concurrent users, each asking `--questions` questions (English and Arabic, some
of them follow-ups that only make sense with that user's own history). Users call the
`/answer` API over plain HTTP, the way Gradio documents for curl (`--client http`), or
through `gradio_client` (`--client gradio_client`), which spends 120 ms of CPU per answer
on the asking side alone and 140-180 ms in a run of 20 users: on the server's own two
cores here, about half the machine (docs/reliability.md).
A quarter of the way through, `qa index` adds a new article to the same index while users
keep asking; each user holds its last quarter of questions until the article is
published (however fast the answers, some are asked about it), and every question about
it must find it, without a restart.

Checked for every answer: no error, the answer is to the question this user sent (not
another user's), a follow-up was resolved against this user's own previous question.
Reported: errors, p50/p95/max latency, throughput, the server's peak memory (VmHWM,
summed over the server and its model processes), and the CPU seconds the server, the
load generator and the mid-run `qa index` each spent while the users asked: all three
share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from bench.common import ROOT, percentile, tree_cpu_seconds, tree_memory_mb
from ui.serve_process import call_api, running

#: (question, follow-up, what the follow-up must be rewritten to)
CONVERSATIONS = [
    ("what did Lavrov discuss with Kuwait?", "and with Qatar?", "what did Lavrov discuss with Qatar?"),
    ("ماذا ناقش لافروف مع الكويت؟", "ومع قطر؟", "ماذا ناقش لافروف مع قطر؟"),
    ("When was Putin scheduled to meet the Emir of Qatar?", None, None),
    ("ما أهم محاور زيارة رئيسي إلى موسكو؟", None, None),
    ("How much did Russia–Iran trade grow?", None, None),
    ("من ترأس الاجتماع الوزاري المشترك بين دول الخليج وروسيا؟", None, None),
]
NEW_ARTICLE_ID = "stress_new_article"
NEW_ARTICLE = """مهرجان الزرقاء للمياه يستقطب آلاف الزوار
2024-05-02
افتتح في مدينة الزرقاء مهرجان الزرقاء للمياه بمشاركة خبراء من عشرين دولة لمناقشة تقنيات تحلية المياه وإعادة استخدامها.
وقال منظمو المهرجان إن الدورة الحالية تركز على حصاد مياه الأمطار في المناطق الصحراوية.
"""
NEW_QUESTION = "What is the Zarqa water festival about?"
#: How users call the server (`--client`).
CLIENTS = ("http", "gradio_client")
#: Seconds an HTTP user waits for any byte of an answer. The server sends a heartbeat
#: every 15 s while a call waits, so a stalled run ends at `--time-limit`, not here.
READ_TIMEOUT = 120.0

Ask = Callable[[str, int, list[str]], Any]


@contextmanager
def connect(url: str, client: str) -> Iterator[Ask]:
    """One user's connection: ask(question, k, previous) -> the `/answer` result."""
    if client == "gradio_client":
        from gradio_client import Client

        gradio = Client(url, verbose=False)
        yield lambda question, k, previous: gradio.predict(question, k, previous, api_name="/answer")
        return
    with httpx.Client(timeout=READ_TIMEOUT) as http:
        yield lambda question, k, previous: call_api(http, url, "answer", question, k, previous)


@dataclass
class Outcome:
    user: int
    question: str
    seconds: float
    error: str | None = None
    problems: list[str] = field(default_factory=list)


def plan(user: int, count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(question, expected searched query or None) for one user; follow-ups follow their lead."""
    questions: list[tuple[str, str | None]] = []
    while len(questions) < count:
        lead, follow_up, expected = rng.choice(CONVERSATIONS)
        questions.append((lead, lead))
        if follow_up and len(questions) < count:
            questions.append((follow_up, expected))
    return questions


class Stress:
    def __init__(self, url: str, client: str, index_event: threading.Event, new_ready: threading.Event) -> None:
        self.url = url
        self.client = client
        self.index_event = index_event  # set when a quarter of the questions are done: start indexing
        self.new_ready = new_ready  # set once `qa index` has published the new article
        self.outcomes: list[Outcome] = []
        self.held_seconds = 0.0  # the longest a user waited for the new article
        self.lock = threading.Lock()

    def user(self, user: int, questions: list[tuple[str, str | None]], total: int, bar: tqdm) -> None:
        with connect(self.url, self.client) as ask:
            self.ask_all(ask, user, questions, total, bar)

    def ask_all(self, ask: Ask, user: int, questions: list[tuple[str, str | None]], total: int, bar: tqdm) -> None:
        previous: list[str] = []
        replaced_lead = False
        for n, (question, expected) in enumerate(questions):
            if n == len(questions) - len(questions) // 4:
                held = time.perf_counter()
                self.new_ready.wait()
                with self.lock:
                    self.held_seconds = max(self.held_seconds, time.perf_counter() - held)
            is_lead = question == expected
            ask_new = is_lead and self.new_ready.is_set() and random.random() < 0.3
            if ask_new:
                question, expected = NEW_QUESTION, NEW_QUESTION
            elif not is_lead and replaced_lead:
                expected = None  # its lead was swapped for the new-article question
            replaced_lead = ask_new
            start = time.perf_counter()
            outcome = Outcome(user, question, 0.0)
            try:
                result = ask(question, 5, previous)
                outcome.seconds = time.perf_counter() - start
                if result["question"] != question:
                    outcome.problems.append(f"answer to another question: {result['question']!r}")
                if expected and result["searched"] != expected:
                    outcome.problems.append(f"searched {result['searched']!r}, expected {expected!r}")
                if ask_new and NEW_ARTICLE_ID not in {p["source"] for p in result["passages"]}:
                    outcome.problems.append("the article indexed mid-run was not found")
                previous.append(result["searched"])
            except Exception as exc:  # every failure is counted, whatever its kind
                outcome.seconds = time.perf_counter() - start
                outcome.error = f"{type(exc).__name__}: {exc}"[:300]
            with self.lock:
                self.outcomes.append(outcome)
                if len(self.outcomes) >= total // 4:
                    self.index_event.set()
            bar.update()


def children_cpu_seconds() -> float:
    """User and system CPU seconds of this process's children that have ended."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def index_midway(folder: Path, index_dir: Path, start: threading.Event, done: threading.Event,
                 timings: dict[str, float | str]) -> None:
    """Add the new article with `qa index` once `start` is set; `done` is set whatever
    happens, so that the users holding their last questions go on (a failure is reported)."""
    start.wait()
    (folder / f"{NEW_ARTICLE_ID}.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    began = time.perf_counter()
    try:
        indexed = subprocess.run(
            [sys.executable, "-m", "qa.cli", "index", str(folder), "--index-dir", str(index_dir), "--quiet"],
            cwd=ROOT, capture_output=True, text=True,
        )
        timings["index_seconds"] = time.perf_counter() - began
        if indexed.returncode:
            timings["index_error"] = indexed.stderr.strip()[-300:]
    finally:
        done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    parser.add_argument("--time-limit", type=float, default=480, help="seconds for the whole load")
    parser.add_argument("--client", choices=CLIENTS, default="http",
                        help="how users call the API: plain HTTP, or gradio_client (heavy on this machine's CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    random.seed(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        folder, index_dir = Path(tmp) / "articles", Path(tmp) / "index"
        shutil.copytree(ROOT / "seeds", folder)
        subprocess.run(
            [sys.executable, "-m", "qa.cli", "index", str(folder), "--index-dir", str(index_dir), "--quiet"],
            check=True, cwd=ROOT,
        )
        with running(index_dir, Path(tmp) / "serve.log", timeout=180) as (proc, url):
            with connect(url, args.client) as ask:
                ask("warm up", 1, [])
            start_index, new_ready = threading.Event(), threading.Event()
            timings: dict[str, float | str] = {}
            stress = Stress(url, args.client, start_index, new_ready)
            indexer = threading.Thread(
                target=index_midway, args=(folder, index_dir, start_index, new_ready, timings), daemon=True
            )
            indexer.start()
            total = args.users * args.questions
            began, own_cpu, server_cpu = time.perf_counter(), time.process_time(), tree_cpu_seconds(proc.pid)
            index_cpu = children_cpu_seconds()
            with tqdm(total=total, desc="answers", unit="q") as bar, ThreadPoolExecutor(args.users) as pool:
                futures = [
                    pool.submit(stress.user, user, plan(user, args.questions, rng), total, bar)
                    for user in range(args.users)
                ]
                deadline = began + args.time_limit
                for future in futures:
                    future.result(timeout=max(1.0, deadline - time.perf_counter()))
            wall = time.perf_counter() - began
            own_cpu, server_cpu = time.process_time() - own_cpu, tree_cpu_seconds(proc.pid) - server_cpu
            indexer.join(timeout=60)
            index_cpu = children_cpu_seconds() - index_cpu  # the mid-run `qa index`, once it has ended
            memory = tree_memory_mb(proc.pid, "VmHWM")

    outcomes = stress.outcomes
    latencies = [o.seconds for o in outcomes if o.error is None]
    report = {
        "client": args.client,
        "users": args.users,
        "questions_per_user": args.questions,
        "answers": len(outcomes),
        "errors": sum(o.error is not None for o in outcomes),
        "wrong_or_mixed": sum(bool(o.problems) for o in outcomes),
        "asked_about_new_article": sum(o.question == NEW_QUESTION for o in outcomes),
        "index_while_serving_seconds": round(float(timings.get("index_seconds", float("nan"))), 1),
        "index_error": timings.get("index_error"),
        "longest_hold_for_the_new_article_s": round(stress.held_seconds, 1),
        "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 2) if latencies else None,
        "latency_max_s": round(max(latencies), 2) if latencies else None,
        "throughput_per_s": round(len(latencies) / wall, 2),
        "wall_seconds": round(wall, 1),
        "server_peak_memory_mb": round(memory),
        "server_cpu_s": round(server_cpu, 1),
        "load_generator_cpu_s": round(own_cpu, 1),
        "index_cpu_s": round(index_cpu, 1),
        "examples_of_problems": [
            {"user": o.user, "question": o.question, "error": o.error, "problems": o.problems}
            for o in outcomes if o.error or o.problems
        ][:10],
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if report["errors"] == 0 and report["wrong_or_mixed"] == 0 and not report["index_error"] else 1


if __name__ == "__main__":
    sys.exit(main())
