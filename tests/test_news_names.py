"""Organisations and regions by their names in many languages and by their acronyms."""

import pytest

from qa.grounding import GroundingChecker
from qa.lexicon import lexicon, names_in_text
from qa.news_names import ACRONYMS, ORGANISATIONS, REGIONS

GCC_TEXT = "اتفق وزراء خارجية دول مجلس التعاون الخليجي وروسيا على تنسيق الإنتاج النفطي."
JORDAN_TEXT = "ناقش وزير الخارجية الروسي سيرغي لافروف مع نظيره الأردني أيمن الصفدي الوضع في غزة في عمّان."


@pytest.mark.parametrize(("question", "surface", "arabic"), [
    ("What did Russia and the GCC agree on?", "GCC", "مجلس التعاون الخليجي"),
    ("Which UN Security Council resolution did Lavrov cite?", "UN Security Council", "مجلس الأمن"),
    ("Que dit l'OTAN ?", "OTAN", "الناتو"),
    ("Что сказали в Совете Безопасности?", "Совете Безопасности", "مجلس الأمن"),  # declined
    ("BM'nin kararı neydi?", "BM'nin", "الأمم المتحدة"),  # the UN, a CLDR territory, by its Turkish acronym
    ("Was hat der UN-Sicherheitsrat beschlossen?", "UN Sicherheitsrat", "مجلس الأمن"),
    ("安理会说了什么？", "安理会", "مجلس الأمن"),
    ("ABD'de kaç otomobil sattı?", "ABD'de", "الولايات المتحدة"),  # a country's acronym, with a suffix
    ("Combien l'EI a-t-il exécuté de personnes ?", "EI", "داعش"),
    ("What did Lavrov tell the Gulf states?", "Gulf", "الخليج"),
    ("Was sagte Lavrov über den Nahen Osten?", "Nahen Osten", "الشرق الأوسط"),
])
def test_an_organisation_or_region_is_found_with_its_arabic_names(question: str, surface: str, arabic: str) -> None:
    (found,) = [f for f in lexicon().find(question) if f.surface == surface]
    assert arabic in found.names


@pytest.mark.parametrize(("question", "surface"), [
    ("WHO warned about MERS in Jeddah?", "WHO"),  # a first word, and a function word's letters
    ("UN officials said what?", "UN"),
])
def test_an_acronym_opens_a_question(question: str, surface: str) -> None:
    assert lexicon().find(question)[0].surface == surface
    assert lexicon().find(question.upper()) == [] or lexicon().find(question.upper())[0].surface != surface


@pytest.mark.parametrize(("question", "surfaces"), [
    ("Who said the talks were late?", []),  # who is no WHO
    ("Un accord est-il possible ?", []),  # un is no UN
    ("Un acuerdo con la OPEP", ["OPEP"]),  # ... though OPEP is OPEC
])
def test_an_acronym_is_found_only_in_capitals(question: str, surfaces: list[str]) -> None:
    assert [f.surface for f in lexicon().find(question)] == surfaces
    assert lexicon().find("Who said the WHO was late?")[-1].surface == "WHO"


def test_arabic_text_is_read_by_the_arabic_names_only() -> None:
    found = names_in_text(GCC_TEXT)
    assert [f.surface for f in found if ("organisation", "GCC") in f.concepts] == ["دول مجلس التعاون"]
    arabic_names = lexicon(("ar", "ar_SY", "ar_MA")).names_of(("organisation", "GCC"))
    assert arabic_names and all("Gulf" not in name and "خلیج" not in name for name in arabic_names)


def test_every_acronym_stands_for_a_named_concept() -> None:
    assert all(lexicon().names_of(concept) for concept in ACRONYMS.values())
    assert {("organisation", key) for key in ORGANISATIONS} <= set(ACRONYMS.values()) | {
        ("organisation", key) for key in ("ARAB_LEAGUE", "WORLD_BANK", "AFRICAN_UNION", "MUSLIM_BROTHERHOOD")}
    assert all(acronym.isupper() for acronym in ACRONYMS)
    assert all(names and any("\u0600" <= ch <= "\u06ff" for ch in names[0]) for names in [*ORGANISATIONS.values(),
                                                                                          *REGIONS.values()])


def test_the_gate_finds_an_acronym_in_the_article_that_names_the_body() -> None:
    """The GCC is held by an article that writes مجلس التعاون الخليجي, not by one that does not."""
    checker = GroundingChecker()
    assert checker.check("What did Russia and the GCC agree on?", [GCC_TEXT]).missing == ()
    assert "GCC" in checker.check("What did Lavrov and the GCC agree on?", [JORDAN_TEXT]).missing


@pytest.mark.parametrize(("question", "text"), [
    ("What did the Security Council decide?", "وافق مجلس الوزراء على خطة الأمن الغذائي."),  # the cabinet
    ("What did the GCC agree?", "اتفق البلدان على تعزيز التعاون في مجال الطاقة."),  # "cooperation"
    ("Qu'a décidé le CCG ?", "اتفق البلدان على تعزيز التعاون في مجال الطاقة."),
    ("What did the Arab League say?", "قالت جامعة الملك سعود إن الدراسة بدأت."),  # a university
    ("Arap Birliği ne dedi?", "فاز نادي الاتحاد على الهلال."),  # a club's name, اتحاد
    ("What did the WHO say?", "قالت منظمة العفو الدولية إن السجناء عذبوا."),  # another organisation
    ("What did the World Bank forecast?", "توقع البنك المركزي نموا بنسبة 3%."),
    ("What did NATO decide?", "قال السيناتور الجمهوري إن القرار خاطئ."),  # ناتو inside a word
    ("What did the Security Council decide?", "اجتمع مجلس الأمناء في الرياض."),  # the trustees
    ("What did the UN say?", "قالت الولايات المتحدة إن المحادثات مستمرة."),  # متحدة
])
def test_the_gate_finds_an_organisation_only_by_a_name_written_whole(question: str, text: str) -> None:
    """Its Arabic names are common words put together: one of them alone is no evidence."""
    assert GroundingChecker().check(question, [text]).missing


@pytest.mark.parametrize(("question", "text"), [
    ("What did the Security Council decide?", "وافق مجلس الأمن الدولي على القرار بالإجماع."),
    ("How many barrels did OPEC+ agree to cut?", "اتفق تحالف أوبك+ على خفض الإنتاج."),  # OPEC+ is OPEC
    ("Was hat der UN-Sicherheitsrat beschlossen?", "وافق مجلس الأمن على القرار."),
    ("Arap Birliği ne dedi?", "قالت جامعة الدول العربية إن الاجتماع تأجل."),
    ("What did the World Bank forecast?", "توقع البنك الدولي نموا بنسبة 3%."),
    ("Что сказали в Совете Безопасности?", "وافق مجلس الأمن على القرار."),
    ("What did the UN say?", "قال المتحدث باسم الأمم المتحدة إن المحادثات مستمرة."),
    ("What did NATO decide?", "وجه الوزير انتقادات للناتو وللاتحاد الأوروبي."),  # glued on
    ("What did Lavrov say about the Middle East?", "تحدث لافروف عن الأمن في الشرق الأوسط."),
    ("What did Lavrov say about the Gulf?", "قال لافروف إن الدول الخليجية تريد الاستقرار."),  # the adjective
])
def test_the_gate_finds_an_organisation_by_its_arabic_name(question: str, text: str) -> None:
    assert GroundingChecker().check(question, [text]).missing == ()
