"""Benchmark of the master catalog over HTTP at 10,000 and 200,000 products, on SQLite and PostgreSQL.

Usage: .venv/bin/python scripts/bench_catalog.py [--backends sqlite,postgresql] [--requests 200]
       [--sizes 10000,200000] [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

For each backend and size it makes a throwaway database (SQLite files in a temporary folder; on
PostgreSQL databases hub_bench_<pid>_<size> that it drops at the end), migrates it, loads the sample
category tree and product groups, and bulk-loads the products straight through
datasources/catalog/writes.py (not GraphQL). It then serves each database with uvicorn in its own
subprocess on a free loopback port and times three operations over HTTP, one request at a time on a
keep-alive connection, alternating between the sizes so that a busy machine slows both alike:

- category_page: the first 50 products of a mid-level category ("power-tools-drills": 5 of the 120
  leaf categories, about 4 % of the catalog), without totalCount;
- search: a part-number search ("-00042") that matches 10 products whatever the catalog size
  (a term that matches a fixed share of a growing catalog is linear by definition);
- product_by_sku: one product with its category and list price.

It prints JSON: p50 and p99 latency (ms), requests per second (sequential, and with 8 requests in
flight), the SQL statements one request sends and the median time it spends in them (both measured in
process on the same database), for each size, and the p50 ratio 200k/10k that must stay within 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasources.catalog import writes  # noqa: E402
from datasources.catalog.models import Category, ProductGroup  # noqa: E402
from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.catalog import ProductGroupData, upsert_categories, upsert_product_groups  # noqa: E402
from resolvers.samples.catalog import BRANDS, COLORS, GROUPS, QUALIFIERS, TREE, sample_categories  # noqa: E402

CATEGORY = "power-tools-drills"
SEARCH = "-00042"
SKU_NUMBER = 421

CATEGORY_PAGE = """
query($category: String!) {
  products(first: 50, filter: {categoryCode: $category}) {
    edges { node { sku name status listPrice { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SEARCH_PAGE = """
query($search: String!) {
  products(first: 50, filter: {search: $search}) {
    edges { node { sku name listPrice { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PRODUCT_BY_SKU = """
query($sku: String!) {
  product(sku: $sku) { sku name description status category { code name } listPrice { amount currency } }
}"""

OPERATIONS: dict[str, tuple[str, dict[str, Any], int]] = {
    # name: (document, variables, how many products the answer must hold)
    "category_page": (CATEGORY_PAGE, {"category": CATEGORY}, 50),
    "search": (SEARCH_PAGE, {"search": SEARCH}, 10),
    "product_by_sku": (PRODUCT_BY_SKU, {"sku": None}, 1),  # product SKU_NUMBER's SKU, once loaded
}


# ---------------------------------------------------------------- data


@dataclass
class Catalog:
    leaf_ids: list[int]
    group_ids: list[int]
    prefix_of_leaf: dict[int, str]


async def load_tree(url: str) -> Catalog:
    """The sample category tree and product groups."""
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session, session.begin():
            assert not (await upsert_categories(session, sample_categories())).errors
            groups = [ProductGroupData(code, name) for code, name in GROUPS]
            assert not (await upsert_product_groups(session, groups)).errors
            categories = await writes.all_ids_by_code(session, Category)
            group_ids = sorted((await writes.all_ids_by_code(session, ProductGroup)).values())
    prefix_of_leaf: dict[int, str] = {}
    for root_code, (_name, prefix, subs) in TREE.items():
        for sub_code, leaves in subs.items():
            for leaf in leaves:
                code = f"{root_code}-{sub_code}-{leaf.lower().replace(' ', '-')}"
                prefix_of_leaf[categories[code]] = prefix
    return Catalog(sorted(prefix_of_leaf), group_ids, prefix_of_leaf)


def product_write(number: int, catalog: Catalog) -> writes.ProductWrite:
    """Product `number`, the same on every run: a random leaf category, name, prices and attributes."""
    rng = random.Random(number)
    leaf = rng.choice(catalog.leaf_ids)
    brand, qualifier = rng.choice(BRANDS), rng.choice(QUALIFIERS)
    cents = rng.randrange(199, 49999)
    return writes.ProductWrite(
        # SKUs in another order than categories, so that a category's products spread over the SKU index.
        sku=f"{catalog.prefix_of_leaf[leaf]}-{number:06d}",
        name=f"{brand} {qualifier} model {rng.randrange(100, 999)}",
        description=f"{brand} {qualifier.lower()} model for trade and home use.",
        status="ACTIVE" if number % 37 else "DISCONTINUED",
        category_id=leaf,
        prices_minor={"USD": cents, "EUR": cents * 92 // 100},
        attributes=[
            ("brand", brand),
            ("color", rng.choice(COLORS)),
            ("weight_kg", f"{rng.uniform(0.1, 12):.1f}"),
        ],
        group_ids=[rng.choice(catalog.group_ids)] if number % 5 == 0 else [],
    )


async def load_products(url: str, catalog: Catalog, start: int, stop: int) -> float:
    """Bulk-load products start..stop-1 through the catalog writer; answers the seconds it took."""
    started = time.perf_counter()
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        for first in range(start, stop, 5000):
            rows = [product_write(n, catalog) for n in range(first, min(first + 5000, stop))]
            async with resources.session_factory() as session, session.begin():
                await writes.upsert_products(session, rows)
        async with resources.engine.connect() as connection:
            # What a running database has: PostgreSQL's autovacuum analyses a table this size on its own.
            if connection.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


# ---------------------------------------------------------------- servers and databases


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def served(url: str, extra_env: Mapping[str, str] | None = None) -> AsyncIterator[str]:
    """uvicorn serving the hub on a free loopback port; answers the GraphQL URL."""
    async with served_process(url, extra_env) as (graphql_url, _pid):
        yield graphql_url


@asynccontextmanager
async def served_process(
    url: str, extra_env: Mapping[str, str] | None = None, root: Path = ROOT
) -> AsyncIterator[tuple[str, int]]:
    """As `served`, with the server's process id too (for benches that read its CPU time).

    `extra_env` adds or overrides the hub's settings (HUB_...) for this process; `root` is the
    checkout whose hub is served (another commit's, for a bench comparing two versions).
    """
    port = free_port()
    # A bench is one client address sending thousands of requests: the per-address limits would
    # measure themselves, not the hub. And a bench repeats its reads: the public response cache (on
    # by default) would answer them from memory, so it is off unless `extra_env` turns it on
    # (bench_peer, bench_response_cache measure it).
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_ENV": "development",
        "HUB_RATE_LIMITS": "createCart=off, checkout=off, recordActivity=off, registerReseller=off",
        "HUB_RESPONSE_CACHE": "off",
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "hub_graphql.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        cwd=root,
        env=env,
    )
    try:
        # Importing the hub takes about 2 s on a quiet machine and half a minute at a load average of 16.
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("the hub did not start")
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}/graphql", process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


# ---------------------------------------------------------------- measuring


def products_in(data: dict[str, Any]) -> int:
    if "product" in data:
        return 1 if data["product"] else 0
    return len(data["products"]["edges"])


async def statements_of(url: str, requests: int) -> dict[str, dict[str, float]]:
    """Per operation, counted in process on the same database: the SQL statements one request sends,
    and the median time a request spends in them (less sensitive to a busy machine than HTTP timings)."""
    found: dict[str, dict[str, float]] = {}
    # Uncached: a cached answer sends no statement of the operation's own.
    app = create_app(Settings(_env_file=None, database_url=url, response_cache=False))
    async with app.router.lifespan_context(app):
        engine = app.state.resources_holder["resources"].engine
        statements: list[str] = []
        spent: list[float] = []
        started: list[float] = []

        def before(*args: Any) -> None:
            statements.append(args[2])
            started.append(time.perf_counter())

        def after(*_args: Any) -> None:
            spent.append(time.perf_counter() - started.pop())

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client:
            for name, (document, variables, _expected) in OPERATIONS.items():
                body = {"query": document, "variables": variables}
                for _ in range(5):
                    await client.post("/graphql", json=body)
                per_request: list[float] = []
                for _ in range(max(requests // 4, 10)):
                    statements.clear()
                    spent.clear()
                    await client.post("/graphql", json=body)
                    per_request.append(sum(spent))
                found[name] = {
                    "sql_statements": len(statements),
                    "sql_ms_p50": round(statistics.median(per_request) * 1000, 2),
                }
    return found


async def time_operation(urls: dict[int, str], name: str, requests: int) -> dict[int, dict[str, float]]:
    """Latencies of one operation on every catalog size, the sizes' requests interleaved so that a busy
    machine slows them alike; then the throughput of each with 8 requests in flight."""
    document, variables, expected = OPERATIONS[name]
    body = {"query": document, "variables": variables}
    async with httpx.AsyncClient(timeout=30) as client:

        async def once(url: str) -> float:
            started = time.perf_counter()
            response = await client.post(url, json=body)
            elapsed = time.perf_counter() - started
            answer = response.json()
            if answer.get("errors") or products_in(answer["data"]) != expected:
                raise RuntimeError(f"{name}: unexpected answer {str(answer)[:300]}")
            return elapsed

        for _ in range(max(10, requests // 10)):  # warm-up: connections, caches, plans
            for url in urls.values():
                await once(url)
        latencies: dict[int, list[float]] = {size: [] for size in urls}
        for turn in range(requests):
            order = list(urls.items())
            for size, url in order if turn % 2 == 0 else reversed(order):
                latencies[size].append(await once(url))
        result: dict[int, dict[str, float]] = {}
        for size, url in urls.items():

            async def worker(count: int, url: str = url) -> None:
                for _ in range(count):
                    await once(url)

            started = time.perf_counter()
            await asyncio.gather(*(worker(requests // 8) for _ in range(8)))
            concurrent = (requests // 8 * 8) / (time.perf_counter() - started)
            ordered = sorted(latencies[size])
            result[size] = {
                "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
                "rps_sequential": round(len(ordered) / sum(ordered), 1),
                "rps_8_in_flight": round(concurrent, 1),
            }
    return result


async def bench_backend(urls: dict[int, str], requests: int) -> dict[str, Any]:
    """One database per catalog size, served side by side."""
    by_size: dict[int, dict[str, Any]] = {}
    for size, url in urls.items():
        await asyncio.to_thread(upgrade, url)
        catalog = await load_tree(url)
        OPERATIONS["product_by_sku"][1]["sku"] = product_write(SKU_NUMBER, catalog).sku
        seconds = await load_products(url, catalog, 0, size)
        by_size[size] = {"load_seconds": round(seconds, 1), **await statements_of(url, requests)}
    sizes = list(urls)
    async with served(urls[sizes[0]]) as small_url, served(urls[sizes[-1]]) as large_url:
        served_urls = {sizes[0]: small_url, sizes[-1]: large_url}
        for name in OPERATIONS:
            for size, timing in (await time_operation(served_urls, name, requests)).items():
                by_size[size][name] = {**timing, **by_size[size][name]}
    small, large = by_size[sizes[0]], by_size[sizes[-1]]
    ratios = {name: round(large[name]["p50_ms"] / small[name]["p50_ms"], 2) for name in OPERATIONS}
    sql_ratios = {
        name: round(large[name]["sql_ms_p50"] / small[name]["sql_ms_p50"], 2) for name in OPERATIONS
    }
    return {
        "sizes": {str(size): figures for size, figures in by_size.items()},
        "p50_ratio": ratios,
        "sql_ms_p50_ratio": sql_ratios,
        "within_1_5x": all(r <= 1.5 for r in ratios.values()),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,200000")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        },
        "operations": {
            "category_page": CATEGORY,
            "search": SEARCH,
            "product_by_sku": f"product number {SKU_NUMBER}",
        },
    }
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
                urls = {size: f"sqlite+aiosqlite:///{folder}/hub_{size}.db" for size in sizes}
                report["sqlite"] = await bench_backend(urls, args.requests)
        else:
            names = {size: f"hub_bench_{os.getpid()}_{size}" for size in sizes}
            try:
                for name in names.values():
                    await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
                urls = {
                    size: make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
                    for size, name in names.items()
                }
                report["postgresql"] = await bench_backend(urls, args.requests)
            finally:
                for name in names.values():
                    await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
