"""English questions' words in Arabic (qa/translation.py): the dictd reader, the words
looked up, and the BM25 query a real index answers with them."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import pytest

from index.config import Settings
from index.errors import QAError
from index.text.search import tokenize_for_search
from qa import translation
from qa.retriever import Retriever
from qa.assistant import Assistant
from qa.coverage import named_in
from qa.language import SNOWBALL
from qa.translation import (
    Chain,
    Dictionary,
    DictionaryError,
    asked_words,
    dictionary_file,
    dictionary_files,
    lexical_query,
    load_dictionary,
    translated_tokens,
)

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(number: int) -> str:
    digits = ""
    while True:
        digits = _BASE64[number % 64] + digits
        number //= 64
        if not number:
            return digits


def write_dictd(folder: Path, name: str, entries: list[tuple[str, str]], compress: bool = True) -> Path:
    """A dictd dictionary as dictfmt writes one: a body per headword, and an index of
    tab-separated headword, base-64 offset, base-64 length."""
    data, lines = b"", []
    for headword, body in [("00databaseinfo", "about this dictionary\n"), *entries]:
        raw = body.encode("utf-8")
        lines.append(f"{headword}\t{_b64(len(data))}\t{_b64(len(raw))}")
        data += raw
    folder.mkdir(parents=True, exist_ok=True)
    if compress:
        (folder / f"{name}.dict.dz").write_bytes(gzip.compress(data))
    else:
        (folder / f"{name}.dict").write_bytes(data)
    index = folder / f"{name}.index"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index


def forget_dictionaries(monkeypatch) -> None:
    """Empty caches of the dictionaries found and read, as in a new process."""
    monkeypatch.setattr(translation, "_LOADED", {})
    monkeypatch.setattr(translation, "_TRANSLATORS", {})


@pytest.fixture
def fresh_loads(monkeypatch):
    """An empty cache of loaded dictionaries, for tests that point SEARCH_PATH elsewhere."""
    forget_dictionaries(monkeypatch)


ENTRIES = [
    ("accelerate", "Accelerate /ɐksˈɛləɹˌeɪt/\n1. سرّع\n2. عجّل، يسرّع\n"),
    ("accad", "Accad /ɐkˈad/\nأكاد - منطقة بلاد الرّافدين القديمة\n"),
    ("clipboard", "Clipboard /klˈɪpbɔːd/\nالحافظة\n"),
    ("gas", "Gas /ɡˈas/\nالغاز\n"),
    ("study", "Study /stˈʌdi/\nالدراسة, البحث\n"),
    ("bas", "BAS /bˈas/\nنظام التحكم\n"),
    ("base", "Base /bˈeɪs/\nالقاعدة\n"),
    ("meeting", "meeting /mˈiːtɪŋ/\nالاجتماع\n"),
    ("Meeting", "Meeting /mˈiːtɪŋ/\nاللقاء\n"),
]


@pytest.mark.parametrize("compress", [True, False])
def test_reads_senses_alternatives_and_drops_glosses(tmp_path, compress):
    dictionary = Dictionary.read(write_dictd(tmp_path, "eng-ara", ENTRIES, compress))
    assert dictionary.name == "eng-ara"
    assert dictionary.translations("Accelerate") == ("سرّع", "عجّل", "يسرّع")
    assert dictionary.translations("accad") == ("أكاد",)
    assert dictionary.translations("study") == ("الدراسة", "البحث")
    # Two headwords that fold to one keep both, in file order.
    assert dictionary.translations("meeting") == ("الاجتماع", "اللقاء")
    assert "00databaseinfo" not in dictionary.entries


@pytest.mark.parametrize("word, base", [
    # "bases" and "based" are not BAS (a headword too), whose stem differs.
    ("studies", "study"), ("bases", "base"), ("based", "base"), ("accelerated", "accelerate"),
    ("accelerating", "accelerate"), ("meetings", "meeting"), ("clipboards", "clipboard"),
])
def test_an_inflected_word_takes_its_base_forms_translations(tmp_path, word, base):
    dictionary = Dictionary.read(write_dictd(tmp_path, "eng-ara", ENTRIES))
    assert dictionary.translations(word) == dictionary.translations(base) != ()


def test_an_unknown_word_has_no_translation(tmp_path):
    assert Dictionary.read(write_dictd(tmp_path, "eng-ara", ENTRIES)).translations("zeppelin") == ()


def test_a_broken_dictionary_is_a_clear_error(tmp_path):
    index = write_dictd(tmp_path, "eng-ara", ENTRIES)
    (tmp_path / "eng-ara.dict.dz").unlink()
    with pytest.raises(DictionaryError, match="no eng-ara.dict.dz"):
        Dictionary.read(index)
    (tmp_path / "eng-ara.dict.dz").write_bytes(b"not gzip")
    with pytest.raises(DictionaryError, match="cannot read dictionary"):
        Dictionary.read(index)
    damaged = bytearray(gzip.compress(("x" * 5000).encode()))
    damaged[10:18] = b"\xff" * 8  # the first deflate block: zlib.error, not an OSError
    (tmp_path / "eng-ara.dict.dz").write_bytes(bytes(damaged))
    with pytest.raises(DictionaryError, match="cannot read dictionary"):
        Dictionary.read(index)


def test_only_common_words_are_translated_each_by_its_rarest_held_token(tmp_path):
    dictionary = Dictionary.read(write_dictd(tmp_path, "eng-ara", [
        *ENTRIES,
        ("kuwait", "Kuwait /kuːwˈeɪt/\nالكويت\n"),
        ("what", "What /wˈɒt/\nماذا\n"),
        ("minister", "minister /mˈɪnɪstə/\nوزير الخارجية\n"),
    ]))
    held = {token: 1 for word in ("الكويت", "ماذا", "الاجتماع", "اللقاء", "البحث") for token in tokenize_for_search(word)}
    held |= {tokenize_for_search("وزير")[0]: 50, tokenize_for_search("الخارجية")[0]: 20}
    question = "What did the minister say at the Meetings with Kuwait?"
    tokens = translated_tokens(question, dictionary, lambda t: held.get(t, 0), spelled=["Kuwait"])
    # Kuwait is a name the index spells (qa/coverage.py weighs it); "what" is a function
    # word; the minister is its rarer token; both senses of "Meetings" count, each once:
    # a capitalised word the index cannot spell as a name is looked up like any other.
    assert tokens == [*tokenize_for_search("الخارجية"), *tokenize_for_search("الاجتماع"),
                      *tokenize_for_search("اللقاء")]
    assert translated_tokens(question, dictionary, lambda t: held.get(t, 0)) == \
        tokens + tokenize_for_search("الكويت")


def test_only_english_questions_are_translated(tmp_path, monkeypatch, fresh_loads):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    held = {t: 1 for t in tokenize_for_search("الاجتماع")}
    assert lexical_query("when was the meeting?", "auto", lambda t: held.get(t, 0)) == \
        tokenize_for_search("when was the meeting?") + tokenize_for_search("الاجتماع")
    # The German question's "Meeting" is not looked up in the English dictionary; an
    # Arabic question is its own query.
    assert lexical_query("Wann war das Meeting?", "auto", lambda t: held.get(t, 0)) == \
        tokenize_for_search("Wann war das Meeting?")
    assert lexical_query("متى كان الاجتماع؟", "auto", lambda t: held.get(t, 0)) == tokenize_for_search("متى كان الاجتماع؟")
    assert lexical_query("when was the meeting?", "none", lambda t: held.get(t, 0)) == \
        tokenize_for_search("when was the meeting?")


def test_names_join_the_query_by_the_index_spelling_that_resembles_them(tmp_path, monkeypatch, fresh_loads):
    from qa.coverage import Named

    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    df = {"وقت": 1400, "قطاع": 850, "كويت": 290, "كويتي": 9, "بدر": 40, "باذرع": 1, "اسان": 3,
          **{t: 1 for t in tokenize_for_search("الاجتماع")}}
    # Kuwait's consonants also spell "time" and "sector", far commoner in news; its vowels
    # are كويت's. Badr is بدر: Arabic leaves its short vowel unwritten, and باذرع holds an ع
    # the name does not. Hassan resembles no spelling enough (اسان lacks its h): left out.
    kuwait = Named("Kuwait", ("قطاع", "كويت", "كويتي", "وقت"), 3.0)
    badr = Named("Badr", ("باذرع", "بدر"), 2.0)
    hassan = Named("Hassan", ("اسان",), 1.0)
    question = "the meeting in Kuwait with Badr and Hassan"
    query = lexical_query(question, "auto", lambda t: df.get(t, 0), lambda: [kuwait, badr, hassan])
    assert query == tokenize_for_search(question) + ["كويت", "بدر"] + tokenize_for_search("الاجتماع")
    # A name the lexicon translates is spelled by its translation, whatever the consonants
    # say; of several, the first Arabic one (the lexicon lists the Arabic locale first:
    # the Persian and Urdu names of Germany stem to المان and جرم, crime).
    jordan = Named("Jordan", ("اردن", "ردن"), 2.0, translated=("اردن",))
    assert translation.index_spellings([jordan], lambda t: df.get(t, 0))[0] == "اردن"
    germany = Named("Germany", ("germani", "المان", "جرم", "مانيا"), 2.0, translated=("germani", "مانيا", "المان", "جرم"))
    assert translation.index_spellings([germany], lambda t: {"جرم": 500}.get(t, 1))[0] == "مانيا"
    # The name's own spelling, if the index has it, is in the query already: an Arabic
    # one is added.
    trump = Named("Trump", ("trump", "ترامب"), 2.0)
    assert translation.index_spellings([trump], {"trump": 3, "ترامب": 900}.get)[0] == "ترامب"
    # Of the spellings about as close as the likest, the commonest: a name's own spelling
    # is common in the index, a near-equal that few articles hold is a typo or another
    # name (نسير: 0.933 like ناصر); a commoner one that is clearly less alike is not it.
    nasser = Named("Nasser", ("نسير", "ناصر", "نصر"), 2.0)
    assert translation.index_spellings([nasser], {"نسير": 5, "ناصر": 220, "نصر": 900}.get)[0] == "ناصر"
    # A stem that lost its first letter to the stemmer is compared with it put back
    # (وتين is the stem of بوتين); وطن, homeland, is not Putin.
    putin = Named("Putin", ("وتين", "وطن"), 2.0)
    assert translation.index_spellings([putin], {"وتين": 300, "وطن": 800}.get)[0] == "وتين"
    # several names at once, each its own
    counts = {"وتين": 300, "وطن": 800, "نسير": 5, "ناصر": 220, "نصر": 900, "trump": 3, "ترامب": 900, **df}
    names = [jordan, putin, nasser, trump, kuwait]
    assert translation.index_spellings(names, lambda t: counts.get(t, 0)) == \
        [translation.index_spellings([n], lambda t: counts.get(t, 0))[0] for n in names] == ["اردن", "وتين", "ناصر", "ترامب", "كويت"]
    # Without a dictionary the words are not translated, but the names are spelled: a
    # name is written alike in every language, so a German or Russian question, which no
    # dictionary serves, searches its names too; an Arabic one is read as written.
    assert lexical_query("the meeting in Kuwait", "none", lambda t: df.get(t, 0), lambda: [kuwait]) == \
        tokenize_for_search("the meeting in Kuwait") + ["كويت"]

    def unasked() -> list[Named]:
        raise AssertionError("an Arabic question's names are its own words")

    assert lexical_query("Das Treffen in Kuwait", "auto", lambda t: df.get(t, 0), lambda: [kuwait]) == \
        tokenize_for_search("Das Treffen in Kuwait") + ["كويت"]
    kuwait_in_russian = Named("Кувейте", ("وقت", "كويت"), 3.0)  # в read as the glide و
    assert lexical_query("Встреча в Кувейте", "auto", lambda t: df.get(t, 0), lambda: [kuwait_in_russian]) == \
        tokenize_for_search("Встреча в Кувейте") + ["كويت"]
    # A question mostly in Arabic is read as written, whatever the dictionary setting.
    assert lexical_query("ماذا قال Lavrov عن الكويت؟", "none", lambda t: df.get(t, 0), unasked) == \
        tokenize_for_search("ماذا قال Lavrov عن الكويت؟")
    assert lexical_query("الاجتماع في الكويت", "auto", lambda t: df.get(t, 0), unasked) == \
        tokenize_for_search("الاجتماع في الكويت")


def test_the_answer_step_counts_each_word_once_in_any_of_its_forms(tmp_path, monkeypatch, fresh_loads):
    from qa.coverage import Named

    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    df = {"كويت": 40, **{t: 1 for t in tokenize_for_search("الاجتماع الدراسة البحث")}}
    kuwait = Named("Kuwait", ("كويت",), 3.0)

    def words(question: str, setting: str = "auto") -> list[frozenset[str]]:
        return asked_words(question, setting, lambda t: df.get(t, 0), lambda: [kuwait])

    def one(text: str) -> frozenset[str]:
        return frozenset(tokenize_for_search(text))

    # A word with its held translations is one word; "zeppelin" has none and is still
    # asked about; the name is the grounding check's, not counted here.
    assert words("the studies on zeppelin meetings in Kuwait") == [
        one("studies") | one("الدراسة البحث"), one("zeppelin"), one("meetings") | one("الاجتماع"),
    ]
    # Other languages, and English without a dictionary: each token once, names included.
    assert words("the meeting in Kuwait, the meeting", "none") == [one("meeting"), one("Kuwait")]
    assert words("متى كان الاجتماع في الكويت؟") == [frozenset([t]) for t in tokenize_for_search("متى كان الاجتماع في الكويت؟")]
    assert asked_words("the meeting in Kuwait") == [one("meeting"), one("Kuwait")]

    def unasked() -> list[Named]:
        raise AssertionError("names looked for in a question that is not translated")

    # Finding names costs milliseconds: only a translated question's are looked for.
    assert asked_words("متى كان الاجتماع؟", "auto", lambda t: df.get(t, 0), unasked) == \
        [frozenset([t]) for t in tokenize_for_search("متى كان الاجتماع؟")]


def test_a_dictionary_is_read_once_and_a_broken_one_fails_the_same_way_each_time(tmp_path, monkeypatch, fresh_loads):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    first = load_dictionary("auto", "en")
    assert first is not None and load_dictionary("auto", "en") is first
    broken = write_dictd(tmp_path / "broken", "eng-ara", ENTRIES)
    reads = []

    def failing_read(cls, path, stemmer="english"):
        reads.append(path)
        raise DictionaryError(f"cannot read dictionary {path}")

    monkeypatch.setattr(Dictionary, "read", classmethod(failing_read))
    for _ in range(2):
        with pytest.raises(DictionaryError, match="cannot read"):
            load_dictionary(str(broken), "en")
    assert reads == [broken]


def test_each_language_s_files_are_looked_for_once_not_per_question(tmp_path, monkeypatch, fresh_loads):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    looked = []
    find = translation.dictionary_files
    monkeypatch.setattr(translation, "dictionary_files", lambda *a: looked.append(a) or find(*a))
    for _ in range(3):
        assert load_dictionary("auto", "en") is not None and load_dictionary("auto", "de") is None
    assert looked == [("auto", "en"), ("auto", "de")]


def test_where_the_dictionary_is_looked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path / "venv", tmp_path / "system"))
    assert dictionary_file("auto", "en") is None
    system = write_dictd(tmp_path / "system", "freedict-eng-ara", ENTRIES)
    assert dictionary_file("auto", "en") == system
    venv = write_dictd(tmp_path / "venv", "freedict-eng-ara", ENTRIES)
    assert dictionary_file("auto", "en") == venv
    assert dictionary_file("none", "en") is None
    assert dictionary_file("auto", "de") is None
    assert dictionary_file(str(system), "en") == system
    with pytest.raises(QAError, match="QA_DICTIONARY"):
        dictionary_file(str(tmp_path / "missing.index"), "en")
    # French goes through English: both files, or none while one is missing; a path
    # setting names the English-Arabic one, the French-English one is looked for.
    assert dictionary_files("auto", "fr") is None
    french = write_dictd(tmp_path / "system", "freedict-fra-eng", FRENCH)
    assert dictionary_files("auto", "fr") == (french, venv)
    assert dictionary_files(str(system), "fr") == (french, system)
    assert dictionary_files("none", "fr") is None
    assert dictionary_file("auto", "fr") is None  # no one file takes French into Arabic


FRENCH = [
    ("guerre", "guerre /ɡɛʁ/\nwar\n"),
    ("réunion", "réunion /ʁe.y.njɔ̃/\n1. meeting <n>\n2. [pol.] study\n3. gas\n"),
    ("discuter", "discuter /dis.ky.te/\nto discuss <v>\nsee: {débattre}\n\"discuter le prix\"\n"),
]
ARABIC_OF_FRENCH = [*ENTRIES, ("war", "War /wˈɔː/\nالحرب\n"), ("discuss", "Discuss /dɪskˈʌs/\nناقش\n")]


def test_a_word_goes_through_its_first_english_senses(tmp_path):
    """Each of the first PIVOT_TRANSLATIONS English translations, cleaned to a headword,
    into Arabic; their first translations first; inflected words by the French stemmer."""
    chain = Chain(Dictionary.read(write_dictd(tmp_path, "fra-eng", FRENCH), "french"),
                  Dictionary.read(write_dictd(tmp_path, "eng-ara", ARABIC_OF_FRENCH)))
    assert translation.PIVOT_TRANSLATIONS == 2
    # meeting: الاجتماع, اللقاء; study: الدراسة, البحث; gas (the third translation) left out.
    assert chain.translations("réunion") == ("الاجتماع", "الدراسة", "اللقاء", "البحث")
    assert chain.translations("Réunions") == chain.translations("réunion")
    assert chain.translations("guerres") == ("الحرب",)
    assert chain.translations("discuter") == ("ناقش",)  # "to ... <v>" read as "discuss", no see: line
    assert chain.translations("paix") == ()


def test_french_spanish_portuguese_and_turkish_questions_are_translated_through_english(tmp_path, monkeypatch, fresh_loads):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ARABIC_OF_FRENCH)
    held = {t: 1 for t in tokenize_for_search("الحرب")}
    question = "Quand la guerre a-t-elle commencé ?"
    assert lexical_query(question, "auto", lambda t: held.get(t, 0)) == tokenize_for_search(question)
    write_dictd(tmp_path, "freedict-fra-eng", FRENCH)
    forget_dictionaries(monkeypatch)
    assert lexical_query(question, "auto", lambda t: held.get(t, 0)) == \
        tokenize_for_search(question) + tokenize_for_search("الحرب")
    assert lexical_query(question, "none", lambda t: held.get(t, 0)) == tokenize_for_search(question)
    # The English-Arabic dictionary is read once for every language that leads to it.
    french = load_dictionary("auto", "fr")
    assert isinstance(french, Chain) and french.into_arabic is load_dictionary("auto", "en")
    for language, name, word in [("es", "freedict-spa-eng", "guerra"), ("pt", "freedict-por-eng", "guerra"),
                                 ("tr", "freedict-tur-eng", "savaş")]:
        write_dictd(tmp_path, name, [(word, f"{word}\nwar\n")])
        chain = load_dictionary("auto", language)
        assert isinstance(chain, Chain) and chain.translations(word) == ("الحرب",)


def test_the_setting_comes_from_the_environment_and_is_checked_there(monkeypatch, tmp_path):
    monkeypatch.delenv("QA_DICTIONARY", raising=False)
    assert Settings.from_env().dictionary == "auto"
    for value, setting in [("none", "none"), ("OFF", "none"), (" Auto ", "auto")]:
        monkeypatch.setenv("QA_DICTIONARY", value)
        assert Settings.from_env().dictionary == setting
    index = write_dictd(tmp_path, "eng-ara", ENTRIES)
    monkeypatch.setenv("QA_DICTIONARY", str(index))
    assert Settings.from_env().dictionary == str(index)
    monkeypatch.setenv("QA_DICTIONARY", str(tmp_path / "typo.index"))
    with pytest.raises(QAError, match="QA_DICTIONARY names .*typo.index, which is not a file"):
        Settings.from_env()


def test_freedict_as_installed_reads_as_an_english_arabic_dictionary():
    """The real file `make install` fetches (qa/translation.py): read as a reference."""
    path = dictionary_file("auto", "en")
    if path is None:
        pytest.skip("FreeDict English-Arabic is not installed (make install fetches it with apt)")
    dictionary = Dictionary.read(path)
    assert len(dictionary.entries) > 80_000
    assert "الرئيس" in dictionary.translations("president")
    assert "المحادثات" in dictionary.translations("talks")
    assert "النفط" in dictionary.translations("oil")


def test_every_language_translated_has_a_stemmer_and_goes_through_english_at_most():
    """A language's own dictionary reads inflections by its stemmer; Chinese has none."""
    assert all(language in SNOWBALL or names[0] == "cc-cedict" for language, names in translation.DICTIONARIES.items())
    assert all(names[-1] == "freedict-eng-ara" and len(names) <= 2 for names in translation.DICTIONARIES.values())


CEDICT_LINES = [
    "# CC-CEDICT",
    "#! version=1",
    "戰爭 战争 [zhan4 zheng1] /war/conflict/CL:場|场[chang2],次[ci4]/",
    "石油 石油 [shi2 you2] /oil; petroleum/",
    "石 石 [shi2] /surname Shi/rock; stone/",
    "油 油 [you2] /oil/fat/",
    "會議 会议 [hui4 yi4] /meeting; conference/",
    "not a line of it",
]


def write_cedict(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def test_cc_cedict_is_read_by_both_headwords_and_cuts_a_clause_into_them(tmp_path):
    cedict = Dictionary.read_cedict(write_cedict(tmp_path / "cedict.txt.gz", CEDICT_LINES))
    assert cedict.translations("战争") == cedict.translations("戰爭") == ("war", "conflict", "CL:場|场[chang2],次[ci4]")
    assert cedict.translations("石油") == ("oil", "petroleum")  # a sense's alternatives split by ";"
    assert cedict.translations("戰") == ()  # no stemmer: nothing but the listed headwords
    assert cedict.longest == 2
    # longest headwords first, one character where none starts; Latin words as they are
    assert cedict.words("石油会议的战争 about OPEC") == ["石油", "会议", "的", "战争", "about", "opec"]
    chain = Chain(cedict, Dictionary.read(write_dictd(tmp_path, "eng-ara", [*ENTRIES, ("war", "war\nالحرب\n")])))
    assert chain.translations("战争") == ("الحرب",)  # the measure-word line is no translation
    assert chain.translations("会议") == ("الاجتماع", "اللقاء")
    (tmp_path / "broken.gz").write_bytes(b"not gzip")
    with pytest.raises(DictionaryError, match="cannot read dictionary"):
        Dictionary.read_cedict(tmp_path / "broken.gz")


def test_a_chinese_question_is_translated_word_by_word_through_english(tmp_path, monkeypatch, fresh_loads):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    cedict = tmp_path / "cedict.txt.gz"
    monkeypatch.setattr(translation, "_cedict", lambda: cedict if cedict.is_file() else None)
    write_dictd(tmp_path, "freedict-eng-ara", [*ENTRIES, ("war", "war\nالحرب\n")])
    held = {t: 1 for word in ("الحرب", "الاجتماع", "اللقاء") for t in tokenize_for_search(word)}
    question = "会议讨论了战争吗？"
    assert lexical_query(question, "auto", lambda t: held.get(t, 0)) == tokenize_for_search(question)  # no CC-CEDICT
    write_cedict(cedict, [*CEDICT_LINES, "討論 讨论 [tao3 lun4] /to discuss/"])
    forget_dictionaries(monkeypatch)
    # single characters (了, 吗) are not looked up; 讨论's "discuss" has no Arabic here
    assert lexical_query(question, "auto", lambda t: held.get(t, 0)) == \
        tokenize_for_search(question) + tokenize_for_search("الاجتماع") + tokenize_for_search("اللقاء") + \
        tokenize_for_search("الحرب")
    # ranking only: the answer step counts a Chinese question's own words, not these
    assert asked_words(question, "auto", lambda t: held.get(t, 0)) == \
        [frozenset([t]) for t in dict.fromkeys(tokenize_for_search(question))]


@pytest.mark.parametrize("language, word, arabic", [
    ("fr", "guerre", "الحرب"), ("fr", "pétrole", "النفط"), ("es", "guerra", "الحرب"), ("pt", "guerra", "الحرب"),
    ("tr", "savaş", "الحرب"), ("zh", "战争", "الحرب"), ("zh", "石油", "النفط"),
])
def test_freedict_as_installed_takes_other_languages_through_english(language, word, arabic):
    """The real files `make install` fetches."""
    if dictionary_files("auto", language) is None:
        pytest.skip(f"FreeDict's dictionaries for {language} are not installed (make install fetches them with apt)")
    assert arabic in load_dictionary("auto", language).translations(word)


@pytest.mark.slow
def test_an_english_question_gets_bm25_hits_through_the_dictionary(seed_settings, embedder, tmp_path):
    """Of the seeds, only 001 (Putin and Qatar's emir on energy) speaks of gas (الغاز)."""
    question = "which talks were about gas?"
    index = write_dictd(tmp_path, "eng-ara", ENTRIES)
    without = Retriever(replace(seed_settings, dictionary="none"), embedder).search(question, k=3, mode="bm25")
    assert not any(p.source.startswith("001_") for p in without)
    found = Retriever(replace(seed_settings, dictionary=str(index)), embedder).search(question, k=3, mode="bm25")
    assert found and found[0].source.startswith("001_")


@pytest.mark.slow
def test_a_french_question_gets_bm25_hits_through_english(seed_settings, embedder, tmp_path, monkeypatch, fresh_loads):
    """The English test above, asked in French: gaz -> gas -> الغاز."""
    question = "quelles discussions portaient sur le gaz ?"
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    retriever = Retriever(replace(seed_settings, dictionary="auto"), embedder)
    assert not any(p.source.startswith("001_") for p in retriever.search(question, k=3, mode="bm25"))
    write_dictd(tmp_path, "freedict-fra-eng", [("gaz", "gaz /ɡaz/\ngas <n>\n")])
    forget_dictionaries(monkeypatch)
    found = retriever.search(question, k=3, mode="bm25")
    assert found and found[0].source.startswith("001_")


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "what did Lavrov discuss with Kuwait?",
    "What did Lavrov discuss with Kuwait's foreign minister?",
])
def test_translated_words_do_not_outrank_the_names_asked_about(seed_settings, embedder, aux, question):
    """Seed 004 is Lavrov discussing with Jordan's foreign minister (ناقش وزير الخارجية):
    every common word of the question, translated, is there. The article about Kuwait must
    stay first, so the BM25 query carries the names' index spellings too."""
    if dictionary_file("auto", "en") is None:
        pytest.skip("FreeDict English-Arabic is not installed (make install fetches it with apt)")
    passages = Retriever(replace(seed_settings, dictionary="auto"), embedder, aux).search(question, k=3)
    assert passages[0].source == "002_717a5c15cf0cef70"


@pytest.mark.slow
def test_an_english_questions_translated_words_count_in_its_sentence_scores(seed_settings, embedder, tmp_path):
    """Before, an English question's words were never in an Arabic sentence: its score was
    the cosine alone. Translated, a sentence on gas (الغاز) gains the overlap's share."""
    question = "which talks were about gas?"
    translating = Retriever(replace(seed_settings, dictionary=str(write_dictd(tmp_path, "eng-ara", ENTRIES))), embedder)
    plain = Retriever(replace(seed_settings, dictionary="none"), embedder)
    passages = translating.search(question, k=5)
    scores = {}
    for retriever in (plain, translating):
        evidence = Assistant.over(retriever, None).answerer.score_sentences(question, passages)
        scores[retriever] = {(e.sentence.article_id, e.sentence.start): (e.score, e.sentence.text) for e in evidence}
    assert scores[plain].keys() == scores[translating].keys()
    on_gas, gas = 0, set(tokenize_for_search("الغاز"))
    for key, (before, text) in scores[plain].items():
        gain = scores[translating][key][0] - before
        if gas & set(tokenize_for_search(text)):
            on_gas += 1
            assert gain > 0.01
        else:
            assert gain == pytest.approx(0.0, abs=1e-6)
    assert on_gas


def test_a_name_is_searched_by_its_own_spelling_in_a_real_index(seed_settings):
    """In the seeds, Kuwait's consonants (KT) also spell وقت (time), خطة (plan) and قطاع
    (sector), each in as many articles as الكويت or more; the query must hold كويت (the
    lexicon's translation). Lavrov, which no lexicon lists, by its closest spelling."""
    reader = Retriever(replace(seed_settings, dictionary="auto")).reader
    question = "What did Lavrov discuss with Kuwait?"
    named = {n.term: n for n in named_in(question, reader.lexical)}
    assert max(reader.lexical.df(t) for t in named["Kuwait"].tokens) > reader.lexical.df("كويت")
    assert translation.index_spellings([named["Kuwait"]], reader.lexical.df)[0] == "كويت"
    assert translation.index_spellings([named["Lavrov"]], reader.lexical.df)[0] == "لافروف"


def test_the_warm_up_reads_every_dictionary_before_the_first_question(tmp_path, monkeypatch, fresh_loads, seed_settings,
                                                                      embedder):
    """A first question in French must not wait for its dictionary to be read (a first
    Chinese one waited half a second for CC-CEDICT): gone after the warm-up, it still
    translates gaz -> gas -> الغاز."""
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    write_dictd(tmp_path, "freedict-fra-eng", [("gaz", "gaz /ɡaz/\ngas <n>\n")])
    retriever = Retriever(replace(seed_settings, dictionary="auto"), embedder)
    retriever.warm_up()
    for path in tmp_path.iterdir():
        path.unlink()
    found = retriever.search("quelles discussions portaient sur le gaz ?", k=3, mode="bm25")
    assert found and found[0].source.startswith("001_")


def test_the_warm_up_leaves_an_unreadable_dictionary_to_the_questions_that_need_it(tmp_path, monkeypatch, fresh_loads,
                                                                                   seed_settings, embedder):
    monkeypatch.setattr(translation, "SEARCH_PATH", (tmp_path,))
    write_dictd(tmp_path, "freedict-eng-ara", ENTRIES)
    (tmp_path / "freedict-fra-eng.dict.dz").write_bytes(b"not a dictionary")
    (tmp_path / "freedict-fra-eng.index").write_text("nonsense\n")
    retriever = Retriever(replace(seed_settings, dictionary="auto"), embedder)
    retriever.warm_up()
    with pytest.raises(QAError):
        retriever.search("quelles discussions portaient sur le gaz ?", k=3, mode="bm25")
