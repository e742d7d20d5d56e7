"""Benchmark of `hub orders import` on SQLite and PostgreSQL: order lines per second for a year of orders.

Usage: .venv/bin/python scripts/bench_orders_import.py [--lines 1000000] [--backends sqlite,postgresql]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres] [--keep FILE.csv]

Makes a throwaway database per backend (migrated; 5,000 products, 3 resellers with a store
each), writes a CSV of about `--lines` order lines (orders of 1 to 5 lines, a year of placing
times ending now, 3 % cancelled, most fulfilled), runs the real command
(`hub orders import FILE`) in a subprocess and prints JSON: wall time of the whole command
(process start included, migrations excluded), lines and orders per second, the command's CPU
time per line (user + system, all threads) and the file's size. `--keep` leaves the CSV
at that path (a year of orders for another bench to load). The target is tens of thousands of
lines a second on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasources.catalog.models import Product  # noqa: E402
from datasources.catalog.rows import search_text_of  # noqa: E402
from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.partners.models import Reseller  # noqa: E402
from datasources.stores.models import Store  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402

HUB = ROOT / ".venv" / "bin" / "hub"
PRODUCTS = 5000
STORES = ("alpha", "bravo", "charlie")


async def prepare_database(url: str) -> None:
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session, session.begin():
            await session.execute(
                insert(Product),
                [
                    {
                        "sku": f"B-{n:05d}",
                        "name": f"Bench product {n}",
                        "status": "ACTIVE",
                        "search_text": search_text_of(f"B-{n:05d}", f"Bench product {n}", None),
                    }
                    for n in range(PRODUCTS)
                ],
            )
            for code in STORES:
                reseller = Reseller(
                    code=code, name=code.title(), status="APPROVED", contact_email=f"{code}@b.example"
                )
                session.add(reseller)
                await session.flush()
                session.add(
                    Store(
                        slug=f"{code}-store",
                        name=code.title(),
                        reseller_id=reseller.id,
                        currency="USD",
                        status="OPEN",
                    )
                )


def write_orders_csv(path: Path, lines: int) -> tuple[int, int]:
    """About `lines` rows (whole orders), a year ending now; answers the numbers of orders and rows."""
    rng = random.Random(11)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    orders = written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "number",
                "store_slug",
                "placed_at",
                "customer_email",
                "status",
                "sku",
                "quantity",
                "unit_price",
                "currency",
            ]
        )
        while written < lines:
            orders += 1
            placed_at = (start + timedelta(seconds=int(364 * 86400 * written / lines))).isoformat()
            store = f"{rng.choice(STORES)}-store"
            email = f"customer{rng.randrange(50_000)}@example.com"
            roll = rng.random()
            status = "CANCELLED" if roll < 0.03 else ("PLACED" if roll < 0.05 else "FULFILLED")
            for _ in range(rng.randint(1, 5)):
                writer.writerow(
                    [
                        f"H-{orders:08d}",
                        store,
                        placed_at,
                        email,
                        status,
                        f"B-{rng.randrange(PRODUCTS):05d}",
                        rng.randint(1, 12),
                        f"{rng.randrange(199, 49999) / 100:.2f}",
                        "USD",
                    ]
                )
                written += 1
    return orders, written


def run_import(url: str, path: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system, all threads) of the command, and its last line."""
    env = {**os.environ, "HUB_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(HUB), "orders", "import", str(path)], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", type=Path, default=None, help="Leave the CSV file here.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-orders-") as folder:
        path = args.keep or Path(folder) / "orders.csv"
        started = time.perf_counter()
        orders, lines = write_orders_csv(path, args.lines)
        generated = time.perf_counter() - started
        file_mb = round(path.stat().st_size / 1e6, 1)
        for backend in args.backends.split(","):
            database = f"hub_bench_orders_{os.getpid()}"
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{folder}/orders.db"
            else:
                asyncio.run(pg_admin(args.pg_server, f'CREATE DATABASE "{database}"'))
                url = make_url(args.pg_server).set(database=database).render_as_string(hide_password=False)
            try:
                upgrade(url)
                asyncio.run(prepare_database(url))
                elapsed, cpu, said = run_import(url, path)
            finally:
                if backend != "sqlite":
                    asyncio.run(
                        pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                    )
            results.append(
                {
                    "backend": backend,
                    "lines": lines,
                    "orders": orders,
                    "command_seconds": round(elapsed, 2),
                    "lines_per_second": round(lines / elapsed),
                    "orders_per_second": round(orders / elapsed),
                    "cpu_seconds": round(cpu, 2),
                    "cpu_us_per_line": round(cpu / lines * 1e6, 1),
                    "command_said": said,
                }
            )
    print(
        json.dumps(
            {
                "nproc": os.cpu_count(),
                "loadavg": os.getloadavg(),
                "python": sys.version.split()[0],
                "file_mb": file_mb,
                "csv_written_seconds": round(generated, 1),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
