"""Benchmark of the public response cache: a store's page of 50 products, cached against executed.

Usage: .venv/bin/python scripts/bench_response_cache.py [--duration 10] [--rounds 3]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres] [--in-process 2000]

It makes a throwaway PostgreSQL database (hub_bench_respcache_<pid>, dropped at the end), migrates it
and loads the sample hub (`hub seed --sample`, 5,040 products), then serves it with two hub processes
on loopback, one with the cache on and one with `HUB_RESPONSE_CACHE=off`, and drives each in turn,
interleaved over several rounds, with `wrk -t2 -c10` (Debian's wrk) for `--duration` seconds:

- uncached_post: the store page by POST to the process without the cache (executed every time);
- cached_post: the same POST to the process with the cache (one version read, then the entry);
- cached_get: the same operation by GET (what a CDN in front would forward);
- revalidated_get: a GET with the answer's ETag in If-None-Match (304, no body).

Then, in process (the app behind httpx's ASGI transport, no sockets), the time of one request of
each kind, one at a time, and the SQL statements a cache hit sends. It prints JSON: requests/s and
p50/p99 (ms) per kind and round, their medians, the cached/uncached ratio and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import free_port  # noqa: E402

from datasources.db import pg_admin  # noqa: E402
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402

SLUG = "brightbuild-store"
STORE_PAGE = (
    "query StorePage($slug: String!) { store(slug: $slug) { products(first: 50) { edges { node "
    "{ sku name description price { amount currency } listPrice { amount currency } } } } } }"
)
VARIABLES = {"slug": SLUG}
PAYLOAD = json.dumps({"query": STORE_PAGE, "variables": VARIABLES, "operationName": "StorePage"})
BENCH_ENV = {
    "HUB_ENV": "development",
    "HUB_OUTBOX_WORKER": "false",
    "HUB_LOG_FORMAT": "text",
    "HUB_RATE_LIMITS": "createCart=off, checkout=off, recordActivity=off, registerReseller=off",
}


def load_average() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def hub_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub_graphql.cli", *args]


def prepare_database(server: str) -> str:
    """A throwaway PostgreSQL database with the sample hub: its URL."""
    name = f"hub_bench_respcache_{os.getpid()}"
    asyncio.run(pg_admin(server, f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(pg_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, **BENCH_ENV, "HUB_DATABASE_URL": url}
    for args in (("db", "upgrade"), ("seed", "--sample")):
        subprocess.run(hub_command(*args), cwd=ROOT, env=env, check=True, capture_output=True, timeout=1800)
    return url


@asynccontextmanager
async def hub_process(url: str, **extra: str) -> AsyncIterator[tuple[str, int]]:
    """One `hub serve` process on a free loopback port: its GraphQL URL and process id."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(BENCH_ENV, HUB_DATABASE_URL=url, **extra)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(  # noqa: ASYNC220 (started once; the bench then only reads its answers)
        hub_command("serve", "--host", "127.0.0.1", "--port", str(port)),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(600):
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(
                        f"the hub did not start:\n{log.read().decode(errors='replace')[-3000:]}"
                    )
                await asyncio.sleep(0.2)
            # Warm up: the pool's connections, the caches of parsing and validation, the entry.
            for _ in range(50):
                response = await client.post(f"{base}/graphql", content=PAYLOAD, headers=JSON)
                assert not response.json().get("errors"), response.text
        yield f"{base}/graphql", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


JSON = {"content-type": "application/json"}
_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, duration: int, script: str, pid: int) -> dict[str, float]:
    """wrk -t2 -c10 with a Lua script: requests/s, p50 and p99 in ms, non-2xx/3xx responses, and the
    server's CPU time per request (what bounds its rate on an idle core, whatever the machine's load)."""
    cpu_before = cpu_seconds(pid)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t2", "-c10", f"-d{duration}s", "--latency", "-s", lua.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
    finally:
        os.unlink(lua.name)
    cpu = cpu_seconds(pid) - cpu_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latencies = {int(p): float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(out)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": float(_RATE.search(out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latencies[50],
        "p99_ms": latencies[99],
        "bad_responses": int(bad.group(1)) if bad else 0,
        "server_cpu_ms_per_request": round(cpu * 1000 / max(requests, 1), 3),
    }


def lua_post() -> str:
    return (
        f'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = [[{PAYLOAD}]]\n'
    )


def lua_get(etag: str | None = None) -> str:
    lines = ['wrk.method = "GET"']
    if etag:
        lines.append(f"wrk.headers['if-none-match'] = '{etag}'")
    return "\n".join(lines) + "\n"


def get_url(graphql_url: str) -> str:
    return str(httpx.URL(graphql_url, params={"query": STORE_PAGE, "variables": json.dumps(VARIABLES)}))


async def in_process(url: str, requests: int) -> dict[str, Any]:
    """Per-request time in the app itself (no sockets), one at a time, and the statements of a hit."""
    figures: dict[str, Any] = {}
    for name, cache in (("uncached", False), ("cached", True)):
        settings = Settings(_env_file=None, database_url=url, outbox_worker=False, response_cache=cache)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client:
                for _ in range(20):
                    await client.post("/graphql", content=PAYLOAD, headers=JSON)
                statements: list[str] = []
                engine = app.state.resources_holder["resources"].engine.sync_engine

                def count(_c: Any, _cur: Any, statement: str, *_a: Any, into: list[str] = statements) -> None:
                    into.append(statement)

                event.listen(engine, "before_cursor_execute", count)
                times = []
                cpu_started = time.process_time()
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await client.post("/graphql", content=PAYLOAD, headers=JSON)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                cpu = time.process_time() - cpu_started
                event.remove(engine, "before_cursor_execute", count)
        times.sort()
        figures[name] = {
            "p50_ms": round(statistics.median(times), 3),
            "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
            "statements_per_request": round(len(statements) / requests, 2),
            "cpu_ms_per_request": round(cpu * 1000 / requests, 3),
        }
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-process", type=int, default=2000, help="requests of each kind in process")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    url = await asyncio.to_thread(prepare_database, args.pg_server)
    name = make_url(url).database
    result: dict[str, Any] = {
        "page": "store(slug) { products(first: 50) { sku name description price listPrice } }",
        "load_before": load_average(),
    }
    try:
        async with (
            hub_process(url, HUB_RESPONSE_CACHE="off") as (uncached, uncached_pid),
            hub_process(url) as (cached, cached_pid),
        ):
            async with httpx.AsyncClient() as client:
                etag = (await client.get(get_url(cached))).headers["etag"]
            runs: dict[str, list[dict[str, float]]] = {}
            kinds = {
                "uncached_post": (uncached, lua_post(), uncached_pid),
                "cached_post": (cached, lua_post(), cached_pid),
                "cached_get": (get_url(cached), lua_get(), cached_pid),
                "revalidated_get": (get_url(cached), lua_get(etag), cached_pid),
            }
            for _ in range(args.rounds):
                for kind, (target, script, pid) in kinds.items():
                    measured = await asyncio.to_thread(wrk, target, args.duration, script, pid)
                    runs.setdefault(kind, []).append(measured)
        result["wrk_runs"] = runs
        result["wrk_median"] = {
            kind: {
                key: round(statistics.median(run[key] for run in measured), 2)
                for key in ("requests_per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_request")
            }
            for kind, measured in runs.items()
        }
        base = result["wrk_median"]["uncached_post"]["requests_per_s"]
        result["ratio_to_uncached"] = {
            kind: round(m["requests_per_s"] / base, 1) for kind, m in result["wrk_median"].items()
        }
        result["postgraphile_rate_on_this_machine"] = 1360
        result["ratio_to_postgraphile"] = {
            kind: round(m["requests_per_s"] / 1360, 2) for kind, m in result["wrk_median"].items()
        }
        result["projected_one_process_rate_on_an_idle_core"] = {
            kind: round(1000 / m["server_cpu_ms_per_request"]) for kind, m in result["wrk_median"].items()
        }
        result["in_process"] = await in_process(url, args.in_process)
        result["load_after"] = load_average()
    finally:
        await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
