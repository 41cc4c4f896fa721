"""Raw text of a saved news page -> title, clean body text, outlet and date.

Pages copied from news sites carry the article plus the site around it: the headline
repeated, menus, a weather widget, share buttons, "read also" teasers, tag lists,
credits, sometimes a whole unrelated article appended at the bottom. Everything here
works line by line with general rules (phrase lists, line shapes, markers, position
relative to the headline), never with knowledge of a particular site, because the
product meets pages from sites nobody has seen yet.

The clean text keeps the article's characters exactly as written (citations quote it):
only whitespace is normalized, and paragraphs are separated by a blank line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum, auto

from index.dates import DateLine, date_line, publication_date
from index.text.folding import normalize_for_search

#: Longest fallback title, in characters; cut at a word boundary.
FALLBACK_TITLE_CHARS = 120
#: Headlines and subheadings are short; a longer unpunctuated line is prose.
HEADLINE_MAX_WORDS = 20
#: A line this long is prose even without final punctuation.
PROSE_MIN_WORDS = 25

#: Whole lines that are site furniture (compared after `_key`, so spelling variants
#: the fold merges, diacritics, bullets and a trailing colon don't matter).
CHROME_LINES = (
    "انشر مقالك", "آخر الأخبار", "الصفحة الرئيسية", "الرئيسية",
    "تم نسخ عنوان المقال إلى الحافظة", "تم نسخ الرابط", "نسخ الرابط", "انسخ الرابط",
    "شارك", "شارك المقال", "شارك الخبر", "مشاركة", "طباعة", "حجم الخط",
    "تابعنا", "تابعونا", "تابعنا على", "اشترك", "اشترك الآن", "النشرة البريدية",
    "الأكثر قراءة", "الأكثر مشاهدة", "أخبار ذات صلة", "مواضيع ذات صلة", "مقالات ذات صلة",
    "التعليقات", "أضف تعليق", "أضف تعليقاً", "إعلان",
    "home", "share", "print", "advertisement", "related articles", "comments",
)  # fmt: skip
#: "Read also" markers: the line after one is a teaser headline for another article.
READ_ALSO = (
    "اقرأ أيضا", "اقرأ كذلك", "اقرأ المزيد", "شاهد أيضا", "طالع أيضا",
    "read also", "read more", "see also",
)  # fmt: skip

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_EDGE_PUNCT = " -–—•*|·:：.،,"
_SENTENCE_END = re.compile(r"[.!?؟…:؛]['\"»”’)\]]*$")
_CLAUSE_END = re.compile(r"[.!…:؛،,]['\"»”’)\]]*$")
_HAS_PUNCT = re.compile(r"[.!?؟…:؛،,]")

_SOURCE = re.compile(r"(?:المصدر|مصدر الخبر|source)\s*[:|｜]", re.I)
_CREDIT = re.compile(
    r"^(?:الصورة|الصور|صورة|مصدر الصورة|حقوق الصورة|تصوير|تحرير|إعداد|photo|image)\s*[:|｜]", re.I
)
_TAGS = re.compile(
    r"^(?:كلمات دلالية|الكلمات الدلالية|كلمات مفتاحية|الكلمات المفتاحية|الوسوم|وسوم|tags|keywords)"
    r"\s*[:|｜]",
    re.I,
)
_WEATHER = re.compile(r"[℃℉°]")
#: "EN | FR", "AR/EN", "EN FR". The separator is written so that each way of matching
#: it is unique: with `\s*[|/]?\s*` a space could go to either `\s*`, and a failed
#: fullmatch of "ab ab ab ... 1" tried 2^n ways (40 such words: hours).
_LANGUAGE_SWITCH = re.compile(r"(?:[A-Za-z]{2}(?:\s*[|/]\s*|\s+)?){2,}")
#: Site footers that name the site ("لإرسال مقال للنشر في حفريات اضغط هنا",
#: "جميع الحقوق محفوظة لموقع ...").
_SITE_FOOTERS = (
    re.compile(r"للنشر (?:في|على) (?:موقع |صحيفة |جريدة )?(?P<name>[^.،|]+?) (?:اضغط|انقر)"),
    re.compile(
        r"الحقوق محفوظة\s*(?:لـ\s*|ل)(?:موقع |صحيفة |جريدة |قناة |شبكة )?(?P<name>[^©|،.\d\-–—]+)"
    ),
)
_OUTLET_MAX_WORDS = 5


class _Kind(Enum):
    """What a line of a page is."""

    TEXT = auto()  # article text, or not (yet) known to be anything else
    CHROME = auto()  # site furniture
    DATE = auto()  # a line carrying only a date
    SOURCE = auto()  # "المصدر: تاس"
    CREDIT = auto()  # image and staff credits
    TAGS = auto()  # "كلمات دلالية: ..."
    READ_ALSO = auto()  # "اقرأ أيضاً" alone: a teaser headline follows
    TEASER = auto()  # "اقرأ أيضاً: <headline>" on one line


@dataclass(frozen=True)
class _Line:
    """One non-blank line of a page, whitespace normalized, with its classification."""

    text: str
    kind: _Kind
    date: DateLine | None = None

    @property
    def key(self) -> str:
        return _key(self.text)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class CleanPage:
    """What a page says, without the site around it."""

    title: str
    text: str  # paragraphs separated by "\n\n"
    outlet: str | None
    date: str | None  # ISO "YYYY-MM-DD"


def normalize_space(line: str) -> str:
    """Tabs, nbsp and other Unicode spaces become one plain space; ends trimmed."""
    return _SPACES.sub(" ", line).strip()


def _key(text: str) -> str:
    """Comparison key for phrase lists and repeats: the folded spelling without edge
    punctuation (`index.text.folding`). Never used for output text."""
    return normalize_for_search(text).strip(_EDGE_PUNCT)


_CHROME_KEYS = frozenset(_key(p) for p in CHROME_LINES)
_READ_ALSO_KEYS = tuple(_key(p) for p in READ_ALSO)


def _ends_sentence(text: str) -> bool:
    """Ends like a sentence (final punctuation, maybe inside closing quotes)."""
    return bool(_SENTENCE_END.search(text))


def _is_prose(text: str) -> bool:
    """Reads as article prose rather than a label, menu item or headline."""
    words = len(text.split())
    return (
        _ends_sentence(text)
        or words >= PROSE_MIN_WORDS
        or (words >= 8 and bool(_HAS_PUNCT.search(text)))
    )


def _headline_like(text: str) -> bool:
    """Could be a headline: short and not ending a clause (a question mark is fine)."""
    return len(text.split()) <= HEADLINE_MAX_WORDS and not _CLAUSE_END.search(text)


def _line_kind(text: str) -> _Kind:
    """What the line is, judged from the line alone (date lines are checked last,
    by the caller, because that needs dateparser)."""
    key = _key(text)
    bare = text.lstrip(_EDGE_PUNCT)
    if key in _CHROME_KEYS or _LANGUAGE_SWITCH.fullmatch(text):
        return _Kind.CHROME
    if _WEATHER.search(text) and len(text.split()) <= 6:
        return _Kind.CHROME
    if key in _READ_ALSO_KEYS:
        return _Kind.READ_ALSO
    if any(key.startswith(marker) for marker in _READ_ALSO_KEYS) and ":" in text:
        return _Kind.TEASER
    if _SOURCE.match(bare):
        return _Kind.SOURCE
    if _CREDIT.match(bare):
        return _Kind.CREDIT
    if _TAGS.match(bare):
        return _Kind.TAGS
    return _Kind.TEXT


def _classify(text: str) -> _Line:
    """One whitespace-normalized, non-blank line, classified."""
    kind = _line_kind(text)
    if kind is _Kind.TEXT and (found := date_line(text)):
        return _Line(text, _Kind.DATE, found)
    return _Line(text, kind)


def _lines(raw: str) -> list[_Line]:
    """Non-blank lines (a line of only spaces or punctuation is blank), classified."""
    texts = (normalize_space(raw_line) for raw_line in raw.splitlines())
    return [_classify(text) for text in texts if re.search(r"\w", text)]


def _cut_appended(lines: list[_Line]) -> list[_Line]:
    """Drop everything from a "read also" marker that follows the article's footer.

    Once prose has been seen and then a footer (source credit or tag list), the
    article is over; a "read also" after that starts other articles' content, which
    some sites append in full.
    """
    seen_prose = seen_footer = False
    for i, line in enumerate(lines):
        if line.kind is _Kind.TEXT and _is_prose(line.text):
            seen_prose = True
        elif line.kind in (_Kind.SOURCE, _Kind.TAGS) and seen_prose:
            seen_footer = True
        elif line.kind in (_Kind.READ_ALSO, _Kind.TEASER) and seen_footer:
            return lines[:i]
    return lines


def _drop_teasers(lines: list[_Line]) -> list[_Line]:
    """A "read also" marker and the teaser headline on the line after it."""
    kept: list[_Line] = []
    after_marker = False
    for line in lines:
        if not (after_marker and line.kind is _Kind.TEXT and _headline_like(line.text)):
            kept.append(line)
        after_marker = line.kind is _Kind.READ_ALSO
    return [line for line in kept if line.kind not in (_Kind.READ_ALSO, _Kind.TEASER)]


def _clip_outlet(name: str) -> str | None:
    name = name.strip(_EDGE_PUNCT)
    return name if name and len(name.split()) <= _OUTLET_MAX_WORDS else None


def _find_outlet(lines: list[_Line]) -> str | None:
    """Who the page names as its source.

    The last source credit wins ("المصدر: تاس" -> "تاس"; a doubled credit such as
    "المصدر | الخليج الجديدالمصدر: الخليج الجديد" gives its last part); otherwise a
    site footer that names the site. A "credit" longer than a few words is a
    sentence, not a name, and is ignored.
    """
    for line in reversed(lines):
        if line.kind is _Kind.SOURCE:
            parts = [p for p in _SOURCE.split(line.text) if p.strip(_EDGE_PUNCT)]
            outlet = _clip_outlet(parts[-1]) if parts else None
            if outlet:
                return outlet
    for line in lines:
        for pattern in _SITE_FOOTERS:
            match = pattern.search(line.text)
            if match and (outlet := _clip_outlet(match.group("name"))):
                return outlet
    return None


def _find_title_line(lines: list[_Line]) -> int | None:
    """Index of the headline among the lines before the first prose line.

    Sites repeat the headline (page title, heading, share text), so the most repeated
    headline-like line wins; otherwise the first one of at least three words (a
    shorter one above it is a section label), otherwise the first one.
    """
    counts = Counter(line.key for line in lines if line.kind is _Kind.TEXT)
    lead: list[int] = []
    for i, line in enumerate(lines):
        if line.kind is _Kind.TEXT:
            if not _headline_like(line.text):
                break
            lead.append(i)
    if not lead:
        return None
    return max(lead, key=lambda i: (counts[lines[i].key], lines[i].words >= 3, -i))


def _drop_where(lines: list[_Line], drop: Callable[[int, _Line], bool]) -> list[_Line]:
    return [line for i, line in enumerate(lines) if not (line.kind is _Kind.TEXT and drop(i, line))]


def _drop_repeats(lines: list[_Line]) -> list[_Line]:
    """Short unpunctuated lines shown more than once are menus and widgets."""
    counts = Counter(line.key for line in lines if line.kind is _Kind.TEXT)
    return _drop_where(
        lines,
        lambda _, line: counts[line.key] > 1 and line.words <= 8 and not _ends_sentence(line.text),
    )


def _drop_pull_quotes(lines: list[_Line]) -> list[_Line]:
    """A pull quote repeats a passage of the article verbatim; keep the passage."""
    texts = [line.text for line in lines if line.kind is _Kind.TEXT]

    def repeated(_: int, line: _Line) -> bool:
        if _ends_sentence(line.text) or line.words < 8:
            return False
        return any(line.text in other and line.text != other for other in texts)

    return _drop_where(lines, repeated)


def _drop_trailing_non_prose(lines: list[_Line]) -> list[_Line]:
    """Short unpunctuated lines after the last prose line: site taglines, footers.

    Inside the article such lines are subheadings, but a subheading is followed by
    text; one at the very end heads nothing.
    """
    prose_at = [
        i for i, line in enumerate(lines) if line.kind is _Kind.TEXT and _is_prose(line.text)
    ]
    last_prose = max(prose_at, default=-1)
    return _drop_where(lines, lambda i, _: i > last_prose)


def fallback_title(text: str) -> str:
    """Title for a page without a headline: the first sentence of the text, cut at a
    word boundary to `FALLBACK_TITLE_CHARS` with "…" when it is longer."""
    first = text.split("\n\n", 1)[0]
    # A sentence ends at . ! ? ؟ followed by a space; "..." and "د." don't end one.
    match = re.match(r"(.{20,}?[^.][.!?؟])(?=\s|$)", first)
    sentence = (match.group(1) if match else first).rstrip(".")
    if len(sentence) <= FALLBACK_TITLE_CHARS:
        return sentence
    cut = sentence[: FALLBACK_TITLE_CHARS + 1].rsplit(" ", 1)[0]
    return cut.rstrip(_EDGE_PUNCT) + "…"


def clean_page(raw: str, title: str | None = None) -> CleanPage:
    """Clean a page's raw text.

    `title` is the headline when the format states it (Markdown `#`, HTML, JSONL);
    otherwise it is found in the page, or derived with `fallback_title`. Lines equal
    to the title are removed from the text, and so is whatever precedes the headline
    line (site header). Date lines are removed from the text and feed
    `publication_date`, with those above the headline marked as such.
    """
    lines = _drop_teasers(_cut_appended(_lines(raw)))
    outlet = _find_outlet(lines)

    title_at: int | None
    if title is not None:
        title = normalize_space(title)
        title_at = next((i for i, line in enumerate(lines) if line.key == _key(title)), None)
    else:
        title_at = _find_title_line(lines)
        title = lines[title_at].text.strip(_EDGE_PUNCT) if title_at is not None else None
    if title_at is not None:
        title_key = lines[title_at].key
        lines = [
            replace(line, date=replace(line.date, before_title=True))
            if line.date and i < title_at
            else line
            for i, line in enumerate(lines)
        ]
        lines = _drop_where(lines, lambda i, line: i < title_at or line.key == title_key)

    lines = _drop_trailing_non_prose(_drop_pull_quotes(_drop_repeats(lines)))
    paragraphs = [line.text for line in lines if line.kind is _Kind.TEXT]
    text = "\n\n".join(paragraphs)
    date_lines = [line.date for line in lines if line.date]
    return CleanPage(
        title=title or fallback_title(text),
        text=text,
        outlet=outlet,
        date=publication_date(date_lines, lead="\n\n".join(paragraphs[:2])),
    )
