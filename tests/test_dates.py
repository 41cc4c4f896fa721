"""Publication dates: candidate scan + dateparser, and the choice among a page's dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.dates import (
    _MONTH_ALIASES,
    _MONTH_KEYS,
    DateLine,
    _locale_words,
    date_line,
    find_dates,
    parse_date,
    publication_date,
)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("11/07/2023", "2023-07-11"),  # day first, as on Arabic sites
        ("- 12 أكتوبر 2022, 6:30:23 م", "2022-10-12"),
        ("٠٣ نوفمبر ٢٠٢٣", "2023-11-03"),  # Arabic-Indic digits
        ("٠٣/١١/٢٠٢٣", "2023-11-03"),
        ("تاريخ النشر: 7th, December 2023 GMT", "2023-12-07"),
        ("December 7, 2023", "2023-12-07"),
        ("2023-11-03T10:00:00+03:00", "2023-11-03"),
        # paired month names: Egyptian/Gulf + Levantine
        ("3 فبراير/شباط 2021", "2021-02-03"),
        ("3 نوفمبر/تشرين الثاني 2023", "2023-11-03"),
        ("الأحد 9 يونيو/حزيران 2024", "2024-06-09"),
        ("9 يونيو (حزيران) 2024", "2024-06-09"),
        # a Levantine or Maghrebi name alone, which dateparser does not know
        ("3 شباط 2021", "2021-02-03"),
        ("1 تشرين الأول 2023", "2023-10-01"),
        ("14 جويلية 2022", "2022-07-14"),
        # hamza spellings
        ("3 إبريل 2020", "2020-04-03"),
        ("3 ابريل 2020", "2020-04-03"),
        ("5 اكتوبر 2020", "2020-10-05"),
        # any spelling the search fold merges: harakat, tatweel, ta marbuta, alef wasla
        ("5 أكتوبَر 2020", "2020-10-05"),
        ("5 أكتوبـر 2020", "2020-10-05"),
        ("5 ٱكتوبر 2020", "2020-10-05"),
        ("5 تشرين الأوّل 2020", "2020-10-05"),
    ],
)
def test_parse_date_formats(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "الجمعة",
        "أمس",
        "اليوم",
        "منذ يومين",
        "الأسبوع الماضي",
        "فبراير 2022",  # no day: not a publication date
        "وفي يونيو/حزيران الماضي، أجرى وزير الخارجية جولة",
        "قرار مجلس الأمن رقم 2254",
        "زادت بنسبة 30%، خلال 9 أشهر",
        "31/02/2023",  # no such day
        "",
    ],
)
def test_no_date_in_relative_partial_or_numeric_text(text: str) -> None:
    assert parse_date(text) is None
    assert find_dates(text) == []


def test_find_dates_in_body_text_gives_span_and_date() -> None:
    text = "في العاصمة الروسية موسكو اليوم الأربعاء 3 فبراير/شباط 2021."
    [found] = find_dates(text)
    assert found.iso == "2021-02-03"
    assert text[found.start : found.end] == "3 فبراير/شباط 2021"


def test_find_dates_keeps_order() -> None:
    text = "بين 7 أكتوبر 2023 و 3 نوفمبر 2023 وحتى 2024-01-05"
    assert [d.iso for d in find_dates(text)] == ["2023-10-07", "2023-11-03", "2024-01-05"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("11/07/2023", DateLine("2023-07-11")),
        ("- 22 نوفمبر 2024", DateLine("2024-11-22")),
        ("- 12 أكتوبر 2022, 6:30:23 م", DateLine("2022-10-12")),
        ("الخميس 7 ديسمبر 2023 - 10:30 ص", DateLine("2023-12-07")),
        ("تاريخ النشر: 7th, December 2023 GMT", DateLine("2023-12-07", label="published")),
        ("نُشر في 7 ديسمبر 2023", DateLine("2023-12-07", label="published")),
        ("آخر تحديث: 5 يناير 2024 - 10:30 ص", DateLine("2024-01-05", label="updated")),
        ("اخر تحـديث: 5 يناير 2024", DateLine("2024-01-05", label="updated")),
        ("الجمعـة 03/11/2023 الساعه 10:30", DateLine("2023-11-03")),
    ],
)
def test_date_lines(line: str, expected: DateLine) -> None:
    assert date_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "ناقش الوزيران في موسكو اليوم الأربعاء 3 فبراير/شباط 2021.",  # a sentence with a date
        "بين 7 أكتوبر 2023 و 3 نوفمبر 2023",  # two dates: a range, not a dateline
        "الجمعة",
        "الوضع في سوريا",
    ],
)
def test_not_date_lines(line: str) -> None:
    assert date_line(line) is None


@pytest.mark.parametrize("number", range(1, 13))
def test_every_month_name_and_alias_is_its_own_month(number: int) -> None:
    """Month names are looked up by their folded spelling: no two months share one."""
    names = _locale_words([_MONTH_KEYS[number - 1]]) | {
        alias for alias, name in _MONTH_ALIASES.items() if name in _locale_words([_MONTH_KEYS[number - 1]])
    }
    for name in names:
        assert parse_date(f"1 {name} 2020") == f"2020-{number:02d}-01", name


HEADER = DateLine("2024-11-22", before_title=True)  # the site header's "today"


def test_header_date_trap_prefers_date_under_the_title() -> None:
    assert publication_date([HEADER, DateLine("2022-10-12")], lead="") == "2022-10-12"


def test_publication_label_beats_position() -> None:
    lines = [DateLine("2023-01-01"), DateLine("2023-12-07", label="published")]
    assert publication_date(lines, lead="") == "2023-12-07"


def test_lead_date_beats_header_and_update_dates() -> None:
    lead = "ناقش الوزيران اليوم الأربعاء 3 فبراير/شباط 2021 الأزمة."
    updated = DateLine("2024-01-05", label="updated")
    assert publication_date([HEADER, updated], lead=lead) == "2021-02-03"
    assert publication_date([HEADER, updated], lead="") == "2024-01-05"
    assert publication_date([HEADER], lead="") == "2024-11-22"
    assert publication_date([], lead="لا تاريخ هنا") is None


_DATE_PIECES = st.sampled_from(
    ["3", "٠٣", "31", "7th", "2021", "٢٠٢٣", "11/07/2023", "فبراير", "/شباط", "تشرين الثاني",
     "December", "أمس", "الجمعة", " ", ", ", "-", "/", ":", "م"]
)  # fmt: skip


@given(st.one_of(st.text(max_size=80), st.lists(_DATE_PIECES, max_size=12).map("".join)))
def test_any_text_gives_valid_dates_inside_it(text: str) -> None:
    for found in find_dates(text):
        assert 0 <= found.start < found.end <= len(text)
        dt.date.fromisoformat(found.iso)
