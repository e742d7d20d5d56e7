"""The test harness: every database test runs on SQLite and, where HUB_TEST_DATABASE_URL is set, on PostgreSQL.

Each test gets clean data: on SQLite a copy of a migrated template file, on
PostgreSQL a per-run database (made from the URL's server, so parallel runs
never meet) whose tables are truncated before each test. The schema comes from
the real Alembic migrations. With HUB_TEST_STRICT=1 (as .ci/run sets) every
skip is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event, make_url, text

from datasources.db import pg_admin
from datasources.migrate import upgrade
from datasources.models import metadata
from hub_graphql.settings import Settings
from tests.harness import Hub, QueryCounter, open_hub
from tests.mail_server import SmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser import Tab

STRICT = os.environ.get("HUB_TEST_STRICT") == "1"
PG_URL = os.environ.get("HUB_TEST_DATABASE_URL")


def skip_or_fail(reason: str) -> None:
    """A test that cannot run here: skipped, or a failure in strict runs (CI)."""
    if STRICT:
        pytest.fail(f"not skipping in a strict run: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in a strict run (HUB_TEST_STRICT=1): {report.longrepr}"


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "hub.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not PG_URL:
        skip_or_fail("HUB_TEST_DATABASE_URL is not set: PostgreSQL tests need a server")
    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


TABLES = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hub.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgresql_url_clean")
    return url


@pytest.fixture
def postgresql_url_clean(postgres_database: str) -> str:
    asyncio.run(pg_admin(postgres_database, f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return postgres_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No outbox worker unless a test asks for one (tests/test_outbox*.py, test_plaza*.py): its polls
    # would land in other tests' statement counts. Mail, if any is sent, stays in the test's folder.
    return Settings(
        _env_file=None,
        database_url=database_url,
        env="development",
        outbox_worker=False,
        mail_dir=str(tmp_path / "mail"),
        # The pool's warm-up at start-up (datasources/warmup.py) has tests of its own; every other
        # test starts a hub of its own and would pay it for nothing.
        db_warm_up=False,
    )


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    """The hub app with its lifespan running, and a client for GraphQL over HTTP (in process)."""
    async with open_hub(settings) as running:
        yield running


@pytest.fixture
def count_queries(hub: Hub) -> QueryCounter:
    """Counts the SQL statements the hub sends (a before_cursor_execute listener)."""
    counter = QueryCounter()
    event.listen(hub.resources.engine.sync_engine, "before_cursor_execute", counter.listener)
    return counter


# ---------------------------------------------------------------- Redis (HUB_TEST_REDIS_URL)

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis (shared with others); its keys are deleted afterwards."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except (RedisError, OSError):
        client.close()
        skip_or_fail(f"Redis is not reachable at {REDIS_URL} (HUB_TEST_REDIS_URL)")
    prefix = f"hub-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


# ---------------------------------------------------------------- browsers (tests/browser.py)


@pytest.fixture(scope="session")
def sample_hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real hub process (`hub serve`) on a SQLite database seeded with the sample; its base URL.

    Shared by the whole run: a browser test that writes makes data of its own, not sample rows others read.
    """
    from tests.browser import sample_hub

    # A reseller's demand plan forecasts every product it sold: a few seconds on the sample, but past
    # the default 10 s execution limit when this 2-core machine runs several suites at once.
    with sample_hub(tmp_path_factory.mktemp("sample-hub"), HUB_MAX_EXECUTION_MS="60000") as base_url:
        yield base_url


# Module scope, not session: while Playwright's sync API runs, it leaves its event loop marked as
# running on the main thread, which stops every asyncio test after it. So a module of browser tests
# holds only sync tests, and its browser is gone before the next module starts.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (PLAYWRIGHT_CHROMIUM_EXECUTABLE, or `chromium` on the PATH), headless."""
    try:
        from playwright.sync_api import sync_playwright

        from tests.browser import chromium_executable, launch_chromium
    except ImportError:
        skip_or_fail("Playwright for Python is not installed: run ./scripts/setup.sh")
    executable = chromium_executable()
    if executable is None:
        skip_or_fail("no Chromium: `apt-get install chromium` or set PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Tab]:
    """A page in a fresh browser context; requests to other hosts than loopback are recorded and refused."""
    from tests.browser import open_tab

    opened = open_tab(chromium)
    try:
        yield opened
    finally:
        opened.close()


__all__ = ["skip_or_fail", "text"]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (aiosmtpd), for the e-mail tests."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
