"""An upload survives a restart and the `qa index seeds/` that `make run` does first.

Real processes end to end: upload through the `/add_articles` API of a running
`qa serve`, stop it, delete the uploaded file, run `qa index FOLDER` as `make run`
would, start `qa serve` again over the same index, and ask about the upload.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from gradio_client import Client, handle_file

from index.builder import build_index
from index.config import Settings
from server import ROOT, qa_serve

OMAN = """سلطنة عمان تفتتح ميناء جديدا في الدقم

12 مارس 2024

افتتحت سلطنة عمان اليوم ميناء تجاريا جديدا في منطقة الدقم الاقتصادية بحضور وزير النقل، وقالت الحكومة إن الميناء سيستقبل سفن الحاويات الكبيرة ويعزز صادرات الأسماك إلى آسيا.
"""
QUESTION = "When did Oman open a new port in Duqm?"


def test_an_upload_survives_make_run_and_a_restart(tmp_path, seed_copy, embedder, aux):
    settings = Settings.from_env(index_dir=tmp_path / ".qa")
    build_index(seed_copy, settings, embedder=embedder, aux_embedder=aux, progress=False)
    upload = tmp_path / "upload" / "oman.txt"
    upload.parent.mkdir()
    upload.write_text(OMAN, encoding="utf-8")

    with qa_serve(settings.index_dir, tmp_path / "first.log") as url:
        report, _ = Client(url, verbose=False).predict([handle_file(str(upload))], api_name="/add_articles")
    assert "Indexed 1 new" in report and "holds 22 passages" in report
    shutil.rmtree(upload.parent)

    reindex = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", str(seed_copy), "--index-dir", str(settings.index_dir),
         "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert reindex.returncode == 0, reindex.stderr
    assert "0 removed, 5 unchanged; 22 chunks" in reindex.stdout

    with qa_serve(settings.index_dir, tmp_path / "second.log") as url:
        answer = Client(url, verbose=False).submit(QUESTION, 3, [], api_name="/answer").result(timeout=120)
    assert answer["passages"][0]["source"] == "oman"
    listed = subprocess.run(
        [sys.executable, "-m", "qa.cli", "list", "--json", "--index-dir", str(settings.index_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert '"origin": "upload"' in listed.stdout
