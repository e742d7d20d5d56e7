"""Surviving a database restart (issue 15, item 8): PostgreSQL restarts under concurrent writes, the hub carries on.

A throwaway PostgreSQL of the test's own (tests/throwaway_postgres.py, never
the shared server) with an OPEN store, and a hub process (`hub serve`) on it.
Storefront visitors check out concurrently (createCart → addCartLines →
checkout, GraphQL over HTTP) and others read the store's page while
PostgreSQL restarts (`pg_ctl restart -m fast`, which cuts every connection,
those checked out by requests in flight included). Then: every checkout the
hub acknowledged with an order number is in the database; every failure in
between was a clean error (the code SERVICE_UNAVAILABLE, retryable, never
"Unexpected error.", never a hang past the time limit); the hub serves again
within seconds without being restarted. Docs: docs/operations.md, "Database
restarts".
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from hub_graphql.settings import Settings
from tests.conftest import skip_or_fail
from tests.federation.processes import clean_env, free_port, running
from tests.harness import open_hub
from tests.orders_factory import Shop, make_shop
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET_KEY = "restart-tests-secret-key-0123456789abcdef"
TIME_LIMIT_MS = 5000
# More visitors than pooled connections: at the restart every connection is checked out by a request.
BUYERS, READERS, POOL_SIZE, MAX_OVERFLOW = 6, 2, 3, 2
BUYING_BEFORE_RESTART_S = 1.5
# The restart waits for a first acknowledged order (a loaded CI machine may take seconds for it), at most this long.
FIRST_ORDER_LIMIT_S = 60.0
RECOVERY_LIMIT_S = 5.0
BUYING_AFTER_RECOVERY_S = 2.0
HUB_SETTINGS = {
    "HUB_ENV": "development",
    "HUB_SECRET_KEY": SECRET_KEY,
    "HUB_MAX_EXECUTION_MS": str(TIME_LIMIT_MS),
    "HUB_DB_POOL_SIZE": str(POOL_SIZE),
    "HUB_DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
    # Every visitor comes from 127.0.0.1: the per-address limits would refuse most of the run.
    "HUB_RATE_LIMITS": "createCart=off, checkout=off",
}

CREATE_CART = "mutation($slug: String!) { createCart(storeSlug: $slug) { cart { id } userErrors { code } } }"
ADD_LINES = """mutation($cart: ID!, $lines: [CartLineInput!]!) {
  addCartLines(cartId: $cart, lines: $lines) { cart { id itemCount } userErrors { code } }
}"""
CHECKOUT = """mutation($cart: ID!, $input: CheckoutInput!) {
  checkout(cartId: $cart, input: $input) { order { number } userErrors { code message } }
}"""
STORE_PAGE = """query($slug: String!) {
  store(slug: $slug) { slug products(first: 20) { edges { node { sku name price { amount } } } } }
}"""
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "London",
    "postalCode": "N1",
    "country": "GB",
}


@dataclass
class Call:
    """One request of an attempt, and what came of it."""

    operation: str
    started: float
    ended: float = 0.0
    status: int | None = None
    codes: list[str | None] = field(default_factory=list)
    data: Any = None
    transport_error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.transport_error or self.codes or self.status != 200)


@dataclass
class Attempt:
    """A checkout (createCart, addCartLines, checkout) or a read of the store's page."""

    kind: str
    calls: list[Call] = field(default_factory=list)
    order_number: str | None = None
    """The number the hub acknowledged the checkout with."""

    @property
    def started(self) -> float:
        return self.calls[0].started

    @property
    def ended(self) -> float:
        return self.calls[-1].ended

    @property
    def succeeded(self) -> bool:
        return not any(c.failed for c in self.calls) and (
            self.kind == "read" or self.order_number is not None
        )


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as server:
        if server is None:
            skip_or_fail("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
        yield server  # type: ignore[misc]


async def _open_store(database_url: str) -> Shop:
    """An OPEN USD store with five priced products, written by the test straight to the database."""
    settings = Settings(_env_file=None, database_url=database_url, env="development", outbox_worker=False)
    async with open_hub(settings) as hub:
        return await make_shop(hub, products=5, slug="restart-shop")


async def _call(client: httpx.AsyncClient, operation: str, query: str, variables: dict[str, Any]) -> Call:
    call = Call(operation=operation, started=time.monotonic())
    try:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        call.status = response.status_code
        body = response.json()
        call.codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        call.data = (body.get("data") or {}).get(operation)
        if isinstance(call.data, dict) and call.data.get("userErrors"):
            call.codes += [e["code"] for e in call.data["userErrors"]]
    except (httpx.HTTPError, ValueError) as error:
        call.transport_error = f"{type(error).__name__}: {error}"
    call.ended = time.monotonic()
    return call


async def _checkout(client: httpx.AsyncClient, shop: Shop, number: int) -> Attempt:
    attempt = Attempt(kind="checkout")
    attempt.calls.append(await _call(client, "createCart", CREATE_CART, {"slug": shop.slug}))
    if attempt.calls[-1].failed:
        return attempt
    cart = attempt.calls[-1].data["cart"]["id"]
    lines = [{"sku": shop.skus[number % len(shop.skus)], "quantity": 1 + number % 3}]
    attempt.calls.append(await _call(client, "addCartLines", ADD_LINES, {"cart": cart, "lines": lines}))
    if attempt.calls[-1].failed:
        return attempt
    given = {
        "email": f"buyer{number}@restart.example",
        "shippingAddress": ADDRESS,
        "paymentMethod": "INVOICE",
    }
    attempt.calls.append(await _call(client, "checkout", CHECKOUT, {"cart": cart, "input": given}))
    order = (attempt.calls[-1].data or {}).get("order")
    attempt.order_number = order["number"] if order else None
    return attempt


async def _read(client: httpx.AsyncClient, shop: Shop) -> Attempt:
    attempt = Attempt(kind="read")
    attempt.calls.append(await _call(client, "store", STORE_PAGE, {"slug": shop.slug}))
    return attempt


async def _order_numbers_in(database_url: str) -> set[str]:
    url = make_url(database_url)
    connection = await asyncpg.connect(user=url.username, host=url.host, port=url.port, database=url.database)
    try:
        return {row["number"] for row in await connection.fetch("SELECT number FROM orders")}
    finally:
        await connection.close()


async def _run(
    base_url: str, shop: Shop, postgres: ThrowawayPostgres
) -> tuple[list[Attempt], float, float, float]:
    """Visitors buy and read until the hub has served well past the restart; the attempts, the restart's
    times (begun, done) and the moment the server cut its connections."""
    attempts: list[Attempt] = []
    restarted: dict[str, float] = {}
    stop_at = [float("inf")]
    first_order = asyncio.Event()

    async def visitor(number: int, client: httpx.AsyncClient) -> None:
        serial = 0
        while time.monotonic() < stop_at[0]:
            serial += 1
            if number < BUYERS:
                attempts.append(await _checkout(client, shop, number * 10_000 + serial))
                if attempts[-1].order_number:
                    first_order.set()
            else:
                attempts.append(await _read(client, shop))

    async def restart() -> None:
        # Orders acknowledged before the restart are what it must not lose: wait for one, then buy on a while.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_order.wait(), FIRST_ORDER_LIMIT_S)
        await asyncio.sleep(BUYING_BEFORE_RESTART_S)
        restarted["begun"], restarted["begun_wall"] = time.monotonic(), time.time()
        await asyncio.to_thread(postgres.restart)
        restarted["done"] = time.monotonic()
        # Buy on until the hub has served again for a while, or the recovery limit is long past.
        while time.monotonic() < restarted["done"] + RECOVERY_LIMIT_S + BUYING_AFTER_RECOVERY_S:
            recovered = [a.ended for a in attempts if a.succeeded and a.started > restarted["done"]]
            if recovered and time.monotonic() > min(recovered) + BUYING_AFTER_RECOVERY_S:
                break
            await asyncio.sleep(0.1)
        stop_at[0] = time.monotonic()

    visitors = BUYERS + READERS
    timeout = httpx.Timeout(TIME_LIMIT_MS / 1000 + 5)
    limits = httpx.Limits(max_connections=visitors)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        await asyncio.gather(restart(), *(visitor(n, client) for n in range(visitors)))
    # The moment the server cut its connections, on this clock: pg_ctl signals it some time after
    # `begun` (runuser and pg_ctl start first, slowly on a loaded machine).
    requested = postgres.shutdown_requested_at()
    assert requested is not None, postgres.tail()
    restarted["cut"] = restarted["begun"] + (requested - restarted["begun_wall"])
    return attempts, restarted["begun"], restarted["done"], restarted["cut"]


def test_checkouts_survive_a_postgresql_restart(postgres: ThrowawayPostgres, tmp_path: Path) -> None:
    # given: a store on the throwaway PostgreSQL, and a hub process with fewer pooled connections than visitors
    database_url = postgres.database_url("hub")
    env = clean_env(HUB_DATABASE_URL=database_url, **HUB_SETTINGS)
    upgraded = subprocess.run(
        [sys.executable, "-m", "hub_graphql.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    shop = asyncio.run(_open_store(database_url))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "hub_graphql.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(
        serve, ready_url=f"{base_url}/health", log=tmp_path / "hub.log", cwd=tmp_path, env=env
    ) as hub:
        # when: PostgreSQL restarts while visitors buy and read
        attempts, restart_begun, restart_done, cut = asyncio.run(_run(base_url, shop, postgres))
        hub_still_running = hub.poll() is None
        # The hub's own log lines, without uvicorn's access lines.
        log_lines = (tmp_path / "hub.log").read_text(errors="replace").splitlines()
        log = "\n".join(line for line in log_lines if not line.startswith("INFO:"))[-4000:]
    summary = _summary(attempts, restart_begun, restart_done)
    print(f"connections cut at {cut - restart_begun:+.3f}s\n{summary}")  # shown by `pytest -rP`

    # then: every checkout acknowledged with an order number is in the database
    acknowledged = {a.order_number for a in attempts if a.order_number}
    missing = acknowledged - asyncio.run(_order_numbers_in(database_url))
    assert not missing, f"acknowledged but not in the database: {sorted(missing)}"
    assert any(a.order_number and a.ended < restart_begun for a in attempts), summary

    # and: every failure was a clean, retryable error, in time
    failed = [c for a in attempts for c in a.calls if c.failed]
    assert failed, f"the restart cut no request: the test did not test anything\n{summary}"
    unclean = [
        c for c in failed if c.transport_error or c.status != 200 or c.codes != ["SERVICE_UNAVAILABLE"]
    ]
    assert not unclean, f"failures that were not SERVICE_UNAVAILABLE: {unclean[:5]}\n{summary}\n{log}"
    # Requests in flight when PostgreSQL went down held pooled connections: those were cut too.
    assert any(c.started < cut for c in failed), f"connections cut at {cut - restart_begun:+.3f}s\n{summary}"
    assert {c.operation for c in failed} >= {"store", "createCart"}, summary
    slowest = max(c.ended - c.started for a in attempts for c in a.calls)
    assert slowest < TIME_LIMIT_MS / 1000 + 1, summary

    # and: the hub served again within seconds, without a restart of its own, and went on serving
    assert hub_still_running
    recovered_at = min(a.ended for a in attempts if a.succeeded and a.started > restart_done)
    assert recovered_at - restart_done < RECOVERY_LIMIT_S, summary
    after = [a for a in attempts if a.started > recovered_at]
    assert {a.kind for a in after} == {"checkout", "read"}, summary
    assert all(a.succeeded for a in after), f"failures after the recovery\n{summary}"


def _summary(attempts: list[Attempt], restart_begun: float, restart_done: float) -> str:
    def at(moment: float) -> str:
        return f"{moment - restart_begun:+.2f}s"

    orders = sum(1 for a in attempts if a.order_number)
    lines = [f"restart {at(restart_begun)} .. {at(restart_done)}; {len(attempts)} attempts, {orders} orders"]
    for a in sorted(attempts, key=lambda a: a.started):
        if not a.succeeded or restart_begun - 0.3 < a.started < restart_done + 1:
            steps = [f"{c.operation} {c.status} {c.transport_error or c.codes or 'ok'}" for c in a.calls]
            lines.append(f"  {a.kind:>8} {at(a.started)} .. {at(a.ended)}: {'; '.join(steps)}")
    return "\n".join(lines[:80])
