"""Benchmark of `hub catalog import` into SQLite and PostgreSQL: products per second for CSV and JSON Lines.

Usage: .venv/bin/python scripts/bench_import.py [--products 100000] [--format csv,jsonl]
       [--database sqlite,postgresql] [--repeat 1] [--phases] [--baseline-hub OTHER/.venv/bin/hub]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

For each repetition, database and format (interleaved, so that a busy machine slows all alike)
it makes a throwaway database (a SQLite file, or a PostgreSQL database
hub_bench_import_<pid>_<n> dropped at the end), migrated, with the sample category tree and
product groups, writes a file of realistic products (3 attributes, USD and EUR list prices, one
group in five), runs the real command (`hub catalog import FILE`) in a subprocess and prints
JSON: wall time of the whole command (process start, migrations excluded), products per second,
and the command's CPU time per product (user + system, both of its processes: what a busy machine
does not change much; the database server's own CPU is not in it). With --repeat, the median of
each figure is given beside the runs.

`--phases` also takes the PostgreSQL import apart, in this process, on a fresh database: reading
and checking the file (the reader's work, alone), the COPY of every batch into the staging tables
(building the records included), and each set-based statement of the upsert, each with its wall
time and the PostgreSQL backend's CPU time (read from /proc when the server runs on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasources.catalog.models import Category, ProductGroup  # noqa: E402
from datasources.catalog.staged import UPSERT_STATEMENTS, StagedProducts  # noqa: E402
from datasources.catalog.writes import all_ids_by_code  # noqa: E402
from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.catalog import ProductGroupData, upsert_categories, upsert_product_groups  # noqa: E402
from resolvers.catalog_reader import ReadRequest, checked_batches  # noqa: E402
from resolvers.samples.catalog import BRANDS, COLORS, GROUPS, QUALIFIERS, sample_categories  # noqa: E402

HUB = ROOT / ".venv" / "bin" / "hub"


async def prepare_database(url: str) -> list[str]:
    """The sample tree and groups (on a migrated database); answers the leaf category codes."""
    categories = sample_categories()
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session, session.begin():
            assert not (await upsert_categories(session, categories)).errors
            groups = [ProductGroupData(code, name) for code, name in GROUPS]
            assert not (await upsert_product_groups(session, groups)).errors
    parents = {c.parent_code for c in categories}
    return [c.code for c in categories if c.code not in parents]


def product_rows(count: int, leaves: list[str]) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows = []
    for number in range(count):
        brand, qualifier = rng.choice(BRANDS), rng.choice(QUALIFIERS)
        cents = rng.randrange(199, 49999)
        rows.append(
            {
                "sku": f"BENCH-{number:07d}",
                "name": f"{brand} {qualifier} item {number}",
                "description": f"{brand} {qualifier.lower()} model for trade and home use.",
                "status": "ACTIVE",
                "categoryCode": leaves[number % len(leaves)],
                "groupCodes": [GROUPS[number % len(GROUPS)][0]] if number % 5 == 0 else [],
                "listPrices": [
                    {"currency": "USD", "amount": f"{cents / 100:.2f}"},
                    {"currency": "EUR", "amount": f"{cents * 0.92 / 100:.2f}"},
                ],
                "attributes": [
                    {"name": "brand", "value": brand},
                    {"name": "color", "value": rng.choice(COLORS)},
                    {"name": "weight_kg", "value": f"{rng.uniform(0.1, 12):.1f}"},
                ],
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    columns = ["sku", "name", "description", "status", "categoryCode", "groupCodes", "attributes"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "price_USD", "price_EUR"])
        for row in rows:
            prices = {p["currency"]: p["amount"] for p in row["listPrices"]}  # type: ignore[attr-defined]
            writer.writerow(
                [
                    row["sku"],
                    row["name"],
                    row["description"],
                    row["status"],
                    row["categoryCode"],
                    "|".join(row["groupCodes"]),  # type: ignore[arg-type]
                    "|".join(f"{a['name']}={a['value']}" for a in row["attributes"]),  # type: ignore[attr-defined]
                    prices["USD"],
                    prices["EUR"],
                ]
            )


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def run_import(url: str, path: Path, hub: Path = HUB) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of the command."""
    # No bytecode written: `hub` may be another checkout's (--baseline-hub), only read.
    env = {**os.environ, "HUB_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(hub), "catalog", "import", str(path)], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stdout}\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


def startup_seconds(hub: Path = HUB) -> float:
    """The command's fixed cost (interpreter and imports), measured with --help and subtracted."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([str(hub), "catalog", "import", "--help"], capture_output=True, check=True, env=env)
    return time.perf_counter() - started


@asynccontextmanager
async def fresh_database(kind: str, folder: str, pg_server: str, number: int) -> AsyncIterator[str]:
    """A migrated database with the sample tree and groups, gone afterwards."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder}/hub_{number}.db"
        await asyncio.to_thread(upgrade, url)
        try:
            yield url
        finally:
            await asyncio.to_thread(Path(f"{folder}/hub_{number}.db").unlink, missing_ok=True)
        return
    name = f"hub_bench_import_{os.getpid()}_{number}"
    await pg_admin(pg_server, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await pg_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process on this machine (the PostgreSQL backend), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def import_phases(url: str, path: Path, products: int) -> dict[str, Any]:
    """The PostgreSQL import taken apart (see the module's docstring); microseconds per product."""
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session, session.begin():
            request = ReadRequest(
                path=path,  # absolute: in the temporary folder
                batch_size=2000,
                category_ids=await all_ids_by_code(session, Category),
                group_ids=await all_ids_by_code(session, ProductGroup),
                currencies=["USD", "EUR"],
            )
            started = time.perf_counter()
            cpu_started = time.process_time()
            batches = list(checked_batches(request))
            reading = time.perf_counter() - started, time.process_time() - cpu_started
            assert not any(batch.rejected for batch in batches)
            connection = await session.connection()
            backend = (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
            staged = StagedProducts(session)
            await staged.open()

            async def timed(work: Any) -> dict[str, float | None]:
                backend_before = process_cpu_seconds(backend)
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                await work
                backend_after = process_cpu_seconds(backend)
                per = 1e6 / products
                return {
                    "wall_us": round((time.perf_counter() - wall_before) * per, 1),
                    "hub_cpu_us": round((time.process_time() - cpu_before) * per, 1),
                    "postgresql_cpu_us": None
                    if backend_before is None or backend_after is None
                    else round((backend_after - backend_before) * per, 1),
                }

            async def copy_all() -> None:
                for batch in batches:
                    await staged.add(batch.writes)

            phases: dict[str, Any] = {
                "read_and_check": {
                    "wall_us": round(reading[0] * 1e6 / products, 1),
                    "cpu_us": round(reading[1] * 1e6 / products, 1),
                },
                "copy_into_staging": await timed(copy_all()),
            }
            for name, statement in UPSERT_STATEMENTS.items():
                phases[name] = await timed(connection.exec_driver_sql(statement))
            started = time.perf_counter()
        phases["commit"] = {"wall_us": round((time.perf_counter() - started) * 1e6 / products, 1)}
    return phases


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and k != "products"]
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in keys}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    phases: dict[str, Any] = {}
    formats = args.format.split(",")
    databases = args.database.split(",")
    commands = {"": HUB, **({" (baseline)": Path(args.baseline_hub)} if args.baseline_hub else {})}
    number = 0
    with tempfile.TemporaryDirectory(prefix="hub-bench-import-") as folder:
        files: dict[str, Path] = {}
        for repetition in range(args.repeat):
            for kind, fmt, (label, hub) in itertools.product(databases, formats, commands.items()):
                number += 1
                async with fresh_database(kind, folder, args.pg_server, number) as url:
                    leaves = await prepare_database(url)
                    if fmt not in files:
                        files[fmt] = Path(folder) / f"products.{fmt}"
                        rows = product_rows(args.products, leaves)
                        (write_csv if fmt == "csv" else write_jsonl)(files[fmt], rows)
                    path = files[fmt]
                    startup = await asyncio.to_thread(startup_seconds, hub)
                    elapsed, cpu = await asyncio.to_thread(run_import, url, path, hub)
                runs.setdefault(kind + label, {}).setdefault(fmt, []).append(
                    {
                        "repetition": repetition + 1,
                        "loadavg": [round(x, 2) for x in os.getloadavg()],
                        "file_mb": round(path.stat().st_size / 1e6, 1),
                        "command_seconds": round(elapsed, 2),
                        "startup_seconds": round(startup, 2),
                        "products_per_second": round(args.products / elapsed),
                        "products_per_second_after_startup": round(args.products / (elapsed - startup)),
                        "cpu_seconds": round(cpu, 2),
                        "cpu_us_per_product": round(cpu / args.products * 1e6, 1),
                    }
                )
        if args.phases:
            for fmt in formats:
                number += 1
                async with fresh_database("postgresql", folder, args.pg_server, number) as url:
                    await prepare_database(url)
                    phases[fmt] = await import_phases(url, files[fmt], args.products)
    results = {
        kind: {fmt: {"median": median_of(each), "runs": each} for fmt, each in by_format.items()}
        for kind, by_format in runs.items()
    }
    return {"results": results, **({"postgresql_phases_us_per_product": phases} if phases else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--format", default="csv,jsonl", help="csv, jsonl or both (comma-separated)")
    parser.add_argument("--database", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, interleaved; medians given")
    parser.add_argument("--phases", action="store_true", help="also take the PostgreSQL import apart")
    parser.add_argument(
        "--baseline-hub",
        help="another checkout's `hub` command (say /work/main/.venv/bin/hub): its runs are interleaved "
        "with these on the same files and reported as '<database> (baseline)'",
    )
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    loadavg_at_start = [round(x, 2) for x in os.getloadavg()]
    report = asyncio.run(bench(args))
    print(
        json.dumps(
            {
                "nproc": os.cpu_count(),
                "loadavg_at_start": loadavg_at_start,
                "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                "python": sys.version.split()[0],
                "products": args.products,
                **report,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
