"""Loading article files: every format, and every way a file can be unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.articles import (
    CLEAN, NO_TEXT, Article, ArticleError, SkippedFile, Source, clean_source, load_file, load_folder,
    read_source,
)
from index.cleaning import clean_page
from index.errors import QAError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

LEAD = "قال وزير الخارجية في مؤتمر صحفي اليوم إن المحادثات كانت بناءة ومفيدة للطرفين."
SECOND = "وأضاف أن الجانبين اتفقا على مواصلة التشاور في الملفات الإقليمية خلال الأشهر المقبلة."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only_article(result) -> Article:
    assert result.skipped == []
    [article] = result.articles
    return article


def test_seed_folder_loads_every_seed_as_cleaned() -> None:
    result = load_folder(SEEDS)
    assert result.skipped == []
    assert [a.id for a in result.articles] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for article in result.articles:
        assert article.path is not None
        page = clean_page(Path(article.path).read_text(encoding="utf-8"))
        assert (article.title, article.text, article.date, article.outlet) == (
            page.title, page.text, page.date, page.outlet
        )  # fmt: skip
    assert {a.id: a.date for a in result.articles}["002_717a5c15cf0cef70"] == "2023-11-03"


def test_txt(tmp_path: Path) -> None:
    path = write(
        tmp_path / "news.txt", f"الوزير يبحث الأزمة\n\n11/07/2023\n{LEAD}\n{SECOND}\nالمصدر: تاس\n"
    )
    article = only_article(load_file(path))
    assert article == Article(
        id="news",
        title="الوزير يبحث الأزمة",
        text=f"{LEAD}\n\n{SECOND}",
        date="2023-07-11",
        outlet="تاس",
        path=str(path),
    )


def test_utf8_bom_is_not_text(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", "\ufeffالوزير يبحث الأزمة\n" + LEAD)
    assert only_article(load_file(path)).title == "الوزير يبحث الأزمة"


def test_markdown(tmp_path: Path) -> None:
    md = f"""# الوزير **يبحث** الأزمة

*12 أكتوبر 2022*

قال وزير الخارجية في [مؤتمر صحفي](https://example.com/x) اليوم إن المحادثات
كانت بناءة ومفيدة للطرفين.

## الأمن في المنطقة

> {SECOND}

![صورة الوزير](photo.jpg)
"""
    article = only_article(load_file(write(tmp_path / "story.md", md)))
    assert article.id == "story"
    assert article.title == "الوزير يبحث الأزمة"
    assert article.date == "2022-10-12"
    assert article.text == f"{LEAD}\n\nالأمن في المنطقة\n\n{SECOND}"


def test_markdown_front_matter(tmp_path: Path) -> None:
    md = f'---\ntitle: "عنوان من الترويسة"\ndate: 2023-11-03\nsource: تاس\n---\n\n{LEAD}\n'
    article = only_article(load_file(write(tmp_path / "fm.md", md)))
    assert (article.title, article.date, article.outlet, article.text) == (
        "عنوان من الترويسة",
        "2023-11-03",
        "تاس",
        LEAD,
    )


HTML = f"""<!doctype html>
<html><head>
<title>الوزير يبحث الأزمة | موقع الأخبار</title>
<meta property="og:site_name" content="موقع الأخبار">
{{meta}}
<style>p {{{{ color: red }}}}</style>
<script>document.write("<p>script text</p>");</script>
</head><body>
<header><nav><a href="/">الرئيسية</a> <a href="/s">سياسة</a></nav>
<time datetime="2024-11-22">اليوم</time></header>
<article>
  <header><h1>{{h1}}</h1><time datetime="2022-10-12T18:30:23+03:00">١٢ أكتوبر</time></header>
  <p>قال وزير الخارجية في مؤتمر صحفي اليوم إن المحادثات كانت بناءة&nbsp;ومفيدة للطرفين.</p>
  <h2>الأمن &amp; التعاون</h2>
  <p>{SECOND}</p>
  <aside>اقرأ أيضا: خبر آخر</aside>
</article>
<footer>جميع الحقوق محفوظة &copy; 2024</footer>
</body></html>"""


def test_html(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", HTML.format(meta="", h1="الوزير يبحث الأزمة"))
    article = only_article(load_file(path))
    assert article.title == "الوزير يبحث الأزمة"
    assert article.date == "2022-10-12"  # the article's <time>, not the site header's
    assert article.outlet == "موقع الأخبار"
    assert article.text == f"{LEAD}\n\nالأمن & التعاون\n\n{SECOND}"


def test_html_metadata_wins(tmp_path: Path) -> None:
    meta = (
        '<meta property="og:title" content="عنوان &quot;الميتا&quot;">'
        '<meta property="article:published_time" content="2023-11-03T10:00:00Z">'
    )
    article = only_article(
        load_file(write(tmp_path / "page.htm", HTML.format(meta=meta, h1="عنوان h1")))
    )
    assert (article.title, article.date) == ('عنوان "الميتا"', "2023-11-03")


def test_html_title_falls_back_to_title_tag_without_site_suffix(tmp_path: Path) -> None:
    article = only_article(load_file(write(tmp_path / "page.html", HTML.format(meta="", h1=""))))
    assert article.title == "الوزير يبحث الأزمة"


def test_jsonl(tmp_path: Path) -> None:
    records = [
        {"id": "a1", "title": "عنوان أول", "text": LEAD, "date": "٠٣ نوفمبر ٢٠٢٣", "source": "تاس"},
        {
            "text": f"الوزير يبحث الأزمة\n{SECOND}",
            "outlet": "الخليج الجديد",
            "url": "https://x.example/2",
        },
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[1:1] = [
        "",
        "{not json",
        "[1, 2]",
        json.dumps({"title": "بلا نص"}),
        json.dumps({"text": "  "}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")

    result = load_file(path)
    assert [(a.id, a.title, a.text, a.date, a.outlet) for a in result.articles] == [
        ("a1", "عنوان أول", LEAD, "2023-11-03", "تاس"),
        ("feed-7", "الوزير يبحث الأزمة", SECOND, None, "الخليج الجديد"),
    ]
    assert [s.reason.split(":")[0] for s in result.skipped] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
    ]
    assert all(s.path == str(path) for s in result.skipped)
    assert "JSON" in result.skipped[0].reason and "'text'" in result.skipped[2].reason


def test_jsonl_text_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    record = {"title": "عنوان", "text": f"{LEAD}\u2028{SECOND}"}
    path = write(tmp_path / "feed.jsonl", json.dumps(record, ensure_ascii=False))
    assert only_article(load_file(path)).text == f"{LEAD}\n\n{SECOND}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        ("  \n\xa0\n".encode(), "empty file"),
        (b"PK\x03\x04\x00\x00binary", "binary"),
        ("خبر عاجل".encode("cp1256"), "not UTF-8"),
        ("الصفحة الرئيسية\nآخر الأخبار\n".encode(), NO_TEXT),
    ],
)
def test_unusable_files_are_skipped_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = write(tmp_path / "bad.txt", content)
    result = load_file(path)
    assert result.articles == []
    [skipped] = result.skipped
    assert skipped.path == str(path) and reason in skipped.reason


def test_folder_walk_is_recursive_sorted_and_ignores_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.html", "sub/deeper/d.TXT", "z/e.jsonl"]:
        content = json.dumps({"text": LEAD}) if name.endswith(".jsonl") else f"<p>{LEAD}</p>"
        write(tmp_path / name, content if name.endswith((".html", ".jsonl")) else LEAD)
    for ignored in ["notes.pdf", "image.png", ".hidden.txt", ".git/x.txt", "sub/.cache/y.txt"]:
        write(tmp_path / ignored, LEAD)
    write(tmp_path / "empty.txt", b"")

    result = load_folder(tmp_path)
    assert [a.id for a in result.articles] == ["a", "b", "c", "d", "e-1"]
    assert result.skipped == [SkippedFile(str(tmp_path / "empty.txt"), "empty file")]
    assert load_folder(tmp_path) == result  # deterministic


def test_unsupported_single_file_is_skipped_not_ignored(tmp_path: Path) -> None:
    result = load_file(write(tmp_path / "scan.pdf", b"%PDF-1.4"))
    assert result.articles == [] and "unsupported file type '.pdf'" in result.skipped[0].reason


def test_missing_folder_or_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(ArticleError, match="no-such-folder.*does not exist"):
        load_folder(missing)
    with pytest.raises(ArticleError, match="is not a folder"):
        load_folder(write(tmp_path / "file.txt", LEAD))
    with pytest.raises(ArticleError, match="gone.txt"):
        load_file(tmp_path / "gone.txt")
    assert issubclass(ArticleError, QAError)  # the CLI prints it instead of a traceback


@pytest.mark.parametrize("name, content", [
    ("wire.txt", f"عنوان الخبر\n\n11 مارس 2024\n\n{LEAD}\n\n{SECOND}\n"),
    ("story.md", f"---\ndate: 2024-03-11\noutlet: وكالة\n---\n# عنوان\n\n{LEAD}\n\n{SECOND}\n"),
    ("page.htm", HTML.format(meta="", h1="الوزير يبحث الأزمة")),
    ("feed.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": LEAD, "title": "أول"}, {"id": "named", "text": SECOND, "date": "2024-03-11"}])),
])
def test_an_article_read_again_from_its_kept_source_is_the_same(tmp_path: Path, name, content) -> None:
    loaded = load_file(write(tmp_path / name, content))
    assert loaded.articles and not loaded.skipped
    for article in loaded.articles:
        assert article.source is not None
        again = read_source(article.id, article.source, article.path)
        assert again.articles == [article] and not again.skipped
        assert again.articles[0].content_hash == article.content_hash
        clean = read_source(article.id, clean_source(article), article.path)
        kept = clean.articles[0].source
        assert clean.articles == [article] and kept is not None and kept.format == CLEAN


def test_a_kept_source_that_no_longer_gives_an_article_is_reported() -> None:
    result = read_source("x", Source(".txt", "   \n"), "/gone/x.txt")
    assert result.articles == [] and result.skipped[0].path == "/gone/x.txt"
    result = read_source("y", Source(".pdf", "%PDF"))
    assert "unknown format '.pdf'" in result.skipped[0].reason
