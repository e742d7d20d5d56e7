"""Benchmark of one store page, uncached: 50 products (sku, name, description, price, list price) on PostgreSQL.

Usage: .venv/bin/python scripts/bench_store_page.py [--requests 300] [--rounds 3] [--wrk-seconds 10]
       [--roots .,/tmp/other-checkout] [--profile cprofile|pyinstrument] [--database-url URL] [--response-cache]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

It makes a throwaway PostgreSQL database hub_bench_page_<pid> (dropped at the end) with the sample
hub (`hub seed --sample`, 5,040 products), unless --database-url names one that holds it already,
and takes the first page of 50 products of the sample store that sells the most. Then, for each
source tree in --roots (this checkout by default; name another checkout to compare two versions),
in turn, --rounds times, so that a busy machine slows each alike:

- in process: --requests store pages sent one at a time straight to the ASGI app (no socket, no
  HTTP client), the mean and median milliseconds per request and the process's CPU time per
  request (PostgreSQL's own work not included; on a busy machine the steadiest figure), and the
  same for `{ __typename }` (the per-request floor before any resolver runs);
- over HTTP (when --wrk-seconds > 0): the hub served by uvicorn in a subprocess (rate limits off)
  and driven by `wrk -t2 -c10 --latency` with the page as a POST body: requests per second, p50, p99.

With --profile it instead profiles --requests in-process store pages of this checkout and prints
the profile to stderr: cProfile's top functions, on a CPU-time clock (a busy machine's waits for a
core would swamp a wall-clock profile), or pyinstrument's tree (wall clock; pyinstrument is not a
dependency of the hub: `.venv/bin/pip install pyinstrument` first).

The public response cache is off (HUB_RESPONSE_CACHE=off) unless --response-cache is given.

It prints JSON: the page's field count and SQL statements, then per root the median and every
round's figures, with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

STORE_PAGE = """
query StorePage($slug: String!) {
  store(slug: $slug) {
    products(first: 50) {
      edges { node { sku name description price { amount currency } listPrice { amount currency } } }
    }
  }
}"""
TYPENAME = "{ __typename }"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- the database


async def prepare_database(url: str) -> None:
    """Migrate and seed the sample hub (the calling process imports this checkout's hub)."""
    from datasources.migrate import upgrade
    from hub_graphql.resources import open_resources
    from hub_graphql.settings import Settings
    from resolvers.samples import seed_sample

    await asyncio.to_thread(upgrade, url)
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        assert await seed_sample(resources.session_factory, lambda _line: None)


async def largest_store(url: str) -> str:
    """The slug of the OPEN sample store that sells the most products."""
    from sqlalchemy import select

    from datasources.stores.models import Store
    from hub_graphql.resources import open_resources
    from hub_graphql.settings import Settings

    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.session_factory() as session:
            slugs = list(await session.scalars(select(Store.slug).where(Store.status == "OPEN")))
    app = _app(url)
    best: tuple[int, str] | None = None
    async with app.router.lifespan_context(app):
        for slug in slugs:
            query = "query($slug: String!) { store(slug: $slug) { products(first: 100) { totalCount } } }"
            _status, body = await asgi_post(app, graphql_body(query, {"slug": slug}))
            count = json.loads(body)["data"]["store"]["products"]["totalCount"]
            best = max(best or (count, slug), (count, slug))
    if best is None or best[0] < 50:
        raise RuntimeError(f"no sample store sells 50 products: {best}")
    return best[1]


# ---------------------------------------------------------------- in process


def _app(url: str) -> Any:
    from hub_graphql.app import create_app
    from hub_graphql.settings import Settings

    # No outbox worker: its polling statements would count as the page's.
    return create_app(Settings(_env_file=None, database_url=url, env="development", outbox_worker=False))


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


async def asgi_post(app: Any, body: bytes) -> tuple[int, bytes]:
    """One POST /graphql straight through the ASGI app: (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"hub.bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def check_page(status: int, body: bytes) -> None:
    answer = json.loads(body)
    if status != 200 or answer.get("errors") or len(answer["data"]["store"]["products"]["edges"]) != 50:
        raise RuntimeError(f"unexpected answer {status}: {body[:300]!r}")


async def in_process(url: str, slug: str, requests: int) -> dict[str, Any]:
    """Mean and median ms per request, store page and `{ __typename }`, sent one at a time."""
    app = _app(url)
    page = graphql_body(STORE_PAGE, {"slug": slug})
    floor = graphql_body(TYPENAME)
    result: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        check_page(*await asgi_post(app, page))
        for name, body in (("store_page", page), ("typename", floor)):
            for _ in range(max(20, requests // 10)):  # warm-up: connections, caches, plans
                await asgi_post(app, body)
            times = []
            cpu_started = time.process_time()
            for _ in range(requests):
                started = time.perf_counter()
                await asgi_post(app, body)
                times.append(time.perf_counter() - started)
            cpu = time.process_time() - cpu_started
            result[name] = {
                "mean_ms": round(statistics.mean(times) * 1000, 3),
                "median_ms": round(statistics.median(times) * 1000, 3),
                # The hub's own CPU time per request: what a busy machine inflates least.
                "cpu_ms": round(cpu / requests * 1000, 3),
            }
    return result


async def page_shape(url: str, slug: str) -> dict[str, int]:
    """The page's resolved fields (as the answer holds them) and the SQL statements it sends."""
    from sqlalchemy import event

    app = _app(url)
    async with app.router.lifespan_context(app):
        engine = app.state.resources_holder["resources"].engine
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        _status, body = await asgi_post(app, graphql_body(STORE_PAGE, {"slug": slug}))

    def fields(value: Any) -> int:
        if isinstance(value, dict):
            return sum(1 + fields(v) for v in value.values())
        if isinstance(value, list):
            return sum(fields(v) for v in value)
        return 0

    return {"fields": fields(json.loads(body)["data"]), "sql_statements": len(statements)}


async def profile(url: str, slug: str, requests: int, tool: str) -> None:
    app = _app(url)
    page = graphql_body(STORE_PAGE, {"slug": slug})
    async with app.router.lifespan_context(app):
        for _ in range(50):
            await asgi_post(app, page)
        if tool == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            for _ in range(requests):
                await asgi_post(app, page)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
        else:
            import cProfile
            import pstats

            # CPU time, not wall time: on a busy machine waiting for a core would swamp the profile.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(requests):
                await asgi_post(app, page)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(45)
            stats.sort_stats("cumulative").print_stats(70)


# ---------------------------------------------------------------- over HTTP


def parse_wrk(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not (rate and p50 and p99) or bad:
        raise RuntimeError(f"wrk: {output}")
    return {"rps": float(rate.group(1)), "p50_ms": ms(p50.group(1)), "p99_ms": ms(p99.group(1))}


async def over_http(url: str, root: Path, slug: str, seconds: int) -> dict[str, Any]:
    from bench_catalog import served_process

    result: dict[str, Any] = {}
    async with served_process(url, root=root) as (graphql_url, _pid):
        for name, body in (
            ("store_page", graphql_body(STORE_PAGE, {"slug": slug})),
            ("typename", graphql_body(TYPENAME)),
        ):
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(
                    'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
                    f"wrk.body = [[{body.decode()}]]\n"
                )
            try:
                command = ["wrk", "-t2", "-c10", "-d3s", "-s", script.name, graphql_url]
                await asyncio.to_thread(subprocess.run, command, capture_output=True, check=True)  # warm-up
                command[3] = f"-d{seconds}s"
                command.insert(4, "--latency")
                done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
                result[name] = parse_wrk(done.stdout)
            finally:
                os.unlink(script.name)
    return result


# ---------------------------------------------------------------- running


def run_root(root: Path, url: str, slug: str, args: argparse.Namespace) -> dict[str, Any]:
    """One round on one source tree: the in-process part runs in a child process importing that tree."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--database-url",
        url,
        "--slug",
        slug,
        "--requests",
        str(args.requests),
    ]
    done = subprocess.run(
        command, cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)}
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    figures: dict[str, Any] = {"loadavg": load_average(), "in_process": json.loads(done.stdout)}
    if args.wrk_seconds:
        figures["wrk"] = asyncio.run(over_http(url, root, slug, args.wrk_seconds))
    return figures


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure over the rounds."""
    first = rounds[0]
    if isinstance(first, dict):
        return {key: median_of([r[key] for r in rounds]) for key in first if key != "loadavg"}
    return round(statistics.median(rounds), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--roots", default=str(ROOT), help="source trees to compare, comma-separated")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--database-url", help="a database holding the sample hub already (kept)")
    parser.add_argument("--pg-server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--response-cache", action="store_true", help="leave the public response cache on (off by default)"
    )
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Uncached is what this bench measures: the public response cache (on by default) would answer
    # every page but the first from memory. Through the environment, so that the in-process rounds
    # (child processes, other --roots included) and the served hub all read it.
    os.environ["HUB_RESPONSE_CACHE"] = "on" if args.response_cache else "off"
    if args.child:  # one in-process round, in the source tree this process was started in
        sys.path.insert(0, os.getcwd())
        print(json.dumps(asyncio.run(in_process(args.database_url, args.slug, args.requests))))
        return
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import make_url

    from datasources.db import pg_admin

    name = None
    url = args.database_url
    if url is None:
        name = f"hub_bench_page_{os.getpid()}"
        asyncio.run(pg_admin(args.pg_server, f'CREATE DATABASE "{name}"'))
        url = make_url(args.pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        if name is not None:
            asyncio.run(prepare_database(url))
        slug = asyncio.run(largest_store(url))
        if args.profile:
            asyncio.run(profile(url, slug, args.requests, args.profile))
            return
        report: dict[str, Any] = {
            "machine": {"nproc": os.cpu_count(), "loadavg_at_start": load_average()},
            "store": slug,
            "page": asyncio.run(page_shape(url, slug)),
            "command": " ".join(sys.argv),
        }
        roots = [Path(r).resolve() for r in args.roots.split(",")]
        rounds: dict[str, list[dict[str, Any]]] = {str(r): [] for r in roots}
        for _ in range(args.rounds):
            for root in roots:
                rounds[str(root)].append(run_root(root, url, slug, args))
        report["roots"] = {root: {"median": median_of(r), "rounds": r} for root, r in rounds.items()}
        report["machine"]["loadavg_at_end"] = load_average()
        print(json.dumps(report, indent=2))
    finally:
        if name is not None:
            asyncio.run(pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
