"""Screenshots of the hub's pages for the README: the sample hub served, each page shot in Debian's Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only graphiql]

It migrates and seeds a throwaway SQLite database with the sample hub, serves it with `hub serve` on a
free loopback port (tests/browser.py, as the browser tests do), and writes one PNG per page:

- graphiql.png: GraphiQL at /graphql after running the CatalogRoots example.

Needs GraphiQL's npm packages (./scripts/setup.sh with Node.js 20+) and Chromium (Debian's `chromium`,
or PLAYWRIGHT_CHROMIUM_EXECUTABLE). A page that asks anything of a host other than loopback fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.browser import Tab, launch_chromium, open_tab, sample_hub  # noqa: E402


def graphiql(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor.locator(".CodeMirror-line").get_by_text("query CatalogRoots")).to_be_visible()
    editor.locator(".CodeMirror-line span", has_text="productGroups").first.click()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".result-window")).to_contain_text('"data"')
    page.mouse.move(0, 0)  # no hover tooltip in the picture


SHOTS: dict[str, Callable[[Page, str], None]] = {"graphiql": graphiql}


def take(tab: Tab, name: str, base_url: str, out: Path) -> Path:
    SHOTS[name](tab.page, base_url)
    if tab.outside_requests:
        raise SystemExit(f"{name}: the page asked other hosts: {tab.outside_requests}")
    path = out / f"{name}.png"
    tab.page.screenshot(path=str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=sorted(SHOTS), action="append", help="one page (repeatable)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-screenshots-") as workdir:
        with sample_hub(Path(workdir)) as base_url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for name in args.only or list(SHOTS):
                    tab = open_tab(browser)
                    try:
                        print(take(tab, name, base_url, args.out).relative_to(ROOT))
                    finally:
                        tab.close()
            finally:
                browser.close()


if __name__ == "__main__":
    main()
