"""Benchmark of checkout over HTTP: checkouts per second on one hub process, and SQL statements per checkout.

Usage: .venv/bin/python scripts/bench_checkout.py [--backends sqlite,postgresql] [--checkouts 200]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

For each backend it makes a throwaway database (a SQLite file in a temporary folder; on PostgreSQL a
database hub_bench_checkout_<pid> that it drops at the end), migrates it and loads the sample hub
(`hub seed --sample`: its catalog, resellers and OPEN stores with their overlays). It serves the hub
with uvicorn in a subprocess on a free loopback port. Carts of 5 lines (SKUs each store sells, at
random) are made over GraphQL beforehand; then it times `checkout` alone, one request at a time on a
keep-alive connection and with 8 in flight, and the customer's whole visit (createCart,
addCartLines with 5 lines, checkout) one at a time. In process, on the same database, it counts the
SQL statements of one checkout of a 5-line and of a 20-line cart (the same number: constant in the
lines) and of one cart read. It prints JSON.
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
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import served  # noqa: E402

from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.samples import seed_sample  # noqa: E402

LINES = 5
STORE_SKUS = """
query($slug: String!) { store(slug: $slug) { status products(first: 100) { edges { node { sku } } } } }"""
CREATE = "mutation($slug: String!) { createCart(storeSlug: $slug) { cart { id } userErrors { code } } }"
ADD = """
mutation($cart: ID!, $lines: [CartLineInput!]!) {
  addCartLines(cartId: $cart, lines: $lines) { cart { itemCount total { amount } } userErrors { code } }
}"""
READ = """
query($cart: ID!) {
  cart(id: $cart) { itemCount store { name } lines { sku quantity unitPrice { amount } total { amount } } total { amount } }
}"""
CHECKOUT = """
mutation($cart: ID!, $email: String!) {
  checkout(cartId: $cart, input: {email: $email, paymentMethod: "INVOICE",
    shippingAddress: {name: "Bench Buyer", line1: "1 Load Street", city: "Loadtown", postalCode: "10115", country: "DE"}}) {
    order { number total { amount currency } lines { sku } }
    userErrors { code message }
  }
}"""
SAMPLE_STORES = ("brightbuild-store", "oakhouse-store", "redline-store")


async def post(client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = (await client.post(url, json={"query": query, "variables": variables})).json()
    if answer.get("errors"):
        raise RuntimeError(f"unexpected answer {str(answer)[:300]}")
    data = answer["data"]
    payload = next(iter(data.values()))
    if isinstance(payload, dict) and payload.get("userErrors"):
        raise RuntimeError(f"unexpected userErrors {payload['userErrors']}")
    return data


async def store_skus(client: httpx.AsyncClient, url: str) -> dict[str, list[str]]:
    """The sample's OPEN stores and the SKUs each sells (its first 100)."""
    found: dict[str, list[str]] = {}
    for slug in SAMPLE_STORES:
        store = (await post(client, url, STORE_SKUS, {"slug": slug}))["store"]
        if store and store["status"] == "OPEN":
            found[slug] = [e["node"]["sku"] for e in store["products"]["edges"]]
    if not found:
        raise RuntimeError("the sample hub has none of the stores this bench expects")
    return found


async def make_cart(
    client: httpx.AsyncClient, url: str, skus: dict[str, list[str]], rng: random.Random, lines: int
) -> str:
    slug = rng.choice(sorted(skus))
    cart = (await post(client, url, CREATE, {"slug": slug}))["createCart"]["cart"]["id"]
    chosen = rng.sample(skus[slug], min(lines, len(skus[slug])))
    await post(
        client, url, ADD, {"cart": cart, "lines": [{"sku": s, "quantity": rng.randint(1, 5)} for s in chosen]}
    )
    return cart


async def checkout(client: httpx.AsyncClient, url: str, cart: str, n: int) -> float:
    started = time.perf_counter()
    data = await post(client, url, CHECKOUT, {"cart": cart, "email": f"Buyer{n}@Bench.example"})
    elapsed = time.perf_counter() - started
    if data["checkout"]["order"] is None:
        raise RuntimeError("no order")
    return elapsed


def summary(latencies: list[float], seconds: float, count: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "per_second": round(count / seconds, 1),
    }


async def timed(url: str, checkouts: int) -> dict[str, Any]:
    rng = random.Random(7)
    async with served(url) as graphql_url, httpx.AsyncClient(timeout=60) as client:
        skus = await store_skus(client, graphql_url)
        for n in range(20):  # warm-up: connections, caches, plans
            await checkout(client, graphql_url, await make_cart(client, graphql_url, skus, rng, LINES), n)
        carts = [await make_cart(client, graphql_url, skus, rng, LINES) for _ in range(checkouts * 2)]
        started = time.perf_counter()
        latencies = [await checkout(client, graphql_url, cart, n) for n, cart in enumerate(carts[:checkouts])]
        sequential = summary(latencies, time.perf_counter() - started, checkouts)

        queue = list(enumerate(carts[checkouts:]))
        in_flight: list[float] = []

        async def worker() -> None:
            while queue:
                n, cart = queue.pop()
                in_flight.append(await checkout(client, graphql_url, cart, n))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(8)))
        concurrent = summary(in_flight, time.perf_counter() - started, checkouts)

        visits: list[float] = []
        started = time.perf_counter()
        for n in range(checkouts // 2):
            begun = time.perf_counter()
            cart = await make_cart(client, graphql_url, skus, rng, LINES)
            await checkout(client, graphql_url, cart, n)
            visits.append(time.perf_counter() - begun)
        visit = summary(visits, time.perf_counter() - started, checkouts // 2)
    return {
        "checkout_sequential": sequential,
        "checkout_8_in_flight": concurrent,
        "whole_visit_sequential": visit,
    }


def queries(statements: list[str]) -> int:
    """Transaction control is no query (SQLite's BEGIN is sent as a statement, PostgreSQL's is not)."""
    return len([s for s in statements if s.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}])


async def statements_of(url: str) -> dict[str, int]:
    """SQL statements of one checkout (5 and 20 lines) and one cart read, counted in process."""
    counts: dict[str, int] = {}
    app = create_app(Settings(_env_file=None, database_url=url))
    rng = random.Random(11)
    async with app.router.lifespan_context(app):
        engine = app.state.resources_holder["resources"].engine
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client:
            url_ = "/graphql"
            skus = await store_skus(client, url_)
            await checkout(client, url_, await make_cart(client, url_, skus, rng, LINES), 0)
            for lines in (LINES, 20):
                cart = await make_cart(client, url_, skus, rng, lines)
                statements.clear()
                await post(client, url_, READ, {"cart": cart})
                counts[f"cart_read_{lines}_lines"] = len(statements)
                statements.clear()
                await checkout(client, url_, cart, lines)
                counts[f"checkout_{lines}_lines"] = len(
                    [
                        s
                        for s in statements
                        if s.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}
                    ]
                )
    return counts


async def bench_backend(url: str, checkouts: int) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        if not await seed_sample(resources.session_factory, lambda _: None):
            raise RuntimeError("the bench database was not empty")
    return {"sql_statements": await statements_of(url), **await timed(url, checkouts)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--checkouts", type=int, default=200)
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        },
        "cart_lines": LINES,
    }
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="hub-bench-checkout-") as folder:
                report["sqlite"] = await bench_backend(f"sqlite+aiosqlite:///{folder}/hub.db", args.checkouts)
        else:
            name = f"hub_bench_checkout_{os.getpid()}"
            await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
                report["postgresql"] = await bench_backend(url, args.checkouts)
            finally:
                await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
