"""qa/lexicon.py: CLDR names of countries, languages, cities and months, in many languages."""

from __future__ import annotations

import pytest

from qa.lexicon import Found, Lexicon, cldr_entries, date_words, fold, key_tokens, lexicon, names_in_text, other_names


def arabic(found: Found) -> set[str]:
    return {n for n in found.names if any("\u0600" <= ch <= "\u06ff" for ch in n)}


@pytest.mark.parametrize(("question", "words", "name"), [
    ("What did Lavrov discuss with Jordan?", ("Jordan",), "الأردن"),
    ("What did Lavrov tell Kuwait's emir?", ("Kuwait's",), "الكويت"),  # possessive
    ("Что Лавров обсуждал в России?", ("России",), "روسيا"),  # Russian case ending
    ("Was sagte Steinmeier über Deutschlands Rolle?", ("Deutschlands",), "ألمانيا"),
    ("Erdoğan Kuveyt'e ne dedi?", ("Kuveyt'e",), "الكويت"),  # Turkish suffix after an apostrophe
    ("Combien d'avions ont été livrés à l'Égypte ?", ("Égypte",), "مصر"),  # elided article
    ("Cosa ha detto il ministro dell'Arabia Saudita?", ("Arabia", "Saudita"), "المملكة العربية السعودية"),
    ("Was sagte er in Saudi-Arabien?", ("Saudi", "Arabien"), "المملكة العربية السعودية"),
    ("Did the United States agree?", ("United", "States"), "الولايات المتحدة"),
    ("Что перевезли Соединённые Штаты?", ("Соединённые", "Штаты"), "الولايات المتحدة"),  # ё, which CLDR writes е
    ("Когда Хашогги покинул Саудовскую Аравию?", ("Саудовскую", "Аравию"), "المملكة العربية السعودية"),  # every word declined
    ("Что обсуждали с Саудовской Аравией?", ("Саудовской", "Аравией"), "المملكة العربية السعودية"),
    ("¿Qué pasó en Nueva York?", ("Nueva", "York"), "نيويورك"),  # a city, from the time zones
    ("What happened in Warsaw in June?", ("Warsaw",), "وارسو"),
    ("Which language, German or Chinese?", ("German",), "الألمانية"),
    ("克里在新加坡说了什么？", ("新加坡",), "سنغافورة"),  # no spaces: found inside the run
    ("सऊदी अरब को कौन सा स्थान मिला?", ("सऊदी", "अरब"), "المملكة العربية السعودية"),  # Devanagari
    ("Τι συζήτησε ο Λαβρόφ με το Κουβέιτ;", ("Κουβέιτ",), "الكويت"),  # Greek
    ("Ի՞նչ ասաց նա Գերմանիայի մասին", ("Գերմանիայի",), "ألمانيا"),  # Armenian genitive
    ("על מה שוחח לברוב עם כווית?", ("כווית",), "الكويت"),  # Hebrew
])
def test_a_name_is_found_with_its_names_in_other_languages(question, words, name):
    found = lexicon().find(question)
    assert found[0].words == words
    assert name in arabic(found[0])


@pytest.mark.parametrize(("question", "kinds", "countries"), [
    ("What did Lavrov discuss with Kuwait?", {"place"}, {"KW"}),  # a country, and its city
    ("How did Cairo respond?", {"place"}, {"EG"}),  # a city is in its country
    ("How much oil was exported in June?", {"month"}, set()),
    ("Was it said in German?", set(), set()),  # a language is no place a story happens in
    ("ماذا قال وزير الخارجية المصري؟", {"place"}, {"EG"}),  # the nisba of مصر
    ("ماذا قال الرئيس التركي؟", {"place"}, {"TR"}),  # of تركيا, not the atoll ترك (Truk)
    ("ماذا قال المسؤول الأوروبي؟", set(), set()),  # Europe, a region of countries
])
def test_a_name_knows_its_kind_and_its_country(question, kinds, countries):
    found = lexicon().find(question)[-1]
    assert found.kinds == kinds and found.countries == countries


@pytest.mark.parametrize("word", [
    "المالي", "الدولي", "العالمي", "الإسلامي",  # financial, international, global, Islamic: no nisba of a country
    "جون",  # John in Arabic text; June only in Urdu
    "ماهي",  # "what is" typed as one word, not Mahé
    "القدم", "الصيف", "بالمئة", "أوراق",  # football, summer, per cent, papers: no name less a letter
    "ترك",  # "he left"; Truk is a time-zone name of no country
    "الرياضية", "المائية",  # sporting, water: no nisba of Riyadh, of ماي (May in Morocco)
    "وماهي", "بترول",  # "and what is"; petroleum, no Troll station
])
def test_arabic_words_that_only_look_like_names_name_no_place(word):
    assert not any(found.kinds for found in names_in_text(f"قال {word} في بيان"))


@pytest.mark.parametrize(("word", "country"), [
    ("والكويت", "KW"), ("بالكويت", "KW"), ("لمصر", "EG"), ("واليمن", "YE"),
    ("الأمريكية", "US"), ("البريطاني", "GB"),  # the names Arabic news uses, not CLDR's official ones
])
def test_an_arabic_name_is_found_after_a_conjunction_or_preposition(word, country):
    assert [found.countries for found in names_in_text(f"قال الوزير {word} أمس")] == [{country}]


@pytest.mark.parametrize(("question", "names"), [
    ("Which officials met him at al-Yamama Palace?", False),  # Palace is Palau only less two letters
    ("Was sagte Lawrow über Kuwaits Minister?", True),
    ("Что сказал Лавров о России?", True),  # one letter of inflection
    ("О чём Лавров говорил в Китае?", True),
])
def test_a_name_by_one_letter_of_inflection_is_a_name_and_by_two_only_a_guess(question, names):
    found = lexicon().find(question)
    assert [lexicon().is_name(f) for f in found][-1] is names


def test_a_persian_question_keeps_its_persian_names():
    found = lexicon().find("وزیر خارجه آلمان در ژوئن چه گفت؟")
    assert [f.countries for f in found] == [{"DE"}, set()] and [f.kinds for f in found][1] == {"month"}
    assert [f.words for f in names_in_text("وزیر خارجه آلمان در ژوئن چه گفت؟")] == [f.words for f in found]


@pytest.mark.parametrize("question", [
    "Что сказал Иорданов о Германове?",  # surnames that stem as Jordan's and Germany's names
    "Что сказал Франц?",
    "Что заявила Турецкая армия?",  # an adjective that stems as the Turkish language
])
def test_a_russian_word_is_no_name_by_its_stem_alone(question):
    """Only a name of several words is looked up by its stems (Саудовскую Аравию)."""
    assert lexicon().find(question) == []


def test_a_first_word_is_a_name_unless_it_is_a_function_word():
    assert [f.words for f in lexicon().find("Katar Emiri Putin ile ne görüştü?")] == [("Katar",)]


def test_months_have_their_levantine_and_egyptian_names():
    (june,) = [f for f in lexicon().find("What happened in Warsaw in June?") if f.words == ("June",)]
    assert {"يونيو", "حزيران"} <= arabic(june)


def test_a_date_in_words_is_its_year_and_its_month_in_every_locale():
    words = date_words("2015-08-06").split()
    assert words[0] == "2015"
    assert {"August", "août", "أغسطس", "غشت", "Ağustos", "августа"} <= set(words)
    assert "July" not in words and "06" not in words  # the month only, and no day
    assert date_words("2015") == "2015"  # not an ISO date: as it is


@pytest.mark.parametrize("question", [
    "May I ask what happened?",  # a function word opening the question is not a name
    "what may happen in jordan?",  # nor is a word without its capital
    "विश्व स्तर पर हवाई अड्डा कहाँ है?",  # "world" and "air": CLDR words that are not names here
])
def test_words_that_are_not_names(question):
    assert lexicon().find(question) == []


def test_the_longest_name_wins_where_names_overlap():
    lex = Lexicon([(("territory", "A"), "Guinea"), (("territory", "B"), "Papua New Guinea"),
                   (("territory", "C"), "阿拉伯"), (("territory", "D"), "沙特阿拉伯")])
    assert [f.words for f in lex.find("Is Papua New Guinea in Guinea?")] == [("Papua", "New", "Guinea"), ("Guinea",)]
    assert [f.surface for f in lex.find("沙特阿拉伯和阿拉伯")] == ["沙特阿拉伯", "阿拉伯"]


def test_cut_endings_stop_at_four_letters():
    lex = Lexicon([(("territory", "IR"), "Iran"), (("territory", "IQ"), "Iraq")])
    assert [f.words for f in lex.find("Is Irani food from Iran or Iraq?")] == [("Irani",), ("Iran",), ("Iraq",)]
    assert lex.find("Is Ira here?") == []  # Iran less its n is too short to stand for it


@pytest.mark.parametrize(("question", "surfaces", "country"), [
    ("바레인은 왜 대사를 소환했습니까?", ["바레인은"], "البحرين"),  # Bahrain + the topic particle
    ("이란의 대사는 누구입니까?", ["이란의"], "إيران"),  # a name of two syllables, + "of"
    ("오만에서 무엇을 논의했습니까?", ["오만에서"], "عمان"),  # + a particle of two syllables
    ("미국 국무장관", ["미국"], "الولايات المتحدة"),
])
def test_a_korean_name_is_found_before_its_particle(question, surfaces, country):
    """A Hangul syllable is worth two or three letters: Korean names of two syllables are
    names, and the particle written onto a name is cut."""
    found = lexicon().find(question)
    assert [f.surface for f in found] == surfaces and country in found[0].names


@pytest.mark.parametrize("text", ["인도적 지원", "오만한 태도", "가나다", "말리다", "인도양"])
def test_a_korean_word_is_no_name_less_a_syllable_that_is_no_particle(text):
    """인도적 ("humanitarian") is no India, 오만한 ("arrogant") no Oman."""
    assert lexicon().find(text) == []


def test_an_ending_is_never_a_word_of_its_own():
    """7월 왜 ("July, why"): the month, not a two-word name less its second word."""
    assert [f.surface for f in lexicon().find("2015년 7월 왜 소환했습니까?")] == ["7월"]
    lex = Lexicon([(("territory", "KW"), "Kuwait")])
    assert [f.words for f in lex.find("Did Kuwait a year ago agree?")] == [("Kuwait",)]


def test_arabic_news_names_a_country_where_cldr_has_another_name():
    """CLDR's Arabic Hungary is هنغاريا; news writes المجر, and النمسا-المجر for Austria-Hungary."""
    assert [(f.surface, sorted(f.concepts)) for f in names_in_text("النمسا-المجر")] == [
        ("النمسا", [("territory", "AT")]), ("المجر", [("territory", "HU")])]
    assert [sorted(f.concepts) for f in names_in_text("الإمبراطورية النمساوية المجرية")] == [[("territory", "HU")]]


def test_every_locale_names_the_same_concept():
    entries = cldr_entries(("en", "ar"))
    assert (("territory", "JO"), "Jordan") in entries and (("territory", "JO"), "الأردن") in entries
    assert (("city", "Asia/Kuwait"), "Kuwait") in entries  # English: the time zone's city
    assert not [name for concept, name in entries if concept == ("territory", "001")]  # "World"
    assert fold("Saudi-Arabien") == fold("saudi  arabien") == "saudi arabien"


def test_other_names_of_a_term_and_its_key_token():
    found = lexicon().find("Did the United States and Jordan agree?")
    assert "الأردن" in other_names("Jordan", found)
    assert "الولايات المتحدة" in other_names("United", found)  # a word of the name
    assert other_names("agree", found) == ()
    rarity = {"ولا": 5.0, "متحد": 1.0}  # the search tokens of الولايات and المتحدة
    assert key_tokens("الولايات المتحدة", lambda t: rarity.get(t, 0.0)) == ("ولا",)
    assert key_tokens("الولايات المتحدة", lambda t: -rarity.get(t, 0.0)) == ("متحد",)
    assert key_tokens("", len) == ()
    # a foreign g written either way: بيونغ يانغ (CLDR), بيونج يانج (Egyptian spelling)
    assert key_tokens("بيونغ يانغ", len) == ("يونغ", "يونج")  # Snowball: بيونغ -> يونغ
