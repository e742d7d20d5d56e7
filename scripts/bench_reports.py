"""Benchmark of salesReport on PostgreSQL: a year's report by day over 1,000,000 order lines, aim < 300 ms.

Usage: .venv/bin/python scripts/bench_reports.py [--lines 1000000] [--requests 20] [--explain 5] [--keep]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

It makes a throwaway database hub_bench_reports_<pid> (dropped at the end), migrates it, and fills it
in SQL with generate_series (seconds, not minutes): 50 resellers with 4 stores each, 2,000 products,
a year (2025) of orders, 3 lines each (so lines/3 orders), placed at random instants, 5 % CANCELLED,
10 % in EUR, a quarter of them discounted, and the daily sales rollup from them; then VACUUM ANALYZE (what autovacuum does after a load).
It serves the hub with uvicorn in a subprocess on a free loopback port and times, one request at a
time over HTTP on a keep-alive connection, signed in as a site administrator:

- year_by_day: the whole report for every store, 365 daily points with totals, topProducts(10),
  byReseller (50 resellers with their codes) and chartSvg;
- year_by_day_points: points and totals only;
- reseller_year_by_day: the whole report of one reseller (4 stores);
- year_by_month: the whole report by month.

It prints JSON: p50, p90 and max latency (ms) per operation, the SQL statements one report sends and
the load average before and after. With --explain N it also runs each statement of the whole-hub and
the reseller year-by-day reports N times under EXPLAIN ANALYZE (with the report's settings, in one
transaction) and gives the median in-database execution time of each: a figure the machine's load
inflates far less than the latency over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import served, served_process  # noqa: E402

from datasources.db import create_engine, pg_admin, pg_connect  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from datasources.reports.queries import REPORT_SETTINGS  # noqa: E402
from datasources.reports.rollup import rollup_sql  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.auth import hash_password, issue_token  # noqa: E402

RESELLERS, STORES_PER_RESELLER, PRODUCTS, LINES_PER_ORDER = 50, 4, 2_000, 3
YEAR = {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}

FULL = """
query($input: SalesReportInput!) {
  salesReport(input: $input) {
    currency
    points { periodStart orders units revenue { amount } discounts { amount } }
    totals { orders units revenue { amount } discounts { amount } }
    topProducts(limit: 10) { sku name units revenue { amount } }
    byReseller { reseller { code } orders units revenue { amount } }
    chartSvg
  }
}"""
POINTS = """
query($input: SalesReportInput!) {
  salesReport(input: $input) {
    points { periodStart orders units revenue { amount } discounts { amount } }
    totals { orders units revenue { amount } }
  }
}"""

FILL = [
    f"""INSERT INTO resellers (code, name, status, contact_email, created_at)
        SELECT 'R-' || lpad(i::text, 3, '0'), 'Reseller ' || i, 'APPROVED', 'r' || i || '@bench.example', now()
        FROM generate_series(1, {RESELLERS}) i""",
    f"""INSERT INTO stores (slug, name, reseller_id, currency, status, created_at, updated_at)
        SELECT 'store-' || r.id || '-' || s, 'Store ' || r.id || '-' || s, r.id, 'USD', 'OPEN', now(), now()
        FROM resellers r, generate_series(1, {STORES_PER_RESELLER}) s""",
    f"""INSERT INTO products (sku, name, status, search_text, updated_at)
        SELECT 'B-' || lpad(i::text, 5, '0'), 'Bench product ' || i, 'ACTIVE', '', now()
        FROM generate_series(1, {PRODUCTS}) i""",
    """CREATE TEMP TABLE store_pick AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, reseller_id FROM stores""",
    """INSERT INTO orders (number, store_id, reseller_id, status, customer_email, customer_email_key,
                           ship_name, ship_line1, ship_city, ship_postal_code, ship_country, payment_method,
                           currency, subtotal_minor, discount_minor, total_minor, placed_at, marketing_opt_in)
        SELECT 'ORD-' || g, s.id, s.reseller_id,
               CASE WHEN random() < 0.05 THEN 'CANCELLED' WHEN random() < 0.5 THEN 'FULFILLED' ELSE 'PLACED' END,
               'c' || g || '@buyer.example', 'c' || g || '@buyer.example', 'Buyer', '1 Main St', 'Springfield',
               '12345', 'US', 'INVOICE', CASE WHEN random() < 0.1 THEN 'EUR' ELSE 'USD' END,
               0, 0, 0,
               timestamptz '2025-01-01 00:00:00+00' + random() * interval '365 days', false
        FROM generate_series(1, :orders) g
        JOIN store_pick s ON s.n = (g::bigint * 7919) % (SELECT count(*) FROM store_pick)""",
    f"""INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_price_minor, discount_minor, total_minor)
        SELECT o.id, p, 'B-' || lpad((1 + (o.id * 31 + p * 977) % {PRODUCTS})::text, 5, '0'), 'Bench product',
               q, u, d, q * u - d
        FROM orders o, generate_series(1, {LINES_PER_ORDER}) p,
             LATERAL (SELECT 1 + floor(random() * 4)::int AS q, 500 + floor(random() * 20000)::int AS u) x,
             LATERAL (SELECT CASE WHEN random() < 0.25 THEN (q * u) / 10 ELSE 0 END AS d) y""",
    """UPDATE orders o SET subtotal_minor = l.subtotal, discount_minor = l.discount, total_minor = l.subtotal - l.discount
        FROM (SELECT order_id, sum(quantity * unit_price_minor) AS subtotal, sum(discount_minor) AS discount
              FROM order_lines GROUP BY order_id) l
        WHERE l.order_id = o.id""",
]


async def fill(url: str, lines: int) -> dict[str, Any]:
    engine = create_engine(url)
    started = time.perf_counter()
    async with engine.begin() as connection:
        for statement in FILL:
            await connection.execute(text(statement), {"orders": lines // LINES_PER_ORDER})
        # The daily sales rollup, as the migration's backfill and the writers make it (the fill wrote
        # orders past the writers).
        for statement in rollup_sql("postgresql", "o.status != 'CANCELLED'"):
            await connection.execute(text(statement), {"sign": 1})
        await connection.execute(
            text("INSERT INTO users (email, password_hash, roles, created_at) VALUES (:e, :h, :r, now())"),
            {"e": "admin@bench.example", "h": hash_password("bench-admin-pw"), "r": '["SITE_ADMIN"]'},
        )
    await engine.dispose()
    await pg_admin(url, "VACUUM ANALYZE")
    return {**await figures(url), "fill_s": round(time.perf_counter() - started, 1)}


async def figures(url: str) -> dict[str, Any]:
    """The filled database's row counts, and the bench administrator's user id."""
    engine = create_engine(url)
    async with engine.connect() as connection:
        counts = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines), "
                    "(SELECT id FROM users WHERE email = 'admin@bench.example'), "
                    "(SELECT count(*) FROM sales_daily), (SELECT count(*) FROM sales_daily_products), "
                    "(SELECT count(*) FROM sales_monthly_products)"
                )
            )
        ).one()
    await engine.dispose()
    keys = ("orders", "order_lines", "user_id", "sales_daily_rows", "sales_daily_products_rows")
    return dict(zip((*keys, "sales_monthly_products_rows"), counts, strict=True))


async def statements_of(url: str, token: str, variables: dict[str, Any]) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters) one full report sends, recorded in process on the same
    database."""
    from hub_graphql.app import create_app

    app = create_app(Settings(_env_file=None, database_url=url, env="development"))
    async with app.router.lifespan_context(app):
        engine = app.state.resources_holder["resources"].engine
        sent: list[tuple[str, Any]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.bench") as client:
            response = await client.post(
                "/graphql",
                json={"query": FULL, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert not response.json().get("errors"), response.text
    return [s for s in sent if s[0].split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}]


def statement_label(sql: str) -> str:
    """Which part of the report a statement is (the query builders' subquery names tell)."""
    for marker, label in (
        ("period_parts", "points"),
        ("ranked", "topProducts"),
        ("reseller_parts", "byReseller"),
        ("set_config", "report settings"),
    ):
        if marker in sql:
            return label
    return " ".join(sql.split())[:70]


async def explained(url: str, statements: list[tuple[str, Any]], runs: int) -> list[dict[str, Any]]:
    """Median in-database execution time (EXPLAIN ANALYZE) of each statement, and the rows it read
    from the rollup tables, run `runs` times after a warm-up run, in one transaction with the report
    settings."""
    connection = await pg_connect(url)
    results = []
    try:
        async with connection.transaction():
            await connection.execute(REPORT_SETTINGS)
            for sql, parameters in statements:
                if "set_config" in sql:
                    continue
                times, plan = [], None
                for _ in range(runs + 1):
                    answer = await connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *parameters)
                    plan = json.loads(answer)[0]
                    times.append(plan["Execution Time"])
                results.append(
                    {
                        "statement": statement_label(sql),
                        "execution_ms": round(statistics.median(times[1:]), 2),
                        "planning_ms": round(plan["Planning Time"], 2),
                        "rollup_rows_read": rows_read(plan["Plan"]),
                    }
                )
    finally:
        await connection.close()
    return results


def rows_read(node: dict[str, Any], into: dict[str, int] | None = None) -> dict[str, int]:
    """Rows each scanned table gave its plan node (all loops), by table."""
    into = {} if into is None else into
    table = node.get("Relation Name")
    if table is not None:
        into[table] = into.get(table, 0) + int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))
    for child in node.get("Plans", []):
        rows_read(child, into)
    return into


def summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
    }


async def timed(
    client: httpx.AsyncClient,
    servers: dict[str, str],
    token: str,
    query: str,
    variables: dict[str, Any],
    runs: int,
) -> dict[str, dict[str, float]]:
    """Latency of one operation on each served hub, their requests interleaved (one after the other
    in turn), so a change in the machine's load weighs on every version alike."""
    times: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(runs + 2):
        for name, url in servers.items():
            started = time.perf_counter()
            response = await client.post(
                url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            elapsed = (time.perf_counter() - started) * 1000
            body = response.json()
            assert response.status_code == 200 and not body.get("errors"), response.text[:500]
            times[name].append(elapsed)
    # the first two warm the connection pool and PostgreSQL's caches
    return {name: summary(measured[2:]) for name, measured in times.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN the queries)")
    parser.add_argument(
        "--database", help="measure on a database an earlier run kept (--keep) instead of filling a new one"
    )
    parser.add_argument(
        "--explain", type=int, default=0, metavar="N", help="EXPLAIN ANALYZE each statement N times"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another version of the hub (e.g. `git worktree add` or `git archive` of main) "
        "to serve beside this one on the same database, requests interleaved",
    )
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = args.database or f"hub_bench_reports_{os.getpid()}"
    url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
    if not args.database:
        await pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
    load_before = os.getloadavg()
    try:
        if args.database:
            data = {**await figures(url), "reused": True}
        else:
            await asyncio.to_thread(upgrade, url)
            data = await fill(url, args.lines)
        # The served hub reads the same settings (HUB_SECRET_KEY or the development key) from the environment.
        secret = Settings(_env_file=None, database_url=url, env="development").secret_key.get_secret_value()
        token = issue_token(data.pop("user_id"), secret, timedelta(hours=1))
        results: dict[str, Any] = {"database": name, "data": data}
        year_by_day = await statements_of(url, token, {"input": {**YEAR, "interval": "DAY"}})
        results["statements_per_full_report"] = len(year_by_day)
        if args.explain:
            reseller = await statements_of(
                url, token, {"input": {**YEAR, "interval": "DAY", "resellerCode": "R-007"}}
            )
            results["explain_analyze"] = {
                "runs": args.explain,
                "year_by_day": await explained(url, year_by_day, args.explain),
                "reseller_year_by_day": await explained(url, reseller, args.explain),
            }
        async with AsyncExitStack() as stack:
            servers = {"this": await stack.enter_async_context(served(url))}
            if args.baseline is not None:
                graphql_url, _ = await stack.enter_async_context(
                    served_process(url, root=args.baseline.resolve())
                )
                servers["baseline"] = graphql_url
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
            operations = {
                "year_by_day": (FULL, {"input": {**YEAR, "interval": "DAY"}}),
                "year_by_day_points": (POINTS, {"input": {**YEAR, "interval": "DAY"}}),
                "reseller_year_by_day": (
                    FULL,
                    {"input": {**YEAR, "interval": "DAY", "resellerCode": "R-007"}},
                ),
                "year_by_month": (FULL, {"input": {**YEAR, "interval": "MONTH"}}),
            }
            for key, (query, variables) in operations.items():
                measured = await timed(client, servers, token, query, variables, args.requests)
                results[key] = measured["this"]
                if "baseline" in measured:
                    results.setdefault("baseline", {})[key] = measured["baseline"]
        results["aim_ms"] = 300
        results["year_by_day_within_aim"] = results["year_by_day"]["p50_ms"] < 300
        results["load_average"] = {
            "before": [round(v, 2) for v in load_before],
            "after": [round(v, 2) for v in os.getloadavg()],
        }
        print(json.dumps(results, indent=2))
    finally:
        if not args.keep and not args.database:
            await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
