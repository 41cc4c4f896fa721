"""German's common nouns from a FreeDict German-English dictionary (qa/nouns.py)."""

import gzip
import logging
import threading
import time

import pytest


from qa import nouns, translation
from qa.grounding import GroundingChecker, salient_terms
from qa.nouns import Nouns, forget_german_nouns, german_nouns

#: Entries as FreeDict's deu-eng writes them: headword, pronunciation, tags; translations.
ENTRIES = """\
Krätze /kɾˈɛtsə/ <fem, n, sg>
scabies <n>
   Synonym: {Skabies}

Liste /lˈɪstə/ <fem, n, sg>
list <n>

Name /nˈɑːmə/ <masc, n, sg>
name <n>

Behörde /bəhˈœɾdə/ <fem, n, sg>
 [adm.] public authority <n>, authority <n>

Sport /ʃpˈɔɾt/ <masc, n, sg>
sport <n>

Nieren /nˈiːɾən/ <pl>
kidneys

Kranke /kɾˈaŋkə/ <masc, fem, n, sg>
sick person <n>

Kinder /kˈɪndɜ/ <pl>
children

Republik /rˈeːpuːblˌɪk/ (Rep. /rˈeːp/) <fem, n, sg>
 [pol.] republic <n>

die Polizei /diː pˌoːliːtsˈaɪ/ <fem, n, sg>
the police <n>

Straße /ʃtɾˈɑːsə/ <fem, n, sg>
 [geogr.] strait <n>

Straße /ʃtɾˈɑːsə/ <fem, n, sg>
street <n>

Königreich /kˈøːnɪɡɾˌaɪç/ <neut, n, sg>
kingdom <n>

Klei /klˈaɪ/ <masc, n, sg>
clay <n>

Kali /kˈɑːliː/ <neut, n, sg>
potash <n>

Ria /ɾˈiːa/ <fem, n, sg>
 [geogr.] ria <n>

Berg /bˈɛɾk/ <masc, n, sg>
Mount <n>

Berg /bˈɛɾk/ <masc, n, sg>
mountain <n>

Sein /zˈaɪn/ <neut, n, sg>
being <n>

Stadion /ʃtˈɑːdiːˌɔn/ <neut, n, sg>
stadium <n>

Bayern /bˈaɪɜn/ <neut, n, sg>
 [geogr.] Bavaria <n>

Bayern /bˈaɪɜn/ <pl>
Bavarians

George /dʒˈɔːɾtʃ/ <masc, n, sg>
Georgian <n>

jung /jˈʊŋ/ <adj>
young <adj>

muh /mˈuː/ <int>
moo

Arrak /ˈaɾak/ <masc, n, sg>
arrack <n>

Hafen /hˈɑːfən/ <masc, n, sg>
harbour <n>

Ort /ˈɔɾt/ <masc, n, sg>
place <n>

über /ˈyːbɜ/ <prep>
over

einer /ˈaɪnɜ/ <pron>
one

gesamt /ɡəzˈamt/ <adj>
total <adj>
"""


@pytest.fixture
def dictionary(tmp_path):
    """The entries as a dictzip file (gzip-compatible) beside its index, as FreeDict
    installs them (`Nouns.read` reads the entries only: the index may be empty)."""
    path = tmp_path / f"{nouns.DICTIONARY}.index"
    path.touch()
    path.with_suffix(".dict.dz").write_bytes(gzip.compress(ENTRIES.encode("utf-8")))
    return path


@pytest.fixture
def installed(dictionary, monkeypatch):
    """`german_nouns()` reading the entries above, not the dictionary `make install` fetched."""
    monkeypatch.setattr(translation, "SEARCH_PATH", (dictionary.parent,))
    forget_german_nouns()
    yield
    forget_german_nouns()


@pytest.mark.parametrize(("word", "common"), [
    ("Krätze", True),
    ("Kindern", True),  # dative plural: Kinder less its -n
    ("Namensliste", True),  # Name|ns|liste
    ("Sportbehörde", True),
    ("Nierenkranke", True),
    ("Gesamtbehörde", True),  # a first part of any kind: gesamt is an adjective
    ("Übersport", False),  # but no function word
    ("Einersport", False),
    ("Muharrak", False),  # nor one of three letters (muh: moo)
    ("Hafenort", False),  # and a last part of four or more (a name's end is often a short noun)
    ("Hafensport", True),
    ("Republik", True),  # pronunciation and abbreviation before the tags
    ("Polizei", True),  # listed with its article
    ("Straße", True),  # a common sense beside a geographic one
    ("STRASSE", False),  # all capitals: an acronym
    ("Straßen", False),  # no ending a feminine noun's entry allows (its plural is not listed here)
    ("Königreichs", True),  # a neuter noun's genitive
    ("Berg", True),  # mountain, though also Mount
    ("Bayern", False),  # every sense translated with a capital: a name
    ("George", False),
    ("Klein", False),  # Klei is masculine singular: no -n
    ("Kalin", False),
    ("Ria", True), ("RIA", False),
    ("Jung", False),  # an adjective in lower case, a surname in upper
    ("Hussein", False),  # Hus|sein: "hus" is no word
    ("Jaber-Stadion", False),  # hyphenated words are judged whole
    ("Kerry", False),
])
def test_common_nouns_as_written_inflected_and_compounded(dictionary, word, common):
    assert Nouns.read(dictionary).is_common(word) is common


def test_an_uncompressed_dictionary_reads_the_same(dictionary, tmp_path):
    plain = tmp_path / "plain" / dictionary.name
    plain.parent.mkdir()
    plain.touch()
    plain.with_suffix(".dict").write_text(ENTRIES, encoding="utf-8")
    assert Nouns.read(plain) == Nouns.read(dictionary)


def test_the_answer_gate_leaves_out_unannounced_nouns_in_german_only(installed):
    """A noun no determiner announces ("an Krätze") is no name for the gate; the same
    capitalised word in an English question is one."""
    question = "Wie viele Patienten in Dschidda waren an Krätze erkrankt?"
    assert salient_terms(question, nouns=False) == ["Dschidda"]
    assert salient_terms(question) == ["Patienten", "Dschidda", "Krätze"]  # ranking keeps them
    assert GroundingChecker().check(question, ["أصيب 9 مرضى بالجرب في جدة"]).missing == ()
    assert salient_terms("What did the Krätze report say about the hospital in Jeddah?", nouns=False) == [
        "Krätze", "Jeddah"]


def test_without_the_dictionary_only_announced_nouns_are_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    forget_german_nouns()
    try:
        assert german_nouns() == Nouns()
        assert salient_terms("Wie viele Patienten in Dschidda waren an Krätze erkrankt?", nouns=False) == [
            "Dschidda", "Krätze"]
    finally:
        forget_german_nouns()


def test_an_unreadable_dictionary_is_said_once_and_read_as_none(dictionary, monkeypatch, caplog):
    dictionary.with_suffix(".dict.dz").write_bytes(b"\x1f\x8b\x08 not gzip at all")
    monkeypatch.setattr(translation, "SEARCH_PATH", (dictionary.parent,))
    forget_german_nouns()
    try:
        with caplog.at_level(logging.WARNING, logger="qa.nouns"):
            assert german_nouns() == Nouns()
            assert german_nouns() == Nouns()
        warnings = [r.getMessage() for r in caplog.records if r.name == "qa.nouns"]
        assert len(warnings) == 1  # read once: the second call is remembered
        assert warnings[0].startswith(f"German nouns are told by determiners only: cannot read {dictionary}")
    finally:
        forget_german_nouns()


def test_threads_asking_at_once_read_the_dictionary_once(installed, monkeypatch):
    """`qa serve` warms up in a thread while a first German question may come."""
    reads = []
    read = Nouns.read.__func__
    # slow enough that every thread would read if the first did not hold the others back
    monkeypatch.setattr(Nouns, "read", classmethod(
        lambda cls, path: reads.append(path) or time.sleep(0.2) or read(cls, path)))
    found = []
    threads = [threading.Thread(target=lambda: found.append(german_nouns())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1
    assert all(f is found[0] for f in found) and found[0].is_common("Krätze")


def test_freedict_as_installed_tells_nouns_from_names():
    """The real file `make install` fetches: read as a reference."""
    forget_german_nouns()
    found = german_nouns()
    if found == Nouns():
        pytest.skip("FreeDict German-English is not installed (make install fetches it with apt)")
    assert len(found.common) > 150_000
    for noun in ("Krätze", "Richterin", "Namensliste", "Sportbehörde", "Nierenkranke", "Fälschungsvorwürfen",
                 "Halbjahresgewinn", "Theaterstücken", "Königreichs", "Straße", "Grenzgebiet", "Einwohner",
                 "Innenminister", "Polizei", "Soldat", "Soldaten", "Kindern"):
        assert found.is_common(noun), noun
    for name in ("Bayern", "Syrien", "Putin", "Lawrow", "Hussein", "Dschidda", "Kerry", "Mohammed", "Salman",
                 "George", "Araber", "Jaber-Stadion", "Maskat", "Einstein", "Muharrak", "Macron", "Kalin", "Klein",
                 "RIA", "SABIC", "Mekka", "Aden", "Abbas", "Hisbollah", "Nasrallah"):
        assert not found.is_common(name), name
