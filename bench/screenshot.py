"""The README screenshot: the chat after an English question and its Arabic form.

    .venv/bin/python -m bench.screenshot --url http://127.0.0.1:7860/ --out docs/screenshot.png

Needs a running `qa serve` (e.g. `make run`) and Chromium (Debian: `apt-get install
chromium`); Playwright drives it, no browser download. The driver is ui/browser.py,
which tests/test_browser.py uses too, so the screenshot shows what the tests check.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from ui.browser import launch, screenshot


def capture(url: str, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            screenshot(browser, url, out)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="a running `qa serve`")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot.png"))
    args = parser.parse_args()
    capture(args.url, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
