"""Times an operation near the default cost limit on a sample hub, and the cost computation itself; prints JSON.

HUB_DATABASE_URL=sqlite+aiosqlite:///./bench.db hub db upgrade && hub seed --sample
HUB_DATABASE_URL=sqlite+aiosqlite:///./bench.db .venv/bin/python scripts/bench_cost_limit.py
"""

import asyncio
import json
import os
import time

import httpx
from graphql import get_introspection_query, parse

from hub_graphql.app import create_app
from hub_graphql.cost import CostCalculator
from hub_graphql.schema import build_schema
from hub_graphql.settings import Settings

Q = """{ products(first: 100) { edges { node { sku category { products(first: 100) { edges { node {
  sku name status description listPrice { amount currency } } } } } } } } }"""


async def main() -> None:
    s = Settings(_env_file=None, database_url=os.environ["HUB_DATABASE_URL"])
    app = create_app(s)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub.bench", timeout=60) as client,
    ):
        calculator = CostCalculator(build_schema(s)._schema)
        cost = calculator.operation_cost(parse(Q))
        computing = {}
        for name, document in (
            ("near_limit", Q),
            ("introspection", get_introspection_query(descriptions=True)),
        ):
            parsed = parse(document)
            started = time.perf_counter()
            for _ in range(20):
                calculator.operation_cost(parsed)
            computing[name] = round((time.perf_counter() - started) / 20 * 1000, 2)
        times = []
        for _ in range(4):
            t = time.perf_counter()
            body = (await client.post("/graphql", json={"query": Q})).json()
            times.append(time.perf_counter() - t)
        assert not body.get("errors"), body
        inner = sum(
            len(e["node"]["category"]["products"]["edges"])
            for e in body["data"]["products"]["edges"]
            if e["node"]["category"]
        )
        print(
            json.dumps(
                {
                    "cost": cost,
                    "outer": len(body["data"]["products"]["edges"]),
                    "inner_products": inner,
                    "seconds": [round(x, 2) for x in times],
                    "cost_ms": computing,
                    "load": os.getloadavg()[0],
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
