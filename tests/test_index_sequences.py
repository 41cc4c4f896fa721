"""Random sequences of index / add / upload / remove / rebuild against a reference dict.

Whatever the order, the index holds exactly the articles the rules say it should, each
with the origin and the version (content hash) it was last given, and every one of them
keeps its source: `qa index FOLDER` mirrors that folder only, `qa add` and uploads take
an id over from anyone, a folder never takes an id that another origin holds, `qa remove`
deletes anything, and a rebuild (from the kept sources alone) changes nothing.
Real model, real index files, real SQLite; the uploaded files are deleted after the
upload, as Gradio's temp files are.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from index.articles import load_file
from index.builder import build_index, rebuild_index, remove_articles, update_index
from index.config import Settings
from index.sources import ADDED, UPLOADED, SourceStore, folder_origin
from index.store.generation import read_manifest
from index.store.reader import IndexReader
from qa.answer import ExtractiveAnswerer
from qa.assistant import Assistant
from qa.retriever import Retriever

NAMES = ["a", "b", "c", "d"]
TEXTS = [
    "ميناء الدقم\n\nافتتحت سلطنة عمان ميناء تجاريا جديدا في الدقم لسفن الحاويات.",
    "مهرجان التمور\n\nانطلق مهرجان التمور في القصيم بمشاركة مئات المزارعين.",
    "قمة الطاقة\n\nبحث وزراء الطاقة في الرياض أسعار النفط وخطط الإنتاج.",
    "معرض الكتاب\n\nافتتح معرض الكتاب في الشارقة أبوابه للزوار بمشاركة دور نشر عربية.",
]
files = st.dictionaries(st.sampled_from(NAMES), st.integers(0, len(TEXTS) - 1), min_size=1, max_size=3)


class IndexSequences(RuleBasedStateMachine):
    def __init__(self, embedder, root: Path) -> None:
        super().__init__()
        self.embedder = embedder
        self.root = Path(tempfile.mkdtemp(dir=root))
        self.settings = Settings.from_env(index_dir=self.root / "idx", aux_model="none")
        self.folders = {name: self.root / name for name in ("A", "B")}
        #: what the index must hold: id -> (origin, content hash)
        self.expected: dict[str, tuple[str, str]] = {}

    @initialize(folder=st.sampled_from(["A", "B"]), contents=files)
    def first_index(self, folder: str, contents: dict[str, int]) -> None:
        self.index_folder(folder, contents)

    def _write(self, folder: Path, contents: dict[str, int]) -> dict[str, str]:
        """Replace the folder's files; returns id -> content hash of what it now holds."""
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        hashes = {}
        for name, text in contents.items():
            path = folder / f"{name}.txt"
            path.write_text(TEXTS[text], encoding="utf-8")
            hashes[name] = load_file(path).articles[0].content_hash
        return hashes

    @rule(folder=st.sampled_from(["A", "B"]), contents=files)
    def index_folder(self, folder: str, contents: dict[str, int]) -> None:
        path = self.folders[folder]
        hashes = self._write(path, contents)
        origin = folder_origin(path)
        report = build_index(path, self.settings, embedder=self.embedder, progress=False)
        refused = {i for i, (holder, _) in self.expected.items() if i in hashes and holder != origin}
        assert {Path(s.path).stem for s in report.skipped} == refused
        for article_id in [i for i, (holder, _) in self.expected.items() if holder == origin]:
            if article_id not in hashes:
                del self.expected[article_id]
        self.expected.update((i, (origin, h)) for i, h in hashes.items() if i not in refused)

    def _one_file(self, name: str, text: int) -> Path:
        scratch = Path(tempfile.mkdtemp(dir=self.root))
        path = scratch / f"{name}.txt"
        path.write_text(TEXTS[text], encoding="utf-8")
        return path

    @rule(name=st.sampled_from(NAMES), text=st.integers(0, len(TEXTS) - 1))
    def add(self, name: str, text: int) -> None:
        path = self._one_file(name, text)
        (article,) = load_file(path).articles
        update_index([article], self.settings, ADDED, embedder=self.embedder, progress=False)
        self.expected[name] = (ADDED, article.content_hash)
        shutil.rmtree(path.parent)

    @rule(name=st.sampled_from(NAMES), text=st.integers(0, len(TEXTS) - 1))
    def upload(self, name: str, text: int) -> None:
        path = self._one_file(name, text)
        retriever = Retriever(self.settings, embedder=self.embedder)
        assistant = Assistant(retriever, ExtractiveAnswerer(self.embedder))
        report, skipped = assistant.add_files([path])
        assert not skipped
        self.expected[name] = (UPLOADED, load_file(path).articles[0].content_hash)
        shutil.rmtree(path.parent)  # Gradio's temp file is gone after the upload

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        if not self.expected:
            return
        article_id = data.draw(st.sampled_from(sorted(self.expected)))
        remove_articles([article_id], self.settings)
        del self.expected[article_id]

    @rule()
    def rebuild(self) -> None:
        rebuild_index(self.settings, embedder=self.embedder, progress=False)

    @invariant()
    def index_holds_what_the_rules_say(self) -> None:
        if read_manifest(self.settings.index_dir) is None:
            return
        reader = IndexReader(self.settings.index_dir)
        try:
            assert reader.catalog.hashes() == {i: h for i, (_, h) in self.expected.items()}
        finally:
            reader.close()
        with SourceStore(self.settings.index_dir) as sources:
            kept = {i: (origin, source) for i, origin, _, source in sources.articles()}
        assert {i: origin for i, (origin, _) in kept.items()} == {i: o for i, (o, _) in self.expected.items()}

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.mark.slow
def test_random_sequences_keep_exactly_what_the_rules_say(embedder, tmp_path) -> None:
    run_state_machine_as_test(
        # hypothesis documents any factory of a machine; its hint asks for the class only
        lambda: IndexSequences(embedder, tmp_path),  # type: ignore[arg-type]
        settings=settings(max_examples=12, stateful_step_count=8, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
