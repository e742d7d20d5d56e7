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

Sales reports read the whole UTC days of their range from the daily sales
rollup (datasources/reports/rollup.py) and only the partial first and last
day from the orders (split_sales), added up in one statement; a hub-wide
ranking of products reads the whole UTC months from the hub's monthly
per-product rollup and only the days of the partial first and last month
from the daily one. Forecasts
(daily_units) read the order lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text, union_all

from datasources.catalog.models import Product
from datasources.db import RequestDatabase
from datasources.orders.models import Order, OrderLine
from datasources.partners.models import Reseller
from datasources.reports.periods import Interval, as_utc, next_period_day, start_of
from datasources.reports.rollup import SalesDaily, SalesDailyProduct, SalesMonthlyProduct

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


def bucket(dialect: str, interval: Interval, column: str = "orders.placed_at") -> ColumnElement[Any]:
    """The first day of the calendar period (UTC) of an instant column, in the dialect's SQL.

    `column` may also be a rollup's `day` (a date; 'YYYY-MM-DD' text on SQLite): the same expression
    then buckets days, and answers the same type as for instants, so the two can be added up together.
    """
    if dialect == "postgresql":
        unit = {"DAY": "day", "WEEK": "week", "MONTH": "month"}[interval]
        if column.endswith(".day"):
            # A date as a plain timestamp (never through timestamptz and the session's time zone).
            return literal_column(f"date_trunc('{unit}', CAST({column} AS timestamp))")
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


@dataclass(frozen=True)
class SalesSplit:
    """A report's range as whole UTC months and days read from the rollup and edge slices read from the orders."""

    months: tuple[date, date] | None
    """[first, last) whole months (their first days) inside the range, from the monthly rollup; None
    when there is none or none was asked for."""
    days: tuple[tuple[date, date], ...]
    """[first, last) ranges of whole days inside the range and outside `months` (none, one, or the
    days before and after the whole months)."""
    edges: tuple[SalesFilter, ...]
    """The parts of the range before the first and after the last whole day (none when at midnight)."""


def split_sales(sales: SalesFilter, *, months: bool = False) -> SalesSplit:
    """Whole days from the rollup, the partial first and last day from the orders (exact at any instant).

    With `months`, the whole calendar months inside the whole days come from the monthly rollup,
    and only the days of the partial first and last month from the daily one.
    """
    start, end = as_utc(sales.start), as_utc(sales.end)
    first = start.date() if start == start_of(start.date()) else start.date() + timedelta(days=1)
    last = end.date()
    if first >= last:
        return SalesSplit(None, (), (sales,))
    edges = []
    if start < start_of(first):
        edges.append(replace(sales, end=start_of(first)))
    if start_of(last) < end:
        edges.append(replace(sales, start=start_of(last)))
    first_month = first if first.day == 1 else next_period_day(first.replace(day=1), "MONTH")
    last_month = last.replace(day=1)
    if not months or first_month >= last_month:
        return SalesSplit(None, ((first, last),), tuple(edges))
    days = tuple(span for span in ((first, first_month), (last_month, last)) if span[0] < span[1])
    return SalesSplit((first_month, last_month), days, tuple(edges))


def rollup_conditions(table: Any, sales: SalesFilter, days: tuple[date, date]) -> list[ColumnElement[bool]]:
    """The WHERE of the daily rollup rows of whole days [first, last) under the report's filter."""
    conditions = [table.day >= days[0], table.day < days[1]]
    if sales.currency is not None:
        conditions.append(table.currency == sales.currency)
    if sales.reseller_id is not None:
        conditions.append(table.reseller_id == sales.reseller_id)
    if sales.store_id is not None:
        conditions.append(table.store_id == sales.store_id)
    return conditions


def _orders_by_period(edge: SalesFilter, period: ColumnElement[Any]) -> Select[Any]:
    orders = (
        select(
            period.label("period"),
            func.count().label("orders"),
            func.sum(Order.total_minor).label("revenue"),
            func.sum(Order.discount_minor).label("discounts"),
        )
        .where(*order_conditions(edge))
        .group_by(period)
        .subquery()
    )
    units = (
        _lines_of_orders(edge, period.label("period"), func.sum(OrderLine.quantity).label("units"))
        .group_by(period)
        .subquery()
    )
    return select(
        orders.c.period,
        orders.c.orders,
        orders.c.revenue,
        orders.c.discounts,
        func.coalesce(units.c.units, 0).label("units"),
    ).outerjoin(units, units.c.period == orders.c.period)


async def sales_by_period(db: RequestDatabase, sales: SalesFilter, interval: Interval) -> list[PeriodRow]:
    """Orders, units, revenue and discounts per period that had orders (one statement).

    Whole days from `sales_daily`, the partial first and last day from the orders (see split_sales).
    """
    dialect = await prepare_for_reports(db)
    split = split_sales(sales)
    parts: list[Select[Any]] = [_orders_by_period(edge, bucket(dialect, interval)) for edge in split.edges]
    for days in split.days:
        period = bucket(dialect, interval, "sales_daily.day")
        parts.append(
            select(
                period.label("period"),
                func.sum(SalesDaily.orders).label("orders"),
                func.sum(SalesDaily.revenue_minor).label("revenue"),
                func.sum(SalesDaily.discount_minor).label("discounts"),
                func.sum(SalesDaily.units).label("units"),
            )
            .where(*rollup_conditions(SalesDaily, sales, days))
            .group_by(period)
        )
    every = (
        union_all(*parts).subquery("period_parts") if len(parts) > 1 else parts[0].subquery("period_parts")
    )
    rows = await db.all(
        select(
            every.c.period,
            func.sum(every.c.orders).label("orders"),
            func.sum(every.c.revenue).label("revenue"),
            func.sum(every.c.discounts).label("discounts"),
            func.sum(every.c.units).label("units"),
        )
        .group_by(every.c.period)
        .having(func.sum(every.c.orders) > 0)
        .order_by(every.c.period)
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
    (as the order line named it when the catalog no longer has the SKU).

    Hub-wide: whole months from `sales_monthly_products`, the other whole days from
    `sales_daily_products`, the partial first and last day from the order lines. A store's or a
    reseller's: the whole days from `sales_daily_products` (the monthly rows are the whole hub's).
    """
    await prepare_for_reports(db)
    split = split_sales(sales, months=sales.reseller_id is None and sales.store_id is None)
    parts: list[Select[Any]] = [
        _lines_of_orders(
            edge,
            OrderLine.sku.label("sku"),
            OrderLine.quantity.label("units"),
            OrderLine.total_minor.label("revenue"),
        )
        for edge in split.edges
    ]
    for days in split.days:
        parts.append(
            select(
                SalesDailyProduct.sku.label("sku"),
                SalesDailyProduct.units.label("units"),
                SalesDailyProduct.revenue_minor.label("revenue"),
            ).where(*rollup_conditions(SalesDailyProduct, sales, days))
        )
    if split.months is not None:
        parts.append(
            select(
                SalesMonthlyProduct.sku.label("sku"),
                SalesMonthlyProduct.units.label("units"),
                SalesMonthlyProduct.revenue_minor.label("revenue"),
            ).where(
                SalesMonthlyProduct.month >= split.months[0],
                SalesMonthlyProduct.month < split.months[1],
                *([SalesMonthlyProduct.currency == sales.currency] if sales.currency is not None else []),
            )
        )
    sold = union_all(*parts).subquery("sold") if len(parts) > 1 else parts[0].subquery("sold")
    revenue = func.sum(sold.c.revenue).label("revenue")
    ranked = (
        select(sold.c.sku.label("sku"), func.sum(sold.c.units).label("units"), revenue)
        .group_by(sold.c.sku)
        .order_by(revenue.desc(), sold.c.sku)
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


def _orders_by_reseller(edge: SalesFilter) -> Select[Any]:
    orders = (
        select(
            Order.reseller_id.label("reseller_id"),
            func.count().label("orders"),
            func.sum(Order.total_minor).label("revenue"),
        )
        .where(*order_conditions(edge))
        .group_by(Order.reseller_id)
        .subquery()
    )
    units = (
        _lines_of_orders(
            edge, Order.reseller_id.label("reseller_id"), func.sum(OrderLine.quantity).label("units")
        )
        .group_by(Order.reseller_id)
        .subquery()
    )
    return select(
        orders.c.reseller_id,
        orders.c.orders,
        orders.c.revenue,
        func.coalesce(units.c.units, 0).label("units"),
    ).outerjoin(units, units.c.reseller_id == orders.c.reseller_id)


async def sales_by_reseller(db: RequestDatabase, sales: SalesFilter) -> list[ResellerRow]:
    """Orders, units and revenue per reseller, highest revenue first, ties by reseller code.

    Whole days from `sales_daily`, the partial first and last day from the orders.
    """
    await prepare_for_reports(db)
    split = split_sales(sales)
    parts: list[Select[Any]] = [_orders_by_reseller(edge) for edge in split.edges]
    for days in split.days:
        parts.append(
            select(
                SalesDaily.reseller_id.label("reseller_id"),
                func.sum(SalesDaily.orders).label("orders"),
                func.sum(SalesDaily.revenue_minor).label("revenue"),
                func.sum(SalesDaily.units).label("units"),
            )
            .where(*rollup_conditions(SalesDaily, sales, days))
            .group_by(SalesDaily.reseller_id)
        )
    every = (
        union_all(*parts).subquery("reseller_parts")
        if len(parts) > 1
        else parts[0].subquery("reseller_parts")
    )
    summed = (
        select(
            every.c.reseller_id.label("reseller_id"),
            func.sum(every.c.orders).label("orders"),
            func.sum(every.c.revenue).label("revenue"),
            func.sum(every.c.units).label("units"),
        )
        .group_by(every.c.reseller_id)
        .having(func.sum(every.c.orders) > 0)
        .subquery("reseller_sums")
    )
    rows = await db.all(
        select(summed.c.reseller_id, summed.c.orders, summed.c.revenue, summed.c.units)
        .join(Reseller, Reseller.id == summed.c.reseller_id)
        .order_by(summed.c.revenue.desc(), Reseller.code)
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
