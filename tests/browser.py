"""Browser tests' parts: a real hub process on the sample data, and Debian's Chromium driven by Playwright.

    with sample_hub(workdir) as base_url:            # "http://127.0.0.1:PORT", `hub serve` on the sample
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)     # the machine's Chromium; never a downloaded one
            tab = open_tab(browser)                   # a fresh context that cannot leave the machine
            tab.page.goto(f"{base_url}/graphql")

The fixtures in tests/conftest.py (`sample_hub_url`, `chromium`, `tab`) wrap these for pytest;
scripts/screenshots.py uses them directly. Nothing here imports pytest's skipping: a missing
browser is `None` from `chromium_executable()`, and the fixtures decide to skip or fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Playwright, Route

from tests.federation.processes import clean_env, free_port, running

# Flags for Chromium on a machine with no network but loopback: without the background-networking
# ones it keeps trying Google's hosts, which this machine refuses many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1280, "height": 800}
SECRET_KEY = "browser-tests-secret-key-0123456789abcdef"


def chromium_executable() -> str | None:
    """PLAYWRIGHT_CHROMIUM_EXECUTABLE, else `chromium` on the PATH (Debian's package), else None."""
    configured = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium")


def launch_chromium(playwright: Playwright, executable: str | None = None) -> Browser:
    """The machine's Chromium, headless, with the flags for a closed network."""
    executable = executable or chromium_executable()
    if executable is None:
        raise RuntimeError("no Chromium: install Debian's chromium or set PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


def _hub_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub_graphql.cli", *args]


@contextmanager
def sample_hub(workdir: Path, **settings: str) -> Iterator[str]:
    """`hub serve` on a free loopback port, on a SQLite database migrated and seeded with `hub seed --sample`.

    Yields the base URL. Runs in `workdir` (the database, the sample's price lists and the server's log
    go there), with none of the developer's HUB_ settings; `settings` adds HUB_ variables.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        HUB_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'hub.db'}",
        HUB_SECRET_KEY=SECRET_KEY,
        HUB_ENV="development",
        **settings,
    )
    for step in (["db", "upgrade"], ["seed", "--sample"]):
        done = subprocess.run(
            _hub_command(*step), cwd=workdir, env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"hub {' '.join(step)} failed:\n{done.stdout}\n{done.stderr}")
    port = free_port()
    with running(
        _hub_command("serve", "--host", "127.0.0.1", "--port", str(port)),
        ready_url=f"http://127.0.0.1:{port}/health",
        log=workdir / "hub.log",
        cwd=workdir,
        env=env,
    ):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Tab:
    """A page in a context of its own, which records what it asked of other hosts and what went wrong."""

    context: BrowserContext
    page: Page
    outside_requests: list[str] = field(default_factory=list)
    """URLs the page asked of a host other than this machine's loopback (blocked, never sent)."""
    console_errors: list[str] = field(default_factory=list)
    """Console errors and uncaught exceptions (a CSP refusal shows up here)."""

    def close(self) -> None:
        self.context.close()


def open_tab(browser: Browser) -> Tab:
    """A fresh context (no stored state) whose requests to any host but loopback are recorded and refused."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    tab = Tab(context=context, page=page)

    def keep_local(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and host not in LOCAL_HOSTS:
            tab.outside_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.fallback()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.console_errors.append(message.text)

    context.route("**/*", keep_local)
    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.console_errors.append(f"uncaught: {error}"))
    return tab


# ---------------------------------------------------------------- the storefront's and the dashboard's tests

SAMPLE_ADMIN = ("admin@hub.example", "admin-sample-pw")


def graphql(
    base_url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    """One operation over HTTP, as any client sends it; its `data`, or an AssertionError with the errors."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=30,
    )
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def sign_in(base_url: str, email: str, password: str) -> str:
    """A bearer token for a user of the hub."""
    login = graphql(
        base_url,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token userErrors { message } } }",
        {"e": email, "p": password},
    )["login"]
    assert login["token"], login["userErrors"]
    return login["token"]


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has the focus (a keyboard user can reach it), or fail after `limit` presses."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} was not reached with Tab in {limit} presses")


def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling: the page is no wider than the window."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


PENDING = Path(__file__).parent / "contract_pending.txt"


def needs(*coordinates: str) -> pytest.MarkDecorator:
    """Marks a test of pages that use these fields (`Type.field`) as expected to fail while any of them
    is one of the contract's open breaks (tests/contract_pending.txt), strictly: the day the last one is
    built, tests/test_schema.py takes it off that list, and the test must pass from then on."""
    pending = PENDING.read_text(encoding="utf-8")
    missing = [c for c in coordinates if f"Field {c} was removed." in pending]
    return pytest.mark.xfail(
        bool(missing), reason=f"the hub has not built {', '.join(missing)} yet", strict=True
    )
