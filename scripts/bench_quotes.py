"""Benchmark of live quotes: the hub's latency against its distributors', and the calls it sends.

Usage: .venv/bin/python scripts/bench_quotes.py [--runs 5] [--timeout-ms 1500]

Starts six reference distributors (`hub sample-distributor`, real processes on
loopback): five answer after 50 ms (+/- 5 ms), one after 2 s, past the hub's
deadline. Each carries a different 60% of 300 SKUs (the rest come back
unavailable), so a request's lines are spread over them. The hub runs in
process (the app behind httpx's ASGI transport, a throwaway SQLite database),
with the offer cache off so that every operation asks. For each scenario it
runs `requestQuote` with 300 lines and `liveQuotes` on a 100-product page and
prints JSON:

- `hub_ms`: the operation's wall time as the client sees it (median and max);
- `slowest_answer_ms`: the slowest distributor that answered, timed by the hub;
- `ratio`: hub_ms / slowest_answer_ms (the aim is 1.3 or less);
- `deadline_overshoot_ms`: hub_ms minus the deadline, when a distributor was late;
- `calls_per_distributor`: outbound calls each distributor counted per operation (exactly 1).

Scenarios: `five_answer` (the late distributor left out), `one_late` (all six,
the circuit breaker kept closed so the late one is called every time) and
`one_late_circuit_open` (the default breaker: after three timeouts the late
distributor is answered UNAVAILABLE at once).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from datasources.catalog.models import Category, Product  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.partners.models import (  # noqa: E402
    Distributor,
    HubPolicy,
    Reseller,
    ResellerDistributor,
    User,
)
from datasources.partners.queries import default_policy  # noqa: E402
from datasources.quotes.state import quote_state  # noqa: E402
from hub_graphql.app import create_app  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.auth import hash_password, issue_token  # noqa: E402

SKUS = [f"BQ-{n:04d}" for n in range(300)]
FAST = [f"fast{i}" for i in range(1, 6)]
LATE = "late"

REQUEST_QUOTE = """
mutation($input: RequestQuoteInput!) {
  requestQuote(input: $input) { quoteRequest { quotes { status distributor { code } } } userErrors { code } }
}
"""
LIVE_PAGE = """
query($codes: [String!]) {
  products(first: 100) { edges { node { liveQuotes(quantity: 5, distributorCodes: $codes) { sku } } } }
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_price_list(path: Path, code: str) -> None:
    rng = random.Random(code)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "currency", "unit_price", "stock", "lead_time_days", "breaks"])
        for sku in SKUS:
            if rng.random() < 0.6:
                writer.writerow(
                    [sku, "USD", f"{rng.uniform(5, 500):.2f}", rng.randint(0, 900), rng.randint(1, 9), ""]
                )


def start_distributors(folder: Path, ready_s: float = 120) -> dict[str, tuple[subprocess.Popen[bytes], str]]:
    started = {}
    for code in [*FAST, LATE]:
        prices = folder / f"{code}.csv"
        write_price_list(prices, code)
        port = free_port()
        latency = ["--latency-ms", "2000"] if code == LATE else ["--latency-ms", "50", "--jitter-ms", "5"]
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub_graphql.cli",
                "sample-distributor",
                "--code",
                code,
                "--port",
                str(port),
                "--price-list",
                str(prices),
                *latency,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started[code] = (process, f"http://127.0.0.1:{port}")
    for code, (process, url) in started.items():
        deadline = time.monotonic() + ready_s
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"distributor {code} did not start")
            time.sleep(0.1)
    return started


async def calls_of(stats: httpx.AsyncClient, started: dict[str, tuple[Any, str]]) -> dict[str, int]:
    """Calls each distributor has counted, read on the bench's own long-lived client.

    Not `httpx.get` per distributor: each made a client (and its TLS context) and blocked the event
    loop, and the garbage and the postponed work of the hub's previous request then fell into the
    next measured one (the first call left 20 ms into a `liveQuotes` request instead of 8).
    """
    answers = await asyncio.gather(*(stats.get(f"{url}/stats") for _, url in started.values()))
    return {code: answer.json()["calls"] for code, answer in zip(started, answers, strict=True)}


async def prepare(settings: Settings, started: dict[str, tuple[Any, str]], timeout_ms: int) -> int:
    """Products, one approved reseller connected to the six distributors (alternating transports)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        resources = app.state.resources_holder["resources"]
        async with resources.session_factory() as session, session.begin():
            category = Category(code="bench", name="Bench", path="/", depth=0)
            session.add(category)
            await session.flush()
            category.path = f"/{category.id}/"
            session.add_all(
                Product(sku=s, name=s, status="ACTIVE", category_id=category.id, search_text=s.lower())
                for s in SKUS
            )
            policy: HubPolicy = default_policy()
            policy.live_quote_timeout_ms, policy.live_quote_cache_seconds = timeout_ms, 0
            session.add(policy)
            reseller = Reseller(
                code="bench", name="Bench", status="APPROVED", contact_email="b@bench.example"
            )
            session.add(reseller)
            await session.flush()
            for i, (code, (_, url)) in enumerate(started.items()):
                transport = "GRAPHQL_SUBGRAPH" if i % 2 == 0 else "REST_JSON"
                endpoint = f"{url}/graphql" if transport == "GRAPHQL_SUBGRAPH" else f"{url}/quote"
                distributor = Distributor(
                    code=code,
                    name=code,
                    status="APPROVED",
                    regions=[],
                    quote_transport=transport,
                    quote_endpoint=endpoint,
                )
                session.add(distributor)
                await session.flush()
                session.add(ResellerDistributor(reseller_id=reseller.id, distributor_id=distributor.id))
            user = User(
                email="admin@bench.example",
                password_hash=hash_password("bench-password"),
                roles=["RESELLER_ADMIN"],
                reseller_id=reseller.id,
            )
            session.add(user)
            await session.flush()
            return user.id


async def measure(
    settings: Settings, started: dict[str, tuple[Any, str]], user_id: int, runs: int, timeout_ms: int
) -> dict[str, Any]:
    app = create_app(settings)
    report: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        resources = app.state.resources_holder["resources"]
        token = issue_token(
            user_id, settings.secret_key.get_secret_value(), __import__("datetime").timedelta(hours=1)
        )
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://hub.bench", timeout=30) as client,
            httpx.AsyncClient(timeout=30) as stats,
        ):
            state = quote_state(resources.shared)
            # Warm up: connections to every distributor, parser caches.
            await client.post(
                "/graphql", json={"query": LIVE_PAGE, "variables": {"codes": FAST}}, headers=headers
            )
            scenarios = {
                "five_answer": (FAST, 10_000),
                "one_late": ([*FAST, LATE], 10_000),
                "one_late_circuit_open": ([*FAST, LATE], 3),
            }
            for name, (codes, threshold) in scenarios.items():
                state.breakers.clear()
                state.breaker_threshold = threshold
                report[name] = {}
                for operation in ("requestQuote_300_lines", "liveQuotes_100_products"):
                    report[name][operation] = await _run(
                        client, stats, headers, state, started, codes, operation, runs, timeout_ms
                    )
    return report


async def _run(client, stats, headers, state, started, codes, operation, runs, timeout_ms):  # type: ignore[no-untyped-def]
    hub_ms, slowest_ms, per_call = [], [], []
    for _ in range(runs):
        state.stats.clear()
        before = await calls_of(stats, started)
        if operation.startswith("requestQuote"):
            body = {
                "query": REQUEST_QUOTE,
                "variables": {
                    "input": {"items": [{"sku": s, "quantity": 5} for s in SKUS], "distributorCodes": codes}
                },
            }
        else:
            body = {"query": LIVE_PAGE, "variables": {"codes": codes}}
        started_at = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        hub_ms.append((time.perf_counter() - started_at) * 1000)
        payload = response.json()
        assert payload.get("data"), payload
        after = await calls_of(stats, started)
        per_call.append({c: after[c] - before[c] for c in codes})
        answered = [s.last_ms for code, s in state.stats.items() if s.failures == 0 and s.last_ms is not None]
        slowest_ms.append(max(answered) if answered else float("nan"))
    median_hub, median_slowest = statistics.median(hub_ms), statistics.median(slowest_ms)
    late = LATE in codes
    return {
        "hub_ms": {"median": round(median_hub, 1), "max": round(max(hub_ms), 1)},
        "slowest_answer_ms": {"median": round(median_slowest, 1), "max": round(max(slowest_ms), 1)},
        "ratio": round(median_hub / median_slowest, 2),
        "deadline_ms": timeout_ms,
        "deadline_overshoot_ms": (
            {"median": round(median_hub - timeout_ms, 1), "max": round(max(hub_ms) - timeout_ms, 1)}
            if late
            else None
        ),
        "calls_per_distributor": {c: sorted({run[c] for run in per_call}) for c in codes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout-ms", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        settings = Settings(_env_file=None, database_url=url)
        started = start_distributors(Path(folder))
        try:
            user_id = asyncio.run(prepare(settings, started, args.timeout_ms))
            report = asyncio.run(measure(settings, started, user_id, args.runs, args.timeout_ms))
        finally:
            for process, _ in started.values():
                process.terminate()
            for process, _ in started.values():
                process.wait(timeout=10)
    print(json.dumps({"runs": args.runs, **report}, indent=2))


if __name__ == "__main__":
    main()
