"""The bulk writer of order history: checked orders written in batches, for `hub orders import` and the sample.

Both callers hand it orders that are already checked (`datasources.orders.rows.HistoricalOrder`); it
only writes, fast:
order ids are allocated up front for the whole batch, then each table gets its rows in as few
statements as the database allows. On PostgreSQL that is `COPY` (asyncpg's binary copy, well
over ten times a multi-row INSERT's speed for wide rows); on SQLite, multi-row INSERTs straight
through the driver, each under SQLite's bound-parameter limit. The caller's transaction holds
everything: a failure anywhere writes nothing.

Ids: on SQLite the caller must hold the write lock from the start of its transaction (a unit of
work's `WRITE_TRANSACTION`, BEGIN IMMEDIATE), so that no other connection can add an order
between reading the highest id and inserting; on PostgreSQL they come from the table's sequence.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.loading import chunks
from datasources.orders.rows import HistoricalOrder
from datasources.reports.rollup import add_batch_to_sales_rollup

ORDER_COLUMNS = (
    "id",
    "number",
    "store_id",
    "reseller_id",
    "status",
    "customer_email",
    "customer_email_key",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_postal_code",
    "ship_region",
    "ship_country",
    "payment_method",
    "currency",
    "subtotal_minor",
    "discount_minor",
    "total_minor",
    "placed_at",
    "marketing_opt_in",
)
LINE_COLUMNS = (
    "order_id",
    "position",
    "sku",
    "name",
    "quantity",
    "unit_price_minor",
    "discount_minor",
    "total_minor",
)
EVENT_COLUMNS = ("order_id", "status", "at", "by", "reason")

_SQLITE_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


async def existing_numbers(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    """The ones of `numbers` that orders in the hub already have: one statement per few thousand.

    Straight through the driver: an expanding IN of SQLAlchemy's costs more to build than to run.
    """
    connection = await session.connection()
    if session.bind.dialect.name != "sqlite":
        result = await connection.exec_driver_sql(
            "SELECT number FROM orders WHERE number = ANY($1::varchar[])", (list(numbers),)
        )
        return {row[0] for row in result.all()}
    found: set[str] = set()
    for part in chunks(list(numbers), _SQLITE_MAX_PARAMETERS):
        result = await connection.exec_driver_sql(
            f"SELECT number FROM orders WHERE number IN ({', '.join('?' * len(part))})", tuple(part)
        )
        found.update(row[0] for row in result.all())
    return found


async def write_orders(session: AsyncSession, orders: Sequence[HistoricalOrder]) -> None:
    """Insert the orders with their lines and history, in the caller's transaction.

    The orders must be checked (store, currency, SKUs, numbers new to the hub and to each other):
    the database's constraints are the only check left, and one broken row fails the batch with
    SQLAlchemy's `IntegrityError` (on both databases).
    """
    if not orders:
        return
    sqlite = session.bind.dialect.name == "sqlite"
    ids = await (_allocate_ids_sqlite if sqlite else _allocate_ids_postgresql)(session, len(orders))
    stamp = _sqlite_time if sqlite else _utc
    order_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    for order_id, order in zip(ids, orders, strict=True):
        total = 0
        for position, line in enumerate(order.lines):
            line_total = line.quantity * line.unit_price_minor
            total += line_total
            line_rows.append(
                (order_id, position, line.sku, line.name, line.quantity, line.unit_price_minor, 0, line_total)
            )
        address = order.address
        placed_at = stamp(order.placed_at)
        order_rows.append(
            (
                order_id,
                order.number,
                order.store_id,
                order.reseller_id,
                order.status,
                order.customer_email,
                order.customer_email.lower(),
                address.name,
                address.line1,
                address.line2,
                address.city,
                address.postal_code,
                address.region,
                address.country,
                order.payment_method,
                order.currency,
                total,
                0,
                total,
                placed_at,
                order.marketing_opt_in,
            )
        )
        for status, at, by, reason in order.history():
            event_rows.append(
                (order_id, status, placed_at if at is order.placed_at else stamp(at), by, reason)
            )
    if sqlite:
        await _insert_sqlite(session, "orders", ORDER_COLUMNS, order_rows)
        await _insert_sqlite(session, "order_lines", LINE_COLUMNS, line_rows)
        await _insert_sqlite(session, "order_events", EVENT_COLUMNS, event_rows)
    else:
        await _copy_postgresql(session, "orders", ORDER_COLUMNS, order_rows)
        await _copy_postgresql(session, "order_lines", LINE_COLUMNS, line_rows)
        await _copy_postgresql(session, "order_events", EVENT_COLUMNS, event_rows)
    # The batch's days in the sales rollup, from the rows just written (one upsert per rollup table).
    await add_batch_to_sales_rollup(session, list(ids))


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _sqlite_time(at: datetime) -> str:
    """A time as SQLAlchemy stores it on SQLite ("2026-03-02 08:15:00.000000", UTC), so every reader
    sees one format; `isoformat` writes the same text several times faster (a test compares them)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


async def _allocate_ids_sqlite(session: AsyncSession, count: int) -> range:
    # An INTEGER PRIMARY KEY without AUTOINCREMENT takes max(id) + 1 anyway; the write lock is held.
    highest = await session.scalar(text("SELECT coalesce(max(id), 0) FROM orders"))
    return range(highest + 1, highest + 1 + count)


async def _allocate_ids_postgresql(session: AsyncSession, count: int) -> list[int]:
    result = await session.execute(
        text("SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, :count)"),
        {"count": count},
    )
    return [row[0] for row in result.all()]


async def _insert_sqlite(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    connection = await session.connection()
    placeholders = f"({', '.join('?' * len(columns))})"
    per_statement = _SQLITE_MAX_PARAMETERS // len(columns)
    full_statement = None  # the text of a full chunk, made once
    for part in chunks(rows, per_statement):
        if len(part) == per_statement and full_statement is not None:
            statement = full_statement
        else:
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholders] * len(part))}"
            )
            if len(part) == per_statement:
                full_statement = statement
        await connection.exec_driver_sql(statement, tuple(chain.from_iterable(part)))


async def _copy_postgresql(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    # The session's own connection, so the copy is part of the caller's transaction.
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    try:
        await raw.driver_connection.copy_records_to_table(table, records=rows, columns=list(columns))
    except asyncpg.IntegrityConstraintViolationError as error:
        # The driver's own error, raised past SQLAlchemy: callers see the same error on both databases.
        raise IntegrityError(f"COPY {table}", None, error) from error
