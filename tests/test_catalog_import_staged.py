"""`hub catalog import` on PostgreSQL (COPY into staging tables, set-based upserts) against the SQLite path.

The same files imported into both databases leave the same catalog (new products, updates that
replace or keep their lists, an import refused mid-file), and the PostgreSQL path sends the same
statements whatever the number of products (its COPYs go around SQLAlchemy, one per batch).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from datasources.catalog.models import (
    Category,
    Product,
    ProductAttribute,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.catalog.queries import search_condition
from datasources.catalog.staged import UPSERT_STATEMENTS
from hub_graphql.resources import Resources, open_resources
from hub_graphql.settings import Settings
from resolvers.catalog import CategoryData, ProductGroupData, upsert_categories, upsert_product_groups
from resolvers.catalog_import import ImportReport, import_products
from tests.harness import QueryCounter

CSV_HEADER = "sku,name,description,status,categoryCode,groupCodes,attributes,price_USD,price_EUR\n"
FIRST_FILE = CSV_HEADER + "".join(
    f"P-{n},Product {n} drill,Line {n} of the first file,ACTIVE,{'drills' if n % 2 else 'tools'},"
    f"{'promo|pro' if n % 3 == 0 else ''},brand=Atlas|size={n},{n}.50,{'' if n % 4 == 0 else f'{n}.10'}\n"
    for n in range(1, 8)
)
# P-2 renamed, its lists kept (all left out); P-3 given new prices (USD only), no groups (an empty
# JSON list) and new attributes; P-5 moved to DRAFT with no description; P-9 and P-8 are new, in that order.
SECOND_FILE = [
    {
        "sku": "P-2",
        "name": "Product 2 renamed hammer",
        "description": "Line 2 again",
        "categoryCode": "tools",
    },
    {
        "sku": "P-3",
        "name": "Product 3 drill",
        "categoryCode": "drills",
        "groupCodes": [],
        "listPrices": [{"currency": "USD", "amount": "33.00"}],
        "attributes": [{"name": "colour", "value": "red"}, {"name": "brand", "value": "Brio"}],
    },
    {"sku": "P-5", "name": "Product 5 drill", "status": "DRAFT", "categoryCode": "drills"},
    {"sku": "P-9", "name": "Product 9 saw", "groupCodes": ["pro", "pro"], "listPrices": []},
    {
        "sku": "P-8",
        "name": "Product 8 saw",
        "categoryCode": "tools",
        "listPrices": [{"currency": "EUR", "amount": 8}],
        "attributes": [],
    },
]
# Good lines in the first batches, then a product with a price in a currency the hub does not use.
REFUSED_FILE = CSV_HEADER + (
    "P-1,Product 1 changed,,ACTIVE,drills,,,1.00,\n"
    "P-10,Product 10,,ACTIVE,tools,,,10.00,\n"
    "P-11,Product 11,,ACTIVE,tools,,,11.00,\n"
    "P-12,Product 12,,ACTIVE,tools,,,-12.00,\n"
    "P-13,Product 13,,ACTIVE,tools,,,13.00,\n"
)
SEARCH_TERMS = ("drill", "hammer", "renamed", "line 2", "saw", "product 1")


@asynccontextmanager
async def catalog_at(url: str) -> AsyncIterator[Resources]:
    """The hub's resources on a migrated database, with the categories and groups the files use."""
    async with open_resources(Settings(_env_file=None, database_url=url, outbox_worker=False)) as resources:
        async with resources.session_factory() as session, session.begin():
            tree = [CategoryData("tools", "Tools"), CategoryData("drills", "Drills", "tools")]
            assert not (await upsert_categories(session, tree)).errors
            groups = [ProductGroupData("promo", "Promotion"), ProductGroupData("pro", "Pro line")]
            assert not (await upsert_product_groups(session, groups)).errors
        yield resources


async def contents(resources: Resources) -> dict[str, Any]:
    """The catalog's products with everything the import writes, by SKU; ids only as an order."""
    async with resources.session_factory() as session:
        products = (
            await session.execute(
                select(
                    Product.id,
                    Product.sku,
                    Product.name,
                    Product.description,
                    Product.status,
                    Category.code,
                    Product.search_text,
                )
                .outerjoin(Category, Category.id == Product.category_id)
                .order_by(Product.id)
            )
        ).all()
        sku_of = {row.id: row.sku for row in products}
        prices = (
            await session.execute(
                select(ProductPrice.product_id, ProductPrice.currency, ProductPrice.amount_minor)
            )
        ).all()
        attributes = (
            await session.execute(
                select(
                    ProductAttribute.product_id,
                    ProductAttribute.position,
                    ProductAttribute.name,
                    ProductAttribute.value,
                )
            )
        ).all()
        members = (
            await session.execute(
                select(ProductGroupMember.product_id, ProductGroup.code).join(
                    ProductGroup, ProductGroup.id == ProductGroupMember.group_id
                )
            )
        ).all()
    found: dict[str, Any] = {
        "skus_in_id_order": [row.sku for row in products],
        "products": {row.sku: list(row[2:]) for row in products},
        "prices": sorted((sku_of[p], c, a) for p, c, a in prices),
        "attributes": sorted((sku_of[p], position, n, v) for p, position, n, v in attributes),
        "groups": sorted((sku_of[p], code) for p, code in members),
    }
    found["search"] = {term: await searched(resources, term) for term in SEARCH_TERMS}
    return found


async def searched(resources: Resources, term: str) -> list[str]:
    """The SKUs the catalog's search index finds for a term, through the hub's own query."""
    async with resources.session_factory() as session:
        condition = search_condition(term, resources.engine.dialect.name)
        return sorted((await session.scalars(select(Product.sku).where(condition))).all())


async def import_file(resources: Resources, path: Path, batch_size: int) -> ImportReport:
    return await import_products(resources.session_factory, path, batch_size=batch_size)


@pytest.fixture
def both_databases(sqlite_template: Path, postgresql_url_clean: str, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "hub.db"
    shutil.copyfile(sqlite_template, path)
    return {"sqlite": f"sqlite+aiosqlite:///{path}", "postgresql": postgresql_url_clean}


@pytest.mark.parametrize("batch_size", [2, 2000])
async def test_the_copy_path_and_the_sqlite_path_leave_the_same_catalog(
    both_databases: dict[str, str], tmp_path: Path, batch_size: int
) -> None:
    # given
    first = tmp_path / "first.csv"
    first.write_text(FIRST_FILE, encoding="utf-8")
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(row) + "\n" for row in SECOND_FILE), encoding="utf-8")
    refused = tmp_path / "refused.csv"
    refused.write_text(REFUSED_FILE, encoding="utf-8")
    seen: dict[str, list[dict[str, Any]]] = {}
    for database, url in both_databases.items():
        async with catalog_at(url) as resources:
            # when: new products, then updates (and two more new ones), then a file refused mid-way
            reports = [await import_file(resources, first, batch_size)]
            after_first = await contents(resources)
            reports.append(await import_file(resources, second, batch_size))
            after_second = await contents(resources)
            reports.append(await import_file(resources, refused, batch_size))
            after_refused = await contents(resources)
        seen[database] = [after_first, after_second, after_refused]
        # then: each database reports the same
        assert [(r.imported, r.written, [(x.line, x.message) for x in r.rejected]) for r in reports] == [
            (7, True, []),
            (5, True, []),
            (0, False, [(5, "listPrices.0.amount: A price must be zero or more.")]),
        ], database
        assert after_refused == after_second, database
    # then: the two databases hold the same catalog at every step
    assert seen["postgresql"] == seen["sqlite"]
    # and what the second file asked for is what both hold
    after_second = seen["sqlite"][1]
    assert after_second["skus_in_id_order"] == [f"P-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 9, 8)]
    assert after_second["products"]["P-2"][:4] == [
        "Product 2 renamed hammer",
        "Line 2 again",
        "ACTIVE",
        "tools",
    ]
    assert after_second["products"]["P-5"][1:3] == [None, "DRAFT"]
    assert [p for p in after_second["prices"] if p[0] in {"P-2", "P-3", "P-8", "P-9"}] == [
        ("P-2", "EUR", 210),
        ("P-2", "USD", 250),
        ("P-3", "USD", 3300),
        ("P-8", "EUR", 800),
    ]
    assert [a for a in after_second["attributes"] if a[0] in {"P-3", "P-8"}] == [
        ("P-3", 0, "colour", "red"),
        ("P-3", 1, "brand", "Brio"),
    ]
    assert [g for g in after_second["groups"] if g[0] in {"P-3", "P-6", "P-9"}] == [
        ("P-6", "pro"),
        ("P-6", "promo"),
        ("P-9", "pro"),
    ]
    assert after_second["search"]["hammer"] == ["P-2"] and after_second["search"]["renamed"] == ["P-2"]
    assert "P-2" not in after_second["search"]["drill"]


def products_file(path: Path, count: int) -> Path:
    path.write_text(
        CSV_HEADER
        + "".join(f"S-{n},Product {n},,ACTIVE,tools,promo,brand=Atlas,{n}.00,{n}.50\n" for n in range(count)),
        encoding="utf-8",
    )
    return path


async def test_the_copy_path_sends_the_same_statements_for_10_or_300_products(
    postgresql_url_clean: str, tmp_path: Path
) -> None:
    # given: batches of 10, so the larger file also takes 30 COPYs of each staging table; a first
    # import makes the hub policy's row, which later imports only read
    async with catalog_at(postgresql_url_clean) as resources:
        await import_file(resources, products_file(tmp_path / "first.csv", 1), 10)
        counted: list[list[str]] = []
        for count in (10, 300):
            counter = QueryCounter()
            event.listen(resources.engine.sync_engine, "before_cursor_execute", counter.listener)
            try:
                # when
                report = await import_file(resources, products_file(tmp_path / f"{count}.csv", count), 10)
            finally:
                event.remove(resources.engine.sync_engine, "before_cursor_execute", counter.listener)
            assert report.imported == count and report.written
            counted.append(counter.statements)
        # then
        assert counted[0] == counted[1]
        for statement in UPSERT_STATEMENTS.values():
            assert counted[1].count(statement) == 1
        async with resources.session_factory() as session:
            written = await session.execute(
                text("SELECT count(*) FROM products JOIN product_prices ON product_id = products.id")
            )
            assert written.scalar_one() == 2 * 300


async def test_a_row_postgresql_refuses_at_the_end_writes_nothing_of_the_file(
    postgresql_url_clean: str, tmp_path: Path
) -> None:
    # given: an attribute value longer than its column, on the last line, after batches of good ones
    file = tmp_path / "products.csv"
    file.write_text(
        CSV_HEADER
        + "A-1,First,,ACTIVE,tools,,,1.00,\n"
        + "A-2,Second,,ACTIVE,tools,,,2.00,\n"
        + f"A-3,Third,,ACTIVE,tools,,note={'x' * 2001},3.00,\n",
        encoding="utf-8",
    )
    async with catalog_at(postgresql_url_clean) as resources:
        # when / then: the database's own error, as from the upsert it replaced
        with pytest.raises(DBAPIError, match="value too long"):
            await import_file(resources, file, 1)
        async with resources.session_factory() as session:
            assert (await session.execute(text("SELECT count(*) FROM products"))).scalar_one() == 0
        # and the connection's next import works (the staging tables went with the transaction)
        report = await import_file(resources, products_file(tmp_path / "next.csv", 3), 2)
        assert report.imported == 3 and report.written
