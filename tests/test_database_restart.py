"""Surviving a database restart (issue 15, item 8): PostgreSQL restarts under concurrent writes, the hub carries on.

A throwaway PostgreSQL of the test's own (tests/throwaway_postgres.py, never
the shared server) and a hub process (`hub serve`) on it. Workers write
concurrently over GraphQL over HTTP while PostgreSQL restarts (`pg_ctl
restart -m fast`, which cuts every connection, those checked out by requests
in flight included). Then: every write the hub acknowledged is in the
database; every failure in between was a clean error (the code
SERVICE_UNAVAILABLE, retryable, never "Unexpected error.", never a hang past
the time limit); the hub serves again within seconds without being
restarted. Docs: docs/operations.md, "Database restarts".
"""

from __future__ import annotations

import asyncio
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

from tests.conftest import skip_or_fail
from tests.federation.processes import clean_env, free_port, running
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET_KEY = "restart-tests-secret-key-0123456789abcdef"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@restart.example", "restart-admin-password"
TIME_LIMIT_MS = 5000
# More workers than pooled connections: at the restart every connection is checked out by a request.
WRITERS, READERS, POOL_SIZE, MAX_OVERFLOW = 6, 2, 3, 2
WRITING_BEFORE_RESTART_S = 1.5
RECOVERY_LIMIT_S = 5.0
WRITING_AFTER_RECOVERY_S = 2.0

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
UPSERT = """mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku } userErrors { code message } }
}"""
READ = "query { products(first: 20) { totalCount edges { node { sku name } } } }"


@dataclass
class Attempt:
    started: float
    ended: float
    sku: str
    """The product written; empty for a read."""
    status: int | None = None
    acknowledged: bool = False
    codes: list[str | None] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    transport_error: str | None = None


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as server:
        if server is None:
            skip_or_fail("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
        yield server  # type: ignore[misc]


def _hub(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub_graphql.cli", *args]


def _prepare(env: dict[str, str], workdir: Path) -> None:
    for step in (["db", "upgrade"], ["create-admin", ADMIN_EMAIL, "--password", ADMIN_PASSWORD]):
        done = subprocess.run(_hub(*step), cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"hub {' '.join(step)}:\n{done.stdout}\n{done.stderr}"


async def _call(client: httpx.AsyncClient, token: str, sku: str) -> Attempt:
    """Write the product `sku` (or read a page of products, when `sku` is empty); what came of it."""
    attempt = Attempt(started=time.monotonic(), ended=0.0, sku=sku)
    if sku:
        request = {"query": UPSERT, "variables": {"input": [{"sku": sku, "name": f"Restart {sku}"}]}}
    else:
        request = {"query": READ}
    try:
        response = await client.post("/graphql", json=request, headers={"Authorization": f"Bearer {token}"})
        attempt.status = response.status_code
        body = response.json()
        for error in body.get("errors") or []:
            attempt.codes.append((error.get("extensions") or {}).get("code"))
            attempt.messages.append(str(error.get("message")))
        data = body.get("data") or {}
        if sku:
            payload = data.get("upsertProducts")
            attempt.acknowledged = bool(
                payload and not payload["userErrors"] and [p["sku"] for p in payload["products"]] == [sku]
            )
        else:
            attempt.acknowledged = not attempt.codes and data.get("products") is not None
    except (httpx.HTTPError, ValueError) as error:
        attempt.transport_error = f"{type(error).__name__}: {error}"
    attempt.ended = time.monotonic()
    return attempt


async def _skus_in(database_url: str) -> set[str]:
    url = make_url(database_url)
    connection = await asyncpg.connect(user=url.username, host=url.host, port=url.port, database=url.database)
    try:
        return {row["sku"] for row in await connection.fetch("SELECT sku FROM products")}
    finally:
        await connection.close()


async def _run(base_url: str, token: str, postgres: ThrowawayPostgres) -> tuple[list[Attempt], float, float]:
    """Workers write until the hub has served well past the restart; the attempts and the restart's times."""
    attempts: list[Attempt] = []
    restarted: dict[str, float] = {}
    stop_at = [float("inf")]

    async def worker(number: int, client: httpx.AsyncClient) -> None:
        serial = 0
        while time.monotonic() < stop_at[0]:
            serial += 1
            sku = f"R-{number}-{serial}" if number < WRITERS else ""
            attempts.append(await _call(client, token, sku))

    async def restart() -> None:
        await asyncio.sleep(WRITING_BEFORE_RESTART_S)
        restarted["begun"] = time.monotonic()
        await asyncio.to_thread(postgres.restart)
        restarted["done"] = time.monotonic()
        # Write on until the hub has served again for a while, or the recovery limit is long past.
        while time.monotonic() < restarted["done"] + RECOVERY_LIMIT_S + WRITING_AFTER_RECOVERY_S:
            recovered = [a.ended for a in attempts if a.acknowledged and a.started > restarted["done"]]
            if recovered and time.monotonic() > min(recovered) + WRITING_AFTER_RECOVERY_S:
                break
            await asyncio.sleep(0.1)
        stop_at[0] = time.monotonic()

    timeout = httpx.Timeout(TIME_LIMIT_MS / 1000 + 5)
    workers = WRITERS + READERS
    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        await asyncio.gather(restart(), *(worker(n, client) for n in range(workers)))
    return attempts, restarted["begun"], restarted["done"]


def test_the_hub_survives_a_postgresql_restart_under_concurrent_writes(
    postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    # given: a hub process on the throwaway PostgreSQL, with fewer pooled connections than writers
    database_url = postgres.database_url("hub")
    env = clean_env(
        HUB_DATABASE_URL=database_url,
        HUB_SECRET_KEY=SECRET_KEY,
        HUB_ENV="development",
        HUB_MAX_EXECUTION_MS=str(TIME_LIMIT_MS),
        HUB_DB_POOL_SIZE=str(POOL_SIZE),
        HUB_DB_MAX_OVERFLOW=str(MAX_OVERFLOW),
    )
    _prepare(env, tmp_path)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running(
        _hub("serve", "--host", "127.0.0.1", "--port", str(port)),
        ready_url=f"{base_url}/health",
        log=tmp_path / "hub.log",
        cwd=tmp_path,
        env=env,
    ) as process:
        login = httpx.post(
            f"{base_url}/graphql", json={"query": LOGIN, "variables": {"e": ADMIN_EMAIL, "p": ADMIN_PASSWORD}}
        )
        token = login.json()["data"]["login"]["token"]

        # when: PostgreSQL restarts while the workers write
        attempts, restart_begun, restart_done = asyncio.run(_run(base_url, token, postgres))
        hub_still_running = process.poll() is None
        # The hub's own log lines, without uvicorn's access lines.
        log_lines = (tmp_path / "hub.log").read_text(errors="replace").splitlines()
        log = "\n".join(line for line in log_lines if not line.startswith("INFO:"))[-4000:]

    # then: every acknowledged write is in the database
    acknowledged = {a.sku for a in attempts if a.acknowledged and a.sku}
    missing = acknowledged - asyncio.run(_skus_in(database_url))
    assert not missing, f"acknowledged but not in the database: {sorted(missing)}"
    assert any(a.ended < restart_begun for a in attempts if a.acknowledged), "nothing written before"

    # and: every failure was a clean, retryable error, in time
    failures = [a for a in attempts if not a.acknowledged]
    summary = _summary(attempts, restart_begun, restart_done)
    print(summary)  # shown by `pytest -rP`
    assert failures, f"the restart cut no request: the test did not test anything\n{summary}"
    # Requests in flight when PostgreSQL went down held pooled connections: those were cut too.
    assert any(a.started < restart_begun for a in failures), summary
    assert any(not a.sku for a in failures) and any(a.sku for a in failures), summary
    unclean = [
        a
        for a in failures
        if a.transport_error or a.status != 200 or not a.codes or set(a.codes) != {"SERVICE_UNAVAILABLE"}
    ]
    assert not unclean, f"failures that were not SERVICE_UNAVAILABLE: {unclean[:5]}\n{summary}\n{log}"
    slowest = max(a.ended - a.started for a in attempts)
    assert slowest < TIME_LIMIT_MS / 1000 + 1, summary

    # and: the hub served again within seconds, without a restart of its own, and went on serving
    assert hub_still_running
    recovered_at = min(a.ended for a in attempts if a.acknowledged and a.started > restart_done)
    assert recovered_at - restart_done < RECOVERY_LIMIT_S, summary
    after = [a for a in attempts if a.started > recovered_at]
    assert after, summary
    assert all(a.acknowledged for a in after), f"failures after the recovery\n{summary}"


def _summary(attempts: list[Attempt], restart_begun: float, restart_done: float) -> str:
    def at(moment: float) -> str:
        return f"{moment - restart_begun:+.2f}s"

    lines = [f"restart {at(restart_begun)} .. {at(restart_done)}; {len(attempts)} attempts"]
    for a in sorted(attempts, key=lambda a: a.started):
        if not a.acknowledged or restart_begun - 0.3 < a.started < restart_done + 1:
            outcome: Any = "ok" if a.acknowledged else (a.transport_error or a.codes)
            lines.append(f"  {a.sku or 'read':>8} {at(a.started)} .. {at(a.ended)} {a.status} {outcome}")
    return "\n".join(lines[:80])
