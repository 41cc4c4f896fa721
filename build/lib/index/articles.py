"""Articles: files on disk turned into clean, citable text with title, date and outlet.

Formats: `.txt` (a saved news page), `.md`, `.html`/`.htm` and `.jsonl` (one article
per line). Loading never raises for a bad file: it is reported in
`LoadResult.skipped` with a reason the user can act on. Only a missing folder or
file is an error (`ArticleError`), since then there is nothing to report on.
Text cleaning itself lives in `index.cleaning`, dates in `index.dates`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from index.cleaning import CleanPage, clean_page, normalize_space
from index.dates import parse_date
from index.errors import QAError


#: Format of a source that holds an article's clean fields as JSON (see `Source`).
CLEAN = "article"


@dataclass(frozen=True)
class Source:
    """What an article was read from, kept with the index so a rebuild needs no files.

    `format` names the reader (".txt", ".md", ".html", ".jsonl") and `text` is what it
    parsed: the whole file, or the one line of a JSONL file. Articles indexed before
    sources were kept have only their clean fields, as JSON, under the format `CLEAN`.
    """

    format: str
    text: str


@dataclass(frozen=True)
class Article:
    """One news article after cleaning.

    `text` is the clean body: every citation offset in the index points into it, so it
    must be stable for the same input file.
    """

    id: str
    title: str
    text: str
    date: str | None = None  # ISO 8601 publication date, "YYYY-MM-DD"
    outlet: str | None = None
    path: str | None = None
    #: What the article was read from (None for articles made in code).
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index, so edits trigger re-embedding."""
        h = hashlib.sha256()
        for part in (self.title, self.date or "", self.outlet or "", self.text):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()


class ArticleError(QAError):
    """An article folder or file that does not exist: nothing to load at all."""


@dataclass(frozen=True)
class SkippedFile:
    """A file (or JSONL line) that was not loaded, and why, in words for the user."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """Articles loaded, plus everything skipped, so nothing disappears silently."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


class _Skip(Exception):
    """Internal: this file cannot become an article; the message says why."""


NO_TEXT = "no article text left after removing page furniture"


def load_folder(folder: Path) -> LoadResult:
    """Load every article file under `folder`, recursively, in sorted order.

    Files with other extensions and hidden files or folders are ignored; unreadable
    or empty files are reported in `skipped`. Duplicate ids are left to the caller
    (the index builder reports them).
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ArticleError(f"article folder {folder} {what}")
    result = LoadResult()
    for path in _article_files(folder):
        try:
            loaded = load_file(path)
        except ArticleError:  # a broken link, or deleted while we were walking
            loaded = LoadResult(skipped=[SkippedFile(str(path), "not a readable file")])
        result.articles.extend(loaded.articles)
        result.skipped.extend(loaded.skipped)
    return result


def load_file(path: Path) -> LoadResult:
    """Load one file (.txt, .md, .html/.htm, .jsonl); problems become `skipped`.

    Unlike `load_folder`, an unsupported extension is reported (someone chose this
    file, e.g. in the upload panel, and should hear why nothing happened).
    """
    path = Path(path)
    if not path.is_file():
        raise ArticleError(f"article file {path} does not exist")
    reader = _READERS.get(path.suffix.lower())
    try:
        if not _is_unicode(str(path)):
            raise _Skip("the file name is not valid UTF-8; rename the file")
        if reader is None:
            supported = ", ".join(sorted(_READERS))
            raise _Skip(
                f"unsupported file type {path.suffix or '(none)'!r}; supported: {supported}"
            )
        return reader(path, _read_text(path))
    except _Skip as skip:
        return LoadResult(skipped=[SkippedFile(str(path), str(skip))])


def read_source(article_id: str, source: Source, path: str | None = None) -> LoadResult:
    """The article `article_id` again from its kept source, as reading its file would
    give it today (a rebuild re-reads sources this way, so cleaning fixes reach them).

    Like `load_file`, a source that no longer yields an article is reported in
    `skipped`, with the reason, instead of raising.
    """
    where = path or f"{article_id}{source.format}"
    try:
        if source.format == CLEAN:
            fields = json.loads(source.text)
            loaded = LoadResult([Article(
                article_id, fields["title"], fields["text"], fields.get("date"),
                fields.get("outlet"), path, source,
            )])
        elif source.format in _READERS:
            loaded = _READERS[source.format](Path(where), source.text)
        else:
            raise _Skip(f"kept in an unknown format {source.format!r}")
    except _Skip as skip:
        loaded = LoadResult(skipped=[SkippedFile(where, str(skip))])
    return LoadResult([replace(a, id=article_id) for a in loaded.articles[:1]], loaded.skipped)


def clean_source(article: Article) -> Source:
    """The article's clean fields as a source, for an article whose file was not kept."""
    fields = {"title": article.title, "date": article.date, "outlet": article.outlet, "text": article.text}
    return Source(CLEAN, json.dumps(fields, ensure_ascii=False))


#: Lone UTF-16 surrogates: what Python makes of undecodable file names and of JSON
#: escapes such as "\ud800"; they cannot be encoded, stored or shown.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _is_unicode(text: str) -> bool:
    return not _SURROGATE.search(text)


def _article_files(folder: Path) -> Iterator[Path]:
    """Supported, non-hidden files under `folder`, deterministic order."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in _READERS:
                yield path


def _read_text(path: Path) -> str:
    """The file as text, or `_Skip` saying in plain words why it is not text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Skip(f"cannot read file: {exc.strerror or exc}") from exc
    if b"\0" in data:
        raise _Skip("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Skip(
            f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from exc
    if not text.strip():
        raise _Skip("empty file")
    return text


def _article(
    id_: str, path: Path, source: Source, page: CleanPage, date: str | None = None,
    outlet: str | None = None,
) -> Article:
    """The article of a cleaned page. Metadata the format states outright (`date`,
    `outlet`) wins over what cleaning found in the text."""
    if not page.text:
        raise _Skip(NO_TEXT)
    return Article(
        id=id_,
        title=page.title,
        text=page.text,
        date=date or page.date,
        # Metadata is free text: `outlet: ' '` or a name wrapped over lines.
        outlet=normalize_space(outlet or "") or page.outlet,
        path=str(path),
        source=source,
    )


def _read_txt(path: Path, text: str) -> LoadResult:
    return LoadResult([_article(path.stem, path, Source(".txt", text), clean_page(text))])


def _read_md(path: Path, text: str) -> LoadResult:
    doc = _markdown_to_text(text)
    page = clean_page(doc.text, title=doc.meta.get("title"))
    date = parse_date(doc.meta.get("date", ""))
    outlet = doc.meta.get("outlet") or doc.meta.get("source")
    return LoadResult([_article(path.stem, path, Source(".md", text), page, date, outlet)])


def _read_html(path: Path, text: str) -> LoadResult:
    doc = _html_to_text(text)
    page = clean_page(doc.text, title=doc.meta.get("title"))
    date = parse_date(doc.meta.get("date", ""))
    # The site's own name (og:site_name) only if the text credits no source: "المصدر:
    # تاس" names the agency the story came from, which is what users cite.
    outlet = page.outlet or doc.meta.get("site")
    return LoadResult([_article(path.stem, path, Source(".html", text), page, date, outlet)])


def _read_jsonl(path: Path, text: str) -> LoadResult:
    """One article per line; a bad line is skipped (with its number), the rest kept.

    Fields: `text` (required), `id` (default `<file stem>-<line number>`), `title`,
    `date`, `outlet` or `source`. Others (such as `url`) are ignored.
    """
    result = LoadResult()
    # Not splitlines(): JSON strings may hold raw U+2028 and other "line breaks".
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            result.articles.append(_jsonl_article(path, number, line))
        except _Skip as skip:
            result.skipped.append(SkippedFile(str(path), f"line {number}: {skip}"))
    return result


def _text_field(record: dict[str, object], *names: str) -> str | None:
    """The first of `names` holding a non-empty string (or number, for ids)."""
    for name in names:
        value = record.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return _SURROGATE.sub("\ufffd", str(value).strip())
    return None


def _jsonl_article(path: Path, number: int, line: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Skip(f"not valid JSON ({exc.msg})") from exc
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, [[[[... nesting
        raise _Skip("not usable JSON (a number thousands of digits long, or nested too deep)") from exc
    if not isinstance(record, dict):
        raise _Skip("expected a JSON object")
    body = record.get("text")
    if not isinstance(body, str) or not body.strip():
        raise _Skip("no 'text' field with the article text")
    body = _SURROGATE.sub("\ufffd", body)  # a lone "\ud800" escape: unencodable
    return _article(
        _text_field(record, "id") or f"{path.stem}-{number}",
        path,
        Source(".jsonl", line),
        clean_page(body, title=_text_field(record, "title")),
        date=parse_date(_text_field(record, "date") or ""),
        outlet=_text_field(record, "outlet", "source"),
    )


_READERS: dict[str, Callable[[Path, str], LoadResult]] = {
    ".txt": _read_txt,
    ".md": _read_md,
    ".html": _read_html,
    ".htm": _read_html,
    ".jsonl": _read_jsonl,
}


@dataclass(frozen=True)
class _Markup:
    """A marked-up file reduced to plain lines, plus what its markup stated
    (keys: title, date, outlet/source, site)."""

    text: str
    meta: dict[str, str]


# Markdown: enough of CommonMark to read articles, not to render them.
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_MD_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_MD_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_MD_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S+")
_MD_QUOTE = re.compile(r"^ {0,3}(?:>\s?)+")
_MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_MD_FRONT_KEY = re.compile(r"^(\w+)\s*:\s*(.*?)\s*$")
#: Each span stops at the next opener of its own kind ("[", "(", "<", the emphasis
#: delimiter), so a line of unclosed openers ("[[[[", " *a *a", "<a<a") is linear:
#: with `.+?` and `[^\]]+` every opener scanned to the end of the line (100k: minutes).
_MD_PARENS = r"\([^()]*(?:\([^()]*\)[^()]*)*\)"  # (url), (url_(with)_parens)
_MD_INLINE = (
    (re.compile(rf"!\[[^\][]*\]{_MD_PARENS}"), ""),  # images
    (re.compile(rf"\[([^\][]+)\]{_MD_PARENS}"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\][]+)\]\[[^\][]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^<>\s]+)>"), r"\1"),  # <http://...>
    (re.compile(r"</?[A-Za-z][^<>\n]*>"), ""),  # inline HTML tags
    (re.compile(r"`([^`]+)`"), r"\1"),
    # Inside, a delimiter is fine where it cannot open: before a space, in a word.
    (re.compile(r"(\*\*|__)(?!\s)((?:(?!\1).|\1(?=\s))+?)(?<!\s)\1"), r"\2"),
    (re.compile(r"(?<!\w)([*_])(?!\s)((?:(?!\1).|(?<=\w)\1|\1(?=\s))+?)(?<!\s)\1(?!\w)"), r"\2"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
)


def _md_inline(text: str) -> str:
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return text


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """`---`-delimited `key: value` header (Hugo, Jekyll, Obsidian exports)."""
    if not lines or lines[0].strip() != "---" or "---" not in (s.strip() for s in lines[1:]):
        return {}, lines
    end = next(i for i, s in enumerate(lines[1:], start=1) if s.strip() == "---")
    meta = {}
    for line in lines[1:end]:
        if match := _MD_FRONT_KEY.match(line):
            meta[match.group(1).lower()] = match.group(2).strip("'\"")
    return {k: v for k, v in meta.items() if v}, lines[end + 1 :]


def _markdown_to_text(source: str) -> _Markup:
    """Markdown -> one line per paragraph, heading or list item, markup removed.

    The first level-1 heading (`# ...` or `===` underlined) is the title and is not
    part of the text; other headings stay as lines (they are the article's
    subheadings). Soft-wrapped lines of a paragraph are joined with a space.
    """
    meta, lines = _front_matter(source.splitlines())
    blocks: list[str] = []
    paragraph: list[str] = []
    in_code = False

    def flush() -> None:
        if paragraph:
            blocks.append(" ".join(paragraph))
            paragraph.clear()

    def heading(level: int, text: str) -> None:
        flush()
        if level == 1 and "title" not in meta:
            meta["title"] = _md_inline(text)
        else:
            blocks.append(text)

    for line in lines:
        if _MD_FENCE.match(line):
            flush()
            in_code = not in_code
        elif in_code:
            blocks.append(line)
        elif not line.strip() or _MD_REF_DEF.match(line):
            flush()
        elif match := _MD_HEADING.match(line):
            heading(len(match.group(1)), match.group(2))
        elif len(paragraph) == 1 and (match := _MD_SETEXT.match(line)):
            text = paragraph.pop()
            heading(1 if match.group(1)[0] == "=" else 2, text)
        elif _MD_RULE.match(line):
            flush()
        elif match := _MD_ITEM.match(line):
            flush()
            paragraph.append(line[match.end() :].strip())
        else:
            paragraph.append(_MD_QUOTE.sub("", line).strip())
    flush()
    return _Markup("\n".join(_md_inline(b) for b in blocks), meta)


# HTML: the stdlib parser is enough; we want text blocks, not a DOM.
_HTML_SKIP = frozenset(
    "script style noscript template svg nav header footer aside form button select iframe".split()
)
_HTML_BLOCKS = frozenset(
    "p div section article main li ul ol blockquote br tr td th dd dt pre table "
    "figure figcaption h1 h2 h3 h4 h5 h6 hr".split()
)
_HTML_VOID = frozenset("br hr img meta link input wbr source col area base embed track".split())
_HTML_META = {
    "og:title": "title",
    "og:site_name": "site",
    "article:published_time": "date",
    "datepublished": "date",
    "pubdate": "date",
    "publish-date": "date",
    "date": "date",
}


class _HtmlText(HTMLParser):
    """Collects text blocks outside page chrome, and the page's own metadata.

    The first `<h1>` and `<title>` and every `<time datetime>` are read even inside
    `<header>`: an article's header holds its headline and date, while the site
    header's text is chrome. The first `<h1>` is the headline, so it is kept out of
    the body text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.meta: dict[str, str] = {}
        self.first_text: dict[str, str] = {}  # "h1" / "title" -> its text
        self.times: list[tuple[bool, str]] = []  # (inside <article>, datetime)
        self._buffer: list[str] = []
        self._skip = 0
        self._article = 0
        self._capture: str | None = None
        self._captured: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            name = (
                values.get("property") or values.get("name") or values.get("itemprop") or ""
            ).lower()
            if name in _HTML_META and values.get("content"):
                self.meta.setdefault(_HTML_META[name], values["content"].strip())
        elif tag == "time" and values.get("datetime"):
            self.times.append((self._article > 0, values["datetime"]))
        if tag in _HTML_BLOCKS:
            self._flush()
        if tag in _HTML_VOID:
            return
        self._article += tag == "article"
        self._skip += tag in _HTML_SKIP
        if tag in ("h1", "title") and tag not in self.first_text and self._capture is None:
            self._capture = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._capture:
            self.first_text[tag] = normalize_space("".join(self._captured))
            self._captured.clear()
            self._capture = None
        if tag in _HTML_BLOCKS:
            self._flush()
        if tag in _HTML_SKIP and self._skip:
            self._skip -= 1
        if tag == "article" and self._article:
            self._article -= 1

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._captured.append(data)
        elif not self._skip:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # The stdlib raises AssertionError for `<![` not followed by a known keyword
        # ("<![foo[", "<![ "); browsers read such a thing as a bogus comment.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, bool(report))

    def _flush(self) -> None:
        text = normalize_space("".join(self._buffer))
        if text:
            self.blocks.append(text)
        self._buffer.clear()


def _html_to_text(source: str) -> _Markup:
    """HTML -> one line per text block (entities decoded), plus title, date, site.

    Title: og:title, else the first `<h1>`, else `<title>` (minus a " | Site" suffix
    when the site name is known). Date: the page's published-time metadata, else a
    `<time datetime>` inside `<article>`, else the first one anywhere.
    """
    parser = _HtmlText()
    parser.feed(source)
    parser.close()
    meta = dict(parser.meta)
    site = meta.get("site")
    title = meta.get("title") or parser.first_text.get("h1") or parser.first_text.get("title")
    if title and site:
        title = re.sub(rf"\s*[|\-–—:]\s*{re.escape(site)}\s*$", "", title) or title
    if title:
        meta["title"] = title
    times = sorted(parser.times, key=lambda t: not t[0])  # stable: inside <article> first
    if times and "date" not in meta:
        meta["date"] = times[0][1]
    return _Markup("\n".join(parser.blocks), meta)
