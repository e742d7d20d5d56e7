"""Opening the PostgreSQL pool's connections at start-up and running the storefront's statements on each.

Why: a new PostgreSQL connection makes its first requests slow. The pool opens connections
lazily, so the first requests pay the connect (and SQLAlchemy's JSON codec set-up, two
type-introspection queries per connection); asyncpg prepares each statement once per connection
(a round trip, and PostgreSQL's catalog caches of that backend are cold); and PostgreSQL plans a
prepared statement's first five executions one by one (custom plans) before it settles on a cached
plan. Measured in docs/performance.md, "Cold connections".

`warm_pool` checks out `connections` connections at once (so the pool opens that many), runs on
each the store page's statements `PLANNED_EXECUTIONS` times, asked so that they read next to
nothing (they cost their planning and little more), and hands them back to the pool. A
failure (the database is down at start-up) is the caller's to log: the pool opens connections
on demand afterwards, as it would have without the warm-up. SQLite has nothing to warm (a file,
no server-side plans): the caller skips it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Category, Product
from datasources.catalog.queries import ProductQuery
from datasources.db import RequestDatabase
from datasources.partners.models import Reseller
from datasources.stores.models import Store
from datasources.stores.queries import store_product_page

PLANNED_EXECUTIONS = 6
"""PostgreSQL plans a prepared statement's first five executions each (plan_cache_mode auto) and
then chooses a cached plan: six runs leave each connection past that."""
NO_ID = 0
"""An id nothing has: the lookups run in full and answer nothing."""

WarmUp = Callable[[RequestDatabase], Awaitable[None]]


async def storefront_statements(db: RequestDatabase) -> None:
    """The statements of a store page: the store by slug, its reseller, its categories, the first and the next page.

    The pages must stay cheap whatever the catalog's size. A page walks the products in SKU order
    until it has its products, so a store that sells nothing (or none at all) walks the whole
    catalog: 30 s and more at a million products. So the next page starts after the last SKU
    (nothing to walk), and the first page is one product of the first store.
    """
    await db.scalars(select(Store).where(Store.slug.in_([""])))
    await db.scalars(select(Reseller).where(Reseller.id.in_([NO_ID])))
    await db.scalars(select(Category).where(Category.id.in_([NO_ID])))
    store_id = await db.scalar(select(func.min(Store.id)))
    last_sku = await db.scalar(select(func.max(Product.sku)))
    if store_id is None or last_sku is None:
        return  # nothing to sell yet: the page statements wait for the first requests
    for _ in range(PLANNED_EXECUTIONS):
        await store_product_page(db, store_id, ProductQuery(), limit=1, after_sku=None)
        await store_product_page(db, store_id, ProductQuery(), limit=51, after_sku=last_sku)


async def warm_pool(
    session_factory: async_sessionmaker[AsyncSession],
    connections: int,
    warm_up: WarmUp = storefront_statements,
) -> int:
    """Open `connections` pooled connections at once and run `warm_up` on each; answers how many it warmed.

    Raises the first error (the database out of reach) after every connection was handed back.
    """
    opened = asyncio.Barrier(connections)

    async def one() -> None:
        db = RequestDatabase(session_factory)
        try:
            async with db.held() as session:
                await session.connection()  # checked out of the pool: opened if it was not
            # Every task holds its connection until all are open, so the pool opens `connections`
            # of them rather than lending one connection to each task in turn.
            await opened.wait()
            await warm_up(db)
        except BaseException:
            await opened.abort()
            raise
        finally:
            await db.close()

    results = await asyncio.gather(*(one() for _ in range(connections)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    first = next((e for e in errors if not isinstance(e, asyncio.BrokenBarrierError)), None)
    if first is not None:
        raise first
    return connections - len(errors)
