"""Benchmark of a hub's first requests after start-up on PostgreSQL: what cold connections cost.

Usage: .venv/bin/python scripts/bench_cold_connections.py [--rounds 3] [--clients 10] [--requests 10]
       [--baseline /work/main] [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

It makes a throwaway database hub_bench_cold_<pid> (dropped at the end), migrates it, loads the
sample hub (`hub seed --sample`) and runs ANALYZE. Then, per round, for each variant in turn
(interleaved): it starts the hub (uvicorn, one worker, a free loopback port), waits for /health, and
sends `--clients` clients at once, each `--requests` store pages (50 products of an OPEN store, one
request at a time on its own keep-alive connection), so the pool opens up to `--clients`
connections during the first requests. It then sends the same again (the warm pool) and stops the hub.

Variants: `warm-up` (this checkout, HUB_DB_WARM_UP on: the default), `no warm-up` (this checkout,
HUB_DB_WARM_UP=false), and with `--baseline DIR` `baseline` (the hub of another checkout, e.g. main
before this change, served from that folder).

It prints JSON: per variant, p50/p99/max of the first requests and of the warm ones, and the mean
latency of each client's 1st, 2nd, … request (the cold ones come first), medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import free_port  # noqa: E402

from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.samples import seed_sample  # noqa: E402

STORE_PAGE = """query($slug: String!) {
  store(slug: $slug) { products(first: 50) { edges { node { sku name description price { amount currency } listPrice { amount } } } } }
}"""


@asynccontextmanager
async def hub_process(url: str, folder: Path, extra_env: dict[str, str]) -> AsyncIterator[str]:
    """The hub of `folder` served by uvicorn on a free loopback port, up and answering /health."""
    port = free_port()
    # Uncached: the public response cache would answer every page after the first from memory.
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_ENV": "development",
        "HUB_RESPONSE_CACHE": "off",
        **extra_env,
    }
    python = folder / ".venv" / "bin" / "python"
    process = await asyncio.create_subprocess_exec(
        str(python if python.exists() else sys.executable),
        *("-m", "uvicorn", "hub_graphql.app:create_app", "--factory", "--host", "127.0.0.1"),
        *("--port", str(port), "--log-level", "warning", "--no-access-log"),
        cwd=folder,
        env=env,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(2400):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the hub did not start")
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)


async def client_run(graphql_url: str, slug: str, requests: int) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.post(graphql_url, json={"query": STORE_PAGE, "variables": {"slug": slug}})
            latencies.append((time.perf_counter() - started) * 1000)
            answer = response.json()
            if answer.get("errors") or not answer["data"]["store"]:
                raise RuntimeError(f"unexpected answer {str(answer)[:300]}")
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def one_round(url: str, folder: Path, env: dict[str, str], slug: str, args: Any) -> dict[str, Any]:
    async with hub_process(url, folder, env) as graphql_url:
        cold = await asyncio.gather(
            *(client_run(graphql_url, slug, args.requests) for _ in range(args.clients))
        )
        warm = await asyncio.gather(
            *(client_run(graphql_url, slug, args.requests) for _ in range(args.clients))
        )
    return {
        "first": summary([x for run in cold for x in run]),
        "warm": summary([x for run in warm for x in run]),
        "by_request_index_ms": [
            round(statistics.mean(run[i] for run in cold), 1) for i in range(args.requests)
        ],
    }


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for phase in ("first", "warm"):
        merged[phase] = {
            k: round(statistics.median(r[phase][k] for r in rounds), 1) for k in rounds[0][phase]
        }
    merged["by_request_index_ms"] = [
        round(statistics.median(r["by_request_index_ms"][i] for r in rounds), 1)
        for i in range(len(rounds[0]["by_request_index_ms"]))
    ]
    merged["rounds"] = rounds
    return merged


async def load_sample(url: str) -> None:
    await asyncio.to_thread(upgrade, url)
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        if not await seed_sample(resources.session_factory, lambda _: None):
            raise RuntimeError("the sample hub did not load")
        async with resources.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))


async def measure(url: str, variants: dict[str, tuple[Path, dict[str, str]]], args: Any) -> dict[str, Any]:
    async with open_resources(Settings(_env_file=None, database_url=url, db_warm_up=False)) as resources:
        async with resources.engine.connect() as connection:
            slug = (
                (
                    await connection.execute(
                        text("SELECT slug FROM stores WHERE status = 'OPEN' ORDER BY slug")
                    )
                )
                .scalars()
                .first()
            )
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_number in range(args.rounds):
        for variant, (folder, env) in variants.items():
            results[variant].append(await one_round(url, folder, env, slug, args))
            print(f"round {round_number + 1} {variant}: {results[variant][-1]['first']}", file=sys.stderr)
    return {v: median_of(r) for v, r in results.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--baseline", type=Path, help="another checkout whose hub to measure as well")
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--database",
        help="an existing database holding the sample hub, used as it is and kept (saves the load)",
    )
    args = parser.parse_args()
    variants: dict[str, tuple[Path, dict[str, str]]] = {
        "warm-up": (ROOT, {}),
        "no warm-up": (ROOT, {"HUB_DB_WARM_UP": "false"}),
    }
    if args.baseline:
        variants["baseline"] = (args.baseline.resolve(), {})
    report: dict[str, Any] = {
        "machine": {"nproc": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]},
        "clients": args.clients,
        "requests_per_client": args.requests,
    }
    name = args.database or f"hub_bench_cold_{os.getpid()}"
    url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
    if not args.database:
        await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
    try:
        if not args.database:
            await load_sample(url)
        report["variants"] = await measure(url, variants, args)
    finally:
        if not args.database:
            await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
