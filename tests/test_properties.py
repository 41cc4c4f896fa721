"""Property-based tests: loaders, cleaning, dates and the chunker on hostile input.

Random Unicode (bidi controls, ZWJ/ZWNJ, combining marks, NUL and other controls,
emoji and emoji ZWJ sequences, Arabic/Latin/Cyrillic/CJK, Arabic-Indic digits), random
HTML and Markdown, JSONL with every kind of bad line, random bytes, huge lines and CRLF.

Invariants checked (see index/articles.py, index/cleaning.py, index/chunking.py):
- loading never raises for a bad file (only `ArticleError` for a missing path); every
  file is accounted for, as articles and/or `skipped` entries with a reason;
- an Article has a non-empty, whitespace-normalized text made of lines of the input,
  storable (UTF-8 encodable) fields, an ISO date or none, and is stable across loads;
- chunks are verbatim spans, in order, covering the text except white space, within
  the token budget unless the piece is one character (the splitter's last fallback).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import re
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from index.articles import (
    Article,
    ArticleError,
    LoadResult,
    SkippedFile,
    load_file,
    load_folder,
)
from index.chunking import Chunker
from index.cleaning import CleanPage, clean_page, fallback_title, normalize_space
from index.dates import DateLine, date_line, find_dates, parse_date, publication_date

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FAST, max_examples=15)

# --- Unicode -----------------------------------------------------------------

BIDI = [chr(c) for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
JOINERS = ["\u200d", "\u200c", "\u200b", "\ufeff"]
COMBINING = ["\u0301", "\u0308", "\u20dd", "\u064b", "\u064e", "\u0651", "\u0652", "\u0670"]
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), 0x7F, 0x85)] + ["\u2028", "\u2029"]
SPACES = [" ", "  ", "\t", "\u00a0", "\u2009", "\u3000", "\u202f", "\n", "\r\n", "\r", "\n\n"]
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇸🇦", "❤️", "🧕🏾"]
DIGITS = list("0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")
WORDS = [
    "الوزير", "قال", "إنّ", "المحادثات", "مُثمرة", "في", "القاهرة", "يوم", "الأحد",
    "news", "Minister", "said", "Москва", "переговоры", "北京", "会谈", "東京",
    "USA", "EN", "AR", "US", "UK",
]  # fmt: skip
PUNCT = list(".،,؛;؟?!:|-–—•*#[](){}<>&\"'«»/\\_`~=") + ["...", "…"]
PHRASES = [
    "المصدر: تاس", "اقرأ أيضاً", "اقرأ أيضا: عنوان آخر", "كلمات دلالية: سياسة",
    "الرئيسية", "شارك", "الصورة: رويترز", "تاريخ النشر: 3 فبراير/شباط 2021",
    "آخر تحديث: ٠٣ نوفمبر ٢٠٢٣", "11/07/2023", "2023-11-03T10:00:00+03:00",
    "الجمعة 03/11/2023", "7th, December 2023", "31/02/2023", "00/00/0000", "25°",
    "EN | FR | AR", "جميع الحقوق محفوظة لموقع الخبر", "للنشر في حفريات اضغط هنا",
    "Source: AP", "read more", "أمس", "منذ يومين",
]  # fmt: skip

ATOMS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(PHRASES),
    st.sampled_from(PUNCT),
    st.sampled_from(SPACES),
    st.sampled_from(DIGITS),
    st.sampled_from(BIDI + JOINERS + COMBINING + CONTROLS + EMOJI),
    st.text(max_size=8),  # any code point but surrogates
)
#: Random "text": a run of atoms, often with the spaces between words a page has.
TEXT = st.lists(ATOMS, max_size=40).map("".join)
PROSE = st.lists(st.sampled_from(WORDS), min_size=8, max_size=30).map(" ".join).map(
    lambda s: s + "."
)
EOLS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def documents(draw: st.DrawFn, line: st.SearchStrategy[str] = TEXT) -> str:
    """Lines of random text, some empty, some real prose, joined by random line ends."""
    lines = draw(st.lists(st.one_of(line, PROSE, st.just("")), max_size=12))
    eol = draw(EOLS)
    return eol.join(lines) + draw(st.sampled_from(["", eol]))



def _random_line(args: tuple[str, int]) -> str:
    """100k characters drawn from `alphabet`: too big for hypothesis to draw one by one."""
    alphabet, seed = args
    return "".join(random.Random(seed).choices(alphabet, k=100_000))


NO_SPACE_ALPHABETS = [
    "".join(WORDS + DIGITS) + "".join(PUNCT) + "".join(EMOJI),
    "".join(WORDS) + "".join(BIDI + JOINERS + COMBINING),
    "".join(c for c in map(chr, range(0x20, 0x3000)) if c.isprintable() and not c.isspace()),
]
#: One huge line of 100k characters: random without spaces, or a short unit repeated.
RANDOM_HUGE_LINE = st.tuples(st.sampled_from(NO_SPACE_ALPHABETS), st.integers(0, 2**32)).map(
    _random_line
)
PERIODIC_HUGE_LINE = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs", "Zs", "Zl", "Zp", "Cc"]), min_size=1,
            max_size=20).map(lambda s: (s * (100_000 // len(s) + 1))[:100_000]),
    st.sampled_from(WORDS + PUNCT + EMOJI + DIGITS).map(lambda s: s * (100_000 // len(s))),
    st.sampled_from(["ab ", "EN | ", "US ", "قال ", "، ", "-", "\u200f"]).map(
        lambda s: s * (100_000 // len(s))
    ),
)  # fmt: skip
HUGE_LINE = st.one_of(RANDOM_HUGE_LINE, PERIODIC_HUGE_LINE)

# --- Markup ------------------------------------------------------------------

TAGS = [
    "p", "div", "span", "a", "b", "h1", "h2", "title", "article", "header", "footer",
    "nav", "script", "style", "noscript", "template", "svg", "li", "ul", "br", "hr",
    "img", "meta", "time", "pre", "table", "td", "figure", "button", "iframe",
]  # fmt: skip
ATTRS = st.lists(
    st.tuples(
        st.sampled_from(["class", "id", "href", "datetime", "property", "name", "content",
                         "itemprop", "data-x", "style", "onclick", "x"]),
        st.one_of(
            st.sampled_from(["og:title", "og:site_name", "article:published_time",
                             "datePublished", "date", "2023-11-03T10:00:00+03:00"]),
            TEXT,
        ),
        st.sampled_from(['"', "'", ""]),
    ),
    max_size=3,
).map(lambda attrs: "".join(f" {k}={q}{v.replace(q, '') if q else v}{q}" for k, v, q in attrs))
ENTITIES = [
    "&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&#x645;", "&#1605;", "&#0;", "&#xd800;",
    "&#99999999;", "&bogus;", "&", "&#", "&#x;", "<![CDATA[x]]>", "<![foo[x]]>", "<![ ",
    "<!--", "-->", "<!-- c -->", "<!doctype html>", "<?xml version='1.0'?>", "</", "<",
    ">", "</p>", "</div>", "</script>", "<p", "<a href='x",
]  # fmt: skip
HTML_LEAF = st.one_of(TEXT, PROSE, st.sampled_from(ENTITIES), st.sampled_from(PHRASES))


def _element(draw_children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def element(draw: st.DrawFn) -> str:
        tag = draw(st.sampled_from(TAGS))
        inner = draw(draw_children)
        close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", f"</{tag.upper()}>"]))
        return f"<{draw(st.sampled_from([tag, tag.upper()]))}{draw(ATTRS)}>{inner}{close}"

    return element()


HTML = st.recursive(
    HTML_LEAF, lambda inner: _element(st.lists(inner, max_size=4).map("".join)), max_leaves=25
)

MD_PREFIX = ["# ", "## ", "### ", "> ", "- ", "* ", "1. ", "   ", "", "", ""]
MD_LINE = st.one_of(
    st.tuples(st.sampled_from(MD_PREFIX), st.one_of(TEXT, PROSE)).map("".join),
    st.sampled_from(["===", "---", "***", "```", "~~~", "[ref]: http://x", "---"]),
    st.tuples(st.sampled_from(["**", "__", "*", "_", "`", "~~"]), TEXT).map(
        lambda t: t[0] + t[1] + t[0]
    ),
    st.tuples(TEXT, TEXT).map(lambda t: f"[{t[0]}]({t[1]}) ![{t[1]}](img.png)"),
)
FRONT_MATTER = st.lists(
    st.tuples(st.sampled_from(["title", "date", "outlet", "source", "x"]), TEXT), max_size=4
).map(lambda kv: "---\n" + "".join(f"{k}: {v}\n" for k, v in kv) + "---\n")


@st.composite
def markdown(draw: st.DrawFn) -> str:
    head = draw(st.one_of(st.just(""), FRONT_MATTER))
    return head + draw(documents(MD_LINE))


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT, PROSE),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(PROSE, documents(), JSON_VALUE),
        "title": st.one_of(TEXT, JSON_VALUE),
        "id": st.one_of(TEXT, st.integers(), JSON_VALUE),
        "date": st.one_of(st.sampled_from(PHRASES), TEXT, JSON_VALUE),
        "outlet": st.one_of(TEXT, JSON_VALUE),
        "source": TEXT,
        "url": TEXT,
    },
)
JSONL_LINE = st.one_of(
    st.tuples(RECORD, st.booleans()).map(lambda r: json.dumps(r[0], ensure_ascii=r[1])),
    JSON_VALUE.map(json.dumps),
    TEXT,
    st.just(""),
    st.sampled_from([
        '{"text": "قال الوزير إن المحادثات \\ud800 كانت مفيدة جداً للطرفين."}',
        '{"text": "x", "n": ' + "1" * 5000 + "}",
        "[" * 50_000,
        '{"text": "a", "text": "قال الوزير إن المحادثات كانت مفيدة جدا."}',
        '{"text": "نص\\u0000 مع NUL في منتصفه وكلام كثير بعده لأن هذا نص طويل."}',
        '{"text": "خبر.", "id": "\\udfff", "title": "\\ud83d", "date": "\\ud800 2023-01-01"}',
        "{'text': 'single quotes'}",
        '{"text": NaN}',
        "\ufeff{}",
    ]),
)
JSONL = st.tuples(st.lists(JSONL_LINE, max_size=8), EOLS).map(lambda t: t[1].join(t[0]))

# --- Checks ------------------------------------------------------------------


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_iso(date: str | None) -> None:
    if date is not None:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), date
        dt.date.fromisoformat(date)


def check_clean_text(text: str, raw: str | None = None) -> None:
    """What `clean_page` promises about its text: paragraphs separated by one blank
    line, each a whitespace-normalized line of the input holding a word character."""
    if not text:
        return
    raw_lines = None if raw is None else {normalize_space(line) for line in raw.splitlines()}
    for paragraph in text.split("\n\n"):
        assert paragraph == normalize_space(paragraph) != "", repr(paragraph)
        assert re.search(r"\w", paragraph), repr(paragraph)
        if raw_lines is not None:
            assert paragraph in raw_lines, repr(paragraph)


def check_article(article: Article, path: Path) -> None:
    assert isinstance(article, Article)
    assert article.text and article.text == article.text.strip()
    check_clean_text(article.text)
    assert isinstance(article.title, str) and "\n" not in article.title
    assert article.id and isinstance(article.id, str)
    assert article.path == str(path)
    if path.suffix != ".jsonl":
        assert article.id == path.stem
    check_iso(article.date)
    assert article.outlet is None or article.outlet == normalize_space(article.outlet) != ""
    # Everything the index stores must be storable.
    for value in (article.id, article.title, article.text, article.date, article.outlet):
        assert value is None or encodable(value), repr(value)
    assert len(article.content_hash) == 64


def check_result(result: LoadResult, path: Path) -> None:
    """`load_file(path)`'s result: articles and/or skipped entries, never nothing."""
    assert isinstance(result, LoadResult)
    assert result.articles or result.skipped, "a file disappeared silently"
    for skipped in result.skipped:
        assert isinstance(skipped, SkippedFile)
        assert skipped.path == str(path)
        assert skipped.reason.strip() and encodable(skipped.reason)
    for article in result.articles:
        check_article(article, path)
    if path.suffix != ".jsonl":
        assert len(result.articles) + len(result.skipped) == 1


def load_written(content: str | bytes, suffix: str) -> LoadResult:
    """Write `content` to a fresh file and load it, twice: loading must be stable."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "article" + suffix)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        result = load_file(path)
        check_result(result, path)
        assert load_file(path) == result, "loading the same file twice differs"
        event(f"{suffix}: " + ("article" if result.articles else "skipped"))
        return result


#: Found by these tests (or by reading the code they exercise); each used to raise,
#: hang or give an unstorable article.
PROSE_AR = "قال الوزير إن المحادثات كانت مفيدة جداً للطرفين في القاهرة."


# --- Loaders -----------------------------------------------------------------


@FAST
@given(documents(), st.sampled_from([".txt", ".md", ".html", ".jsonl", ".TXT", ".htm"]))
def test_any_text_in_any_format_loads_or_is_skipped(content: str, suffix: str) -> None:
    load_written(content, suffix)


@FAST
@given(documents())
def test_txt_articles_are_lines_of_the_file(content: str) -> None:
    for article in load_written(content, ".txt").articles:
        check_clean_text(article.text, raw=content)


@FAST
@given(HTML, st.booleans())
@example(f"<![foo[x]]><p>{PROSE_AR}</p>", False)  # stdlib parser: AssertionError
@example(f"<p>{PROSE_AR}</p><![ <p>{PROSE_AR}</p>", True)  # "expected name token"
@example(f'<meta property="og:site_name" content="Al\n  Jazeera"><p>{PROSE_AR}</p>', False)
@example(f"<p>{'EN ' * 40}1</p><p>{PROSE_AR}</p>", False)  # exponential backtracking
def test_random_html_loads_or_is_skipped(body: str, wrap: bool) -> None:
    if wrap:
        body = f"<!doctype html><html><head><title>عنوان</title></head><body>{body}</body></html>"
    load_written(body, ".html")


@FAST
@given(markdown())
@example(f"---\noutlet: ' '\n---\n{PROSE_AR}\n")  # blank outlet became " "
def test_random_markdown_loads_or_is_skipped(content: str) -> None:
    load_written(content, ".md")


@FAST
@given(JSONL)
@example('{"text": "x", "n": ' + "1" * 5000 + "}")  # ValueError: int > 4300 digits
@example("[" * 50_000)  # RecursionError
@example('{"text": "%s \\ud800", "id": "\\udfff", "title": "\\ud83d"}' % PROSE_AR)  # surrogates
def test_random_jsonl_loads_line_by_line(content: str) -> None:
    result = load_written(content, ".jsonl")
    if result.skipped and not result.skipped[0].reason.startswith("line "):
        assert result.articles == [] and len(result.skipped) == 1  # the whole file
        return
    lines = content.split("\n")
    found = [re.match(r"line (\d+): ", s.reason) for s in result.skipped]
    numbers = [int(m.group(1)) for m in found if m]
    assert len(numbers) == len(found)
    assert all(1 <= n <= len(lines) and lines[n - 1].strip() for n in numbers)
    # One article or one skipped entry for each line that is not blank.
    assert len(result.articles) + len(numbers) == sum(1 for line in lines if line.strip())


@FAST
@given(
    st.one_of(
        st.binary(max_size=300),
        TEXT.map(lambda s: s.encode("utf-16")),
        documents().map(lambda s: s.encode("utf-8", "replace")[:-1] + b"\xff"),
        st.sampled_from(["قال الوزير إن المحادثات كانت مفيدة.", "Привет, мир."]).map(
            lambda s: s.encode("cp1256", "replace")
        ),
        documents().map(lambda s: b"\xef\xbb\xbf" + s.encode("utf-8")),  # BOM
    ),
    st.sampled_from([".txt", ".md", ".html", ".jsonl"]),
)
def test_random_bytes_load_or_are_skipped(content: bytes, suffix: str) -> None:
    load_written(content, suffix)


@FEW
@given(
    st.one_of(
        st.tuples(HUGE_LINE, st.sampled_from([".txt", ".jsonl", ".md"])),
        # Known, unfixed: Python 3.11.7's HTMLParser is quadratic on a long run of
        # unclosed tags ("<p <p <p ..."): 30k characters take seconds, 100k minutes.
        st.tuples(RANDOM_HUGE_LINE, st.just(".html")),
    ),
    st.booleans(),
)
@example(("[" * 100_000, ".md"), False)  # quadratic Markdown regexes: minutes
@example((" *a" * 33_000, ".md"), True)
@example(("EN " * 33_000 + "1", ".txt"), False)  # exponential backtracking
def test_huge_lines_load_or_are_skipped(line_suffix: tuple[str, str], crlf: bool) -> None:
    line, suffix = line_suffix
    eol = "\r\n" if crlf else "\n"
    if suffix == ".jsonl":
        content = json.dumps({"text": line, "title": line[:1000]}) + eol
    elif suffix == ".html":
        content = f"<p>{line}</p>{eol}<p>{line[:500]}</p>"
    else:
        content = f"{line[:200]}{eol}{eol}{line}{eol}"
    load_written(content, suffix)


NAMES = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/\\"),
    min_size=1, max_size=12,
).filter(lambda s: s not in (".", ".."))  # fmt: skip
SUFFIXES = [".txt", ".md", ".html", ".htm", ".jsonl", ".TXT", ".json", ".pdf", ""]


@FEW
@given(
    st.lists(
        st.tuples(
            st.lists(NAMES, max_size=2),  # sub-folders
            NAMES,
            st.sampled_from(SUFFIXES),
            st.one_of(documents(), JSONL, st.binary(max_size=50)),
        ),
        max_size=8,
    )
)
def test_random_folders_load_and_account_for_every_file(files: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "articles")
        root.mkdir()
        expected = set()
        for folders, name, suffix, content in files:
            path = root.joinpath(*folders, name + suffix)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.exists():
                    continue
                data = content if isinstance(content, bytes) else content.encode("utf-8")
                path.write_bytes(data)
            except OSError:  # a name too long for the file system, a file where a dir goes
                continue
            hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
            if path.suffix.lower() in (".txt", ".md", ".html", ".htm", ".jsonl") and not hidden:
                expected.add(str(path))
        result = load_folder(root)
        reported = {a.path for a in result.articles} | {s.path for s in result.skipped}
        assert reported == expected
        for article in result.articles:
            check_article(article, Path(str(article.path)))
        for skipped in result.skipped:
            assert skipped.reason.strip()
        order = [str(a.path) for a in result.articles]
        assert order == sorted(order, key=lambda p: [
            # os.walk order: the files of a folder, then its sub-folders, each sorted
            (0, part) if i == len(Path(p).relative_to(root).parts) - 1 else (1, part)
            for i, part in enumerate(Path(p).relative_to(root).parts)
        ])


def test_missing_paths_are_the_only_errors(tmp_path: Path) -> None:
    with pytest.raises(ArticleError):
        load_file(tmp_path / "missing.txt")
    with pytest.raises(ArticleError):
        load_folder(tmp_path / "missing")
    with pytest.raises(ArticleError):
        load_file(tmp_path)  # a folder is not a file


def test_broken_links_and_special_files_in_a_folder_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("قال الوزير إن المحادثات كانت مفيدة.", encoding="utf-8")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(tmp_path / "pipe.md")
    result = load_folder(tmp_path)
    assert [a.id for a in result.articles] == ["good"]
    assert {Path(s.path).name for s in result.skipped} == {"broken.txt", "pipe.md"}
    assert all(s.reason for s in result.skipped)


def test_file_names_that_are_not_utf8_are_skipped_not_stored(tmp_path: Path) -> None:
    # A zip made on Windows gives Arabic names in cp1256: not UTF-8 on Linux.
    name = "خبر".encode("cp1256") + b".txt"
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), name)))
    path.write_text("قال الوزير إن المحادثات كانت مفيدة.", encoding="utf-8")
    result = load_folder(tmp_path)
    assert result.articles == []
    [skipped] = result.skipped
    assert "UTF-8" in skipped.reason


# --- Cleaning and dates --------------------------------------------------------


@FAST
@given(documents(), st.one_of(st.none(), TEXT))
def test_clean_page_never_raises_and_keeps_lines_verbatim(raw: str, title: str | None) -> None:
    page = clean_page(raw, title=title)
    assert isinstance(page, CleanPage)
    check_clean_text(page.text, raw=raw)
    assert isinstance(page.title, str)
    check_iso(page.date)
    assert page.outlet is None or page.outlet.strip()
    assert isinstance(fallback_title(page.text), str)


@FAST
@given(st.one_of(TEXT, documents(), st.text()))
def test_dates_never_raise_and_are_valid_spans(text: str) -> None:
    found = find_dates(text)
    for before, after in zip(found, found[1:]):
        assert before.end <= after.start
    for match in found:
        assert 0 <= match.start < match.end <= len(text)
        check_iso(match.iso)
    assert parse_date(text) == (found[0].iso if found else None)
    line = date_line(text)
    assert line is None or (len(found) == 1 and line.iso == found[0].iso)


@FAST
@given(
    st.lists(
        st.builds(
            DateLine,
            st.dates().map(dt.date.isoformat),
            st.sampled_from([None, "published", "updated"]),
            st.booleans(),
        ),
        max_size=4,
    ),
    TEXT,
)
def test_publication_date_is_one_of_the_dates_seen(lines: list[DateLine], lead: str) -> None:
    chosen = publication_date(lines, lead)
    assert chosen is None or chosen in {d.iso for d in lines} | {m.iso for m in find_dates(lead)}


def test_language_switch_line_does_not_backtrack_exponentially() -> None:
    # `_LANGUAGE_SWITCH` used to try 2^n ways on "ab ab ab ... 1": 22 words took 1.4 s,
    # 40 would take days.
    started = time.monotonic()
    page = clean_page("EN " * 60 + "1\nقال الوزير إن المحادثات كانت مفيدة.")
    assert time.monotonic() - started < 5
    assert page.text.endswith("مفيدة.")


# --- Chunker -----------------------------------------------------------------


def words(text: str) -> int:
    return len(text.split())


def quarter_chars(text: str) -> int:
    """~4 characters a token, rounded up: like `len // 4` but subadditive, as a
    tokenizer is (a piece never takes more tokens than its parts took apart)."""
    return math.ceil(len(text) / 4)


def check_chunks(chunker: Chunker, article: Article, count) -> None:
    chunks = chunker.split(article)
    text = article.text
    if not text.strip():
        assert chunks == []
        return
    assert chunks, "text with content gave no chunks"
    assert not text[: chunks[0].start].strip(), "text lost before the first chunk"
    assert not text[chunks[-1].end :].strip(), "text lost after the last chunk"
    for i, chunk in enumerate(chunks):
        assert (chunk.ordinal, chunk.article_id) == (i, article.id)
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start
        assert b.start <= a.end or not text[a.end : b.start].strip(), (
            f"text lost between chunks: {text[a.end : b.start]!r}"
        )
    header = count(article.title + "\n") if article.title else 0
    budget = max(chunker.max_tokens - header, chunker.max_tokens // 2, 1)
    for chunk in chunks:
        if len(chunk.text) > 1:  # one character is the splitter's last resort
            assert count(chunk.text) <= budget <= max(chunker.max_tokens, 1)


CHUNK_TEXT = st.one_of(
    documents(),  # raw: whitespace runs, CRLF, controls
    documents().map(lambda raw: clean_page(raw).text),  # what articles hold
    st.tuples(st.sampled_from(["a ", "قال. ", "x", "نص طويل، ", "a\n\n", "ab"]),
              st.integers(1, 60)).map(lambda t: t[0] * t[1]),  # repeats itself
    st.lists(PROSE, max_size=6).map("\n\n".join).map(lambda s: s + "\n\n" + s),
)  # fmt: skip


@settings(FAST, max_examples=200)
@given(
    CHUNK_TEXT,
    st.one_of(st.just(""), TEXT),
    st.integers(1, 40),
    st.integers(0, 39),
    st.sampled_from([words, quarter_chars]),
)
@example("a a a a", "", 2, 0, words)  # chunk 2 was placed on the repeat inside chunk 1
@example("ab ab ab ab ab ab", "", 3, 1, words)  # the same, with overlap
@example("a ", "", 1, 0, quarter_chars)  # a chunk of only white space
@example("a b", "title", 1, 0, words)  # budget 0: ValueError from the splitter
# The splitter repeats a start (its overlap began with blank leaves): AssertionError.
@example("\r\r\rالوزيرالوزير\rالوزير", "", 8, 4, quarter_chars)
def test_chunks_are_ordered_verbatim_spans_covering_the_text(
    text: str, title: str, max_tokens: int, overlap: int, count
) -> None:
    chunker = Chunker(count, max_tokens, min(overlap, max_tokens - 1))
    check_chunks(chunker, Article("a", title, text), count)


@FEW
@given(HUGE_LINE, st.sampled_from([words, quarter_chars]))
def test_chunker_splits_huge_lines(line: str, count) -> None:
    check_chunks(Chunker(count, 256, 32), Article("a", "عنوان", line), count)


@settings(FAST, max_examples=30)
@given(
    st.one_of(
        CHUNK_TEXT,
        st.lists(st.one_of(PROSE, TEXT), max_size=20).map("\n\n".join),
    ),
    st.one_of(st.just(""), TEXT, PROSE),
    st.sampled_from([(8, 2), (16, 0), (32, 8), (64, 16), (256, 32)]),
)
def test_chunks_fit_the_real_tokenizer(embedder, text: str, title: str, budget) -> None:
    max_tokens, overlap = budget
    count = embedder.count_tokens
    check_chunks(Chunker(count, max_tokens, overlap), Article("a", title, text), count)
