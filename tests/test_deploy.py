"""docs/deploy.md, checked: two hub processes on one PostgreSQL database serve the same answers, and a pool caps connections."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from datasources.cache_versions import VersionReader
from hub_graphql.settings import Settings
from resolvers.auth import issue_token
from tests.federation.processes import hub_server
from tests.harness import Hub, open_hub

UPSERT_PRODUCTS = """
mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku name } userErrors { field code message } }
}"""
PRODUCTS = "query($first: Int) { products(first: $first) { totalCount edges { node { sku name status } } } }"
PRODUCT = "query($sku: String!) { product(sku: $sku) { sku name } }"
LOGIN = (
    "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }"
)
VIEWER = "{ viewer { email roles } }"

POOL_SIZE, MAX_OVERFLOW, CONCURRENT_REQUESTS = 2, 1, 30


async def _post(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def _connections(database_url: str) -> int:
    """Client connections open on this database, other than the one asking."""
    url = make_url(database_url)
    connection = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database
    )
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.database,
        )
    finally:
        await connection.close()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_hub_processes_on_one_database_serve_the_same_answers(
    hub: Hub, database_url: str, tmp_path: Path
) -> None:
    # given: a catalog, and a user who signs in by password
    manager = await hub.user("CATALOG_MANAGER", email="manager@deploy.test", password="correct-horse-battery")
    products = [{"sku": f"P-{n:02d}", "name": f"Product {n}"} for n in range(12)]
    await hub.query(UPSERT_PRODUCTS, {"input": products}, token=manager)
    secret = hub.settings.secret_key.get_secret_value()
    pool = {"HUB_DB_POOL_SIZE": str(POOL_SIZE), "HUB_DB_MAX_OVERFLOW": str(MAX_OVERFLOW)}

    with (
        hub_server(database_url, secret, tmp_path, **pool) as a,
        hub_server(database_url, secret, tmp_path) as b,
    ):
        async with httpx.AsyncClient(timeout=60) as client:
            # First, while neither process holds a connection: a process never opens more than its pool
            # (size + overflow) and the response cache's version reader's own (docs/deploy.md), and
            # requests beyond them wait their turn.
            before = await _connections(database_url)
            peak = 0

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, await _connections(database_url) - before)
                    await asyncio.sleep(0.01)

            watcher = asyncio.create_task(watch())
            try:
                answers = await asyncio.gather(
                    *(_post(client, a, PRODUCTS, {"first": 100}) for _ in range(CONCURRENT_REQUESTS))
                )
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            after = await _connections(database_url) - before

            # A token one process signed is good at the other: no session lives in a process.
            login = await _post(
                client, a, LOGIN, {"email": "manager@deploy.test", "password": "correct-horse-battery"}
            )
            token = login["login"]["token"]
            assert await _post(client, b, VIEWER, token=token) == {
                "viewer": {"email": "manager@deploy.test", "roles": ["CATALOG_MANAGER"]}
            }

            # The same question gets the same answer from either process.
            assert await _post(client, a, PRODUCTS, {"first": 20}) == await _post(
                client, b, PRODUCTS, {"first": 20}
            )

            # A write through one process is read at once through the other: no cache outlives a request.
            await _post(client, b, PRODUCT, {"sku": "P-03"})
            renamed = await _post(
                client, a, UPSERT_PRODUCTS, {"input": [{"sku": "P-03", "name": "Renamed"}]}, token
            )
            assert renamed["upsertProducts"] == {
                "products": [{"sku": "P-03", "name": "Renamed"}],
                "userErrors": [],
            }
            assert await _post(client, b, PRODUCT, {"sku": "P-03"}) == {
                "product": {"sku": "P-03", "name": "Renamed"}
            }

    assert all(answer["products"]["totalCount"] == 12 for answer in answers)
    assert 1 <= max(peak, after) <= POOL_SIZE + MAX_OVERFLOW + VersionReader.POOL_SIZE, (peak, after)


async def test_a_token_signed_with_another_key_is_nobody(hub: Hub) -> None:
    # Every process must share HUB_SECRET_KEY: a process with another key takes the token for no one.
    token = await hub.user("SITE_ADMIN")
    assert (await hub.query(VIEWER, token=token))["viewer"] is not None
    foreign = issue_token(1, "another-process-key-" + "x" * 32, timedelta(hours=1))

    assert await hub.query(VIEWER, token=foreign) == {"viewer": None}


async def test_a_production_hub_still_gives_its_sdl_to_the_gateway(database_url: str) -> None:
    # Introspection is off in production, but composition reads `_service { sdl }`, which stays on.
    settings = Settings(_env_file=None, database_url=database_url, env="production", secret_key="k" * 40)
    async with open_hub(settings) as production:
        sdl = await production.post("{ _service { sdl } }")
        introspection = await production.post("{ __schema { queryType { name } } }")

    assert '@key(fields: "sku")' in sdl["data"]["_service"]["sdl"]
    assert introspection.get("errors") and not introspection.get("data")
