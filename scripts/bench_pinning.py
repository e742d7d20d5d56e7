"""Benchmark of DNS pinning's cost per outbound call: a pinned call against a plain one, to one loopback server.

Usage: .venv/bin/python scripts/bench_pinning.py [--calls 2000] [--rounds 7]

One small HTTP server on 127.0.0.1 (uvicorn, in a thread). Each round makes
`--calls` sequential POSTs three ways, interleaved so that load on a shared
machine touches each alike, on one keep-alive connection pool:

- `plain`: `http.stream("POST", url)`, the URL as given (what the hub did before pinning);
- `pinned_literal`: `pin_endpoint` + `pinned_stream` for `http://127.0.0.1:PORT/…` (no lookup);
- `pinned_name`: the same for `http://localhost:PORT/…`, resolved by the system once per call.

Prints JSON: the median over rounds of the microseconds per call, the
pinned ways' extra cost over plain, and the cost of pinning alone without any
I/O (`pin_endpoint` for an address literal and the URL rewritten to it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from datasources.partners.endpoints import EndpointPolicy, EndpointProblem, pin_endpoint  # noqa: E402
from datasources.partners.outbound import (  # noqa: E402
    partner_http_client,
    pinned_request_parts,
    pinned_stream,
)
from tests.servers import serve_asgi  # noqa: E402

BODY = json.dumps({"requestId": "r", "lines": [{"sku": "A", "quantity": 1}]})


async def answer(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"ok": True})


async def run(calls: int, rounds: int, base_url: str) -> dict:
    port = base_url.rsplit(":", 1)[1]
    policy = EndpointPolicy.of("development", [])
    literal = f"http://127.0.0.1:{port}/quote"
    named = f"http://localhost:{port}/quote"
    headers = {"Content-Type": "application/json"}
    timings: dict[str, list[float]] = {"plain": [], "pinned_literal": [], "pinned_name": []}
    async with partner_http_client() as http:

        async def plain() -> None:
            async with http.stream("POST", literal, content=BODY, headers=headers) as response:
                await response.aread()

        async def pinned(url: str) -> None:
            target = await pin_endpoint(url, policy)
            assert not isinstance(target, EndpointProblem), target
            async with pinned_stream(
                http, "POST", target, content=BODY, headers=headers, http_timeout=5.0
            ) as response:
                await response.aread()

        ways = {
            "plain": plain,
            "pinned_literal": lambda: pinned(literal),
            "pinned_name": lambda: pinned(named),
        }
        for way in ways.values():  # warm the pools and the code paths
            for _ in range(50):
                await way()
        for _ in range(rounds):
            for name, way in ways.items():
                started = time.perf_counter()
                for _ in range(calls):
                    await way()
                timings[name].append((time.perf_counter() - started) / calls * 1e6)
    medians = {name: round(statistics.median(values), 1) for name, values in timings.items()}
    alone = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            target = await pin_endpoint(literal, policy)
            assert not isinstance(target, EndpointProblem)
            pinned_request_parts(target)
        alone.append((time.perf_counter() - started) / calls * 1e6)
    return {
        "calls_per_round": calls,
        "rounds": rounds,
        "us_per_call_median": medians,
        "extra_us_per_call": {
            "pinned_literal": round(medians["pinned_literal"] - medians["plain"], 1),
            "pinned_name": round(medians["pinned_name"] - medians["plain"], 1),
        },
        "pinning_alone_us_per_call": round(statistics.median(alone), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    app = Starlette(routes=[Route("/quote", answer, methods=["POST"])])
    with serve_asgi(app) as base_url:
        print(json.dumps(asyncio.run(run(args.calls, args.rounds, base_url)), indent=2))


if __name__ == "__main__":
    main()
