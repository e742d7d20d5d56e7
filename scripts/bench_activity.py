"""Benchmark of live web activity (events a second through `recordActivity`) and of campaign results.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from bench_catalog import served_process as served  # noqa: E402
from sqlalchemy import func, insert, make_url, select, update  # noqa: E402

from datasources.db import create_engine, create_session_factory, pg_admin  # noqa: E402
from datasources.marketing.models import (  # noqa: E402
    ActivityEvent,
    Campaign,
    CampaignInteraction,
    CampaignRecipient,
)
from datasources.migrate import upgrade  # noqa: E402
from datasources.orders.models import Order  # noqa: E402
from datasources.outbox.models import OutboxMessage  # noqa: E402
from datasources.partners.models import Reseller, User  # noqa: E402
from datasources.stores.models import Store  # noqa: E402
from hub_graphql.settings import DEVELOPMENT_SECRET  # noqa: E402
from resolvers.auth import issue_token  # noqa: E402

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


RESULTS = """
query($code: String!) {
  campaign(code: $code) {
    status
    results { recipients sent failed opened clicked visits orders revenue { amount } conversionRate }
  }
}"""
CREATE = """
mutation { createCampaign(input: {code: "BIG", name: "Big", storeSlug: "bench-shop", subject: "News",
  body: "Look: {{link}}"}) { userErrors { code } } }"""
SEND = 'mutation { sendCampaign(code: "BIG") { campaign { status } userErrors { code } } }'


async def fill_for_results(url: str, recipients: int) -> str:
    """`recipients` opted-in customers of the bench store, and a site administrator's token."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            store = await session.scalar(select(Store).where(Store.slug == "bench-shop"))
            assert store is not None
            now = datetime.now(UTC)
            for start in range(0, recipients, 2000):
                await session.execute(
                    insert(Order.__table__),
                    [
                        order_row(store.id, store.reseller_id, f"customer{n}@bench.example", now, opt_in=True)
                        for n in range(start, min(start + 2000, recipients))
                    ],
                )
            admin = User(email="admin@bench.example", password_hash="-", roles=["SITE_ADMIN"])
            session.add(admin)
            await session.flush()
            return issue_token(admin.id, DEVELOPMENT_SECRET, timedelta(hours=2))
    finally:
        await engine.dispose()


def order_row(store_id: int, reseller_id: int, email: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "number": f"ORD-B{uuid.uuid4().hex[:12].upper()}",
        "store_id": store_id,
        "reseller_id": reseller_id,
        "status": "PLACED",
        "customer_email": email,
        "customer_email_key": email.lower(),
        "ship_name": "n",
        "ship_line1": "l",
        "ship_city": "c",
        "ship_postal_code": "p",
        "ship_country": "US",
        "payment_method": "INVOICE",
        "currency": "USD",
        "subtotal_minor": 5000,
        "discount_minor": 0,
        "total_minor": 5000,
        "placed_at": at,
        "marketing_opt_in": extra.get("opt_in", False),
        "campaign_id": extra.get("campaign_id"),
    }


async def fill_tracking(url: str, events: int) -> None:
    """After the send: 95 % of messages DONE, 5 % FAILED; opens, clicks, `events` events of the
    campaign (and as many without), 300 credited orders."""
    rng = random.Random(11)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            campaign = await session.scalar(select(Campaign).where(Campaign.code == "BIG"))
            assert campaign is not None
            store = await session.get(Store, campaign.store_id)
            assert store is not None
            recipients = list(
                (
                    await session.scalars(
                        select(CampaignRecipient.id).where(CampaignRecipient.campaign_id == campaign.id)
                    )
                ).all()
            )
            await session.execute(update(OutboxMessage).values(status="DONE"))
            failed = recipients[::20]
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(
                        select(CampaignRecipient.outbox_message_id).where(CampaignRecipient.id.in_(failed))
                    )
                )
                .values(status="FAILED")
            )
            now = datetime.now(UTC)
            touches = [
                {"campaign_id": campaign.id, "recipient_id": r, "kind": kind, "at": now}
                for r in recipients
                for kind, share in (("OPEN", 0.4), ("CLICK", 0.1))
                if rng.random() < share
            ]
            await session.execute(insert(CampaignInteraction.__table__), touches)
            for start in range(0, 2 * events, 5000):
                await session.execute(
                    insert(ActivityEvent.__table__),
                    [
                        {
                            "visitor_id": f"visitor-{rng.randrange(20_000)}",
                            "store_id": store.id,
                            "reseller_id": store.reseller_id,
                            "type": "PAGE_VIEW",
                            "campaign_id": campaign.id if n % 2 == 0 else None,
                            "campaign_code": "BIG" if n % 2 == 0 else None,
                            "at": now,
                        }
                        for n in range(start, min(start + 5000, 2 * events))
                    ],
                )
            await session.execute(
                insert(Order.__table__),
                [
                    order_row(
                        store.id, store.reseller_id, f"buyer{n}@bench.example", now, campaign_id=campaign.id
                    )
                    for n in range(300)
                ],
            )
    finally:
        await engine.dispose()


async def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk load, as autovacuum would give a live database."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.exec_driver_sql("VACUUM ANALYZE")
        finally:
            await engine.dispose()


async def bench_results(url: str, recipients: int, events: int, runs: int) -> dict[str, Any]:
    """sendCampaign to `recipients`, then Campaign.results over them and `events` campaign events."""
    token = await fill_for_results(url, recipients)
    headers = {"authorization": f"Bearer {token}"}
    async with served(url) as (graphql_url, _pid), httpx.AsyncClient(timeout=120, headers=headers) as client:
        created = (await client.post(graphql_url, json={"query": CREATE})).json()
        assert created["data"]["createCampaign"]["userErrors"] == [], created
        started = time.perf_counter()
        sent = (await client.post(graphql_url, json={"query": SEND})).json()
        send_ms = (time.perf_counter() - started) * 1000
        assert sent["data"]["sendCampaign"]["campaign"]["status"] == "SENDING", sent
        await fill_tracking(url, events)
        await analyze(url)
        timings = []
        answer: dict[str, Any] = {}
        for _ in range(runs + 2):
            started = time.perf_counter()
            answer = (
                await client.post(graphql_url, json={"query": RESULTS, "variables": {"code": "BIG"}})
            ).json()
            timings.append((time.perf_counter() - started) * 1000)
        timings = sorted(timings[2:])
    return {
        "recipients": recipients,
        "campaign_events": events,
        "send_campaign_ms": round(send_ms),
        "results_ms_median": round(statistics.median(timings), 1),
        "results_ms_max": round(timings[-1], 1),
        "results": answer["data"]["campaign"]["results"],
    }


async def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    await prepare(url)
    async with served(url) as (graphql_url, pid):
        result = await drive(graphql_url, pid, args.events, args.batch, args.concurrency)
    result["rows_in_table"] = await count_rows(url)
    if args.results:
        result["campaign_results"] = await bench_results(url, args.recipients, args.campaign_events, 20)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--results", action="store_true", help="also time sendCampaign and Campaign.results")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--campaign-events", type=int, default=100_000)
    parser.add_argument("--keep-database", action="store_true", help="leave the PostgreSQL database behind")
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
            if args.keep_database:
                results["kept_database"] = name
            else:
                await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
