"""Bulk writes of the master catalog, shared by the upsert mutations and `hub catalog import`."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import (
    SQLITE_SEARCH_DDL,
    Category,
    Product,
    ProductAttribute,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.catalog.rows import PRODUCT_COLUMNS, ProductWrite
from datasources.catalog.search import SEARCH_WORDS_FUNCTION, search_words
from datasources.catalog.staged import StagedProducts
from datasources.loading import chunks

SQLITE_ROW_SEARCH_TRIGGERS = ("products_search_ai", "products_search_au")


async def ids_by_code(session: AsyncSession, model: type, codes: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(codes)):
        for row in (await session.execute(select(model.code, model.id).where(model.code.in_(part)))).all():
            found[row[0]] = row[1]
    return found


async def all_ids_by_code(session: AsyncSession, model: type) -> dict[str, int]:
    """Every code of a small table (categories, product groups) with its id."""
    return {code: row_id for code, row_id in (await session.execute(select(model.code, model.id))).all()}


async def product_ids_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(skus)):
        for sku, product_id in (
            await session.execute(select(Product.sku, Product.id).where(Product.sku.in_(part)))
        ).all():
            found[sku] = product_id
    return found


@asynccontextmanager
async def search_indexed_per_batch(session: AsyncSession) -> AsyncIterator[bool]:
    """For a bulk load on SQLite: index the search text once per batch rather than once per row.

    An FTS5 index flushes its pending entries at the end of every statement: indexing row by row
    from the triggers cost the trigram index ~100 µs a row (7,900 rows/s measured), one INSERT …
    SELECT per batch ~25 µs (35,000 rows/s); the suffix index behaves the same way. Inside
    the caller's write transaction the insert and update triggers are dropped and made again at
    the end; SQLite's DDL is transactional and the unit of work holds the write lock, so no other
    connection ever sees the table without them. Answers whether `upsert_products` must index
    (pass it as `index_search`).
    """
    if session.bind.dialect.name != "sqlite":
        yield False
        return
    connection = await session.connection()
    for trigger in SQLITE_ROW_SEARCH_TRIGGERS:
        await connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    try:
        yield True
    finally:
        if session.in_transaction():
            for statement in SQLITE_SEARCH_DDL:
                await connection.exec_driver_sql(statement)


class ProductImport(Protocol):
    """How `hub catalog import` writes: `add` each batch of checked products, then `write` once."""

    search_words: bool
    """Whether the reader must fill in each row's search-index words (the writer indexes them)."""

    async def add(self, rows: Sequence[ProductWrite]) -> None: ...

    async def write(self) -> None: ...


@asynccontextmanager
async def product_import(session: AsyncSession) -> AsyncIterator[ProductImport]:
    """The one place the import's way of writing is chosen, by the database, inside the caller's
    transaction: on PostgreSQL COPY into staging tables and set-based upserts at the end
    (`datasources.catalog.staged`); elsewhere (SQLite) `upsert_products` batch by batch, the
    search index built once per batch (`search_indexed_per_batch`)."""
    if session.bind.dialect.name == "postgresql":
        staged = StagedProducts(session)
        await staged.open()
        yield _Staged(staged)
        return
    async with search_indexed_per_batch(session) as index_search:
        yield _UpsertedPerBatch(session, index_search)


class _Staged:
    search_words = False  # a generated column: PostgreSQL derives them

    def __init__(self, staged: StagedProducts) -> None:
        self.add = staged.add
        self.write = staged.write


class _UpsertedPerBatch:
    def __init__(self, session: AsyncSession, index_search: bool) -> None:
        self._session = session
        self.search_words = index_search

    async def add(self, rows: Sequence[ProductWrite]) -> None:
        await upsert_products(self._session, rows, index_search=self.search_words)

    async def write(self) -> None:
        """Every batch is written as it comes."""


async def _unindex_search(session: AsyncSession, product_ids: Sequence[int]) -> None:
    connection = await session.connection()
    for part in chunks(list(product_ids), _SQLITE_MAX_PARAMETERS):
        await connection.exec_driver_sql(
            "INSERT INTO product_search(product_search, rowid, words) "
            f"SELECT 'delete', id, {SEARCH_WORDS_FUNCTION}(search_text) FROM products "
            f"WHERE id IN ({', '.join('?' * len(part))})",
            tuple(part),
        )


async def _index_search(session: AsyncSession, rows: Sequence[ProductWrite], ids: dict[str, int]) -> None:
    connection = await session.connection()
    for part in chunks(list(rows), _SQLITE_MAX_PARAMETERS // 2):
        await connection.exec_driver_sql(
            f"INSERT INTO product_search(rowid, words) VALUES {', '.join(['(?, ?)'] * len(part))}",
            tuple([value for row in part for value in (ids[row.sku], _words_of(row))]),
        )


def _words_of(row: ProductWrite) -> str:
    return row.search_words if row.search_words is not None else search_words(row.search_text)


async def upsert_products(
    session: AsyncSession, rows: Sequence[ProductWrite], *, index_search: bool = False
) -> dict[str, int]:
    """Insert or update products by SKU with their prices, attributes and groups; returns SKU → id.

    `index_search`: the search triggers are off (`search_indexed_per_batch`), so index here.
    """
    sqlite = session.bind.dialect.name == "sqlite"
    skus = [row.sku for row in rows]
    ids = await (_product_ids_by_sku_sqlite(session, skus) if sqlite else product_ids_by_sku(session, skus))
    new_rows = [row for row in rows if row.sku not in ids]
    old_rows = [row for row in rows if row.sku in ids]
    if index_search and old_rows:
        await _unindex_search(session, [ids[row.sku] for row in old_rows])
    if new_rows:
        if sqlite:
            ids.update(await _insert_products_sqlite(session, new_rows))
        else:
            # Core inserts (the table, not the mapped class): no ORM bookkeeping per row.
            table = Product.__table__
            inserted = await session.execute(
                insert(table).returning(table.c.id, table.c.sku), [_product_values(row) for row in new_rows]
            )
            ids.update({sku: product_id for product_id, sku in inserted.all()})
    if old_rows:
        if sqlite and sqlite3.sqlite_version_info >= (3, 33):
            await _update_products_sqlite(session, old_rows, ids)
        else:
            await session.execute(
                update(Product), [{"id": ids[row.sku], **_product_values(row)} for row in old_rows]
            )
    if index_search:
        await _index_search(session, rows, ids)
    # Brand-new products have no children to replace.
    await _delete_children(session, old_rows, ids)
    await _insert_children(session, rows, ids, sqlite=sqlite)
    return ids


# SQLite fast path (bulk import). One multi-row INSERT per chunk rather than one statement per row:
# the FTS5 trigger flushes the search index at the end of every statement, which made row-by-row
# inserts cost ~130 µs a product. Children go straight to the driver's executemany (no per-row
# parameter processing). Chunks stay under the bound-parameter limit (999 before SQLite 3.32, 32766 since).
_SQLITE_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_SQLITE_ROWS_PER_INSERT = _SQLITE_MAX_PARAMETERS // len(PRODUCT_COLUMNS)


async def _product_ids_by_sku_sqlite(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    connection = await session.connection()
    found: dict[str, int] = {}
    for part in chunks(skus, _SQLITE_MAX_PARAMETERS):
        result = await connection.exec_driver_sql(
            f"SELECT sku, id FROM products WHERE sku IN ({', '.join('?' * len(part))})", tuple(part)
        )
        found.update((sku, product_id) for sku, product_id in result.all())
    return found


async def _insert_products_sqlite(session: AsyncSession, rows: Sequence[ProductWrite]) -> dict[str, int]:
    connection = await session.connection()
    ids: dict[str, int] = {}
    columns = ", ".join(PRODUCT_COLUMNS)
    for part in chunks(list(rows), _SQLITE_ROWS_PER_INSERT):
        placeholders = ", ".join(["(?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)"] * len(part))
        params: list[object] = []
        for row in part:
            params += row.product_values()
        result = await connection.exec_driver_sql(
            f"INSERT INTO products ({columns}, updated_at) VALUES {placeholders} RETURNING id, sku",
            tuple(params),
        )
        ids.update({sku: product_id for product_id, sku in result.all()})
    return ids


async def _update_products_sqlite(
    session: AsyncSession, rows: Sequence[ProductWrite], ids: dict[str, int]
) -> None:
    """One UPDATE … FROM (VALUES …) per chunk (SQLite 3.33+), for the FTS trigger's sake as above."""
    connection = await session.connection()
    for part in chunks(list(rows), _SQLITE_ROWS_PER_INSERT - 1):
        params: list[object] = []
        for row in part:
            params += (
                ids[row.sku],
                row.name,
                row.description,
                row.status,
                row.category_id,
                row.search_text,
            )
        await connection.exec_driver_sql(
            "UPDATE products SET name = v.column2, description = v.column3, status = v.column4, "
            "category_id = v.column5, search_text = v.column6, updated_at = CURRENT_TIMESTAMP "
            f"FROM (VALUES {', '.join(['(?, ?, ?, ?, ?, ?)'] * len(part))}) AS v "
            "WHERE products.id = v.column1",
            tuple(params),
        )


def _product_values(row: ProductWrite) -> dict[str, object]:
    return {
        "sku": row.sku,
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "category_id": row.category_id,
        "search_text": row.search_text,
    }


async def _insert_many_sqlite(
    session: AsyncSession, table: str, columns: Sequence[str], values: Sequence[tuple[object, ...]]
) -> None:
    connection = await session.connection()
    row = f"({', '.join('?' * len(columns))})"
    per_statement = _SQLITE_MAX_PARAMETERS // len(columns)
    for part in chunks(values, per_statement):
        await connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * len(part))}",
            tuple([value for values_of_row in part for value in values_of_row]),
        )


async def _delete_children(session: AsyncSession, rows: Sequence[ProductWrite], ids: dict[str, int]) -> None:
    """Clear the lists the rows give (a list given replaces what is stored; None keeps it)."""
    priced = [ids[row.sku] for row in rows if row.prices_minor is not None]
    described = [ids[row.sku] for row in rows if row.attributes is not None]
    grouped = [ids[row.sku] for row in rows if row.group_ids is not None]
    for part in chunks(priced):
        await session.execute(delete(ProductPrice).where(ProductPrice.product_id.in_(part)))
    for part in chunks(described):
        await session.execute(delete(ProductAttribute).where(ProductAttribute.product_id.in_(part)))
    for part in chunks(grouped):
        await session.execute(delete(ProductGroupMember).where(ProductGroupMember.product_id.in_(part)))


async def _insert_children(
    session: AsyncSession, rows: Sequence[ProductWrite], ids: dict[str, int], *, sqlite: bool
) -> None:
    prices = [
        (ids[row.sku], currency, amount)
        for row in rows
        if row.prices_minor
        for currency, amount in row.prices_minor.items()
    ]
    attributes = [
        (ids[row.sku], position, name, value)
        for row in rows
        if row.attributes
        for position, (name, value) in enumerate(row.attributes)
    ]
    members = [
        (group_id, ids[row.sku]) for row in rows if row.group_ids for group_id in dict.fromkeys(row.group_ids)
    ]
    for model, columns, values in (
        (ProductPrice, ("product_id", "currency", "amount_minor"), prices),
        (ProductAttribute, ("product_id", "position", "name", "value"), attributes),
        (ProductGroupMember, ("group_id", "product_id"), members),
    ):
        if not values:
            continue
        if sqlite:
            await _insert_many_sqlite(session, model.__tablename__, columns, values)
        else:
            await session.execute(
                insert(model.__table__), [dict(zip(columns, v, strict=True)) for v in values]
            )


async def replace_group_members(session: AsyncSession, group_id: int, product_ids: Sequence[int]) -> None:
    await session.execute(delete(ProductGroupMember).where(ProductGroupMember.group_id == group_id))
    if product_ids:
        await session.execute(
            insert(ProductGroupMember),
            [{"group_id": group_id, "product_id": pid} for pid in dict.fromkeys(product_ids)],
        )


async def all_categories(session: AsyncSession) -> list[Category]:
    return list((await session.scalars(select(Category))).all())


async def groups_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, ProductGroup]:
    found: dict[str, ProductGroup] = {}
    for part in chunks(list(codes)):
        for group in (await session.scalars(select(ProductGroup).where(ProductGroup.code.in_(part)))).all():
            found[group.code] = group
    return found
