"""index/text: scripts, the fold, words and word lists; and that every user agrees with them.

The agreement tests put the same strings through each module that compares words
(search tokens, page-cleaning keys, date scanning, follow-up and grounding word rules,
language detection) and check that they fold, split and classify them alike.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import cleaning, dates
from index.text.folding import (
    DELETED,
    DIGIT_FOLDS,
    LETTER_FOLDS,
    folded_words,
    normalize_for_search,
    spelling_pattern,
    to_ascii_digits,
)
from index.text.scripts import (
    ARABIC,
    ARABIC_MARKS,
    ARABIC_SCRIPT,
    INDIC_SCRIPT,
    LATIN_SCRIPT,
    MARKS,
    dominant_script,
    script_of,
)
from index.text.search import tokenize_for_search
from index.text.words import (
    HYPHENATED_WORD,
    NAME_WORD,
    QUESTION_WORDS,
    SEARCH_STOPWORDS,
    STOPWORDS,
    WORD,
    is_function_word,
    without_elision,
)
from qa import followup, grounding
from qa.language import detect_language

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------ scripts

#: (character, its script). Letters of every Arabic block, Persian/Urdu letters,
#: presentation forms, and the neighbours of the Arabic ranges.
SCRIPT_TABLE = [
    ("ب", "arabic"), ("ء", "arabic"), ("ی", "arabic"), ("ک", "arabic"), ("ے", "arabic"),
    ("ݐ", "arabic"),  # Arabic Supplement
    ("ࢠ", "arabic"),  # Extended-A
    ("ࡰ", "arabic"),  # Extended-B
    ("ﭐ", "arabic"), ("ﷲ", "arabic"),  # Presentation Forms-A
    ("ﻻ", "arabic"), ("ﺏ", "arabic"),  # Presentation Forms-B
    ("a", "latin"), ("Z", "latin"), ("é", "latin"), ("ğ", "latin"), ("ạ", "latin"),
    ("ж", "cyrillic"), ("א", "hebrew"), ("α", "greek"), ("क", "devanagari"),
    ("ক", "bengali"), ("ਕ", "gurmukhi"), ("ક", "gujarati"), ("କ", "oriya"), ("க", "tamil"),
    ("క", "telugu"), ("ಕ", "kannada"), ("ക", "malayalam"),
    ("한", "hangul"), ("カ", "kana"), ("漢", "han"),
    ("\ufeff", None),  # byte order mark: not Arabic although it ends Presentation Forms-B
    ("1", None), ("_", None), ("×", None), ("ܐ", None),  # Syriac, right before Arabic Supplement
]  # fmt: skip


INDIC = ("devanagari", "bengali", "gurmukhi", "gujarati", "oriya", "tamil", "telugu", "kannada", "malayalam")


@pytest.mark.parametrize(("char", "script"), SCRIPT_TABLE)
def test_script_of_each_character(char: str, script: str | None) -> None:
    assert script_of(char) == script


def test_script_regexes_agree_with_script_of_on_every_character() -> None:
    for code in range(0x10000):
        char = chr(code)
        assert bool(ARABIC_SCRIPT.match(char)) == (script_of(char) == "arabic"), hex(code)
        assert bool(LATIN_SCRIPT.match(char)) == (script_of(char) == "latin"), hex(code)
        assert bool(INDIC_SCRIPT.match(char)) == (script_of(char) in INDIC), hex(code)


def test_latin_is_exactly_the_latin_letters() -> None:
    for code in list(range(0x0250)) + list(range(0x1E00, 0x1F00)):
        char = chr(code)
        assert (script_of(char) == "latin") == char.isalpha(), hex(code)


def test_arabic_marks_are_every_mark_of_the_arabic_blocks() -> None:
    """The hand-written list of mark ranges cannot drift from Unicode."""
    in_blocks = {c for low, high in ARABIC for c in range(low, high + 1)}
    marks = {c for low, high in ARABIC_MARKS for c in range(low, high + 1)}
    assert marks == {c for c in in_blocks if unicodedata.category(chr(c)).startswith("M")}


def test_dominant_script_counts_letters() -> None:
    assert dominant_script("Lavrov لافروف الكويت 2023") == "arabic"
    assert dominant_script("What did لافروف discuss?") == "latin"
    assert dominant_script("2023 ؟!") is None


# ------------------------------------------------------------------------------ folding


def test_the_fold_deletes_every_arabic_mark() -> None:
    for low, high in ARABIC_MARKS:
        for code in range(low, high + 1):
            assert normalize_for_search("ب" + chr(code) + "ت") == "بت", hex(code)


def test_digits() -> None:
    assert to_ascii_digits("عام ٢٠٢٣ و۱۴۰۲") == "عام 2023 و1402"
    assert to_ascii_digits("२०१५ ২০১৫ ¹²") == "2015 2015 ¹²"  # every script's digits, nothing else
    assert all(normalize_for_search(digit) == value for digit, value in DIGIT_FOLDS.items())


def test_folded_words_accepts_a_string_or_words() -> None:
    assert folded_words("إلى أين") == folded_words(["إلى", "أين"]) == {"الي", "اين"}


#: Spellings of one word that the fold makes equal: hamza forms, harakat, tatweel,
#: invisible characters, ta marbuta and alef maqsura, Persian letters, digits, case.
SPELLINGS = [
    ["أكتوبر", "اكتوبر", "إكتوبر", "أكتوبَر", "أكتوبـر", "أك\u200cتوبر", "ٱكتوبر"],
    ["آخر تحديث", "اخر تحديث", "آخِر  تحديث", "آخر تحـديث"],
    ["الصفحة الرئيسية", "الصفحه الرئيسيه", "الصَّفحة الرئيسيّة"],
    ["مستشفى", "مستشفي", "مستشفی"],
    ["كتاب ٢٠٢٣", "کتاب 2023", "كتاب ۲۰۲۳"],
    ["December", "DECEMBER", "december", "Dec\u00adember"],
]


@pytest.mark.parametrize("spellings", SPELLINGS)
def test_spelling_pattern_matches_every_spelling_the_fold_merges(spellings: list[str]) -> None:
    pattern = re.compile(spelling_pattern(spellings[0]), re.IGNORECASE)
    for spelling in spellings:
        assert normalize_for_search(spelling) == normalize_for_search(spellings[0])
        assert pattern.fullmatch(spelling), spelling


@pytest.mark.parametrize(
    ("word", "other"),
    [("أكتوبر", "أكتوبرة"), ("أكتوبر", "كتوبر"), ("مدينة", "مدينت"), ("ماء", "ما"), ("1", "٢")],
)
def test_spelling_pattern_rejects_other_words(word: str, other: str) -> None:
    assert normalize_for_search(word) != normalize_for_search(other)
    assert not re.fullmatch(spelling_pattern(word), other, re.IGNORECASE)


#: Letters with their variants, marks that compose with nothing, tatweel, ZWNJ, Latin.
_LETTERS = "اأإآٱيىئةهوؤكکیبت"
_FOLD_ALPHABET = _LETTERS + "\u064e\u0650\u0651\u0652\u0670\u0640\u200caAbB٣3"


@settings(max_examples=500, deadline=None)
@given(st.text(_LETTERS, min_size=1, max_size=6), st.text(_FOLD_ALPHABET, max_size=10))
def test_spelling_pattern_matches_exactly_when_the_folds_are_equal(word: str, tail: str) -> None:
    """Over letters, marks and digits, the regex and the fold are the same relation."""
    text = word[0] + tail  # a word starts with a letter, as the scan requires
    matches = re.fullmatch(spelling_pattern(word), text, re.IGNORECASE) is not None
    assert matches == (normalize_for_search(text) == normalize_for_search(word))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(sorted(LETTER_FOLDS) + sorted(set(LETTER_FOLDS.values()))), min_size=1, max_size=6),
       st.data())
def test_spelling_pattern_matches_any_respelling(letters: list[str], data: st.DataObject) -> None:
    word = "".join(letters)
    variants = {v: [k for k, f in LETTER_FOLDS.items() if f == v] + [v] for v in LETTER_FOLDS.values()}
    respelled = "".join(
        data.draw(st.sampled_from(variants.get(LETTER_FOLDS.get(ch, ch), [ch])))
        + data.draw(st.sampled_from(["", "\u064e", "\u0640", "\u200c\u0651"]))
        for ch in word
    )
    assert re.fullmatch(spelling_pattern(word), respelled)


# ------------------------------------------------------------------------------ words


@pytest.mark.parametrize(
    ("text", "words", "hyphenated", "names"),
    [
        ("مُحَمَّدٌ رَسُولُ", ["مُحَمَّدٌ", "رَسُولُ"], ["مُحَمَّدٌ", "رَسُولُ"], ["مُحَمَّدٌ", "رَسُولُ"]),
        ("al-Assad", ["al", "Assad"], ["al-Assad"], ["al-Assad"]),
        ("l'Iran O'Brien", ["l", "Iran", "O", "Brien"], ["l", "Iran", "O", "Brien"], ["l'Iran", "O'Brien"]),
        ("kuwait_lavrov 2023", ["kuwait", "lavrov", "2023"], ["kuwait", "lavrov", "2023"],
         ["kuwait", "lavrov", "2023"]),
        ("ماذا؟ ومع قطر،", ["ماذا", "ومع", "قطر"], ["ماذا", "ومع", "قطر"], ["ماذا", "ومع", "قطر"]),
        ("\u064e", [], [], []),  # a mark alone is no word
        # Indic vowel signs and viramas are marks, which `\w` does not match
        ("सऊदी পুতিন সৌদি", ["सऊदी", "পুতিন", "সৌদি"], ["सऊदी", "পুতিন", "সৌদি"], ["सऊदी", "পুতিন", "সৌদি"]),
        ("சவுதி ਪੁਤਿਨ പുടിൻ", ["சவுதி", "ਪੁਤਿਨ", "പുടിൻ"], ["சவுதி", "ਪੁਤਿਨ", "പുടിൻ"],
         ["சவுதி", "ਪੁਤਿਨ", "പുടിൻ"]),
        # so are Hebrew points, Sinhala vowels and the accent of a decomposed é
        ("שְׁלֹמֹה සිංහල Ele\u0301onore", ["שְׁלֹמֹה", "සිංහල", "Ele\u0301onore"], ["שְׁלֹמֹה", "සිංහල", "Ele\u0301onore"],
         ["שְׁלֹמֹה", "සිංහල", "Ele\u0301onore"]),
    ],
)
def test_word_regexes(text: str, words: list[str], hyphenated: list[str], names: list[str]) -> None:
    assert WORD.findall(text) == words
    assert HYPHENATED_WORD.findall(text) == hyphenated
    assert NAME_WORD.findall(text) == names


def test_word_lists() -> None:
    for code, words in QUESTION_WORDS.items():
        assert words <= STOPWORDS[code], code
    for code in SEARCH_STOPWORDS:
        assert folded_words(QUESTION_WORDS[code]) <= SEARCH_STOPWORDS[code]
        assert all(normalize_for_search(w) == w for w in SEARCH_STOPWORDS[code])
    assert "بين" in STOPWORDS["ar"] and "بين" not in SEARCH_STOPWORDS["ar"]  # content for BM25


@pytest.mark.parametrize("word", ["What", "Wie", "Qu'a", "Qu'est-ce", "Cuántas", "В", "О", "Selon",
                                  "According", "May", "Worüber", "Каков", "Hangisi", "Lesquels", "Berapa",
                                  "Ποιους", "Ποιανού", "Πόσων", "Σύμφωνα", "Όταν"])
def test_function_words_of_any_language_in_any_case(word: str) -> None:
    assert is_function_word(word)


@pytest.mark.parametrize("word", ["Erdoğan", "Putin", "Al-Shabab", "O'Brien", "Kuwait", "Лавров"])
def test_names_are_no_function_words(word: str) -> None:
    assert not is_function_word(word)


@pytest.mark.parametrize(("word", "languages"), [
    ("Waar", ("nl",)), ("Vad", ("sv",)), ("Gdzie", ("pl",)), ("Miről", ("hu",)), ("Missä", ("fi",)),
    ("Hvilket", ("da", "no")),  # question words stopwords-iso lacks: OTHER_QUESTION_WORDS
    ("Gdje", ("hr",)), ("Jaký", ("cs",)), ("Kes", ("et",)),
    ("Câți", ("ro",)), ("Deși", ("ro",)),  # stopwords-iso writes Romanian with the cedilla (deşi)
    ("Що", ("ru",)), ("Къде", ("ru",)),  # Cyrillic is detected as Russian: Ukrainian, Bulgarian read too
])
def test_function_words_of_the_languages_a_question_may_be_in(word: str, languages: tuple[str, ...]) -> None:
    assert is_function_word(word, languages)
    assert not is_function_word(word)


@pytest.mark.parametrize(("word", "languages"), [
    ("Fas", ("tr",)),  # Morocco in Turkish, a Catalan word: only the question's languages are read
    ("Oman", ("en",)),  # Finnish for "own"
    ("Estados", ("es",)), ("Lima", ("id",)),  # a listed language's own words only, not stopwords-iso's
    ("Россия", ("ru",)),  # in stopwords-iso's Russian list: Cyrillic reads only Ukrainian's and Bulgarian's
    ("Putin", ("pl", "cs", "hu")), ("Лавров", ("ru",)),
])
def test_another_languages_function_words_are_names(word: str, languages: tuple[str, ...]) -> None:
    assert not is_function_word(word, languages)


@pytest.mark.parametrize(("word", "bare"), [
    ("l'Iran", "Iran"), ("D'Égypte", "Égypte"), ("dell'Arabia", "Arabia"), ("qu'a", "a"),
    ("O'Brien", "O'Brien"),  # an Irish name, not an elision
    ("Mısır'da", "Mısır'da"), ("Devmetü'l-Cendel", "Devmetü'l-Cendel"),  # suffixes and inner articles stay
])
def test_an_elided_article_is_dropped(word: str, bare: str) -> None:
    assert without_elision(word) == bare


# ------------------------------------------------------------------------------ users agree

#: A character of each fold rule inside a word: every letter fold, every digit fold, and
#: each kind of deleted character after a letter.
_DELETED_SAMPLES = [chr(low) for low, _ in DELETED] + [chr(high) for _, high in DELETED]
FOLD_CASES = (
    [f"ب{raw}ت" for raw in LETTER_FOLDS]
    + [f"ب{digit}ت" for digit in DIGIT_FOLDS]
    + [f"ب{deleted}ت" for deleted in _DELETED_SAMPLES]
)


@pytest.mark.parametrize("raw", FOLD_CASES, ids=[ascii(c) for c in FOLD_CASES])
def test_every_user_folds_alike(raw: str) -> None:
    """The raw spelling and its folded form are the same word to every module."""
    folded = normalize_for_search(raw)
    assert folded != raw
    assert tokenize_for_search(raw) == tokenize_for_search(folded)  # BM25
    assert cleaning._key(raw) == cleaning._key(folded) == folded  # page furniture, repeats
    assert followup._key(raw) == followup._key(folded)  # follow-up word lists
    assert re.fullmatch(spelling_pattern(folded), raw, re.IGNORECASE)  # date scan


@pytest.mark.parametrize("month", SPELLINGS[0])
def test_a_month_in_any_spelling_is_the_same_to_dates_cleaning_and_search(month: str) -> None:
    assert dates.find_dates(f"12 {month} 2022")[0].iso == "2022-10-12"
    assert dates.date_line(f"آخِر تحـديث: 12 {month} 2022") == dates.DateLine("2022-10-12", "updated")
    assert cleaning._key(month) == normalize_for_search("أكتوبر")
    assert tokenize_for_search(month) == tokenize_for_search("أكتوبر")


@pytest.mark.parametrize("line", SPELLINGS[2])
def test_a_chrome_line_in_any_spelling_is_chrome(line: str) -> None:
    assert cleaning._line_kind(line) is cleaning._Kind.CHROME


#: Characters whose script decides: Arabic-script letters of every block, and others.
_LETTER_TABLE = [char for char, _ in SCRIPT_TABLE if char.isalpha()]


@pytest.mark.parametrize("char", _LETTER_TABLE)
def test_every_user_sees_the_same_script(char: str) -> None:
    arabic = script_of(char) == "arabic"
    word = char * 3
    question = f"{word} {word}"
    assert bool(ARABIC_SCRIPT.search(char)) == arabic
    assert dominant_script(word) == script_of(char)
    assert (detect_language(word) in {"ar", "fa", "ur"}) == arabic  # qa/language.py
    assert followup._is_attached_and("و" + word) == arabic  # "و" glued to an Arabic word
    # grounding: the gate's salient terms of an Arabic question are its search tokens; of a
    # Persian or Urdu one (letters Arabic lacks), its names, as of another language
    assert (grounding.salient_terms(question, nouns=False)
            == list(dict.fromkeys(tokenize_for_search(question)))) == (detect_language(word) == "ar")


def test_vowelled_words_are_whole_words_everywhere() -> None:
    vowelled, bare = "مَاذَا نَاقَشَ لَافْرُوف مَعَ الكُوَيْتِ؟", "ماذا ناقش لافروف مع الكويت؟"
    assert tokenize_for_search(vowelled) == tokenize_for_search(bare)
    assert len(WORD.findall(vowelled)) == len(HYPHENATED_WORD.findall(vowelled)) == 5
    assert grounding.as_written(vowelled, grounding.salient_terms(vowelled)) == ["نَاقَشَ", "لَافْرُوف", "الكُوَيْتِ"]
    assert detect_language(vowelled) == "ar"


@pytest.mark.parametrize("word", sorted(QUESTION_WORDS["ar"] | QUESTION_WORDS["en"]))
def test_a_question_word_is_one_to_every_user(word: str) -> None:
    assert tokenize_for_search(word) == []  # a BM25 stopword
    assert normalize_for_search(word) in followup._QUESTION_WORDS
    code = "ar" if ARABIC_SCRIPT.search(word) else "en"
    assert word in STOPWORDS[code]  # a language signal
    if code == "ar":
        assert normalize_for_search(word) in followup._ARABIC_NON_ENTITIES


def test_no_module_outside_index_text_writes_its_own_arabic_rules() -> None:
    """Arabic code point ranges and letter-fold tables live in index/text only."""
    own_rule = re.compile(r"\\u0[6-8][0-9a-fA-F]{2}-|0x0[6-8][0-9a-fA-F]{2}|maketrans\(|[اأإآٱ]{4,}")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("index", "qa", "ui", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "text" not in path.relative_to(ROOT).parts[:2]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own_rule.search(line)
    ]
    assert offenders == []


def test_marks_are_every_combining_mark_of_the_basic_plane() -> None:
    """Against Unicode's own categories, and the marks once listed by hand: Arabic's and
    Devanagari's."""
    marked = {code for low, high in MARKS for code in range(low, high + 1)}
    assert marked == {code for code in range(0x10000) if unicodedata.category(chr(code)).startswith("M")}
    by_hand = (*ARABIC_MARKS, (0x0900, 0x0903), (0x093A, 0x093C), (0x093E, 0x094F), (0x0951, 0x0957), (0x0962, 0x0963))
    assert {code for low, high in by_hand for code in range(low, high + 1)} <= marked
