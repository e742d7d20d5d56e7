"""Benchmark of the outbox worker: how fast it empties the outbox, and how soon after a commit it delivers.

Usage: .venv/bin/python scripts/bench_outbox.py [--messages 2000] [--postgres URL]

On a throwaway SQLite database (and, with --postgres, a throwaway database on
that server) it measures, printing JSON:

- `drain_per_s`: messages delivered per second when `--messages` are due at
  once, with a deliverer that returns at once (the outbox's own cost: claim,
  record), by one worker and, on PostgreSQL, by two workers on two engines (two
  hub processes sharing the work with SKIP LOCKED);
- `eml_per_s`: the same with the real `email` deliverer writing .eml files;
- `wake_ms`: from the commit of one enqueued message to its delivery starting,
  median and p95 over 50 messages, with the poll set to 30 s (so only the
  doorbell a commit rings can be measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url  # noqa: E402

from datasources.db import WRITE_TRANSACTION, create_engine, create_session_factory, pg_admin  # noqa: E402
from datasources.mail.delivery import email_deliverer  # noqa: E402
from datasources.mail.transports import FileTransport  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.outbox.queue import DOORBELL, enqueue  # noqa: E402
from datasources.outbox.worker import (  # noqa: E402
    ClaimedMessage,
    Deliverer,
    Doorbell,
    OutboxWorker,
    Outcome,
    outbox_depth,
)


async def instant(_message: ClaimedMessage) -> Outcome:
    return Outcome.delivered()


async def _fill(url: str, count: int, kind: str) -> None:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        # The worker writes too: take SQLite's write lock up front, as a unit of work does.
        await session.connection(execution_options=WRITE_TRANSACTION)
        for n in range(count):
            await enqueue(
                session,
                kind,
                f"{kind}-{uuid.uuid4().hex}-{n}",
                {"to": f"c{n}@bench.example", "subject": "Your order", "text": "Thank you." * 20},
            )
    await engine.dispose()


async def drain(url: str, count: int, kind: str, deliverer: Deliverer, workers: int = 1) -> float:
    """Messages per second for `workers` workers (each on its own engine) to deliver `count` due messages."""
    await _fill(url, count, kind)
    engines = [create_engine(url) for _ in range(workers)]
    factories = [create_session_factory(e) for e in engines]
    running = [OutboxWorker(f, {kind: deliverer}, poll_seconds=0.05, batch_size=50) for f in factories]
    started = time.perf_counter()
    for worker in running:
        worker.start()
    while True:
        async with factories[0]() as session:
            if await outbox_depth(session, kind) == 0:
                break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    for worker in running:
        await worker.stop()
    for engine in engines:
        await engine.dispose()
    return round(count / elapsed, 1)


async def wake_ms(url: str, rounds: int = 50) -> dict[str, float]:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    doorbell = Doorbell()
    factory.configure(info={DOORBELL: doorbell})
    started_at: dict[str, float] = {}
    waits: list[float] = []
    arrived = asyncio.Event()

    async def record(message: ClaimedMessage) -> Outcome:
        waits.append((time.perf_counter() - started_at[message.idempotency_key]) * 1000)
        arrived.set()
        return Outcome.delivered()

    worker = OutboxWorker(factory, {"wake": record}, doorbell=doorbell, poll_seconds=30)
    worker.start()
    await asyncio.sleep(0.2)
    for n in range(rounds):
        key = f"wake-{n}"
        arrived.clear()
        async with factory() as session, session.begin():
            # The worker writes too: take SQLite's write lock up front, as a unit of work does.
            await session.connection(execution_options=WRITE_TRANSACTION)
            await enqueue(session, "wake", key, {})
        started_at[key] = time.perf_counter()  # the commit is done: from here the doorbell counts
        await asyncio.wait_for(arrived.wait(), 10)
    await worker.stop()
    await engine.dispose()
    waits.sort()
    return {"median": round(statistics.median(waits), 2), "p95": round(waits[int(len(waits) * 0.95) - 1], 2)}


async def measure(url: str, count: int, mail_dir: Path, two_workers: bool) -> dict[str, object]:
    result: dict[str, object] = {
        "drain_per_s": await drain(url, count, "bench", instant),
        "eml_per_s": await drain(url, count, "email", email_deliverer(FileTransport(mail_dir), "hub@bench")),
        "wake_ms": await wake_ms(url),
    }
    if two_workers:
        result["drain_per_s_two_workers"] = await drain(url, count, "bench2", instant, workers=2)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("HUB_TEST_DATABASE_URL"))
    args = parser.parse_args()
    report: dict[str, object] = {"messages": args.messages, "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await asyncio.to_thread(upgrade, url)
        report["sqlite"] = await measure(url, args.messages, Path(folder) / "mail", two_workers=False)
        if args.postgres:
            name = f"hub_bench_outbox_{uuid.uuid4().hex[:8]}"
            await pg_admin(args.postgres, f'CREATE DATABASE "{name}"')
            pg_url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            try:
                await asyncio.to_thread(upgrade, pg_url)
                report["postgresql"] = await measure(
                    pg_url, args.messages, Path(folder) / "pg-mail", two_workers=True
                )
            finally:
                await pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
