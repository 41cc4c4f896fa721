"""Single-user answer latency, warm: wall and CPU time of `Assistant.answer`.

    .venv/bin/python -m bench.answer_latency --index-dir .qa [--repeat 3]

Extractive answers (no LLM) for the chat's example questions plus an unanswerable one,
each asked `--repeat` times after one warm-up answer.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from index.config import Settings
from qa.assistant import Assistant
from ui.app import EXAMPLES

QUESTIONS = [*EXAMPLES, "How much did Russia–Iran trade grow?", "What did Lavrov discuss with Brazil?"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path(".qa"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assistant = Assistant.from_settings(Settings.from_env(index_dir=args.index_dir))
    assistant.warm_up()
    assistant.answer(QUESTIONS[0])
    walls, cpus = [], []
    for question in QUESTIONS * args.repeat:
        cpu, wall = time.process_time(), time.perf_counter()
        assistant.answer(question)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"{len(walls)} answers: wall median {statistics.median(walls):.2f} s, "
          f"max {max(walls):.2f} s; CPU median {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
