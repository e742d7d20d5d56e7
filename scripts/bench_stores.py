"""Benchmark of reseller stores over HTTP: 10,000 products and 10 stores, then 200,000 (or 1,000,000) products and 1,000 stores.

Usage: .venv/bin/python scripts/bench_stores.py [--backends sqlite,postgresql] [--requests 200]
       [--products 1000000 | --sizes 10000:10,200000:1000]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

For each backend it makes a throwaway database (a SQLite file in a temporary folder; on PostgreSQL a
database hub_bench_stores_<pid> that it drops at the end), migrates it and bulk-loads (not through
GraphQL): a category tree of 8 roots x 6 x 5 (240 leaves), 50 product groups, products with USD and
EUR list prices, and stores, each of its own reseller. Products are made by `product_of` (a
deterministic function of the product's number); SQLite gets them through SQLAlchemy core multi-row
inserts, PostgreSQL set-based (INSERT … SELECT FROM generate_series, the same rows: a sample is
compared with `product_of` after each load), with the text index rebuilt once after the load.

Nine stores in ten have an overlay of realistic size: 3 included mid-level categories and 1 included
group, 2 excluded leaf categories and 300 excluded SKUs, 20 price rules (ALL, CATEGORY, GROUP, SKU), 50
content overrides. Every tenth store includes nothing, so it sells the whole catalog but its 2 excluded
leaf categories and 300 excluded SKUs (exclude mode only), with the same price rules and overrides.
SKUs are spread over the catalog (not grouped by category), so a store's products spread over the
SKU index as they do in a real catalog.

It measures the small size, grows the same database to the large size, and measures again. It serves
the hub with uvicorn in a subprocess on a free loopback port and times, one request at a time on a
keep-alive connection, then with 8 requests in flight:

- store_page: 50 products of a random including store after a random SKU (keyset), with name, price,
  list price and category;
- whole_catalog_page: the same for a random store that sells the whole catalog;
- store_search: the first 50 products of a random store matching a product line ("line00021"): a line
  holds 200 catalog products whatever the catalog size (a term matching a fixed share of a growing
  catalog is linear by definition), about 15 of them in a given store;
- store_product: one product of a random store by SKU.

It prints JSON: p50/p99 latency (ms), requests per second, and the SQL statements one request sends,
per size, and the p50 ratio large/small, which must stay within 1.5 (1.2 for the store pages at
1,000,000 products, issue 14).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, event, insert, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import free_port, served  # noqa: E402, F401

from datasources.catalog.models import (  # noqa: E402
    SQLITE_SEARCH_DDL,
    Category,
    Product,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.catalog.rows import search_text_of  # noqa: E402
from datasources.catalog.search import PG_SEARCH_DDL, PG_SEARCH_INDEX  # noqa: E402
from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.pagination import encode_cursor  # noqa: E402
from datasources.partners.models import Reseller  # noqa: E402
from datasources.stores.models import (  # noqa: E402
    Store,
    StoreAssortmentRule,
    StorePriceRule,
    StoreProductContent,
)
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402

ROOTS, MIDS_PER_ROOT, LEAVES_PER_MID = 8, 6, 5
GROUPS = 50
LINE_SIZE = 200
SEARCH_LINE = 21
SKU_PRIME = 1_000_003  # number -> SKU is a bijection that scatters SKUs over the catalog
NOUNS = ("drill", "saw", "sander", "grinder", "wrench", "pliers", "hammer", "level", "bolt", "screw")
BRANDS = ("Acme", "Bosk", "Makit", "Festo", "Hilto", "Dewal", "Ryoba", "Stanly")
CHUNK = 5_000
WHOLE_CATALOG_EVERY = 10
"""Every 10th store sells the whole catalog but what it excludes; the others include 3 categories and a group."""

STORE_PAGE = """
query($slug: String!, $after: String) {
  store(slug: $slug) {
    products(first: 50, after: $after) {
      edges { node { sku name price { amount currency } listPrice { amount } category { name } } }
    }
  }
}"""
STORE_SEARCH = """
query($slug: String!, $search: String!) {
  store(slug: $slug) {
    products(first: 50, filter: {search: $search}) {
      edges { node { sku name price { amount currency } listPrice { amount } category { name } } }
    }
  }
}"""
STORE_PRODUCT = """
query($slug: String!, $sku: String!) {
  store(slug: $slug) { product(sku: $sku) { sku name description price { amount currency } listPrice { amount } category { name } } }
}"""


def sku_of(number: int) -> str:
    return f"P{(number * 7919) % SKU_PRIME:07d}"


@dataclass
class Tree:
    mids: list[int] = field(default_factory=list)
    leaves_of_mid: dict[int, list[int]] = field(default_factory=dict)
    mid_of_leaf: dict[int, int] = field(default_factory=dict)
    products_of_mid: dict[int, list[int]] = field(default_factory=dict)
    stores: list[tuple[str, list[int]]] = field(default_factory=list)
    """(slug, included mids) of every store that names what it includes."""
    whole_catalog_stores: list[tuple[str, list[int]]] = field(default_factory=list)
    """(slug, every mid) of the stores that sell the whole catalog but what they exclude."""


async def load_tree(session: Any) -> Tree:
    tree = Tree()
    rows = []
    next_id = 1
    for r in range(ROOTS):
        root_id = next_id
        next_id += 1
        rows.append(
            {
                "id": root_id,
                "code": f"r{r}",
                "name": f"Root {r}",
                "parent_id": None,
                "path": f"/{root_id}/",
                "depth": 0,
            }
        )
        for m in range(MIDS_PER_ROOT):
            mid_id = next_id
            next_id += 1
            rows.append(
                {
                    "id": mid_id,
                    "code": f"r{r}-m{m}",
                    "name": f"Mid {r}.{m}",
                    "parent_id": root_id,
                    "path": f"/{root_id}/{mid_id}/",
                    "depth": 1,
                }
            )
            tree.mids.append(mid_id)
            tree.leaves_of_mid[mid_id] = []
            tree.products_of_mid[mid_id] = []
            for leaf in range(LEAVES_PER_MID):
                leaf_id = next_id
                next_id += 1
                rows.append(
                    {
                        "id": leaf_id,
                        "code": f"r{r}-m{m}-l{leaf}",
                        "name": f"Leaf {r}.{m}.{leaf}",
                        "parent_id": mid_id,
                        "path": f"/{root_id}/{mid_id}/{leaf_id}/",
                        "depth": 2,
                    }
                )
                tree.leaves_of_mid[mid_id].append(leaf_id)
                tree.mid_of_leaf[leaf_id] = mid_id
    await session.execute(insert(Category), rows)
    await session.execute(
        insert(ProductGroup), [{"id": g + 1, "code": f"g{g}", "name": f"Group {g}"} for g in range(GROUPS)]
    )
    return tree


def _mix(number: int, salt: int) -> int:
    """A cheap deterministic hash of (number, salt) that PostgreSQL computes the same way (_PG_MIX)."""
    return (number * 2_654_435_761 + salt * 40_503) % 4_294_967_296


def _pg_mix(salt: int) -> str:
    return f"((n::bigint * 2654435761 + {salt * 40_503}) % 4294967296)"


def product_of(number: int, leaves: list[int]) -> dict[str, Any]:
    """Product `number` of the generated catalog: the rows below are the same whichever way they are loaded.

    `load_products_sql` writes the same rows set-based on PostgreSQL; `check_generated` compares
    a sample of them with this function after a load.
    """
    sku = sku_of(number)
    name = f"{BRANDS[_mix(number, 2) % len(BRANDS)]} {NOUNS[_mix(number, 3) % len(NOUNS)]} line{number // LINE_SIZE:05d}"
    description = f"A {name.lower()} for trade and home use."
    cents = 199 + _mix(number, 4) % (49_999 - 199)
    return {
        "id": number + 1,
        "sku": sku,
        "name": name,
        "description": description,
        "status": "ACTIVE" if number % 37 else "DISCONTINUED",
        "category_id": leaves[_mix(number, 1) % len(leaves)],
        "search_text": search_text_of(sku, name, description),
        "prices": {**({"USD": cents} if number % 31 else {}), "EUR": cents * 92 // 100},
        "group_id": _mix(number, 5) % GROUPS + 1 if number % 3 == 0 else None,
    }


def index_products(tree: Tree, start: int, stop: int) -> None:
    """Which mid-level category each product is under (the stores' assortments and requests need it)."""
    leaves = sorted(tree.mid_of_leaf)
    for number in range(start, stop):
        tree.products_of_mid[tree.mid_of_leaf[leaves[_mix(number, 1) % len(leaves)]]].append(number)


async def load_products(session: Any, tree: Tree, start: int, stop: int) -> None:
    """Multi-row inserts from Python (SQLite)."""
    leaves = sorted(tree.mid_of_leaf)
    for first in range(start, stop, CHUNK):
        products, prices, members = [], [], []
        for number in range(first, min(first + CHUNK, stop)):
            row = product_of(number, leaves)
            price_of, group_id = row.pop("prices"), row.pop("group_id")
            products.append(row)
            prices += [
                {"product_id": number + 1, "currency": c, "amount_minor": a} for c, a in price_of.items()
            ]
            if group_id is not None:
                members.append({"product_id": number + 1, "group_id": group_id})
        await session.execute(insert(Product), products)
        await session.execute(insert(ProductPrice), prices)
        await session.execute(insert(ProductGroupMember), members)
    index_products(tree, start, stop)


# The same rows as product_of, set-based in PostgreSQL (a million products in a minute or two, where
# multi-row inserts from Python take many minutes). The generated search column `search_words` is
# computed by PostgreSQL from search_text, as for any insert.
_PG_NAME = (
    f"(ARRAY{list(BRANDS)!r})[1 + {_pg_mix(2)} % {len(BRANDS)}] || ' ' || "
    f"(ARRAY{list(NOUNS)!r})[1 + {_pg_mix(3)} % {len(NOUNS)}] || ' line' || lpad((n / {LINE_SIZE})::text, 5, '0')"
)
_PG_SKU = f"'P' || lpad(((n::bigint * 7919) % {SKU_PRIME})::text, 7, '0')"
PG_PRODUCTS = f"""
INSERT INTO products (id, sku, name, description, status, category_id, search_text)
SELECT n + 1, sku, name, description, CASE WHEN n % 37 = 0 THEN 'DISCONTINUED' ELSE 'ACTIVE' END,
       (CAST(:leaves AS int[]))[1 + {_pg_mix(1)} % cardinality(CAST(:leaves AS int[]))],
       lower(sku || ' ' || name || ' ' || description)
FROM (SELECT n, sku, name, 'A ' || lower(name) || ' for trade and home use.' AS description
      FROM (SELECT n, {_PG_SKU} AS sku, {_PG_NAME} AS name
            FROM generate_series(CAST(:start AS int), CAST(:stop AS int) - 1) AS n) named) described
"""
PG_PRICES = f"""
INSERT INTO product_prices (product_id, currency, amount_minor)
SELECT n + 1, currency, CASE currency WHEN 'USD' THEN cents ELSE cents * 92 / 100 END
FROM (SELECT n, 199 + {_pg_mix(4)} % {49_999 - 199} AS cents
      FROM generate_series(CAST(:start AS int), CAST(:stop AS int) - 1) AS n) priced,
     (VALUES ('USD'), ('EUR')) AS currencies(currency)
WHERE currency = 'EUR' OR n % 31 <> 0
"""
PG_MEMBERS = f"""
INSERT INTO product_group_members (group_id, product_id)
SELECT {_pg_mix(5)} % {GROUPS} + 1, n + 1
FROM generate_series(CAST(:start AS int), CAST(:stop AS int) - 1) AS n WHERE n % 3 = 0
"""


async def load_products_sql(session: Any, tree: Tree, start: int, stop: int) -> None:
    """Set-based inserts in PostgreSQL, in chunks of 100,000 products."""
    leaves = sorted(tree.mid_of_leaf)
    for first in range(start, stop, 100_000):
        bounds = {"start": first, "stop": min(first + 100_000, stop)}
        await session.execute(text(PG_PRODUCTS), {**bounds, "leaves": leaves})
        await session.execute(text(PG_PRICES), bounds)
        await session.execute(text(PG_MEMBERS), bounds)
    index_products(tree, start, stop)


async def check_generated(session: Any, tree: Tree, start: int, stop: int) -> None:
    """The rows in the database are product_of's (a sample of 200): both loaders write the same catalog."""
    leaves = sorted(tree.mid_of_leaf)
    numbers = random.Random(stop).sample(range(start, stop), min(200, stop - start))
    columns = ("id", "sku", "name", "description", "status", "category_id", "search_text")
    stored = {
        row.id: row
        for row in await session.execute(
            text(
                f"SELECT {', '.join(columns)}, "
                "(SELECT group_id FROM product_group_members m WHERE m.product_id = p.id) AS group_id "
                "FROM products p WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [n + 1 for n in numbers]},
        )
    }
    prices: dict[int, dict[str, int]] = {}
    for row in await session.execute(
        text(
            "SELECT product_id, currency, amount_minor FROM product_prices WHERE product_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": [n + 1 for n in numbers]},
    ):
        prices.setdefault(row.product_id, {})[row.currency] = row.amount_minor
    for number in numbers:
        expected = product_of(number, leaves)
        row = stored[number + 1]
        got = {c: getattr(row, c) for c in columns}
        got["prices"], got["group_id"] = prices.get(number + 1, {}), row.group_id
        if got != expected:
            raise RuntimeError(f"generated product {number} differs: {got} != {expected}")


async def load_stores(session: Any, tree: Tree, start: int, stop: int) -> None:
    resellers, stores, assortment, rules, contents = [], [], [], [], []
    for number in range(start, stop):
        rng = random.Random(f"store-{number}")
        resellers.append(
            {
                "id": number + 1,
                "code": f"res{number}",
                "name": f"Reseller {number}",
                "status": "APPROVED",
                "contact_email": f"r{number}@bench.example",
            }
        )
        slug = f"store-{number:04d}"
        stores.append(
            {
                "id": number + 1,
                "slug": slug,
                "name": f"Store {number}",
                "reseller_id": number + 1,
                "currency": "USD",
                "status": "OPEN",
            }
        )
        mids = rng.sample(tree.mids, 3)
        groups = rng.sample(range(1, GROUPS + 1), 6)
        excluded_leaves = [rng.choice(tree.leaves_of_mid[mid]) for mid in mids[:2]]
        store_id = number + 1
        if number % WHOLE_CATALOG_EVERY == WHOLE_CATALOG_EVERY - 1:
            # No inclusions: the whole catalog but 2 leaf categories and 300 SKUs (exclude mode only).
            tree.whole_catalog_stores.append((slug, tree.mids))
            pool = range(sum(len(numbers) for numbers in tree.products_of_mid.values()))
        else:
            tree.stores.append((slug, mids))
            pool: Sequence[int] = [n for mid in mids for n in tree.products_of_mid[mid]]
            assortment += [
                {"store_id": store_id, "mode": "INCLUDE", "scope": "CATEGORY", "target_id": m} for m in mids
            ]
            assortment.append(
                {"store_id": store_id, "mode": "INCLUDE", "scope": "GROUP", "target_id": groups[0]}
            )
        excluded = rng.sample(pool, min(300, len(pool) // 3))
        assortment += [
            {"store_id": store_id, "mode": "EXCLUDE", "scope": "CATEGORY", "target_id": leaf}
            for leaf in excluded_leaves
        ]
        assortment += [
            {"store_id": store_id, "mode": "EXCLUDE", "scope": "SKU", "target_id": n + 1} for n in excluded
        ]
        store_rules: list[tuple[str, int | None, int | None, int | None]] = [("ALL", None, 1500, None)]
        store_rules += [("CATEGORY", m, rng.randrange(-2000, 3000), None) for m in mids]
        store_rules += [
            ("CATEGORY", rng.choice(tree.leaves_of_mid[m]), None, rng.randrange(100, 90_000)) for m in mids
        ]
        store_rules += [("GROUP", g, rng.randrange(-3000, 1000), None) for g in groups[1:]]
        store_rules += [("SKU", n + 1, None, rng.randrange(100, 90_000)) for n in rng.sample(pool, 8)]
        rules += [
            {
                "store_id": store_id,
                "position": i,
                "scope": s,
                "target_id": t,
                "markup_bp": m,
                "fixed_minor": f,
            }
            for i, (s, t, m, f) in enumerate(store_rules)
        ]
        contents += [
            {
                "store_id": store_id,
                "product_id": n + 1,
                "name": f"Store {number} special {n}",
                "description": "Our pick.",
            }
            for n in rng.sample(pool, 50)
        ]
    for model, rows in (
        (Reseller, resellers),
        (Store, stores),
        (StoreAssortmentRule, assortment),
        (StorePriceRule, rules),
        (StoreProductContent, contents),
    ):
        for first in range(0, len(rows), CHUNK):
            await session.execute(insert(model), rows[first : first + CHUNK])


async def grow(url: str, tree: Tree, products: tuple[int, int], stores: tuple[int, int]) -> float:
    """Load products and stores (start, stop) in bulk; answers the seconds it took."""
    started = time.perf_counter()
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session, session.begin():
            if products[0] == 0:
                tree.__init__()  # type: ignore[misc]
                fresh = await load_tree(session)
                tree.__dict__.update(fresh.__dict__)
            dialect = session.bind.dialect.name
            # Bulk load as a DBA would: the text index is rebuilt once after, not row by row.
            if dialect == "sqlite":
                await session.execute(text("DROP TRIGGER products_search_ai"))
            else:
                await session.execute(text(f"DROP INDEX {PG_SEARCH_INDEX}"))
            if dialect == "sqlite":
                await load_products(session, tree, *products)
            else:
                await load_products_sql(session, tree, *products)
            await check_generated(session, tree, *products)
            if dialect == "sqlite":
                for statement in SQLITE_SEARCH_DDL:  # CREATE … IF NOT EXISTS: brings back the dropped trigger
                    await session.execute(text(statement))
                await session.execute(
                    text("INSERT INTO product_search(product_search) VALUES ('delete-all')")
                )
                await session.execute(
                    text(
                        "INSERT INTO product_search(rowid, words) SELECT id, hub_search_words(search_text) FROM products"
                    )
                )
            else:
                await session.execute(text(PG_SEARCH_DDL[-1]))  # CREATE INDEX … USING gin (search_words)
            await load_stores(session, tree, *stores)
            if session.bind.dialect.name == "postgresql":
                for table in ("categories", "product_groups", "products", "resellers", "stores"):
                    await session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                        )
                    )
        async with resources.engine.connect() as connection:
            # What a running database has: PostgreSQL's autovacuum analyses tables this size on its own.
            if connection.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


# ---------------------------------------------------------------- measuring


def request_maker(tree: Tree, product_count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)

    def store_page() -> dict[str, Any]:
        slug, _ = rng.choice(tree.stores)
        after = encode_cursor("store-product", [sku_of(rng.randrange(product_count))])
        return {"query": STORE_PAGE, "variables": {"slug": slug, "after": after}}

    def whole_catalog_page() -> dict[str, Any]:
        slug, _ = rng.choice(tree.whole_catalog_stores)
        after = encode_cursor("store-product", [sku_of(rng.randrange(product_count))])
        return {"query": STORE_PAGE, "variables": {"slug": slug, "after": after}}

    def store_search() -> dict[str, Any]:
        slug, _ = rng.choice(tree.stores)
        return {"query": STORE_SEARCH, "variables": {"slug": slug, "search": f"line{SEARCH_LINE:05d}"}}

    def store_product() -> dict[str, Any]:
        slug, mids = rng.choice(tree.stores)
        number = rng.choice(tree.products_of_mid[rng.choice(mids)])
        return {"query": STORE_PRODUCT, "variables": {"slug": slug, "sku": sku_of(number)}}

    return {
        "store_page": store_page,
        "whole_catalog_page": whole_catalog_page,
        "store_search": store_search,
        "store_product": store_product,
    }


def check_answer(name: str, answer: dict[str, Any]) -> None:
    if answer.get("errors") or answer["data"]["store"] is None:
        raise RuntimeError(f"{name}: unexpected answer {str(answer)[:300]}")


async def statements_of(url: str, makers: dict[str, Any]) -> dict[str, int]:
    """SQL statements one request of each operation sends, counted in process on the same database."""
    counts: dict[str, int] = {}
    # Uncached: the second of two same requests would otherwise be answered from the response cache.
    app = create_app(Settings(_env_file=None, database_url=url, response_cache=False))
    async with app.router.lifespan_context(app):
        engine = app.state.resources_holder["resources"].engine
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client:
            for name, make in makers.items():
                body = make()
                await client.post("/graphql", json=body)
                statements.clear()
                check_answer(name, (await client.post("/graphql", json=body)).json())
                counts[name] = len(statements)
    return counts


async def time_operation(graphql_url: str, name: str, make: Any, requests: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=60) as client:
        found: list[int] = []

        async def once() -> float:
            body = make()
            started = time.perf_counter()
            response = await client.post(graphql_url, json=body)
            elapsed = time.perf_counter() - started
            answer = response.json()
            check_answer(name, answer)
            store = answer["data"]["store"]
            found.append(
                len(store["products"]["edges"]) if "products" in store else int(bool(store["product"]))
            )
            return elapsed

        for _ in range(max(10, requests // 10)):  # warm-up: connections, caches, plans
            await once()
        found.clear()
        started = time.perf_counter()
        latencies = sorted([await once() for _ in range(requests)])
        sequential = requests / (time.perf_counter() - started)
        mean_found = statistics.mean(found)

        async def worker(count: int) -> None:
            for _ in range(count):
                await once()

        started = time.perf_counter()
        await asyncio.gather(*(worker(requests // 8) for _ in range(8)))
        concurrent = (requests // 8 * 8) / (time.perf_counter() - started)
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "rps_sequential": round(sequential, 1),
        "rps_8_in_flight": round(concurrent, 1),
        "mean_products_answered": round(mean_found, 1),
    }


async def measure(url: str, tree: Tree, product_count: int, requests: int) -> dict[str, Any]:
    counts = await statements_of(url, request_maker(tree, product_count, 1))
    makers = request_maker(tree, product_count, 2)
    result: dict[str, Any] = {}
    async with served(url) as graphql_url:
        for name, make in makers.items():
            result[name] = {
                **await time_operation(graphql_url, name, make, requests),
                "sql_statements": counts[name],
            }
    return result


async def tree_of(url: str) -> tuple[Tree, int, int]:
    """The tree, stores and product count of a database this bench loaded before (kept with --keep-database)."""
    tree = Tree()
    async with open_resources(Settings(_env_file=None, database_url=url, db_warm_up=False)) as resources:
        async with resources.session_factory() as session:
            for row in await session.execute(text("SELECT id, parent_id, depth FROM categories ORDER BY id")):
                if row.depth == 1:
                    tree.mids.append(row.id)
                    tree.leaves_of_mid[row.id] = []
                    tree.products_of_mid[row.id] = []
                elif row.depth == 2:
                    tree.leaves_of_mid[row.parent_id].append(row.id)
                    tree.mid_of_leaf[row.id] = row.parent_id
            products = await session.scalar(text("SELECT count(*) FROM products"))
            included: dict[str, list[int]] = {}
            for row in await session.execute(
                text(
                    "SELECT s.slug, r.target_id FROM stores s LEFT JOIN store_assortment_rules r "
                    "ON r.store_id = s.id AND r.mode = 'INCLUDE' AND r.scope = 'CATEGORY' ORDER BY s.id"
                )
            ):
                included.setdefault(row.slug, [])
                if row.target_id is not None:
                    included[row.slug].append(row.target_id)
    index_products(tree, 0, products)
    for slug, mids in included.items():
        if mids:
            tree.stores.append((slug, mids))
        else:
            tree.whole_catalog_stores.append((slug, tree.mids))
    return tree, products, len(included)


async def bench_backend(
    url: str, sizes: list[tuple[int, int]], requests: int, existing_large: str | None = None
) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    tree = Tree()
    loaded = (0, 0)
    by_size: dict[str, Any] = {}
    for products, stores in sizes:
        seconds = await grow(url, tree, (loaded[0], products), (loaded[1], stores))
        loaded = (products, stores)
        label = f"{products} products, {stores} stores"
        print(
            f"{url.split(':')[0]}: loaded {label} in {seconds:.1f} s; measuring", file=sys.stderr, flush=True
        )
        by_size[label] = {"load_seconds": round(seconds, 1), **await measure(url, tree, products, requests)}
    if existing_large:
        large_url = make_url(url).set(database=existing_large).render_as_string(hide_password=False)
        tree, products, stores = await tree_of(large_url)
        label = f"{products} products, {stores} stores (loaded before: {existing_large})"
        print(f"measuring {label}", file=sys.stderr, flush=True)
        by_size[label] = await measure(large_url, tree, products, requests)
    small, large = by_size[next(iter(by_size))], by_size[list(by_size)[-1]]
    names = ("store_page", "whole_catalog_page", "store_search", "store_product")
    ratios = {name: round(large[name]["p50_ms"] / small[name]["p50_ms"], 2) for name in names}
    return {
        "sizes": by_size,
        "p50_ratio": ratios,
        "within_1_5x": all(r <= 1.5 for r in ratios.values()),
        "store_pages_within_1_2x": all(ratios[n] <= 1.2 for n in ("store_page", "whole_catalog_page")),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000:10,200000:1000", help="products:stores,…")
    parser.add_argument(
        "--products",
        type=int,
        help="the large size only, with 1,000 stores (e.g. 1000000); the small size stays 10,000 and 10",
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the PostgreSQL database in place (for EXPLAIN)"
    )
    parser.add_argument(
        "--existing-large",
        metavar="DATABASE",
        help="PostgreSQL: after the sizes, measure this database, which the bench loaded and kept before, as the large size",
    )
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.products:
        args.sizes = f"10000:10,{args.products}:1000"
    sizes = [(int(p), int(s)) for p, s in (part.split(":") for part in args.sizes.split(","))]
    report: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        },
        "overlay_per_store": "3 included categories + 1 group, 2 excluded categories + 300 SKUs, 20 price rules, 50 content overrides",
    }
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="hub-bench-stores-") as folder:
                report["sqlite"] = await bench_backend(
                    f"sqlite+aiosqlite:///{folder}/hub.db", sizes, args.requests
                )
        else:
            name = f"hub_bench_stores_{os.getpid()}"
            await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
                report["postgresql"] = await bench_backend(url, sizes, args.requests, args.existing_large)
            finally:
                if args.keep_database:
                    print(f"kept the database {name}", file=sys.stderr)
                else:
                    await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
