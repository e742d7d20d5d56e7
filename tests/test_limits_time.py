"""The time limit per operation (HUB_MAX_EXECUTION_MS): a slow operation is stopped, its statement
interrupted in the database, its writes rolled back, and the caller told TIMEOUT.

The slow operations are fields that exist only in these tests, each running a real slow statement:
`pg_sleep` on PostgreSQL, a recursive CTE counting to a few hundred million on SQLite.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import strawberry
from sqlalchemy import make_url, select, text

from datasources.catalog.models import Category
from hub_graphql.app import create_app
from hub_graphql.schema import Mutation, Query, build_schema
from hub_graphql.settings import Settings
from hub_graphql.types.common import Info
from tests.harness import Hub, codes_of, open_hub

LIMIT_MS = 400
SLOW_SECONDS = 30
# Tens of seconds on this machine when nothing stops it.
SQLITE_SLOW = (
    "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < 200000000) "
    "SELECT count(*) FROM counter"
)
PG_SLOW = f"SELECT pg_sleep({SLOW_SECONDS})"
SLOW_MARK = "hub-limits-slow-statement"


def _slow_sql(info: Info) -> str:
    sql = SQLITE_SLOW if info.context.settings.is_sqlite else PG_SLOW
    return f"/* {SLOW_MARK} */ {sql}"


@strawberry.type
class SlowQuery(Query):
    @strawberry.field(description="Test only: runs one slow statement.")
    async def slow_statement(self, info: Info) -> int:
        await info.context.db.scalar(text(_slow_sql(info)))
        return 1


@strawberry.type
class SlowMutation(Mutation):
    @strawberry.mutation(description="Test only: writes a category, then runs one slow statement.")
    async def slow_write(self, info: Info, code: str) -> bool:
        async with info.context.db.unit_of_work() as work:
            work.session.add(Category(code=code, name="Written by a slow mutation", path="/", depth=0))
            await work.session.flush()
            await work.session.execute(text(_slow_sql(info)))
        return True


@pytest.fixture
async def slow_hub(database_url: str) -> AsyncIterator[Hub]:
    settings = Settings(_env_file=None, database_url=database_url, max_execution_ms=LIMIT_MS)
    schema = build_schema(settings, query=SlowQuery, mutation=SlowMutation)
    async with open_hub(settings, app=create_app(settings, schema=schema)) as hub:
        yield hub


async def _slow_statements_running(database_url: str) -> int:
    """PostgreSQL backends still running the slow statement (other than the one asking)."""
    url = make_url(database_url)
    connection = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database
    )
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
            "AND state = 'active' AND query LIKE $2",
            url.database,
            f"%{SLOW_MARK}%pg_sleep%",
        )
    finally:
        await connection.close()


async def _assert_database_work_stopped(hub: Hub, database_url: str) -> None:
    if hub.settings.is_sqlite:
        # SQLite runs in this process: a statement still running (in aiosqlite's thread) would keep
        # a core busy. Over the next second the process is nearly idle.
        cpu = time.process_time()
        await asyncio.sleep(1)
        assert time.process_time() - cpu < 0.5
        # And it holds no lock: a write (which takes the write lock at BEGIN) goes through at once,
        # where it would wait behind a write transaction still open.
        started = time.monotonic()
        async with hub.resources.session_factory() as session, session.begin():
            session.add(Category(code=f"after-{uuid.uuid4().hex[:8]}", name="After", path="/", depth=0))
        assert time.monotonic() - started < 2
    else:
        # The server was told to cancel: no backend goes on sleeping once the answer is given.
        for _ in range(50):
            if await _slow_statements_running(database_url) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _slow_statements_running(database_url) == 0


async def test_a_query_past_the_time_limit_is_stopped_and_answered_timeout(
    slow_hub: Hub, database_url: str
) -> None:
    # when
    started = time.monotonic()
    answer = asyncio.ensure_future(slow_hub.post("{ slowStatement }"))
    if not slow_hub.settings.is_sqlite:
        # (the check below sees the statement while it runs: it is not vacuous)
        for _ in range(100):
            if await _slow_statements_running(database_url) or answer.done():
                break
            await asyncio.sleep(0.02)
        assert not answer.done()
        assert await _slow_statements_running(database_url) == 1
    body = await answer
    elapsed = time.monotonic() - started

    # then: answered at the limit, not at the statement's end
    assert codes_of(body) == ["TIMEOUT"]
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["limitMs"] == LIMIT_MS
    assert str(LIMIT_MS) in body["errors"][0]["message"]
    assert LIMIT_MS / 1000 <= elapsed < LIMIT_MS / 1000 + 3
    await _assert_database_work_stopped(slow_hub, database_url)
    # and the hub serves the next request, from the database, as usual
    served = await slow_hub.query("{ categories { code } }")
    assert all(c["code"].startswith("after-") for c in served["categories"])


async def test_a_mutation_cut_off_by_the_time_limit_writes_nothing(slow_hub: Hub, database_url: str) -> None:
    # given
    code = f"slow-{uuid.uuid4().hex[:8]}"

    # when
    started = time.monotonic()
    body = await slow_hub.post("mutation($code: String!) { slowWrite(code: $code) }", {"code": code})
    elapsed = time.monotonic() - started

    # then
    assert codes_of(body) == ["TIMEOUT"]
    assert elapsed < LIMIT_MS / 1000 + 3
    await _assert_database_work_stopped(slow_hub, database_url)
    async with slow_hub.resources.session_factory() as session:
        assert (await session.scalars(select(Category).where(Category.code == code))).all() == []


async def test_the_timeout_answers_in_the_media_type_asked_for(slow_hub: Hub) -> None:
    response = await slow_hub.client.post(
        "/graphql",
        json={"query": "{ slowStatement }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert codes_of(response.json()) == ["TIMEOUT"]


async def test_an_operation_within_the_time_limit_is_answered_as_usual(hub: Hub) -> None:
    assert hub.settings.max_execution_ms == 10_000
    assert (await hub.query("{ categories { code } }")) == {"categories": []}
