"""The search normalizer and tokenizer: each folding rule, idempotence, stopwords, stems."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from index.text.folding import FOLDS, normalize_for_search
from index.text.search import ARTICLE_MIN_CHARS, search_readings, tokenize_for_search, without_conjunction, written_words
from index.text.words import SEARCH_STOPWORDS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﻻ ﷲ ﻣﺼﺮ", "لا الله مصر"),  # NFKC: presentation forms and ligatures
        ("ﬁle２０２３", "file2023"),  # NFKC: Latin ligature, fullwidth digits
        ("Kuwait LAVROV", "kuwait lavrov"),
        ("مُحَمَّدٌ", "محمد"),  # harakat U+064B-U+0652
        ("هٰذا", "هذا"),  # superscript alef U+0670
        ("ا\u0653\u0655\u065f", "ا"),  # U+0653-U+065F (maddah, hamza below, wavy hamza)
        ("الرَّحِيمِ\u06d6 ذَٰلِكَ\u06e5", "الرحيم ذلك"),  # Quranic marks U+06D6-U+06ED
        ("مـــدينـة", "مدينه"),  # tatweel
        ("أحمد إبراهيم آمنة ٱلله", "احمد ابراهيم امنه الله"),  # alef forms
        ("مستشفى على", "مستشفي علي"),  # alef maqsura
        ("مدينة", "مدينه"),  # ta marbuta
        ("مسؤول رئيس", "مسوول رييس"),  # hamza seats
        ("ماء شيء", "ماء شيء"),  # bare hamza is kept (ماء must not become ما)
        ("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹", "0123456789 0123456789"),  # Arabic-Indic digits
        ("فارسی کتاب", "فارسي كتاب"),  # Persian yeh and keheh
        ("لا\u200dفروف\u200c \u200eالكويت\u200f\u061c \ufeffقطر", "لافروف الكويت قطر"),
        ("\u202bنص\u202c\u2066عربي\u2069", "نصعربي"),  # bidi embeddings and isolates
        ("  a\t\n b\u00a0\u3000c  ", "a b c"),  # whitespace collapsed and trimmed
        ("", ""),
    ],
)
def test_each_rule(raw: str, expected: str) -> None:
    assert normalize_for_search(raw) == expected


def test_combining_hamza_is_composed_then_folded() -> None:
    """NFKC runs first, so a hamza typed as a combining mark folds like a precomposed one."""
    assert normalize_for_search("ا\u0654حمد") == normalize_for_search("أحمد") == "احمد"
    assert normalize_for_search("و\u0654") == "و"


def test_deleting_a_mark_can_expose_a_composition() -> None:
    """e + tatweel + acute: NFKC cannot compose across the tatweel; it must after removal."""
    once = normalize_for_search("e\u0640\u0301")
    assert once == "é"
    assert normalize_for_search(once) == once


ARABIC_ALPHABET = st.sampled_from(
    [chr(c) for c in range(0x0600, 0x0700)]
    + [chr(c) for c in range(0xFB50, 0xFB60)]
    + [chr(c) for c in range(0xFE70, 0xFEFF)]
    + list("\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\u00ad aZé\u0301\u0130\t\n")
)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_idempotent_on_any_text(text: str) -> None:
    once = normalize_for_search(text)
    assert normalize_for_search(once) == once


@settings(max_examples=500, deadline=None)
@given(st.text(ARABIC_ALPHABET, max_size=40))
def test_idempotent_on_arabic_heavy_text(text: str) -> None:
    once = normalize_for_search(text)
    assert normalize_for_search(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(ARABIC_ALPHABET, max_size=40))
def test_tokens_are_normalized_and_survive_prenormalization(text: str) -> None:
    """Gold text compared after normalization tokenises like the raw text it came from."""
    tokens = tokenize_for_search(text)
    assert all(token and normalize_for_search(token) == token for token in tokens)
    assert tokenize_for_search(normalize_for_search(text)) == tokens


def test_stopword_lists_are_in_normalized_form() -> None:
    assert "الي" in SEARCH_STOPWORDS["ar"] and "ان" in SEARCH_STOPWORDS["ar"]  # إلى, أن/إن
    assert all(normalize_for_search(w) == w for words in SEARCH_STOPWORDS.values() for w in words)


def test_stopwords_and_one_letter_tokens_are_dropped() -> None:
    stopwords = "في من على إلى عن مع أن إن التي الذي ما لا هذا هذه ذلك كان قد و"
    assert tokenize_for_search(stopwords) == []
    assert tokenize_for_search("What did the minister of Kuwait say, and to whom? a b") == [
        "minist",
        "kuwait",
        "say",
    ]
    assert tokenize_for_search("وفي وقد فهل") == []  # stopword with a conjunction glued on


@pytest.mark.parametrize(("joined", "apart"), [
    ("ماهي عاصمة قطر؟", "ما هي عاصمة قطر؟"),
    ("ماهى عاصمة قطر؟", "ما هي عاصمة قطر؟"),
    ("ماهو الحزب الذي يرأسه أردوغان؟", "ما هو الحزب الذي يرأسه أردوغان؟"),
    ("بماذا تمتاز سويسرا؟", "ماذا تمتاز سويسرا؟"),
    ("بأي سورة يستدل المسلمون؟", "أي سورة يستدل المسلمون؟"),
    ("ممن اشترى النادي اللاعب؟", "من اشترى النادي اللاعب؟"),
    ("عمن تحدث الوزير؟", "من تحدث الوزير؟"),
    ("بمن التقى الوزير؟", "من التقى الوزير؟"),
    ("عماذا تحدث الوزير؟", "ماذا تحدث الوزير؟"),
    ("مالذي حدث في جدة؟", "ما الذي حدث في جدة؟"),
    ("ماالذي حدث في جدة؟", "ما الذي حدث في جدة؟"),
    ("ماهم أعضاء المجلس؟", "ما أعضاء المجلس؟"),
])
def test_a_question_word_written_as_one_with_the_next_is_a_stopword(joined: str, apart: str) -> None:
    """Informal Arabic writes ما هو as one word and glues a preposition onto a question word;
    such a word is no more a term of the question than its parts are."""
    assert tokenize_for_search(joined) == tokenize_for_search(apart)


def test_a_brand_that_a_joined_question_word_would_spell_is_kept() -> None:
    assert tokenize_for_search("فلاي دبي") == ["فلا", "دب"]  # flydubai: not و/ف + لأي


def test_prepositions_with_a_pronoun_are_stopwords() -> None:
    """عليها stemmed to علي, the stopword على, which no text's tokens hold: a question
    asking "ركز عليها" could never have all its words found."""
    assert tokenize_for_search("عليها منهم إليه لديها معه فيها عنا منا وعليه") == []
    assert tokenize_for_search("ركز عليها الاجتماع") == ["ركز", "اجتماع"]
    assert tokenize_for_search("لي بي") == ["لي", "بي"]  # Li Keqiang, BBC: names' syllables


@pytest.mark.parametrize(("token", "bare"), [
    ("وامير", "امير"), ("فاكد", "اكد"), ("واشنطن", "اشنطن"),  # the caller compares both
    ("امير", "امير"), ("فاز", "فاز"), ("وزير", "وزير"),  # no conjunction, or too short a rest
])
def test_a_conjunction_before_alif_is_dropped_for_comparison(token: str, bare: str) -> None:
    assert tokenize_for_search("وأمير") == ["وامير"]  # Snowball keeps it
    assert without_conjunction(token) == bare


def test_question_keeps_its_content_words() -> None:
    assert tokenize_for_search("ماذا ناقش لافروف مع الكويت؟") == ["ناقش", "لافروف", "كويت"]


@pytest.mark.parametrize(
    "forms",
    [
        ["الكويت", "والكويت", "بالكويت", "للكويت", "وللكويت", "فالكويت", "الكويتي", "الكويتية"],
        ["لافروف", "ولافروف", "بلافروف"],
        ["المدينة", "المدينه", "مدينة", "والمدينة"],  # ta marbuta either way
        ["إسرائيل", "اسرائيل", "الإسرائيلي", "الاسرائيلي"],  # hamza on alef either way
        ["الخارجية", "والخارجية", "خارجية"],
        ["أمريكا", "الأمريكية", "امريكا"],
        # a feminine ending or a verb's ت before the pronoun ه, as before any other pronoun
        ["زيارته", "زيارتها", "زيارة", "الزيارة", "وزيارته"],
        ["حكومته", "حكومتهم", "الحكومة", "حكومة"],
        ["أصدرته", "أصدرتها", "أصدرت"],
        ["مستوياته", "مستوياتها", "مستويات"],
        ["بيته", "بيتها", "البيت", "بيت"],  # a word's own ت stays
        ["الثابتة", "الثابت"],  # after the article, ته is the feminine ending
        # a bare ات plural, a pronoun after it or not, meets its ال form and its singular
        ["صادرات", "الصادرات", "صادراتها", "والصادرات"],
        ["علاقات", "العلاقات", "علاقاتها", "علاقة", "العلاقة"],
        ["مشروعات", "المشروعات", "مشروع", "المشروع"],
    ],
)
def test_inflected_arabic_forms_meet(forms: list[str]) -> None:
    stems = {tuple(tokenize_for_search(form)) for form in forms}
    assert len(stems) == 1, stems


def test_a_plural_keeps_snowballs_stem_where_a_first_letter_may_be_the_words_own() -> None:
    assert tokenize_for_search("بيانات بلديات") == ["يانا", "لديا"]  # not يان, لدي ("I have")
    assert tokenize_for_search("بدأت قرأت") == ["بدا", "قرا"]  # verbs: no stem of two letters


def test_a_bare_word_is_also_read_as_its_article_form_stems() -> None:
    assert search_readings("وزير الوزير فيصل") == [("زير", "وزير"), ("وزير",), ("يصل", "فيصل")]
    assert tokenize_for_search("وزير") != tokenize_for_search("الوزير")  # what the readings mend
    assert search_readings("قطر جنة") == [("قطر",), ("جنه",)]  # the same stem, or one that keeps ال (الجن)
    # the ال form's stem counts only where it puts back the letter Snowball took: السلمان -> سلم
    assert search_readings("سلمان سلطان خمسين") == [("سلمان",), ("سلطان",), ("خمسين",)]
    assert search_readings("Lavrov لافروف") == [("lavrov",), ("لافروف",)]


def test_arabic_digits_become_ascii_tokens() -> None:
    assert tokenize_for_search("عام ٢٠٢٣ و۲۰۲۳") == ["عام", "2023", "2023"]
    assert tokenize_for_search("عام ٢٠٢٣") == tokenize_for_search("عام 2023")


def test_latin_words_get_the_english_stemmer() -> None:
    assert tokenize_for_search("discussed discussing Discussions") == ["discuss"] * 3
    assert tokenize_for_search("Lavrov لافروف") == ["lavrov", "لافروف"]


def test_other_scripts_pass_through_unstemmed() -> None:
    assert tokenize_for_search("Лавров обсуждал") == ["лавров", "обсуждал"]


def test_underscore_separates_words() -> None:
    assert tokenize_for_search("kuwait_lavrov") == ["kuwait", "lavrov"]


def test_written_words_are_the_search_words_unstemmed_without_the_article() -> None:
    assert written_words("ماذا ناقش لافروف مع الكويت؟") == ["ناقش", "لافروف", "كويت"]
    assert written_words("المال الله") == ["مال", "الله"]  # the article goes from five letters up
    assert written_words("الرئيس رئيسي، ووزير الخارجية الله") == ["رييس", "رييسي", "ووزير", "خارجيه", "الله"]
    # Snowball merges what the written words keep apart, and parts what they join
    assert tokenize_for_search("رئيسي") == tokenize_for_search("الرئيس") and written_words("رئيسي") != written_words("الرئيس")
    assert tokenize_for_search("وزير") != tokenize_for_search("الوزير") and written_words("وزير") == written_words("الوزير")


@given(st.text(alphabet="الكويتوزيرمدنةأإآى ،.", max_size=60))
@example("ىةآ")
def test_written_words_survive_prenormalization_and_the_article(text: str) -> None:
    words = written_words(text)
    assert written_words(normalize_for_search(text)) == words
    # unless the article makes a function word of it (يها: اليها, "to her")
    assert all(written_words("ال" + word) == [word] for word in words
               if len(word) + 2 > ARTICLE_MIN_CHARS and "ال" + word not in SEARCH_STOPWORDS["ar"])


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
       | st.text(alphabet="".join(FOLDS) + "أحمد الكويت ٢٠٢٣ Ab\u200f ", max_size=80))
def test_the_fold_is_the_translation_table_of_its_folds(text: str) -> None:
    """The fold substitutes only the characters that change; `str.translate` with the
    same table, which reads every character, is the reference."""
    table = str.maketrans(FOLDS)
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower().translate(table))
    assert normalize_for_search(text) == " ".join(folded.split())
