"""The sales rollup: orders and product sales per UTC day (and product sales per UTC month), store,
reseller and currency, kept in step.

`sales_daily` and `sales_daily_products` hold, per UTC calendar day of `placed_at`, the figures of
the orders that count (not CANCELLED): orders, units, revenue and discounts; and units and line
revenue per SKU. `sales_monthly_products` holds the per-SKU figures of the whole hub per UTC
calendar month and currency (no store, no reseller): a hub-wide ranking of products over whole
months reads one row per product and month instead of one per product, store and day (a year of
the report bench: 47,539 rows instead of 948,351; per store and month it would still be 891,702,
per reseller and month 711,798, since a store sells most products at most once a month there; see
docs/performance.md). Every writer that changes them does so in its own transaction, from the
rows it has just written, with one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE per table
(the same SQL on SQLite and PostgreSQL, apart from the day and month): checkout adds its order,
cancelling subtracts it (and drops rows left at zero, so a cancelled order leaves no trace in a
report), and the bulk history writer adds a whole batch. Reading the figures from the orders just
written, rather than from the writer's Python values, keeps one definition of what counts.

Concurrent writers (two checkouts of one store and day with SKUs in common, a checkout and an
import) update the same rows: every upsert inserts its rows in key order (ORDER BY), so on
PostgreSQL they take the rows' locks in one order and wait for each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base
from datasources.orders.models import Order


class SalesDaily(Base):
    """The orders that count of one UTC day, store and currency (the store's reseller with them)."""

    __tablename__ = "sales_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)


class SalesDailyProduct(Base):
    """Units and line revenue of one SKU in the orders that count of one UTC day, store and currency."""

    __tablename__ = "sales_daily_products"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)


class SalesMonthlyProduct(Base):
    """Units and line revenue of one SKU in the orders that count of one UTC month and currency, over
    every store of the hub.

    `month` is the month's first day. The same figures as the month's `sales_daily_products` rows of
    every store added up: a hub-wide report reads whole months from here and the days of its partial
    months from there; a store's or a reseller's report reads the daily rows only.

    Every checkout of a SKU in a month updates the same row, so concurrent checkouts with a SKU in
    common wait for each other's commit on PostgreSQL (the row lock is taken at the end of checkout,
    just before its commit).
    """

    __tablename__ = "sales_monthly_products"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)


def utc_day_sql(dialect: str, column: str = "o.placed_at") -> str:
    """The UTC calendar day of an instant column, as a date (text 'YYYY-MM-DD' on SQLite)."""
    if dialect == "postgresql":
        return f"CAST(timezone('UTC', {column}) AS DATE)"
    # SQLite holds instants as UTC text; its date functions would round '23:59:59.999999' up.
    return f"substr({column}, 1, 10)"


def utc_month_sql(dialect: str, column: str = "o.placed_at") -> str:
    """The first day of the UTC calendar month of an instant column, as a date ('YYYY-MM-01' on SQLite)."""
    if dialect == "postgresql":
        return f"CAST(date_trunc('month', timezone('UTC', {column})) AS DATE)"
    return f"substr({column}, 1, 7) || '-01'"


def rollup_sql(dialect: str, which_orders: str) -> tuple[str, str, str]:
    """The three upserts that add `:sign` times the orders matching `which_orders` (SQL over `o`)."""
    day = utc_day_sql(dialect)
    month = utc_month_sql(dialect)
    daily = f"""
        INSERT INTO sales_daily (day, store_id, reseller_id, currency, orders, units, revenue_minor, discount_minor)
        SELECT {day}, o.store_id, o.reseller_id, o.currency, :sign * count(*),
               :sign * coalesce(sum(l.units), 0), :sign * sum(o.total_minor), :sign * sum(o.discount_minor)
        FROM orders o
        LEFT JOIN (
            SELECT ol.order_id, sum(ol.quantity) AS units FROM order_lines ol JOIN orders o ON o.id = ol.order_id
            WHERE {which_orders} GROUP BY ol.order_id
        ) l ON l.order_id = o.id
        WHERE {which_orders}
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, store_id, reseller_id, currency) DO UPDATE SET
            orders = sales_daily.orders + excluded.orders,
            units = sales_daily.units + excluded.units,
            revenue_minor = sales_daily.revenue_minor + excluded.revenue_minor,
            discount_minor = sales_daily.discount_minor + excluded.discount_minor
    """
    products = f"""
        INSERT INTO sales_daily_products (day, store_id, reseller_id, currency, sku, units, revenue_minor)
        SELECT {day}, o.store_id, o.reseller_id, o.currency, ol.sku,
               :sign * sum(ol.quantity), :sign * sum(ol.total_minor)
        FROM order_lines ol JOIN orders o ON o.id = ol.order_id
        WHERE {which_orders}
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, store_id, reseller_id, currency, sku) DO UPDATE SET
            units = sales_daily_products.units + excluded.units,
            revenue_minor = sales_daily_products.revenue_minor + excluded.revenue_minor
    """
    monthly_products = f"""
        INSERT INTO sales_monthly_products (month, currency, sku, units, revenue_minor)
        SELECT {month}, o.currency, ol.sku, :sign * sum(ol.quantity), :sign * sum(ol.total_minor)
        FROM order_lines ol JOIN orders o ON o.id = ol.order_id
        WHERE {which_orders}
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (month, currency, sku) DO UPDATE SET
            units = sales_monthly_products.units + excluded.units,
            revenue_minor = sales_monthly_products.revenue_minor + excluded.revenue_minor
    """
    return daily, products, monthly_products


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def add_to_sales_rollup(session: AsyncSession, order: Order) -> None:
    """Add a just-written order (with its lines) to the rollup, in the caller's transaction: 3 statements."""
    await _apply(session, "o.id = :order_id AND o.status != 'CANCELLED'", {"order_id": order.id}, 1)


async def remove_from_sales_rollup(session: AsyncSession, order: Order) -> None:
    """Take a just-cancelled order out of the rollup, in the caller's transaction: 6 statements.

    Rows left at zero go: a day, month, store or product with no counted order must not show in a report.
    """
    await _apply(session, "o.id = :order_id", {"order_id": order.id}, -1)
    dialect = _dialect(session)
    day, month = utc_day_sql(dialect), utc_month_sql(dialect)
    store = "AND {t}.store_id = o.store_id AND {t}.reseller_id = o.reseller_id"
    for table, period, empty, scope in (
        ("sales_daily", f"day = {day}", "orders = 0", store),
        ("sales_daily_products", f"day = {day}", "units = 0", store),
        ("sales_monthly_products", f"month = {month}", "units = 0", ""),
    ):
        same_key = (
            f"FROM orders o WHERE o.id = :order_id AND {table}.{period} {scope.format(t=table)} "
            f"AND {table}.currency = o.currency"
        )
        await session.execute(
            text(f"DELETE FROM {table} WHERE {empty} AND EXISTS (SELECT 1 {same_key})"),
            {"order_id": order.id},
        )


async def add_batch_to_sales_rollup(session: AsyncSession, order_ids: Sequence[int]) -> None:
    """Add a batch of just-written orders (the counted ones) to the rollup: 3 statements per batch."""
    if not order_ids:
        return
    if _dialect(session) == "postgresql":
        condition = "o.id = ANY(CAST(:ids AS integer[])) AND o.status != 'CANCELLED'"
        params: dict[str, object] = {"ids": list(order_ids)}
    else:
        # SQLite's ids of a batch are one range (allocated under the write lock).
        condition = "o.id BETWEEN :low AND :high AND o.status != 'CANCELLED'"
        params = {"low": min(order_ids), "high": max(order_ids)}
    await _apply(session, condition, params, 1)


async def rebuild_sales_rollup(session: AsyncSession) -> None:
    """Empty the rollup and add every counted order again (tests that write orders directly; repairs)."""
    await session.execute(text("DELETE FROM sales_monthly_products"))
    await session.execute(text("DELETE FROM sales_daily_products"))
    await session.execute(text("DELETE FROM sales_daily"))
    await _apply(session, "o.status != 'CANCELLED'", {}, 1)


async def _apply(session: AsyncSession, which_orders: str, params: dict[str, object], sign: int) -> None:
    for statement in rollup_sql(_dialect(session), which_orders):
        await session.execute(text(statement), {**params, "sign": sign})
