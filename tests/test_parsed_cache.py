"""Word lists read once per machine (qa/parsed_cache.py): kept while their files and the
code are the same, read again otherwise, and never a reason for a question to fail."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import index.text
import qa
from index.config import Settings
from qa import nouns, parsed_cache, translation
from qa.nouns import Nouns
from qa.parsed_cache import FOLDER, read_parsed
from qa.parsed_cache import cache_folder as cache_folder_of_the_environment  # conftest moves it for the run
from qa.translation import Dictionary, DictionaryError, dictionary_file


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The parsed files' folder, empty, for this test alone."""
    folder = tmp_path / "cache" / FOLDER
    monkeypatch.setattr(parsed_cache, "cache_folder", lambda: folder)
    return folder


def test_the_folder_is_in_the_cache_folder_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    assert cache_folder_of_the_environment() == tmp_path / FOLDER


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("alpha beta gamma", encoding="utf-8")
    return path


def counted(path):
    """A reader of `path`'s words that counts its calls."""
    calls = []

    def read():
        calls.append(path)
        return frozenset(path.read_text(encoding="utf-8").split())

    return read, calls


def test_a_file_is_read_once_then_kept(cache, source):
    read, calls = counted(source)
    first = read_parsed("words", [source], read)
    second = read_parsed("words", [source], read)
    assert first == second == {"alpha", "beta", "gamma"}
    assert len(calls) == 1
    assert [p.name.startswith("words-") for p in cache.iterdir()] == [True]


def test_a_changed_file_is_read_again(cache, source):
    read, calls = counted(source)
    read_parsed("words", [source], read)
    source.write_text("alpha beta gamma delta", encoding="utf-8")
    assert read_parsed("words", [source], read) == {"alpha", "beta", "gamma", "delta"}
    assert len(calls) == 2


def test_a_file_beside_the_first_counts_too(cache, source):
    """A dictd dictionary's entries are in the file beside its index: a new one is read."""
    beside = source.with_suffix(".dict")
    read, calls = counted(source)
    read_parsed("words", [source, beside], read)
    beside.write_bytes(b"entries")
    read_parsed("words", [source, beside], read)
    read_parsed("words", [source, beside], read)
    assert len(calls) == 2


def test_other_code_reads_again(cache, source, monkeypatch):
    read, calls = counted(source)
    read_parsed("words", [source], read)
    monkeypatch.setattr(parsed_cache, "_code", lambda: "the reader changed")
    read_parsed("words", [source], read)
    assert len(calls) == 2


def test_a_damaged_cache_is_read_again_and_replaced(cache, source):
    read, calls = counted(source)
    read_parsed("words", [source], read)
    (kept,) = cache.iterdir()
    kept.write_bytes(kept.read_bytes()[:-20])
    assert read_parsed("words", [source], read) == {"alpha", "beta", "gamma"}
    assert read_parsed("words", [source], read) == {"alpha", "beta", "gamma"}
    assert len(calls) == 2


def test_the_code_that_reads_is_the_qa_and_index_text_sources_and_python(monkeypatch):
    folders = []
    monkeypatch.setattr(parsed_cache, "sources_digest", lambda *packages: folders.extend(packages) or "digest")
    parsed_cache._code.cache_clear()
    try:
        code = parsed_cache._code()
    finally:
        parsed_cache._code.cache_clear()
    assert folders == [Path(qa.__file__).parent, Path(index.text.__file__).parent]
    assert code.startswith(f"digest-{sys.version_info[0]}.{sys.version_info[1]}-")


def test_another_version_of_a_library_the_reader_names_reads_again(cache, source, monkeypatch):
    read, calls = counted(source)
    read_parsed("words", [source], read, libraries=("PyStemmer",))
    read_parsed("words", [source], read, libraries=("PyStemmer",))
    assert len(calls) == 1
    monkeypatch.setattr(parsed_cache, "_version", lambda name: f"{version(name)}.post1")
    read_parsed("words", [source], read, libraries=("PyStemmer",))
    assert len(calls) == 2


def test_a_value_pickle_cannot_take_is_returned_and_read_again(cache, source):
    calls = []

    def read():
        calls.append(1)
        return {"words": ["alpha"], "rule": lambda word: word.upper()}

    assert read_parsed("words", [source], read)["rule"]("a") == "A"
    assert read_parsed("words", [source], read)["words"] == ["alpha"]
    assert len(calls) == 2
    assert not cache.exists() or not list(cache.iterdir())


def test_the_temp_file_of_a_writer_that_died_is_deleted(cache, source):
    read, _ = counted(source)
    read_parsed("words", [source], read)
    (kept,) = cache.iterdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = cache / f".{kept.name}.tmp-{int(dead.stdout)}-x1y2z3"
    abandoned.write_bytes(b"half a pickle")
    source.write_text("alpha", encoding="utf-8")  # read again, and written
    read_parsed("words", [source], read)
    assert sorted(p.name for p in cache.iterdir()) == [kept.name]


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, source, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setattr(parsed_cache, "cache_folder", lambda: blocked / FOLDER)
    read, calls = counted(source)
    assert read_parsed("words", [source], read) == read_parsed("words", [source], read) == {"alpha", "beta", "gamma"}
    assert len(calls) == 2


def test_errors_are_raised_and_not_kept(cache, source):
    def fails():
        raise DictionaryError("cannot read dictionary: damaged")

    with pytest.raises(DictionaryError):
        read_parsed("words", [source], fails)
    assert not cache.exists() or not list(cache.iterdir())


def test_the_files_of_sources_gone_are_deleted(cache, tmp_path):
    gone, kept = tmp_path / "gone.txt", tmp_path / "kept.txt"
    for path in (gone, kept):
        path.write_text("words", encoding="utf-8")
        read_parsed("words", [path], counted(path)[0])
    gone.unlink()
    other = tmp_path / "other.txt"
    other.write_text("more words", encoding="utf-8")
    read_parsed("words", [other], counted(other)[0])
    with_sources = []
    for path in cache.iterdir():
        with path.open("rb") as handle:
            with_sources.append(os.path.basename(pickle.load(handle)["files"][0][0]))
    assert sorted(with_sources) == ["kept.txt", "other.txt"]


def test_the_installed_dictionaries_read_back_as_read(cache, monkeypatch):
    """The English-Arabic dictionary and the German nouns `make install` fetches: what
    the cache gives a new process equals what reading the files gives."""
    english = dictionary_file(Settings().dictionary, "en")
    german = translation.installed(nouns.DICTIONARY)
    if english is None or german is None:
        pytest.skip("FreeDict's dictionaries are not installed (make install fetches them with apt)")
    read_english = Dictionary.read(english, "english")
    read_nouns = Nouns.read(german)
    for attempt in range(2):  # the first reads and keeps, the second must not read
        monkeypatch.setattr(translation, "_LOADED", {})
        monkeypatch.setattr(translation, "_TRANSLATORS", {})
        nouns.forget_german_nouns()
        if attempt:
            monkeypatch.setattr(Dictionary, "read", classmethod(lambda cls, *a: pytest.fail("read again")))
            monkeypatch.setattr(Nouns, "read", classmethod(lambda cls, *a: pytest.fail("read again")))
        assert translation.load_dictionary(Settings().dictionary, "en") == read_english
        assert nouns.german_nouns() == read_nouns
    nouns.forget_german_nouns()
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["dictd", "german"]


def test_the_lexicons_read_back_as_built(cache, monkeypatch):
    """CLDR's names (Babel): a second process gets from the cache what the first built,
    without building it, each set of locales from a file of its own."""
    from qa import lexicon

    built = lexicon._built_lexicon(lexicon.ARABIC_LOCALES)
    question = "ماذا ناقش لافروف مع وزير خارجية الكويت في يونيو؟"
    for attempt in range(2):
        lexicon.lexicon.cache_clear()
        if attempt:
            monkeypatch.setattr(lexicon, "_built_lexicon", lambda locales: pytest.fail("built again"))
        kept = lexicon.lexicon(lexicon.ARABIC_LOCALES)
        assert kept.__getstate__() == built.__getstate__()
        assert kept.find(question) == built.find(question) != []
        assert [f.words for f in lexicon.lexicon().find("What did Lavrov discuss with Kuwait?")] == [("Kuwait",)]
    lexicon.lexicon.cache_clear()
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["lexicon", "lexicon"]


def test_the_language_identifier_reads_back_as_read(monkeypatch):
    """py3langid's model, in the run's own cache folder (77 MB: not written twice)."""
    from qa import language

    read = language._read_identifier()
    language._loaded_identifier.cache_clear()
    language._loaded_identifier()  # kept, if it was not yet
    language._loaded_identifier.cache_clear()
    monkeypatch.setattr(language, "_read_identifier", lambda: pytest.fail("read again"))
    try:
        kept = language._loaded_identifier()
        for text in ("Was sagte Lawrow in Kuwait?", "Qu'a dit Lavrov au Koweït ?", "What did Lavrov say?"):
            assert kept.classify(text) == read.classify(text)
    finally:
        language._loaded_identifier.cache_clear()
