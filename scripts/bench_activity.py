"""Benchmark of live web activity: events a second one hub process accepts through `recordActivity`.

Usage: .venv/bin/python scripts/bench_activity.py [--events 50000] [--batch 50] [--concurrency 8]
       [--backend sqlite|postgresql|both] [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Serves the hub with uvicorn (one process) on a throwaway
database with one OPEN store, and posts `recordActivity` calls of `--batch` events (page views,
product views, searches, add-to-carts; one in ten carries a campaign code) from `--concurrency`
client tasks over keep-alive connections. The client runs in this process, on the same two cores
as the hub, so the wall-clock figure is a floor; the hub process's own CPU time (from /proc) gives
events per CPU-second of the hub, what one process does with a core to itself. Prints JSON per
backend: events/s (the aim: 5,000 or more), events per hub CPU-second, calls/s, call latency
median and p95, and the rows counted in the table afterwards.
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
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from bench_catalog import free_port  # noqa: E402
from sqlalchemy import func, make_url, select  # noqa: E402

from datasources.db import create_engine, create_session_factory, pg_admin  # noqa: E402
from datasources.marketing.models import ActivityEvent, Campaign  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.partners.models import Reseller  # noqa: E402
from datasources.stores.models import Store  # noqa: E402

RECORD = """
mutation($events: [ActivityInput!]!) { recordActivity(events: $events) { accepted userErrors { code } } }
"""
TYPES = ["PAGE_VIEW", "PAGE_VIEW", "PAGE_VIEW", "PRODUCT_VIEW", "PRODUCT_VIEW", "SEARCH", "ADD_TO_CART"]


async def prepare(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            reseller = Reseller(
                code="BENCH", name="Bench", status="APPROVED", contact_email="b@bench.example"
            )
            session.add(reseller)
            await session.flush()
            store = Store(
                slug="bench-shop", name="Bench", reseller_id=reseller.id, currency="USD", status="OPEN"
            )
            session.add(store)
            await session.flush()
            session.add(Campaign(code="BENCH", name="Bench", store_id=store.id, subject="s", body="b"))
    finally:
        await engine.dispose()


def batch_of(rng: random.Random, size: int) -> list[dict[str, Any]]:
    events = []
    for _ in range(size):
        kind = rng.choice(TYPES)
        event: dict[str, Any] = {
            "visitorId": f"visitor-{rng.randrange(5000)}",
            "storeSlug": "bench-shop",
            "type": kind,
            "path": f"/product/SKU-{rng.randrange(1000):04d}",
        }
        if kind in ("PRODUCT_VIEW", "ADD_TO_CART"):
            event["sku"] = f"SKU-{rng.randrange(1000):04d}"
        if kind == "SEARCH":
            event["searchTerm"] = rng.choice(["drill", "saw", "hammer", "screws"])
        if rng.random() < 0.1:
            event["campaignCode"] = "BENCH"
        events.append(event)
    return events


@asynccontextmanager
async def served(url: str) -> AsyncIterator[tuple[str, int]]:
    """uvicorn serving the hub on a free loopback port: (GraphQL URL, the server's process id)."""
    port = free_port()
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_ENV": "development"}
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
        cwd=ROOT,
        env=env,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(400):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the hub did not start")
        yield f"http://127.0.0.1:{port}/graphql", process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(graphql_url: str, pid: int, total: int, batch: int, concurrency: int) -> dict[str, Any]:
    calls = total // batch
    rng = random.Random(7)
    bodies = [json.dumps({"query": RECORD, "variables": {"events": batch_of(rng, batch)}}) for _ in range(50)]
    latencies: list[float] = []
    accepted = 0
    queue = list(range(calls))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        headers = {"content-type": "application/json"}
        # Warm-up: connections, caches, the first statements prepared.
        for body in bodies[:5]:
            await client.post(graphql_url, content=body, headers=headers)

        async def worker() -> None:
            nonlocal accepted
            while queue:
                number = queue.pop()
                started = time.perf_counter()
                response = await client.post(
                    graphql_url, content=bodies[number % len(bodies)], headers=headers
                )
                latencies.append(time.perf_counter() - started)
                payload = response.json()["data"]["recordActivity"]
                assert not payload["userErrors"], payload
                accepted += payload["accepted"]

        started = time.perf_counter()
        cpu_before = cpu_seconds(pid)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    latencies.sort()
    return {
        "events": accepted,
        "seconds": round(elapsed, 2),
        "events_per_second": round(accepted / elapsed),
        # What one process does with a whole core to itself: the figure that holds on a busy machine.
        "hub_cpu_seconds": round(cpu, 2),
        "events_per_hub_cpu_second": round(accepted / cpu) if cpu else None,
        "calls_per_second": round(calls / elapsed, 1),
        "call_ms_median": round(statistics.median(latencies) * 1000, 1),
        "call_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
    }


async def count_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(ActivityEvent))).scalar_one()
            )
    finally:
        await engine.dispose()


async def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    await prepare(url)
    async with served(url) as (graphql_url, pid):
        result = await drive(graphql_url, pid, args.events, args.batch, args.concurrency)
    result["rows_in_table"] = await count_rows(url)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "batch": args.batch,
        "concurrency": args.concurrency,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            results["sqlite"] = await bench(f"sqlite+aiosqlite:///{folder}/bench.db", args)
    if args.backend in ("postgresql", "both"):
        name = f"hub_bench_activity_{uuid.uuid4().hex[:8]}"
        await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
            results["postgresql"] = await bench(url, args)
        finally:
            await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
