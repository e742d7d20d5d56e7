"""`hub catalog import` on PostgreSQL: COPY into staging tables, then one set-based upsert per table.

Row-by-row statements cost PostgreSQL a parse, a plan and a round trip per row or per small
batch; COPY streams a batch of products into temporary tables for a few microseconds a row,
and the catalog's tables are then written once, at the end, by a fixed number of statements
whatever the number of products (`write_staged`): an UPDATE of the products already there, an
INSERT … SELECT … ON CONFLICT of the new ones (in the file's order, so their ids follow it as
they did), then the lists the file gives (prices, attributes, groups) deleted and inserted.

What PostgreSQL maintains on write is maintained the same way: the search words are a generated
column (migration 0006) and its GIN index, both kept by the INSERT and the UPDATE; `updated_at`
is set as the other writers set it. COPY only ever fills the staging tables: every write to a
table of the catalog is a statement sent through SQLAlchemy, so what watches the engine's
statements (a statement count, a cache's version counters) sees it.

The staging tables are temporary and dropped at the end of the import's transaction (`ON COMMIT
DROP`), so a rolled-back import leaves nothing behind, and they are private to its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.rows import PRODUCT_COLUMNS, ProductWrite

if TYPE_CHECKING:
    import asyncpg

# Names no table of the hub has: a temporary table would hide a permanent one of the same name.
STAGED_PRODUCTS = "staged_products"
STAGED_PRICES = "staged_product_prices"
STAGED_ATTRIBUTES = "staged_product_attributes"
STAGED_GROUP_MEMBERS = "staged_product_group_members"
STAGED_IDS = "staged_product_ids"

_PRODUCT_COLUMNS = ("n", *PRODUCT_COLUMNS, "prices_given", "attributes_given", "groups_given")

# `n` numbers the import's products in the file's order: the children find their product by it.
_STAGING_DDL = (
    f"CREATE TEMPORARY TABLE {STAGED_PRODUCTS} (n integer PRIMARY KEY, sku text NOT NULL, "
    "name text NOT NULL, description text, status text NOT NULL, category_id integer, "
    "search_text text NOT NULL, prices_given boolean NOT NULL, attributes_given boolean NOT NULL, "
    "groups_given boolean NOT NULL) ON COMMIT DROP",
    f"CREATE TEMPORARY TABLE {STAGED_PRICES} (n integer NOT NULL, currency text NOT NULL, "
    "amount_minor bigint NOT NULL) ON COMMIT DROP",
    f"CREATE TEMPORARY TABLE {STAGED_ATTRIBUTES} (n integer NOT NULL, position integer NOT NULL, "
    "name text NOT NULL, value text NOT NULL) ON COMMIT DROP",
    f"CREATE TEMPORARY TABLE {STAGED_GROUP_MEMBERS} (n integer NOT NULL, group_id integer NOT NULL) "
    "ON COMMIT DROP",
    f"CREATE TEMPORARY TABLE {STAGED_IDS} (n integer PRIMARY KEY, product_id integer NOT NULL) "
    "ON COMMIT DROP",
)

_PRODUCT_FIELDS = "name = s.name, description = s.description, status = s.status, " + (
    "category_id = s.category_id, search_text = s.search_text, updated_at = now()"
)

UPSERT_STATEMENTS: dict[str, str] = {
    # The products already in the catalog, and their ids for the children.
    "update the products already there": (
        f"WITH updated AS (UPDATE products AS p SET {_PRODUCT_FIELDS} FROM {STAGED_PRODUCTS} AS s "
        "WHERE p.sku = s.sku RETURNING s.n, p.id) "
        f"INSERT INTO {STAGED_IDS} (n, product_id) SELECT n, id FROM updated"
    ),
    # The new ones, in the file's order. The UPDATE above took them out; ON CONFLICT covers a
    # product another transaction created meanwhile (it is updated, as a later line would update
    # it). Filtering first keeps the updated products from taking (and wasting) an id each.
    "insert the new products": (
        "WITH inserted AS (INSERT INTO products (sku, name, description, status, category_id, search_text, "
        "updated_at) SELECT s.sku, s.name, s.description, s.status, s.category_id, s.search_text, now() "
        f"FROM {STAGED_PRODUCTS} AS s WHERE NOT EXISTS (SELECT FROM {STAGED_IDS} AS i WHERE i.n = s.n) "
        "ORDER BY s.n "
        "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, description = excluded.description, "
        "status = excluded.status, category_id = excluded.category_id, search_text = excluded.search_text, "
        "updated_at = excluded.updated_at RETURNING id, sku) "
        f"INSERT INTO {STAGED_IDS} (n, product_id) SELECT s.n, inserted.id "
        f"FROM inserted JOIN {STAGED_PRODUCTS} AS s ON s.sku = inserted.sku"
    ),
    # A list the line gives replaces the stored one; one left out keeps it. A product created above
    # has nothing to delete: the index answers that at once.
    "delete the prices given anew": (
        f"DELETE FROM product_prices AS c USING {STAGED_PRODUCTS} AS s JOIN {STAGED_IDS} AS i ON i.n = s.n "
        "WHERE s.prices_given AND c.product_id = i.product_id"
    ),
    "delete the attributes given anew": (
        f"DELETE FROM product_attributes AS c USING {STAGED_PRODUCTS} AS s "
        f"JOIN {STAGED_IDS} AS i ON i.n = s.n WHERE s.attributes_given AND c.product_id = i.product_id"
    ),
    "delete the group memberships given anew": (
        f"DELETE FROM product_group_members AS c USING {STAGED_PRODUCTS} AS s "
        f"JOIN {STAGED_IDS} AS i ON i.n = s.n WHERE s.groups_given AND c.product_id = i.product_id"
    ),
    "insert the prices": (
        "INSERT INTO product_prices (product_id, currency, amount_minor) "
        f"SELECT i.product_id, c.currency, c.amount_minor FROM {STAGED_PRICES} AS c "
        f"JOIN {STAGED_IDS} AS i ON i.n = c.n ORDER BY i.product_id, c.currency"
    ),
    "insert the attributes": (
        "INSERT INTO product_attributes (product_id, position, name, value) "
        f"SELECT i.product_id, c.position, c.name, c.value FROM {STAGED_ATTRIBUTES} AS c "
        f"JOIN {STAGED_IDS} AS i ON i.n = c.n ORDER BY i.product_id, c.position"
    ),
    "insert the group memberships": (
        "INSERT INTO product_group_members (group_id, product_id) "
        f"SELECT c.group_id, i.product_id FROM {STAGED_GROUP_MEMBERS} AS c "
        f"JOIN {STAGED_IDS} AS i ON i.n = c.n ORDER BY c.group_id, i.product_id"
    ),
}


class StagedProducts:
    """The products of one import, COPYed batch by batch into staging tables, written by `write`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._staged = 0

    async def open(self) -> None:
        """Make the staging tables. Sent through the session, so the transaction has begun before
        the first COPY goes around SQLAlchemy on the same connection."""
        connection = await self._session.connection()
        for statement in _STAGING_DDL:
            await connection.exec_driver_sql(statement)

    async def add(self, rows: Sequence[ProductWrite]) -> None:
        """COPY a batch of checked products (SKUs distinct across the import) into the staging tables."""
        products: list[tuple[object, ...]] = []
        prices: list[tuple[int, str, int]] = []
        attributes: list[tuple[int, int, str, str]] = []
        members: list[tuple[int, int]] = []
        n = self._staged
        for row in rows:
            n += 1
            given = (row.prices_minor is not None, row.attributes is not None, row.group_ids is not None)
            products.append((n, *row.product_values(), *given))
            if row.prices_minor:
                prices += [(n, currency, amount) for currency, amount in row.prices_minor.items()]
            if row.attributes:
                attributes += [(n, position, *pair) for position, pair in enumerate(row.attributes)]
            if row.group_ids:
                members += [(n, group_id) for group_id in dict.fromkeys(row.group_ids)]
        self._staged = n
        driver = await self._driver_connection()
        await driver.copy_records_to_table(STAGED_PRODUCTS, records=products, columns=_PRODUCT_COLUMNS)
        for table, records in (
            (STAGED_PRICES, prices),
            (STAGED_ATTRIBUTES, attributes),
            (STAGED_GROUP_MEMBERS, members),
        ):
            if records:
                await driver.copy_records_to_table(table, records=records)

    async def write(self) -> None:
        """Upsert everything staged into the catalog: a fixed number of statements."""
        if not self._staged:
            return
        connection = await self._session.connection()
        for statement in UPSERT_STATEMENTS.values():
            await connection.exec_driver_sql(statement)

    async def _driver_connection(self) -> asyncpg.Connection:
        """asyncpg's own connection, inside the session's transaction."""
        raw = await (await self._session.connection()).get_raw_connection()
        return raw.driver_connection
