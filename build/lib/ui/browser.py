"""The chat page driven by a real browser (system Chromium through Playwright): what
tests/test_browser.py checks and what bench/screenshot.py photographs for the README,
one driver for both. It knows the page's element ids (ui/app.py), so it lives beside it.

Playwright is a test extra (`pip install -e '.[test]'`); nothing the assistant runs
imports this module.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, Playwright

QUESTIONS = ("what did Lavrov discuss with Kuwait?", "ماذا ناقش لافروف مع الكويت؟")
WIDTH, HEIGHT = 1400, 1000
#: The first answer of a fresh server waits for the models to load.
ANSWER_TIMEOUT_MS = 120_000
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: The assistant's messages in the chat (each holds the answer's `div.qa-block` lines).
BOT = "#chat [data-testid=bot]"
# A turn is over when its message is shown and the chat's progress tracker is hidden again.
_TURN_DONE = """n => {
    const tracker = document.querySelector('#chat [data-testid=status-tracker]');
    return document.querySelectorAll('#chat [data-testid=bot]').length >= n
        && (!tracker || tracker.classList.contains('hide'));
}"""


def chromium_path() -> str | None:
    """The system Chromium: $QA_CHROMIUM, /usr/bin/chromium, or `chromium` on PATH."""
    for candidate in (os.environ.get("QA_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def launch(playwright: Playwright) -> Browser:
    executable = chromium_path()
    if executable is None:
        raise SystemExit("Chromium not found: apt-get install chromium, or set QA_CHROMIUM")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def new_page(browser: Browser) -> Page:
    return browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})


def ask(page: Page, question: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> Locator:
    """Ask in the chat, wait for the whole streamed answer, return its message."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(_TURN_DONE, arg=before + 1, timeout=timeout_ms)
    return page.locator(BOT).nth(before)


def ask_examples(page: Page, url: str) -> list[Locator]:
    """Open the chat and ask the English question, then its Arabic form."""
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return [ask(page, question) for question in QUESTIONS]


def screenshot(browser: Browser, url: str, out: Path) -> None:
    """Ask both example questions in a fresh page and save the whole page as PNG."""
    page = new_page(browser)
    try:
        ask_examples(page, url)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
    finally:
        page.close()
