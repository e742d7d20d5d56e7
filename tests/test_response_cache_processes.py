"""The public response cache across hub processes: a write through one shows at once through the other.

Two `hub serve` processes on loopback on one PostgreSQL database (as a deployment of several processes
runs); with HUB_REDIS_URL they share the cached
answers, without it each keeps its own. Either way the version counters are in the database, so a
write through one process turns over the other's cached page on its next read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from hub_graphql.settings import Settings
from tests.conftest import REDIS_URL
from tests.federation.processes import hub_server
from tests.harness import open_hub
from tests.test_response_cache import SLUG, STORE_PAGE, UPDATE_STORE, open_shop

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET_KEY = "response-cache-tests-secret-0123456789abcdef"
PAGE = {"query": STORE_PAGE, "variables": json.dumps({"slug": SLUG, "first": 50})}


@contextmanager
def two_hubs(database_url: str, tmp_path: Path, **settings: str) -> Iterator[tuple[str, str]]:
    """Two hub processes on the database; yields their GraphQL URLs."""
    with (
        hub_server(database_url, SECRET_KEY, tmp_path, HUB_OUTBOX_WORKER="false", **settings) as a,
        hub_server(database_url, SECRET_KEY, tmp_path, HUB_OUTBOX_WORKER="false", **settings) as b,
    ):
        yield a, b


def _settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=SecretStr(SECRET_KEY),
        outbox_worker=False,
    )


async def _staff_token(database_url: str) -> str:
    async with open_hub(_settings(database_url)) as hub:
        await open_shop(hub)
        return await hub.staff()


def _read(url: str) -> tuple[str, str]:
    response = httpx.get(url, params=PAGE, timeout=30)
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["store"]["name"], response.headers.get("x-hub-cache", "")


def _rename(url: str, token: str, name: str) -> None:
    response = httpx.post(
        url,
        json={"query": UPDATE_STORE, "variables": {"slug": SLUG, "input": {"name": name}}},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.json()["data"]["updateStore"]["userErrors"] == [], response.text


async def test_with_redis_two_processes_share_answers_and_a_write_through_one_shows_on_the_other(
    postgresql_url_clean: str,
    tmp_path: Path,
    redis_prefix: str,
) -> None:
    token = await _staff_token(postgresql_url_clean)
    with two_hubs(
        postgresql_url_clean, tmp_path, HUB_REDIS_URL=REDIS_URL, HUB_REDIS_KEY_PREFIX=redis_prefix
    ) as (a, b):
        # given: the page cached through A, and answered from that entry through B
        assert _read(a) == ("Store north-shop", "miss")
        assert _read(b) == ("Store north-shop", "hit")
        assert _read(a) == ("Store north-shop", "hit")
        # when: the store renamed through B
        _rename(b, token, "Renamed through B")
        # then: A's next read shows it, and B's too (from A's new entry)
        assert _read(a) == ("Renamed through B", "miss")
        assert _read(b) == ("Renamed through B", "hit")


async def test_without_redis_each_process_keeps_its_own_answers_and_a_write_through_one_shows_on_the_other(
    postgresql_url_clean: str, tmp_path: Path
) -> None:
    token = await _staff_token(postgresql_url_clean)
    with two_hubs(postgresql_url_clean, tmp_path) as (a, b):
        assert _read(a) == ("Store north-shop", "miss")
        assert _read(a) == ("Store north-shop", "hit")
        assert _read(b) == ("Store north-shop", "miss")
        _rename(b, token, "Renamed through B")
        assert _read(a) == ("Renamed through B", "miss")
        assert _read(a) == ("Renamed through B", "hit")
