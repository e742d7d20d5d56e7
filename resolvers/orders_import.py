"""`hub orders import`: a CSV file of past store orders into the hub, all or nothing, in batches.

The reader (`resolvers.orders_reader`) checks the file against the stores and the catalog, loaded
once; the bulk writer (`datasources.orders.history`) writes each batch of whole orders while a
worker thread reads and checks the next (SQLite's engine and the PostgreSQL server work without
the GIL meanwhile). Unlike the catalog import, the reader is not a process of its own: measured
side by side, sending checked orders between processes (pickling about 1.3 objects a line) cost
more CPU than it saved, 32 against 25 µs a line, and the command was slower on the shared machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Product
from datasources.db import WRITE_TRANSACTION
from datasources.orders.history import existing_numbers, write_orders
from datasources.stores.models import Store, StoreProductContent
from resolvers.catalog_import import cyclic_gc_paused
from resolvers.catalog_reader import Rejected
from resolvers.orders_reader import CheckedBatch, ReadRequest, StoreFacts, checked_batches

BATCH_SIZE = 5000
"""File lines per batch; an order still open at a batch's last line is written with the next batch."""


class WriteRefused(RuntimeError):
    """The database refused a checked batch (another writer added one of its numbers meanwhile, on
    PostgreSQL); the import wrote nothing."""


@dataclass
class ImportReport:
    orders: int = 0
    lines: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    written: bool = False

    @property
    def rejected_lines(self) -> int:
        return len({r.line for r in self.rejected})


async def read_request(session: AsyncSession, path: Path, batch_size: int, now: datetime) -> ReadRequest:
    """Everything the reader checks against: the stores, every SKU's name and the stores' own names."""
    stores = {
        slug: StoreFacts(store_id, reseller_id, currency)
        for slug, store_id, reseller_id, currency in await session.execute(
            select(Store.slug, Store.id, Store.reseller_id, Store.currency)
        )
    }
    product_names = dict((await session.execute(select(Product.sku, Product.name))).all())
    store_product_names = {
        (store_id, sku): name
        for store_id, sku, name in await session.execute(
            select(StoreProductContent.store_id, Product.sku, StoreProductContent.name)
            .join(Product, Product.id == StoreProductContent.product_id)
            .where(StoreProductContent.name.is_not(None))
        )
    }
    return ReadRequest(
        path=path,
        batch_size=batch_size,
        now=now,
        stores=stores,
        product_names=product_names,
        store_product_names=store_product_names,
    )


async def import_orders(
    session_factory: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] = lambda _n: None,
    now: datetime | None = None,
) -> ImportReport:
    """Import the file in one transaction: every order, or nothing when any line is rejected.

    Raises `UnreadableFile` (nothing written) when the file cannot be read further (not UTF-8,
    not CSV, a wrong header), and `WriteRefused` when the database refuses a batch.
    """
    report = ImportReport()
    async with session_factory() as session, session.begin():
        # SQLite: the write lock from the start, so the order ids the writer allocates stay free.
        await session.connection(execution_options=WRITE_TRANSACTION)
        if session.bind.dialect.name == "sqlite":
            # The orders' indexes of a large import outgrow SQLite's default 2 MB page cache.
            await session.execute(text("PRAGMA cache_size = -65536"))
        request = await read_request(session, path.absolute(), batch_size, now or datetime.now(UTC))  # noqa: ASYNC240
        batches = checked_batches(request)
        with cyclic_gc_paused():
            # The first batch is read here; each next one in a thread while this one is written.
            reading = asyncio.create_task(asyncio.to_thread(next, batches, None))
            try:
                while (batch := await reading) is not None:
                    reading = asyncio.create_task(asyncio.to_thread(next, batches, None))
                    await _write_batch(session, batch, report)
                    progress(batch.lines)
            finally:
                # A failed write leaves the reader's thread running: let it end before the file closes.
                await asyncio.gather(reading, return_exceptions=True)
                batches.close()
        if report.rejected:
            await session.rollback()
            report.orders = report.lines = 0
            report.rejected.sort(key=lambda r: r.line)
            return report
        report.written = True
    return report


async def _write_batch(session: AsyncSession, batch: CheckedBatch, report: ImportReport) -> None:
    report.rejected.extend(batch.rejected)
    if not batch.orders:
        return
    taken = await existing_numbers(session, [order.number for order in batch.orders])
    if taken:
        for order, line in zip(batch.orders, batch.first_lines, strict=True):
            if order.number in taken:
                report.rejected.append(Rejected(line, f"number: order {order.number} is already in the hub"))
    if report.rejected:
        return  # nothing will be written: only keep checking
    try:
        await write_orders(session, batch.orders)
    except IntegrityError as error:
        reason = str(error.orig).splitlines()[0] if error.orig is not None else "a constraint failed"
        raise WriteRefused(
            f"the database refused the orders that begin on lines {batch.first_lines[0]} to "
            f"{batch.first_lines[-1]} ({reason})"
        ) from None
    report.orders += len(batch.orders)
    report.lines += sum(len(order.lines) for order in batch.orders)
