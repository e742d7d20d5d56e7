"""What metrics, request ids and log lines cost per request, and what a scrape costs; prints JSON.

.venv/bin/python scripts/bench_observability.py
"""

import asyncio
import io
import json
import logging
import os
import statistics
import tempfile
import time

import httpx

from datasources.migrate import upgrade
from hub_graphql.app import create_app
from hub_graphql.metrics import HubMetrics
from hub_graphql.request_log import JsonFormatter, RequestIdFilter, request_id_var
from hub_graphql.settings import Settings

N = 20_000


def per_call_us(action, n: int = N) -> float:
    started = time.perf_counter()
    for _ in range(n):
        action()
    return round((time.perf_counter() - started) / n * 1e6, 2)


def hot_path() -> dict[str, float]:
    metrics = HubMetrics()
    record = logging.LogRecord("hub.access", logging.INFO, "", 0, "request", None, None)
    record.method, record.path, record.status, record.duration_ms = "POST", "/graphql", 200, 12.3
    request_id_var.set("bench-request-id")
    formatter, request_ids = JsonFormatter(), RequestIdFilter()
    return {
        "request_answered_us": per_call_us(lambda: metrics.request_answered("StorePage", "ok", 0.012)),
        "operation_label_us": per_call_us(lambda: metrics.operation_label("StorePage")),
        "distributor_called_us": per_call_us(lambda: metrics.distributor_called(1, "northwind", 41.0, "ok")),
        "json_log_line_us": per_call_us(lambda: (request_ids.filter(record), formatter.format(record))),
    }


async def through_the_hub(url: str) -> dict[str, float]:
    # Uncached: the overhead of metrics and logs is measured against the hub's own work on a read.
    app = create_app(Settings(_env_file=None, database_url=url, response_cache=False))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("hub.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client,
    ):
        for n in range(200):  # 200 operation names, the label bound
            await client.post("/graphql", json={"query": f"query Op{n} {{ categories {{ code }} }}"})
        scrapes = []
        for _ in range(50):
            started = time.perf_counter()
            response = await client.get("/metrics")
            scrapes.append((time.perf_counter() - started) * 1000)
        health = []
        for _ in range(500):
            started = time.perf_counter()
            await client.get("/health")
            health.append((time.perf_counter() - started) * 1000)
    return {
        "scrape_ms_median": round(statistics.median(scrapes), 2),
        "scrape_bytes": len(response.content),
        "health_request_ms_median": round(statistics.median(health), 3),
    }


def main() -> None:
    url = f"sqlite+aiosqlite:///{os.path.join(tempfile.mkdtemp(), 'bench.db')}"
    upgrade(url)
    result = {**hot_path(), **asyncio.run(through_the_hub(url)), "load_average": os.getloadavg()[0]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
