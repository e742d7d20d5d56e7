"""Benchmark of `hub catalog import` into SQLite: products per second for a CSV and a JSON Lines file.

Usage: .venv/bin/python scripts/bench_import.py [--products 100000] [--format csv,jsonl]

Makes a throwaway SQLite database (migrated, with the sample category tree and
product groups), writes a file of realistic products (3 attributes, USD and
EUR list prices, one group in five), runs the real command
(`hub catalog import FILE`) in a subprocess and prints JSON: wall time of the
whole command (process start, migrations excluded), products per second, and
the command's CPU time per product (user + system, all threads: what a busy
machine does not change much). The target is at least 20,000 products per
second on the 2-core machine.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.catalog import ProductGroupData, upsert_categories, upsert_product_groups  # noqa: E402
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


def run_import(url: str, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of the command."""
    env = {**os.environ, "HUB_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(HUB), "catalog", "import", str(path)], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stdout}\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


def startup_seconds() -> float:
    """The command's fixed cost (interpreter and imports), measured with --help and subtracted."""
    started = time.perf_counter()
    subprocess.run([str(HUB), "catalog", "import", "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--format", default="csv,jsonl", help="csv, jsonl or both (comma-separated)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-import-") as folder:
        for fmt in args.format.split(","):
            url = f"sqlite+aiosqlite:///{folder}/{fmt}.db"
            upgrade(url)
            leaves = asyncio.run(prepare_database(url))
            rows = product_rows(args.products, leaves)
            path = Path(folder) / f"products.{fmt}"
            (write_csv if fmt == "csv" else write_jsonl)(path, rows)
            startup = startup_seconds()
            elapsed, cpu = run_import(url, path)
            results.append(
                {
                    "format": fmt,
                    "products": args.products,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "command_seconds": round(elapsed, 2),
                    "startup_seconds": round(startup, 2),
                    "products_per_second": round(args.products / elapsed),
                    "products_per_second_after_startup": round(args.products / (elapsed - startup)),
                    "cpu_seconds": round(cpu, 2),
                    "cpu_us_per_product": round(cpu / args.products * 1e6, 1),
                }
            )
    print(
        json.dumps(
            {
                "nproc": os.cpu_count(),
                "loadavg": os.getloadavg(),
                "python": sys.version.split()[0],
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
