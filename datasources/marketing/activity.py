"""Web activity in the database: the stores and campaigns events name, the one insert, the activity counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.marketing.models import ActivityEvent, Campaign
from datasources.orders.models import Order
from datasources.partners.models import Reseller
from datasources.stores.models import Store


@dataclass(frozen=True)
class EventStore:
    """What an event needs of its store: the id, the reseller, and whether the store is open to visitors."""

    id: int
    slug: str
    reseller_id: int
    is_open: bool


async def event_stores(session: AsyncSession, slugs: Sequence[str]) -> dict[str, EventStore]:
    """The stores of these slugs, by slug: OPEN only counts with an APPROVED reseller (as for visitors)."""
    if not slugs:
        return {}
    rows = await session.execute(
        select(Store.id, Store.slug, Store.reseller_id, Store.status, Reseller.status)
        .join(Reseller, Reseller.id == Store.reseller_id)
        .where(Store.slug.in_(sorted(set(slugs))))
    )
    return {
        slug: EventStore(
            id=id_, slug=slug, reseller_id=reseller_id, is_open=status == "OPEN" and rs == "APPROVED"
        )
        for id_, slug, reseller_id, status, rs in rows
    }


async def campaign_ids(session: AsyncSession, codes: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Campaign code -> (campaign id, its store's id)."""
    if not codes:
        return {}
    rows = await session.execute(
        select(Campaign.code, Campaign.id, Campaign.store_id).where(Campaign.code.in_(sorted(set(codes))))
    )
    return {code: (id_, store_id) for code, id_, store_id in rows}


EVENT_COLUMNS = (
    "visitor_id",
    "store_id",
    "reseller_id",
    "type",
    "sku",
    "search_term",
    "campaign_code",
    "campaign_id",
    "path",
    "at",
)


@cache
def _insert_sql(dialect_name: str, paramstyle: str, count: int) -> str:
    """`INSERT … VALUES (…), (…)` for `count` events in the driver's own parameter style, made once per count.

    Written out rather than compiled from `insert().values([...])`: SQLAlchemy does not cache the
    compiled form of a multi-row VALUES statement, and compiling one for 50 events took longer than
    running it. An executemany would send the rows one by one.
    """
    width = len(EVENT_COLUMNS)
    if paramstyle == "qmark":
        row = "(" + ", ".join("?" * width) + ")"
        values = ", ".join(row for _ in range(count))
    else:  # numeric_dollar (asyncpg)
        values = ", ".join(
            "(" + ", ".join(f"${n * width + i + 1}" for i in range(width)) + ")" for n in range(count)
        )
    return f"INSERT INTO activity_events ({', '.join(EVENT_COLUMNS)}) VALUES {values}"


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append the events in one multi-row INSERT (the table is append-only: nothing updates it)."""
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    # The driver gets the values as they are; a time goes through the column type's own conversion
    # (SQLite stores it as text in SQLAlchemy's format, which every other query compares against).
    to_db = ActivityEvent.__table__.c.at.type.bind_processor(dialect)
    params: list[Any] = []
    for row in rows:
        for column in EVENT_COLUMNS:
            value = row.get(column)
            params.append(to_db(value) if column == "at" and to_db is not None else value)
    sql = _insert_sql(dialect.name, dialect.paramstyle, len(rows))
    await connection.exec_driver_sql(sql, tuple(params))


@dataclass(frozen=True)
class ActivityCounts:
    visitors: int
    page_views: int
    product_views: int
    add_to_carts: int
    orders: int


def _count_of(kind: str) -> Any:
    return func.coalesce(func.sum(case((ActivityEvent.type == kind, 1), else_=0)), 0)


async def reseller_activity_counts(
    db: RequestDatabase, reseller_id: int, start: datetime, end: datetime
) -> ActivityCounts:
    """A reseller's storefront events and orders (not cancelled) from `start` (inclusive) to `end` (exclusive).

    Two aggregate statements over the (reseller_id, at) and (reseller_id, placed_at) indexes.
    """
    events = (
        await db.all(
            select(
                func.count(distinct(ActivityEvent.visitor_id)),
                _count_of("PAGE_VIEW"),
                _count_of("PRODUCT_VIEW"),
                _count_of("ADD_TO_CART"),
            ).where(
                ActivityEvent.reseller_id == reseller_id,
                ActivityEvent.at >= start,
                ActivityEvent.at < end,
            )
        )
    )[0]
    orders = await db.scalar(
        select(func.count()).where(
            Order.reseller_id == reseller_id,
            Order.placed_at >= start,
            Order.placed_at < end,
            Order.status != "CANCELLED",
        )
    )
    return ActivityCounts(
        visitors=int(events[0] or 0),
        page_views=int(events[1] or 0),
        product_views=int(events[2] or 0),
        add_to_carts=int(events[3] or 0),
        orders=int(orders or 0),
    )
