"""Cleaning real news pages: title, date, outlet, and no article paragraph lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.cleaning import CleanPage, clean_page, fallback_title

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

#: Where 003's unrelated appended article (Xi Jinping and Biden) starts.
APPENDED_MARKER = "إقرأ أيضاً:"

EXPECTED = {
    "000_fb8afd25556a2644": (
        "برغم المخاوف الأمريكية... توافق على خطة عمل مشتركة بين روسيا ومجلس التعاون",
        "2023-07-11",
        "حفريات",
    ),
    "001_8d1177553da27e06": (
        "بعد الإمارات.. بوتين يلتقي بأمير قطر في كازاخستان ويتباحثان حول الطاقة وأوكرانيا",
        "2022-10-12",
        None,
    ),
    "002_717a5c15cf0cef70": (
        "وزيرا الخارجية في روسيا والكويت سيناقشان الصراع في الشرق الأوسط",
        "2023-11-03",
        "تاس",
    ),
    "003_af4e3700e08c1d4f": (
        "حرب غزة بين الأولويات.. توافق بين بوتين ورئيسي حول تعزيز العلاقات والملفات الإقليمية",
        "2023-12-07",
        "الخليج الجديد",
    ),
    # No headline in the file: the title is the start of the lead (see fallback_title).
    "004_e35452bbc36f1cf2": (
        "ناقش وزير الخارجية الروسي سيرغي لافروف مع نائب رئيس الوزراء، وزير الخارجية الأردني"
        " أيمن حسين عبد الله الصفدي، المفهوم…",
        "2021-02-03",
        "تاس",
    ),
}

#: Section subheadings are part of the article even though they look like chrome.
SUBHEADINGS = {
    "002_717a5c15cf0cef70": [
        "التسوية العربية - الإسرائيلية",
        "الأمن في المنطقة",
        "حوار ثنائي الاتجاه",
    ],
    "004_e35452bbc36f1cf2": ["الوضع في سوريا"],
}

#: Site furniture seen in the seeds; none of it may reach the clean text.
CHROME = [
    "انشر مقالك",
    "آخر الأخبار",
    "الصفحة الرئيسية",
    "لإرسال مقال للنشر",
    "Ru En",
    "℃",
    "تركيا",
    "تم نسخ عنوان المقال",
    "22 نوفمبر 2024",
    "11/07/2023",
    "٠٣ نوفمبر ٢٠٢٣",
    "تاريخ النشر",
    "اقرأ أيضاً",
    "إقرأ أيضاً",
    "كلمات دلالية",
    "المصدر:",
    "المصدر |",
    "الصورة:",
    "مجموعة الرؤية",
    # 003's "read also" teaser headlines
    "روسيا وإيران توقعان اتفاقية لمواجهة العقوبات الأمريكية والغربية",
    "بوتين يزور السعودية والإمارات الأربعاء.. ورئيسي في موسكو الخميس",
    "معادلة روسيا وإسرائيل.. غزة توتِّر علاقتهما وإيران تمنع انهيارها",
    "باتصال هاتفي.. بوتين يبحث مع رئيسي",
]

_SENTENCE_END = re.compile(r"[.!?؟]['\"»”)]*$")


def _normalize(line: str) -> str:
    return " ".join(line.replace("\xa0", " ").split())


def _raw_lines(seed: str) -> list[str]:
    """The seed's lines, whitespace normalized, without 003's appended article."""
    lines = [
        _normalize(line)
        for line in (SEEDS / f"{seed}.txt").read_text(encoding="utf-8").splitlines()
    ]
    return lines[: lines.index(APPENDED_MARKER)] if APPENDED_MARKER in lines else lines


def _content_lines(seed: str) -> list[str]:
    """Every line that is unmistakably article prose: 8+ words ending a sentence."""
    return [
        line for line in _raw_lines(seed) if len(line.split()) >= 8 and _SENTENCE_END.search(line)
    ]


@pytest.fixture(scope="module")
def pages() -> dict[str, CleanPage]:
    return {
        seed: clean_page((SEEDS / f"{seed}.txt").read_text(encoding="utf-8")) for seed in EXPECTED
    }


@pytest.mark.parametrize("seed", EXPECTED)
def test_seed_title_date_outlet(pages: dict[str, CleanPage], seed: str) -> None:
    page = pages[seed]
    assert (page.title, page.date, page.outlet) == EXPECTED[seed]


@pytest.mark.parametrize("seed", EXPECTED)
def test_no_content_paragraph_is_dropped(pages: dict[str, CleanPage], seed: str) -> None:
    paragraphs = set(pages[seed].text.split("\n\n"))
    expected = _content_lines(seed) + SUBHEADINGS.get(seed, [])
    assert len(expected) >= 10
    missing = [line for line in expected if line not in paragraphs]
    assert missing == []


@pytest.mark.parametrize("seed", EXPECTED)
def test_text_is_the_articles_own_lines_in_order(pages: dict[str, CleanPage], seed: str) -> None:
    """Nothing is rewritten (citations quote the text): every paragraph is a raw line."""
    raw = _raw_lines(seed)
    positions = [raw.index(paragraph) for paragraph in pages[seed].text.split("\n\n")]
    assert positions == sorted(positions)


@pytest.mark.parametrize("seed", EXPECTED)
def test_chrome_and_repeated_title_are_gone(pages: dict[str, CleanPage], seed: str) -> None:
    page = pages[seed]
    assert [c for c in CHROME if c in page.text] == []
    if not page.title.endswith("…"):
        assert page.title not in page.text


def test_appended_unrelated_article_is_dropped(pages: dict[str, CleanPage]) -> None:
    seed = "003_af4e3700e08c1d4f"
    lines = [
        _normalize(line)
        for line in (SEEDS / f"{seed}.txt").read_text(encoding="utf-8").splitlines()
    ]
    appended = lines[lines.index(APPENDED_MARKER) :]
    assert len(appended) > 5
    assert [line for line in appended if line in pages[seed].text] == []
    assert "شي جين بينغ" not in pages[seed].text


@pytest.mark.parametrize("seed", EXPECTED)
def test_whitespace_is_normalized(pages: dict[str, CleanPage], seed: str) -> None:
    text = pages[seed].text
    assert "\xa0" not in text and "\n\n\n" not in text and text == text.strip()
    assert all(p and p == p.strip() and "  " not in p and "\n" not in p for p in text.split("\n\n"))


@pytest.mark.parametrize("seed", EXPECTED)
def test_cleaning_is_idempotent(pages: dict[str, CleanPage], seed: str) -> None:
    page = pages[seed]
    assert clean_page(page.text, title=page.title).text == page.text


def test_pull_quote_repeating_the_text_verbatim_is_dropped(pages: dict[str, CleanPage]) -> None:
    quote = (
        "تناول الاجتماع استعراض العلاقات الثنائية بين دول المجلس وروسيا الاتحادية، "
        "وسبل دعم وتعزيز التعاون المشترك في مختلف القطاعات"
    )
    assert pages["000_fb8afd25556a2644"].text.count(quote) == 1


# Synthetic pages: each general rule on its own.

LEAD = "قال وزير الخارجية في مؤتمر صحفي اليوم إن المحادثات كانت بناءة ومفيدة للطرفين."
SECOND = "وأضاف أن الجانبين اتفقا على مواصلة التشاور في الملفات الإقليمية خلال الأشهر المقبلة."


def page(*lines: str) -> CleanPage:
    return clean_page("\n".join(lines))


def test_kicker_above_headline_is_dropped_and_standfirst_kept() -> None:
    result = page(
        "سياسة", "الوزير يبحث الأزمة مع نظيره", "الجانبان يتفقان على مواصلة التشاور", LEAD, SECOND
    )
    assert result.title == "الوزير يبحث الأزمة مع نظيره"
    assert result.text.split("\n\n") == ["الجانبان يتفقان على مواصلة التشاور", LEAD, SECOND]


def test_question_headline() -> None:
    assert page("هل تنجح المفاوضات؟", LEAD, SECOND).title == "هل تنجح المفاوضات؟"


def test_header_date_above_the_headline_loses_to_the_one_below() -> None:
    result = page(
        "- 22 نوفمبر 2024", "الوزير يبحث الأزمة مع نظيره", "الخميس 7 ديسمبر 2023 - 10:30 ص", LEAD
    )
    assert result.date == "2023-12-07"
    assert result.text == LEAD


def test_repeated_menu_lines_are_dropped() -> None:
    result = page(
        "الوزير يبحث الأزمة",
        "أخبار",
        "رياضة",
        LEAD,
        "أخبار",
        "رياضة",
        SECOND,
        "حوار ثنائي",
        SECOND + " وختم.",
    )
    assert "أخبار" not in result.text and "رياضة" not in result.text
    assert "حوار ثنائي" in result.text.split("\n\n")


def test_language_switch_weather_and_share_lines_are_chrome() -> None:
    result = page("AR | EN", "° 31 الرياض", "العنوان الرئيسي للخبر هنا", "شارك", "طباعة", LEAD)
    assert result.title == "العنوان الرئيسي للخبر هنا"
    assert result.text == LEAD


def test_read_also_inside_the_article_drops_only_the_teaser() -> None:
    result = page(
        "العنوان الرئيسي للخبر هنا", LEAD, "اقرأ أيضًا", "عنوان مقال آخر عن موضوع آخر", SECOND
    )
    assert result.text.split("\n\n") == [LEAD, SECOND]
    inline = page("العنوان الرئيسي للخبر هنا", LEAD, "اقرأ أيضا: عنوان مقال آخر", SECOND)
    assert inline.text.split("\n\n") == [LEAD, SECOND]


def test_read_also_after_the_footer_ends_the_article() -> None:
    result = page(
        "العنوان الرئيسي للخبر هنا", LEAD, "المصدر: وكالات", "اقرأ المزيد:", "عنوان آخر", SECOND
    )
    assert result.text == LEAD
    assert result.outlet == "وكالات"


def test_outlet_from_a_site_footer() -> None:
    assert (
        page("عنوان الخبر هنا", LEAD, "جميع الحقوق محفوظة لموقع الأخبار اليوم © 2024").outlet
        == "الأخبار اليوم"
    )
    assert page("عنوان الخبر هنا", LEAD).outlet is None


def test_a_sentence_after_source_label_is_not_an_outlet() -> None:
    long_credit = "المصدر: قال مسؤول إن الاجتماع سيعقد في موعده المحدد الأسبوع المقبل"
    assert page("عنوان الخبر هنا", LEAD, long_credit).outlet is None


def test_fallback_title_cuts_at_a_word_boundary() -> None:
    assert fallback_title(LEAD) == LEAD.rstrip(".")
    long = " ".join(["كلمة"] * 60) + "."
    title = fallback_title(long)
    assert (
        title.endswith("…")
        and len(title) <= 121
        and title[:-1].split() == ["كلمة"] * len(title[:-1].split())
    )
    assert fallback_title("برغم المخاوف الأمريكية... توافق واسع على خطة عمل. ثم جملة أخرى.") == (
        "برغم المخاوف الأمريكية... توافق واسع على خطة عمل"
    )


def test_characters_are_not_normalized() -> None:
    line = "وأكّد الوزيرُ أنّ «الحوار» مستمرٌ\xa0 بين  البلدين، وإنَّ الاجتماع القادم في آذار."
    assert (
        page("عنوان الخبر هنا", line).text
        == "وأكّد الوزيرُ أنّ «الحوار» مستمرٌ بين البلدين، وإنَّ الاجتماع القادم في آذار."
    )


def test_page_of_only_chrome_has_no_text() -> None:
    assert page("الصفحة الرئيسية", "آخر الأخبار", "\xa0", "").text == ""


_PAGE_LINES = st.sampled_from(
    [LEAD, SECOND, "عنوان الخبر هنا", "اقرأ أيضاً", "المصدر: تاس", "كلمات دلالية: أ ب",
     "- 22 نوفمبر 2024", "11/07/2023", "الصفحة الرئيسية", "\xa0", "", "الوضع في سوريا",
     "شارك", "؟", "...", "- ℃ 11 تركيا", "إقرأ أيضاً:", "جميع الحقوق محفوظة لـ"]
)  # fmt: skip


@given(st.lists(st.one_of(_PAGE_LINES, st.text(max_size=30)), max_size=15))
def test_any_page_cleans_to_its_own_lines(lines: list[str]) -> None:
    """Whatever the page, cleaning only removes whole lines and normalizes spaces."""
    result = clean_page("\n".join(lines))
    raw = [" ".join(line.split()) for line in "\n".join(lines).splitlines()]
    assert all(paragraph in raw for paragraph in result.text.split("\n\n") if paragraph)
    assert result.text == "" or result.title
