"""The aggregate queries of reports and forecasts: GROUP BY over orders and order lines, in the database.

Nothing here loads orders: each function is one statement whose rows are
periods, products, resellers or days. Periods are bucketed in SQL, which is
where the dialects differ: PostgreSQL truncates the instant in UTC with
`date_trunc` (its weeks start on Monday, as ISO weeks do); SQLite, which
holds instants as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC, takes the date
part of that text, steps back to Monday with `strftime('%w')`, or keeps the
month and appends '-01'. Both answer the first day of the period, which
`bucket_day` turns into a `date`.

Which orders count (SalesFilter): placed in [start, end), not CANCELLED, in
the report's currency, of one reseller or one store when given. Units and
revenue of products count from the order lines of those orders. Instants are
bound in UTC: SQLite compares them as text, without their offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text

from datasources.catalog.models import Product
from datasources.db import RequestDatabase
from datasources.orders.models import Order, OrderLine
from datasources.partners.models import Reseller
from datasources.reports.periods import Interval, as_utc

LEFT_OUT_STATUS = "CANCELLED"


@dataclass(frozen=True)
class SalesFilter:
    start: datetime
    end: datetime
    currency: str | None
    """None: every currency (units only: forecasts count pieces, not money)."""
    reseller_id: int | None = None
    store_id: int | None = None


@dataclass(frozen=True)
class PeriodRow:
    day: date
    orders: int
    units: int
    revenue_minor: int
    discounts_minor: int


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    units: int
    revenue_minor: int


@dataclass(frozen=True)
class ResellerRow:
    reseller_id: int
    orders: int
    units: int
    revenue_minor: int


REPORT_SETTINGS = (
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)
"""PostgreSQL settings for the rest of the transaction, before the first report statement.

JIT compilation fires on the planner's cost alone, and the cost of a GROUP BY over an expression
(a period) is overestimated by orders of magnitude: measured on a year of 1,000,000 order lines, JIT
took 2.2 s of a 3.1 s query that runs in 0.27 s without it. And 4 MB of work_mem (the default) made
the sorts and hashes of a year's aggregates spill to disk. And asyncpg prepares every statement:
after five runs PostgreSQL may switch to a generic plan that cannot see the date range, and chose
index probes per order for a whole year (twice as slow); the best plan depends on the range (a day
or a year), so reports are planned for their parameters every time.
"""


PENDING = object()


def dialect_of(db: RequestDatabase) -> str:
    """The name of the database dialect the request's session runs on."""
    return db.session.get_bind().dialect.name


async def prepare_for_reports(db: RequestDatabase) -> str:
    """The dialect; on PostgreSQL, REPORT_SETTINGS once per transaction of the request's session."""
    dialect = dialect_of(db)
    if dialect == "postgresql":
        info = db.session.info
        transaction = db.session.get_transaction()
        marked = info.get("report_settings")
        if marked is PENDING or (transaction is not None and marked is transaction):
            return dialect
        # Marked before the await: a sibling field's query queues behind this one on the session's lock.
        info["report_settings"] = PENDING
        await db.execute(text(REPORT_SETTINGS))
        info["report_settings"] = db.session.get_transaction()
    return dialect


def bucket(dialect: str, interval: Interval) -> ColumnElement[Any]:
    """The first day of the calendar period (UTC) of `orders.placed_at`, in the dialect's SQL."""
    column = "orders.placed_at"
    if dialect == "postgresql":
        unit = {"DAY": "day", "WEEK": "week", "MONTH": "month"}[interval]
        # Literals, not bound parameters: the same expression must appear in GROUP BY.
        return literal_column(f"date_trunc('{unit}', timezone('UTC', {column}))")
    # The day is the text's first ten characters: SQLite's date functions round fractional seconds,
    # so '…-31 23:59:59.999999' would land on the next day (and in the next week or month).
    day = f"substr({column}, 1, 10)"
    if interval == "DAY":
        return literal_column(day)
    if interval == "WEEK":
        # strftime('%w') is 0 on Sunday: step back (weekday + 6) % 7 days to the Monday.
        return literal_column(
            f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"
        )
    return literal_column(f"substr({column}, 1, 7) || '-01'")


def bucket_day(value: date | datetime | str) -> date:
    """The `date` of a bucket as the driver hands it back (a timestamp on PostgreSQL, text on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def order_conditions(sales: SalesFilter) -> list[ColumnElement[bool]]:
    """The WHERE of the orders that count (see the module's docstring)."""
    conditions = [
        Order.placed_at >= as_utc(sales.start),
        Order.placed_at < as_utc(sales.end),
        Order.status != LEFT_OUT_STATUS,
    ]
    if sales.currency is not None:
        conditions.append(Order.currency == sales.currency)
    if sales.reseller_id is not None:
        conditions.append(Order.reseller_id == sales.reseller_id)
    if sales.store_id is not None:
        conditions.append(Order.store_id == sales.store_id)
    return conditions


def _lines_of_orders(sales: SalesFilter, *columns: Any) -> Select[Any]:
    return select(*columns).join(Order, Order.id == OrderLine.order_id).where(*order_conditions(sales))


async def sales_by_period(db: RequestDatabase, sales: SalesFilter, interval: Interval) -> list[PeriodRow]:
    """Orders, units, revenue and discounts per period that had orders (one statement)."""
    period = bucket(await prepare_for_reports(db), interval)
    orders = (
        select(
            period.label("period"),
            func.count().label("orders"),
            func.sum(Order.total_minor).label("revenue"),
            func.sum(Order.discount_minor).label("discounts"),
        )
        .where(*order_conditions(sales))
        .group_by(period)
        .subquery("period_orders")
    )
    units = (
        _lines_of_orders(sales, period.label("period"), func.sum(OrderLine.quantity).label("units"))
        .group_by(period)
        .subquery("period_units")
    )
    rows = await db.all(
        select(orders.c.period, orders.c.orders, orders.c.revenue, orders.c.discounts, units.c.units)
        .outerjoin(units, units.c.period == orders.c.period)
        .order_by(orders.c.period)
    )
    return [
        PeriodRow(
            day=bucket_day(r.period),
            orders=int(r.orders),
            units=int(r.units or 0),
            revenue_minor=int(r.revenue or 0),
            discounts_minor=int(r.discounts or 0),
        )
        for r in rows
    ]


async def top_products(db: RequestDatabase, sales: SalesFilter, limit: int) -> list[ProductRow]:
    """The `limit` products with the most line revenue, ties by SKU; named as the catalog names them now
    (as the order line named it when the catalog no longer has the SKU)."""
    await prepare_for_reports(db)
    revenue = func.sum(OrderLine.total_minor).label("revenue")
    ranked = (
        _lines_of_orders(
            sales, OrderLine.sku.label("sku"), func.sum(OrderLine.quantity).label("units"), revenue
        )
        .group_by(OrderLine.sku)
        .order_by(revenue.desc(), OrderLine.sku)
        .limit(limit)
        .subquery("ranked")
    )
    # The line's name only for the few ranked SKUs the catalog lacks: names are not in the covering
    # index, and reading every line row for them doubled the cost of a year's ranking.
    line_name = (
        select(OrderLine.name)
        .where(OrderLine.sku == ranked.c.sku)
        .limit(1)
        .correlate(ranked)
        .scalar_subquery()
    )
    rows = await db.all(
        select(
            ranked.c.sku,
            func.coalesce(Product.name, line_name).label("name"),
            ranked.c.units,
            ranked.c.revenue,
        )
        .outerjoin(Product, Product.sku == ranked.c.sku)
        .order_by(ranked.c.revenue.desc(), ranked.c.sku)
    )
    return [ProductRow(r.sku, r.name, int(r.units), int(r.revenue)) for r in rows]


async def sales_by_reseller(db: RequestDatabase, sales: SalesFilter) -> list[ResellerRow]:
    """Orders, units and revenue per reseller, highest revenue first, ties by reseller code."""
    await prepare_for_reports(db)
    orders = (
        select(
            Order.reseller_id.label("reseller_id"),
            func.count().label("orders"),
            func.sum(Order.total_minor).label("revenue"),
        )
        .where(*order_conditions(sales))
        .group_by(Order.reseller_id)
        .subquery("reseller_orders")
    )
    units = (
        _lines_of_orders(
            sales, Order.reseller_id.label("reseller_id"), func.sum(OrderLine.quantity).label("units")
        )
        .group_by(Order.reseller_id)
        .subquery("reseller_units")
    )
    rows = await db.all(
        select(orders.c.reseller_id, orders.c.orders, orders.c.revenue, units.c.units)
        .join(Reseller, Reseller.id == orders.c.reseller_id)
        .outerjoin(units, units.c.reseller_id == orders.c.reseller_id)
        .order_by(orders.c.revenue.desc(), Reseller.code)
    )
    return [ResellerRow(r.reseller_id, int(r.orders), int(r.units or 0), int(r.revenue or 0)) for r in rows]


@dataclass(frozen=True)
class DailyUnits:
    sku: str
    day: date
    units: int


async def daily_units(
    db: RequestDatabase,
    sales: SalesFilter,
    skus: Sequence[str] | None = None,
    *,
    sold_since: datetime | None = None,
) -> list[DailyUnits]:
    """Units sold per SKU and day (UTC) of the orders that count, in one statement.

    `skus` names the products; or, with `sold_since`, every product that sold in [sold_since, end)
    under the same filter (a demand plan's assortment), with its whole history of [start, end).
    """
    day = bucket(await prepare_for_reports(db), "DAY")
    statement = _lines_of_orders(
        sales, OrderLine.sku.label("sku"), day.label("day"), func.sum(OrderLine.quantity).label("units")
    )
    if skus is not None:
        statement = statement.where(OrderLine.sku.in_(list(skus)))
    if sold_since is not None:
        recent = _lines_of_orders(sales, OrderLine.sku).where(Order.placed_at >= as_utc(sold_since))
        statement = statement.where(OrderLine.sku.in_(recent.distinct()))
    rows = await db.all(statement.group_by(OrderLine.sku, day).order_by(OrderLine.sku, day))
    return [DailyUnits(r.sku, bucket_day(r.day), int(r.units)) for r in rows]
