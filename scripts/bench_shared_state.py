"""Benchmark of the quote state in the process against the same in Redis: `liveQuotes` on 100 products.

Usage: .venv/bin/python scripts/bench_shared_state.py [--runs 15] [--redis redis://127.0.0.1:6379/0]
       [--only process|redis]

Five reference distributors (`hub sample-distributor`, real processes on
loopback, 50 ms +/- 5 ms, as in scripts/bench_quotes.py) and two hubs in this
process on one throwaway SQLite database: `process` (no HUB_REDIS_URL: offer
cache and breakers in memory) and `redis` (HUB_REDIS_URL, a key prefix of the
run's own, deleted at the end). Operations alternate between the two, so both
see the same machine. Two scenarios:

- `asking`: the offer cache off, every operation calls the five distributors
  (one breaker check for five, no cache read or write);
- `cached`: the offer cache on and filled, every operation answered from it
  (500 offers: one cache read of 500 keys, no call).

Prints JSON per scenario and hub: `hub_ms` (wall time per operation, median and
p90), `cpu_ms` (this process's CPU per operation, median: the hub's own work,
the distributors run elsewhere), and the distributor calls per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from bench_quotes import FAST, LIVE_PAGE, calls_of, prepare, start_distributors  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import update  # noqa: E402

from datasources.migrate import upgrade  # noqa: E402
from datasources.partners.models import HubPolicy  # noqa: E402
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.auth import issue_token  # noqa: E402


async def set_cache_seconds(app: Any, seconds: int) -> None:
    resources = app.state.resources_holder["resources"]
    async with resources.session_factory() as session, session.begin():
        await session.execute(update(HubPolicy).values(live_quote_cache_seconds=seconds))


async def measure(
    hubs: dict[str, Settings], started: dict[str, Any], user_id: int, runs: int
) -> dict[str, Any]:
    apps = {name: create_app(settings) for name, settings in hubs.items()}
    report: dict[str, Any] = {}
    contexts = [app.router.lifespan_context(app) for app in apps.values()]
    for context in contexts:
        await context.__aenter__()
    try:
        settings = next(iter(hubs.values()))
        token = issue_token(user_id, settings.secret_key.get_secret_value(), timedelta(hours=1))
        body = {"query": LIVE_PAGE, "variables": {"codes": FAST}}
        headers = {"Authorization": f"Bearer {token}"}
        clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub.bench", timeout=30
            )
            for name, app in apps.items()
        }
        for scenario, cache_seconds in (("asking", 0), ("cached", 600)):
            await set_cache_seconds(next(iter(apps.values())), cache_seconds)
            for client in clients.values():  # warm: connections, parser caches, and the offer cache
                for _ in range(2):
                    assert (await client.post("/graphql", json=body, headers=headers)).json().get("data")
            samples: dict[str, dict[str, list[float]]] = {
                n: {"wall": [], "cpu": [], "calls": []} for n in apps
            }
            for _ in range(runs):
                for name, client in clients.items():  # interleaved: A, B, A, B, …
                    before = calls_of(started)
                    wall, cpu = time.perf_counter(), time.process_time()
                    response = await client.post("/graphql", json=body, headers=headers)
                    samples[name]["wall"].append((time.perf_counter() - wall) * 1000)
                    samples[name]["cpu"].append((time.process_time() - cpu) * 1000)
                    assert response.json().get("data"), response.text
                    after = calls_of(started)
                    samples[name]["calls"].append(sum(after[c] - before[c] for c in FAST))
            report[scenario] = {
                name: {
                    "hub_ms": {
                        "median": round(statistics.median(s["wall"]), 2),
                        "p90": round(statistics.quantiles(s["wall"], n=10)[-1], 2),
                    },
                    "cpu_ms": {"median": round(statistics.median(s["cpu"]), 2)},
                    "calls_per_operation": sorted(set(s["calls"])),
                }
                for name, s in samples.items()
            }
        for client in clients.values():
            await client.aclose()
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=["process", "redis"])
    args = parser.parse_args()
    prefix = f"hub-bench-{uuid.uuid4().hex[:12]}:"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        base = Settings(_env_file=None, database_url=url, outbox_worker=False)
        hubs = {
            "process": base,
            "redis": base.model_copy(update={"redis_url": SecretStr(args.redis), "redis_key_prefix": prefix}),
        }
        if args.only:
            hubs = {args.only: hubs[args.only]}
        started = start_distributors(
            Path(folder), ready_s=180
        )  # bench_quotes' six; the late one is not asked here
        try:
            user_id = asyncio.run(prepare(base, started, 1500))
            fast = {code: started[code] for code in FAST}
            report = asyncio.run(measure(hubs, fast, user_id, args.runs))
        finally:
            for process, _ in started.values():
                process.terminate()
            for process, _ in started.values():
                process.wait(timeout=10)
            redis = Redis.from_url(args.redis)
            keys = list(redis.scan_iter(match=f"{prefix}*"))
            if keys:
                redis.delete(*keys)
            redis.close()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps({"runs": args.runs, "loadavg": load, **report}, indent=2))


if __name__ == "__main__":
    main()
