"""Publication dates of news pages, as ISO "YYYY-MM-DD".

Parsing is dateparser's job (it reads Arabic and English month names, Arabic-Indic
digits and day-first numeric dates). This module only *finds* candidate spans with a
light scan (a day, a month name or number, a four-digit year) and never hands
dateparser free text: given a bare word it happily turns "أمس" (yesterday) or
"الجمعة" (Friday) into a date relative to today, which is wrong for an archive.

A page usually shows several dates, so choosing the publication date is a rule of its
own, see `publication_date`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

# dateparser ships no annotations and types-dateparser is not installed.
from dateparser.date import DateDataParser  # type: ignore[import-untyped]
from dateparser.languages.loader import default_loader  # type: ignore[import-untyped]

from index.text.folding import normalize_for_search, spelling_pattern, to_ascii_digits

LANGUAGES = ("ar", "en")

#: DMY: numeric dates on Arabic sites are day first ("11/07/2023" is 11 July).
#: REQUIRE_PARTS: a month and year without a day ("فبراير 2022") is not a
#: publication date; dateparser would otherwise invent the day.
SETTINGS = {
    "DATE_ORDER": "DMY",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": False,
}

_MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Month names dateparser 1.5 does not know (Levantine/Iraqi and Maghrebi), mapped to
#: the Egyptian/Gulf name it does. Sites often pair them ("فبراير/شباط"); some use
#: only the Levantine one ("3 شباط 2021").
_MONTH_ALIASES = {
    "كانون الثاني": "يناير",
    "شباط": "فبراير",
    "آذار": "مارس",
    "نيسان": "أبريل",
    "أيار": "مايو",
    "حزيران": "يونيو",
    "تموز": "يوليو",
    "آب": "أغسطس",
    "أيلول": "سبتمبر",
    "تشرين الأول": "أكتوبر",
    "تشرين الثاني": "نوفمبر",
    "كانون الأول": "ديسمبر",
    "جانفي": "يناير",
    "فيفري": "فبراير",
    "أفريل": "أبريل",
    "ماي": "مايو",
    "جوان": "يونيو",
    "جويلية": "يوليو",
    "أوت": "أغسطس",
}

def _alternation(names: set[str]) -> str:
    """Regex matching any of `names` in any spelling the fold merges (sites write أكتوبر,
    اكتوبر, إبريل, ابريل, with harakat or tatweel), longest first."""
    ordered = sorted({normalize_for_search(n) for n in names}, key=len, reverse=True)
    return "|".join(spelling_pattern(n) for n in ordered)


def _locale_words(keys: Sequence[str], min_len: int = 1) -> set[str]:
    """Words dateparser itself knows for `keys`, so the scan finds what it can parse."""
    words: set[str] = set()
    for lang in LANGUAGES:
        info = default_loader.get_locale(lang).info
        for key in keys:
            words.update(w for w in info.get(key, []) if len(w) >= min_len)
    return words


#: Every month name the scan finds, folded, to the spelling dateparser knows.
_MONTH_BY_KEY = {normalize_for_search(w): w for w in _locale_words(_MONTH_KEYS)} | {
    normalize_for_search(k): v for k, v in _MONTH_ALIASES.items()
}
_MONTH = rf"(?<!\w)(?:{_alternation(_locale_words(_MONTH_KEYS) | set(_MONTH_ALIASES))})(?!\w)"
# A second name for the same month: "فبراير/شباط", "نوفمبر/تشرين الثاني", "يونيو (حزيران)".
_PAIRED = rf"(?:\s*/\s*{_MONTH}|\s*\(\s*{_MONTH}\s*\))?"
_DAY = r"(?<!\d)\d{1,2}(?:st|nd|rd|th)?(?!\d)"
_YEAR = r"(?<!\d)\d{4}(?!\d)"
_SEP = r"[\s,،\-]*"

_CANDIDATES = (
    # 3 فبراير/شباط 2021 · ٠٣ نوفمبر ٢٠٢٣ · 7th, December 2023
    re.compile(rf"(?P<day>{_DAY}){_SEP}(?P<month>{_MONTH}){_PAIRED}{_SEP}(?P<year>{_YEAR})", re.I),
    # December 7, 2023
    re.compile(rf"(?P<month>{_MONTH}){_PAIRED}{_SEP}(?P<day>{_DAY}){_SEP}(?P<year>{_YEAR})", re.I),
    # 11/07/2023 · 11.07.2023 · 2023-07-11 (also the start of an ISO timestamp)
    re.compile(r"(?<!\d)(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{1,2}-\d{1,2})(?!\d)"),
)

PUBLISHED_LABELS = (
    "تاريخ النشر",
    "نشر بتاريخ",
    "نشر في",
    "تم النشر",
    "published on",
    "published",
    "posted on",
)
UPDATED_LABELS = (
    "آخر تحديث",
    "تاريخ التحديث",
    "تم التحديث",
    "updated on",
    "updated",
    "last updated",
)
_LABEL = re.compile(
    rf"(?P<label>{_alternation(set(PUBLISHED_LABELS + UPDATED_LABELS))})\s*[:：]?", re.I
)
#: Words around a date on a date line that say nothing else (besides weekday names).
_FILLER_WORDS = {"الساعة", "at", "GMT", "UTC", "بتوقيت غرينتش"}
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[صم]|[ap]\.?m\.?)(?!\w))?", re.I)
_FILLER = re.compile(
    rf"(?<!\w)(?:{_alternation(_locale_words(_WEEKDAY_KEYS, min_len=3) | _FILLER_WORDS)})"
    r"(?!\w)(?:\s*[+-]\s*\d{1,2})?",
    re.I,
)
_PUBLISHED_KEYS = frozenset(normalize_for_search(p) for p in PUBLISHED_LABELS)


@dataclass(frozen=True)
class DateMatch:
    """A date found in a text: where it is and what it means."""

    start: int
    end: int
    iso: str


@dataclass(frozen=True)
class DateLine:
    """A line of a page that carries nothing but a date (and maybe a label or time).

    `before_title` is filled in by the caller, who knows where the headline is.
    """

    iso: str
    label: Literal["published", "updated"] | None = None
    before_title: bool = False


@cache
def _parser() -> DateDataParser:
    """Built once: constructing a DateDataParser loads locale data (~0.3 s)."""
    return DateDataParser(languages=list(LANGUAGES), settings=SETTINGS)


def _canonical(match: re.Match[str]) -> str:
    """The candidate as dateparser should see it: first month name of a pair, in a
    spelling it knows (Levantine/Maghrebi names as the Egyptian/Gulf one), ASCII digits."""
    groups = match.groupdict()
    if "month" in groups:
        month = groups["month"]
        month = _MONTH_BY_KEY.get(normalize_for_search(month), month)
        text = f"{groups['day']} {month} {groups['year']}"
    else:
        text = match.group(0)
    return to_ascii_digits(text)


def _parse_candidate(text: str) -> str | None:
    parsed = _parser().get_date_data(text)
    return parsed.date_obj.date().isoformat() if parsed.date_obj else None


def find_dates(text: str) -> list[DateMatch]:
    """Every full calendar date (day, month, year) written in `text`, in order.

    Relative expressions ("أمس", "الجمعة", "منذ يومين") and partial dates
    ("فبراير 2022", "يونيو/حزيران الماضي") are deliberately not dates here.
    """
    spans: list[tuple[int, int, re.Match[str]]] = []
    for pattern in _CANDIDATES:
        spans.extend((m.start(), m.end(), m) for m in pattern.finditer(text))
    found: list[DateMatch] = []
    for start, end, match in sorted(spans, key=lambda s: (s[0], -s[1])):
        if found and start < found[-1].end:
            continue  # overlaps a longer candidate already kept
        iso = _parse_candidate(_canonical(match))
        if iso:
            found.append(DateMatch(start, end, iso))
    return found


def parse_date(text: str) -> str | None:
    """The first full date in `text` as "YYYY-MM-DD", or None.

    For metadata fields (a JSONL `date`, an HTML `datetime`): accepts anything from
    "2023-11-03T10:00:00+03:00" to "٠٣ نوفمبر ٢٠٢٣".
    """
    found = find_dates(text)
    return found[0].iso if found else None


def _label_kind(label: str) -> Literal["published", "updated"]:
    return "published" if normalize_for_search(label) in _PUBLISHED_KEYS else "updated"


def date_line(line: str) -> DateLine | None:
    """`line` as a date line ("- 12 أكتوبر 2022, 6:30:23 م", "تاريخ النشر: 7th,
    December 2023 GMT", "الجمعة 03/11/2023"), or None if it says anything else.

    A date inside a sentence is not a date line: such lines are article text.
    """
    dates = find_dates(line)
    if len(dates) != 1:
        return None
    rest = line[: dates[0].start] + " " + line[dates[0].end :]
    label = _LABEL.search(rest)
    if label:
        rest = _LABEL.sub(" ", rest, count=1)
    rest = _FILLER.sub(" ", _TIME.sub(" ", rest))
    if re.search(r"\w", rest):
        return None
    return DateLine(dates[0].iso, _label_kind(label.group("label")) if label else None)


def publication_date(date_lines: Sequence[DateLine], lead: str) -> str | None:
    """Choose the publication date of a page, most trustworthy evidence first:

    1. a date line labelled as the publication date ("تاريخ النشر: ...");
    2. the first unlabelled date line after the headline: sites print the article's
       date under its title;
    3. the first full date in the lead paragraphs (`lead`): news leads date the
       event ("اليوم الأربعاء 3 فبراير/شباط 2021"), which is the publication day or
       close to it;
    4. an "updated" date line;
    5. an unlabelled date line above the headline: that is usually the site header
       showing *today's* date (the day the page was saved), hence last.
    """

    def first(lines: Sequence[DateLine]) -> str | None:
        return lines[0].iso if lines else None

    unlabelled = [d for d in date_lines if d.label is None]
    lead_dates = find_dates(lead)
    return (
        first([d for d in date_lines if d.label == "published"])
        or first([d for d in unlabelled if not d.before_title])
        or (lead_dates[0].iso if lead_dates else None)
        or first([d for d in date_lines if d.label == "updated"])
        or first(unlabelled)
    )
