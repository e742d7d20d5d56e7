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

import pytest
from sqlalchemy import event, make_url, text

from datasources.db import pg_admin
from datasources.migrate import upgrade
from datasources.models import metadata
from hub_graphql.settings import Settings
from tests.harness import Hub, QueryCounter, open_hub

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


__all__ = ["skip_or_fail", "text"]
