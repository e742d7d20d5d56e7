"""The database pool's warm-up at start-up (datasources/warmup.py) and the PostgreSQL connection settings."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from sqlalchemy import event, text

from datasources.catalog.models import Product
from datasources.db import create_engine, create_session_factory
from datasources.partners.models import Reseller
from datasources.stores.models import Store
from datasources.warmup import PLANNED_EXECUTIONS, warm_pool
from hub_graphql.resources import warm_database
from hub_graphql.settings import Settings
from tests.harness import open_hub

POOL_SIZE = 3


def page_statements_by_connection(engine: Any) -> dict[int, int]:
    """Store page statements sent, per DBAPI connection (a before_cursor_execute listener)."""
    counts: dict[int, int] = {}

    def listener(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "store_assortment_rules" in statement:
            key = id(connection.connection.dbapi_connection)
            counts[key] = counts.get(key, 0) + 1

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    return counts


@pytest.mark.postgres
async def test_warm_pool_opens_every_connection_and_runs_the_store_page_on_each(
    postgresql_url_clean: str,
) -> None:
    # given a store and a product, and a PostgreSQL engine whose pool has opened nothing yet
    engine = create_engine(postgresql_url_clean, pool_size=POOL_SIZE)
    try:
        await add_store_and_product(engine)
        await engine.dispose()
        counts = page_statements_by_connection(engine)
        assert engine.pool.checkedin() == 0

        # when
        warmed = await warm_pool(create_session_factory(engine), POOL_SIZE)

        # then the pool holds that many connections, each of which ran the page statements past
        # the executions PostgreSQL plans one by one (first page and next page, each)
        assert warmed == POOL_SIZE
        assert engine.pool.checkedin() == POOL_SIZE
        assert engine.pool.checkedout() == 0
        assert len(counts) == POOL_SIZE
        assert set(counts.values()) == {2 * PLANNED_EXECUTIONS}
    finally:
        await engine.dispose()


async def add_store_and_product(engine: Any) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        reseller = Reseller(code="warm", name="Warm", status="APPROVED", contact_email="w@example.com")
        session.add(reseller)
        await session.flush()
        session.add(Store(slug="warm", name="Warm", reseller_id=reseller.id, currency="USD", status="OPEN"))
        session.add(Product(sku="W-1", name="Warm", status="ACTIVE", search_text="w-1 warm"))


@pytest.mark.postgres
async def test_with_nothing_to_sell_the_warm_up_opens_the_connections_and_skips_the_page(
    postgresql_url_clean: str,
) -> None:
    engine = create_engine(postgresql_url_clean, pool_size=POOL_SIZE)
    try:
        counts = page_statements_by_connection(engine)
        assert await warm_pool(create_session_factory(engine), POOL_SIZE) == POOL_SIZE
        assert engine.pool.checkedin() == POOL_SIZE
        assert counts == {}
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_the_hub_starts_with_its_pool_warmed_and_jit_off(postgresql_url_clean: str) -> None:
    settings = Settings(
        _env_file=None, database_url=postgresql_url_clean, outbox_worker=False, db_pool_size=POOL_SIZE
    )
    async with open_hub(settings) as hub:
        assert hub.resources.engine.pool.checkedin() == POOL_SIZE
        async with hub.resources.engine.connect() as connection:
            # JIT compiled the store page for 0.1 to 1.4 s a statement (datasources/db.py)
            assert (await connection.execute(text("SHOW jit"))).scalar_one() == "off"
        body = await hub.post('{ store(slug: "none") { slug } }')
        assert body == {"data": {"store": None}}


@pytest.mark.postgres
async def test_a_warm_up_turned_off_opens_no_connection(postgresql_url_clean: str) -> None:
    settings = Settings(
        _env_file=None, database_url=postgresql_url_clean, outbox_worker=False, db_warm_up=False
    )
    async with open_hub(settings) as hub:
        assert hub.resources.engine.pool.checkedin() == 0


async def test_sqlite_has_nothing_to_warm(tmp_path: Any, sqlite_template: Any) -> None:
    url = f"sqlite+aiosqlite:///{sqlite_template}"
    settings = Settings(_env_file=None, database_url=url, outbox_worker=False, db_warm_up=True)
    async with open_hub(settings) as hub:
        assert await warm_database(hub.resources) == 0
        assert (await hub.post("{ __typename }")) == {"data": {"__typename": "Query"}}


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_database_down_at_start_up_does_not_stop_the_hub() -> None:
    # given PostgreSQL out of reach (connections refused)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/hub"
    settings = Settings(_env_file=None, database_url=url, outbox_worker=False, db_pool_size=POOL_SIZE)

    # when the hub starts, then it serves what needs no database, and warming again still fails softly
    async with open_hub(settings) as hub:
        assert (await hub.post("{ __typename }")) == {"data": {"__typename": "Query"}}
        assert hub.resources.engine.pool.checkedin() == 0
        assert await warm_database(hub.resources) == 0
