"""The chat in a real browser (system Chromium driven by Playwright) against `qa serve`.

Skipped when Playwright or Chromium is missing, unless QA_REQUIRE_BROWSER=1 (CI sets it),
then missing tools fail the run instead. Each test leaves a full-page screenshot in
tests/artifacts/<test name>.png (gitignored). The browser driver is ui/browser.py, which
bench/screenshot.py also uses to make docs/screenshot.png: the README shows what these
tests check.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import served  # noqa: F401  (module-scoped `qa serve` over a copy of the seeds)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
REQUIRE_BROWSER = os.environ.get("QA_REQUIRE_BROWSER") == "1"


def _load_browser_driver():
    """ui/browser.py, or (None, why the browser tests cannot run)."""
    if importlib.util.find_spec("playwright") is None:
        return None, "playwright is not installed (pip install -e '.[test]')"
    module = importlib.import_module("ui.browser")
    if module.chromium_path() is None:
        return None, "Chromium not found (/usr/bin/chromium, `chromium` on PATH or $QA_CHROMIUM)"
    return module, None


shot, _missing = _load_browser_driver()
if _missing:
    if REQUIRE_BROWSER:
        pytest.fail(f"QA_REQUIRE_BROWSER=1 but {_missing}", pytrace=False)
    pytest.skip(f"browser tests need a browser: {_missing}", allow_module_level=True)

KUWAIT = "what did Lavrov discuss with Kuwait?"
KUWAIT_AR = "ماذا ناقش لافروف مع الكويت؟"
KUWAIT_ARTICLE = "002_717a5c15cf0cef70"
KUWAIT_TITLE = "وزيرا الخارجية في روسيا والكويت سيناقشان الصراع في الشرق الأوسط"
assert shot.QUESTIONS == (KUWAIT, KUWAIT_AR)

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
FESTIVAL = f"""مهرجان الزرقاء للمياه يجمع المزارعين في عمان

05 يونيو 2024

انطلق مهرجان الزرقاء للمياه في دورته الأولى بمشاركة مئات المزارعين الذين عرضوا تقنيات الري بالتنقيط وحصاد مياه الأمطار. وقالت اللجنة المنظمة إن المهرجان يهدف إلى توعية الأسر بترشيد استهلاك المياه في موسم الصيف.

The Zarqa water festival opened on Wednesday with hundreds of farmers showing drip irrigation and rainwater harvesting. Organisers said the festival's mascot, a blue camel named Qatra, will tour schools in Zarqa next month.

A sample of unsafe markup found in the source page: {IMG} and {SCRIPT} must appear as text.
"""

# Geometry of an element's text as the browser lays it out: its content box and its lines.
LAYOUT = """el => {
    const cs = getComputedStyle(el), box = el.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = [];
    for (const r of range.getClientRects()) {
        if (r.width < 1) continue;
        const line = lines.find(l => Math.abs(l.mid - (r.top + r.bottom) / 2) < r.height / 2);
        if (line) { line.left = Math.min(line.left, r.left); line.right = Math.max(line.right, r.right); }
        else lines.push({mid: (r.top + r.bottom) / 2, left: r.left, right: r.right});
    }
    lines.sort((a, b) => a.mid - b.mid);
    return {
        direction: cs.direction,
        left: box.left + parseFloat(cs.paddingLeft) + parseFloat(cs.borderLeftWidth),
        right: box.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth),
        lines,
    };
}"""

# Where each listed character (offsets into the element's textContent) is drawn, as
# [line number, x]: sorted in reading order for a left-to-right line.
CHAR_POSITIONS = """(el, offsets) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let total = 0;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        nodes.push([n, total]);
        total += n.data.length;
    }
    const rects = offsets.map(offset => {
        const [node, base] = nodes.filter(([n, b]) => b <= offset).pop();
        const range = document.createRange();
        range.setStart(node, offset - base);
        range.setEnd(node, offset - base + 1);
        return range.getBoundingClientRect();
    });
    const height = Math.max(...rects.map(r => r.height));
    const mids = rects.map(r => (r.top + r.bottom) / 2);
    const lines = [];
    for (const mid of [...mids].sort((a, b) => a - b))
        if (!lines.length || mid - lines[lines.length - 1] > height / 2) lines.push(mid);
    const line = mid => lines.reduce((best, l, i) => Math.abs(l - mid) < Math.abs(lines[best] - mid) ? i : best, 0);
    return rects.map((r, i) => [line(mids[i]), r.left]);
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = shot.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request) -> Iterator:
    """A fresh page (own conversation); screenshot it afterwards; fail on page errors."""
    context = browser.new_context(viewport={"width": shot.WIDTH, "height": shot.HEIGHT})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{request.node.name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#question textarea")


def card_for(page, href: str):
    return page.locator(f"#sources div.qa-source{href}")


def test_answer_cites_the_kuwait_article_and_its_marker_leads_to_the_card(page, served):  # noqa: F811
    open_chat(page, served)
    message = shot.ask(page, KUWAIT)

    hrefs = [a.get_attribute("href") for a in message.locator("a.qa-cite").all()]
    assert hrefs, message.inner_text()
    assert all(re.fullmatch(r"#t1-src-\d+", href) for href in hrefs), hrefs
    metas = {href: card_for(page, href).locator(".qa-meta").inner_text() for href in set(hrefs)}
    kuwait = [href for href, meta in metas.items() if KUWAIT_ARTICLE in meta]
    assert kuwait, f"no cited card names {KUWAIT_ARTICLE}: {metas}"
    href = kuwait[0]
    assert KUWAIT_TITLE in card_for(page, href).locator(".qa-title").inner_text()
    assert KUWAIT_TITLE in page.locator("#sources").inner_text()
    assert card_for(page, href).locator("mark").count(), "the quoted sentence is highlighted"

    # The article id in the meta line reads left to right, as typed (not "717a…_002").
    meta = card_for(page, href).locator(".qa-meta")
    start = meta.text_content().index(KUWAIT_ARTICLE)
    (line_a, x_a), (line_b, x_b) = meta.evaluate(CHAR_POSITIONS, [start, start + 4])
    assert (line_a, x_a) < (line_b, x_b), "the id's '002_' is drawn after the rest of it"

    message.locator(f'a.qa-cite[href="{href}"]').first.click()
    page.wait_for_function("h => location.hash === h", arg=href, timeout=5000)
    target = card_for(page, href)
    assert target.evaluate("el => el.matches(':target')")
    assert target.evaluate("el => getComputedStyle(el).boxShadow") != "none"  # highlighted
    assert target.evaluate("""el => {
        const card = el.getBoundingClientRect(), panel = document.querySelector('#sources').getBoundingClientRect();
        return card.top >= panel.top - 1 && card.top < panel.bottom && card.top < innerHeight;
    }"""), "the cited card is scrolled into view"
    assert page.url.startswith(served) and len(page.context.pages) == 1


def test_each_answer_line_is_shown_in_its_own_direction(page, served):  # noqa: F811
    english, arabic = shot.ask_examples(page, served)

    lead = english.locator("div.qa-block").first
    assert lead.inner_text().startswith("According to")
    lead_layout = lead.evaluate(LAYOUT)
    assert lead_layout["direction"] == "ltr"
    first = lead_layout["lines"][0]
    assert abs(first["left"] - lead_layout["left"]) < 3, lead_layout  # starts on the left

    evidence = [english.locator("div.qa-block:has(a.qa-cite)").first,
                arabic.locator("div.qa-block:has(a.qa-cite)").first]
    arabic_lead = arabic.locator("div.qa-block").first
    assert arabic_lead.inner_text().startswith("بحسب")
    for line in (*evidence, arabic_lead):
        layout = line.evaluate(LAYOUT)
        assert layout["direction"] == "rtl", line.inner_text()
        lines = layout["lines"]
        assert lines, line.inner_text()
        # Right-aligned: every line starts at the right edge of the text box ...
        for row in lines:
            assert abs(row["right"] - layout["right"]) < 3, (row, layout)
        # ... and a short last line leaves its space on the left.
        if len(lines) > 1:
            assert lines[-1]["left"] > layout["left"] + 20, layout

    # The marker closes the Arabic sentence: the leftmost thing on its last line.
    for line in evidence:
        layout = line.evaluate(LAYOUT)
        cite = line.locator("a.qa-cite").last.bounding_box()
        last = layout["lines"][-1]
        assert abs(cite["x"] - last["left"]) < 3, (cite, last)
        assert abs(cite["y"] + cite["height"] / 2 - last["mid"]) < cite["height"], (cite, last)

    question = page.locator("#chat [data-testid=user] div.qa-block").last
    assert question.inner_text() == KUWAIT_AR
    assert question.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.locator("#sources div.qa-title").first.evaluate(
        "el => getComputedStyle(el).direction") == "rtl"


def test_english_lead_line_keeps_title_outlet_and_date_in_reading_order(page, served):  # noqa: F811
    """An Arabic title and outlet inside an English line must not drag the punctuation and
    the date with them (unisolated, it showed as '… (تاس,» (03-11-2023:')."""
    open_chat(page, served)
    lead = shot.ask(page, KUWAIT).locator("div.qa-block").first
    text = lead.text_content()
    to, date = text.index("to "), text.index("2023-11-03")
    opening, closing = text.index("«"), text.index("»")
    paren = text.index("(", closing)
    marks = {"o of 'to'": to + 1, "«": opening, "»": closing, "(": paren,
             "outlet": text.index("تاس"), "2 of 2023": date, "1 of -11": date + 5,
             "0 of -03": date + 8, ")": text.index(")", date), "final :": text.rindex(":")}
    at = dict(zip(marks, lead.evaluate(CHAR_POSITIONS, list(marks.values()))))
    # The title, quotes included, sits between "According to" and "(" (inside the quotes
    # the title reads right to left, so the two quote marks may be drawn either way round).
    for quote in ("«", "»"):
        assert at["o of 'to'"] < at[quote] < at["("], at
    order = ["(", "outlet", "2 of 2023", "1 of -11", "0 of -03", ")", "final :"]
    positions = [at[name] for name in order]
    assert positions == sorted(positions), list(zip(order, positions))


def test_uploaded_article_is_found_at_once_and_shown_as_text(page, served, tmp_path):  # noqa: F811
    article = tmp_path / "zarqa_water_festival.txt"
    article.write_text(FESTIVAL, encoding="utf-8")
    binary = tmp_path / "broken.txt"
    binary.write_bytes(b"abc\0def")

    open_chat(page, served)
    page.get_by_text("Add articles").click()
    upload = page.locator("#upload input[type=file]")
    upload.set_input_files([str(article), str(binary)])
    page.locator("#upload").get_by_text("zarqa_water_festival").wait_for()
    page.click("#add-articles")
    report = page.locator("#upload-report")
    report.get_by_text("Indexed").wait_for(timeout=60_000)
    assert "Indexed 1 new" in report.inner_text()
    assert "Rejected broken.txt: binary file" in report.inner_text()

    shot.ask(page, "What will Qatra, the blue camel of the Zarqa water festival, do next month?")
    # Found at once, whether quoted as the answer or shown as a nearest passage.
    cards = page.locator("#sources div.qa-turn-sources").first.locator("div.qa-source")
    found = [c for c in cards.all() if "zarqa_water_festival" in c.locator(".qa-meta").inner_text()]
    assert found, page.locator("#sources").inner_text()[:500]

    # The passage starts in Arabic, then has English paragraphs: each paragraph keeps its
    # own direction, so the English sentence ends with its full stop on the right.
    passage = found[0].locator(".qa-text")
    end = passage.text_content().index("must appear as text.") + len("must appear as ")
    (line_t, x_t), (line_stop, x_stop) = passage.evaluate(CHAR_POSITIONS, [end, end + 4])
    assert line_t == line_stop and x_t < x_stop, "the English full stop is drawn on the left"

    page.wait_for_timeout(300)  # an injected <img onerror> would have fired by now
    shown = page.locator("#sources").inner_text()
    assert IMG in shown and SCRIPT in shown  # the markup is there, as text
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__xss'))") is False

    # A type the upload panel does not take is refused with a reason the reader sees.
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 not an article")
    upload.set_input_files([str(pdf)])
    toast = page.locator(".toast-body", has_text="report.pdf")
    toast.wait_for(timeout=10_000)
    assert "Invalid file type" in toast.inner_text()
    assert ".txt" in toast.inner_text()


def test_readme_screenshot_is_taken(browser, served):  # noqa: F811
    out = ARTIFACTS / "readme_screenshot.png"
    shot.screenshot(browser, served, out)
    with out.open("rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == shot.WIDTH
