"""The quote state in Redis: offer cache and circuit breakers shared by hub processes, and their fallback.

The stores run the same cases in the process and in Redis (the real server at
HUB_TEST_REDIS_URL, each test under a key prefix of its own); the breakers'
clock is the test's. Then two real hub processes (`uvicorn … create_app`) on
one database and one Redis, against the loopback distributors: what one
learns, the other knows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from datasources.quotes.contract import OfferedLine
from datasources.quotes.shared_state import (
    OFFER_FIELDS,
    RedisBreakers,
    RedisOfferCache,
    decode_offer,
    encode_offer,
)
from datasources.quotes.state import (
    BreakerStore,
    CacheKey,
    OfferCache,
    OfferStore,
    Permit,
    ProcessBreakers,
)
from datasources.redis_client import redis_client
from hub_graphql.settings import Settings
from tests.conftest import REDIS_URL
from tests.federation.processes import hub_server
from tests.harness import Hub, open_hub
from tests.quote_data import make_catalog, make_distributor, make_reseller, set_endpoint, set_policy, sku
from tests.servers import free_port
from tests.test_metrics import samples_of, value

if TYPE_CHECKING:
    from tests.quote_servers import Faulty

pytest_plugins = ["tests.quote_servers"]

LIVE_ONE = """
query LiveOne($sku: String!) {
  product(sku: $sku) { liveQuotes(quantity: 3) { distributor { code } unitPrice { amount } } }
}
"""
LIVE_PAGE = """
query LivePage($quantity: Int!) {
  products(first: 5) { edges { node { sku liveQuotes(quantity: $quantity) {
    distributor { code } unitPrice { amount currency } available availableQuantity leadTimeDays validUntil
  } } } }
}
"""
COOL_DOWN_S = 1.0


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_prefix: str) -> AsyncIterator[Redis]:
    client = redis_client(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["process", "redis"])
async def breakers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[BreakerStore, Clock]]:
    clock = Clock()
    if request.param == "process":
        yield ProcessBreakers(clock), clock
        return
    client = redis_client(REDIS_URL)
    try:
        yield RedisBreakers(client, request.getfixturevalue("redis_prefix"), clock), clock
    finally:
        await client.aclose()


@pytest.fixture(params=["process", "redis"])
async def offers(request: pytest.FixtureRequest) -> AsyncIterator[OfferStore]:
    if request.param == "process":
        yield OfferCache()
        return
    client = redis_client(REDIS_URL)
    try:
        yield RedisOfferCache(client, request.getfixturevalue("redis_prefix"))
    finally:
        await client.aclose()


# ---------------------------------------------------------------- the breakers, in the process and in Redis


async def test_a_breaker_opens_after_the_threshold_then_lets_one_probe_through(
    breakers: tuple[BreakerStore, Clock],
) -> None:
    store, clock = breakers
    assert await store.allow([7], 30) == [Permit.CLEAN]
    await store.failed(7, "D7", threshold=2)
    assert await store.allow([7], 30) == [Permit.FAILING]
    await store.failed(7, "D7", threshold=2)
    assert await store.allow([7, 8], 30) == [Permit.REFUSED, Permit.CLEAN]  # open; another is not
    clock.now += 29.9
    assert await store.allow([7], 30) == [Permit.REFUSED]
    clock.now += 0.1
    assert await store.allow([7, 7], 30) == [Permit.PROBE, Permit.REFUSED]  # one probe, even in one batch
    assert await store.allow([7], 30) == [Permit.REFUSED]  # while it is in flight
    await store.failed(7, "D7", threshold=2)
    assert await store.allow([7], 30) == [Permit.REFUSED]  # the probe failed: open again, from now
    clock.now += 30
    assert await store.allow([7], 30) == [Permit.PROBE]
    await store.succeeded(7, Permit.PROBE)
    assert await store.allow([7], 30) == [Permit.CLEAN]  # closed, no failure on record
    assert [(r.distributor_id, r.is_open) for r in await store.readings()] == [(7, False), (8, False)]


async def test_a_success_clears_the_failures_in_a_row(breakers: tuple[BreakerStore, Clock]) -> None:
    store, _clock = breakers
    await store.failed(7, "D7", threshold=2)
    permit = (await store.allow([7], 30))[0]
    await store.succeeded(7, permit)
    await store.failed(7, "D7", threshold=2)
    assert await store.allow([7], 30) == [Permit.FAILING]  # one failure since the success, not two


async def test_a_cancelled_probe_gives_its_place_back(breakers: tuple[BreakerStore, Clock]) -> None:
    store, clock = breakers
    await store.failed(7, "D7", threshold=1)
    clock.now += 30
    assert await store.allow([7], 30) == [Permit.PROBE]
    store.cancelled(7, Permit.PROBE)
    await asyncio.sleep(0.05)  # in Redis the release runs on its own task
    assert await store.allow([7], 30) == [Permit.PROBE]


async def test_an_open_breaker_shows_in_the_readings(breakers: tuple[BreakerStore, Clock]) -> None:
    store, _clock = breakers
    await store.failed(7, "D7", threshold=1)
    await store.allow([8], 30)
    readings = {r.distributor_id: r.is_open for r in await store.readings()}
    assert readings == {7: True, 8: False}


async def test_two_processes_share_one_breaker_and_exactly_one_probe(redis_prefix: str) -> None:
    # given two processes' stores, each on its own client, on one Redis and one clock
    clock = Clock()
    clients = [redis_client(REDIS_URL) for _ in range(2)]
    one, two = (RedisBreakers(client, redis_prefix, clock) for client in clients)
    try:
        # when one records the failures
        await one.failed(7, "D7", threshold=2)
        await one.failed(7, "D7", threshold=2)
        # then the other refuses, and knows the breaker (and its code) without having seen a failure
        assert await two.allow([7], 30) == [Permit.REFUSED]
        assert [(r.distributor_id, r.code, r.is_open) for r in await two.readings()] == [(7, "D7", True)]
        # and after the cool-down, of 40 checks at once from both, exactly one gets the probe (the pools
        # opened first: 40 new connections at once on a loaded machine can outlast a step's budget)
        await asyncio.gather(*(client.ping() for client in clients for _ in range(20)))
        clock.now += 30
        permits = await asyncio.gather(*(store.allow([7], 30) for store in (one, two) * 20))
        assert sorted(p for [p] in permits) == [Permit.REFUSED] * 39 + [Permit.PROBE]
        # a probe's place is held for a lease only: a process that died mid-probe does not hold it for good
        clock.now += 61
        assert await two.allow([7], 30) == [Permit.PROBE]
    finally:
        for client in clients:
            await client.aclose()


# ---------------------------------------------------------------- the offer cache, in the process and in Redis

LINES = [
    OfferedLine("A-1", 3, 1999, True, 40, 2),
    OfferedLine("A:2/ü", 3, None, False, None, None),  # unavailable: no price; a SKU with odd characters
    OfferedLine("A-3", 3, 10**15 + 1, True, None, 9),  # past a float's exact integers
]


def _key(line: OfferedLine, distributor_id: int = 7, reseller: str | None = "R:1") -> CacheKey:
    return CacheKey(distributor_id, line.sku, line.quantity, "USD", reseller)


async def test_cached_offers_come_back_exactly(offers: OfferStore) -> None:
    valid_until = datetime(2031, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    await offers.put_many([(_key(line), line) for line in LINES], valid_until, 60)

    found = await offers.get_many([_key(line) for line in LINES] + [_key(LINES[0], reseller=None)])

    assert [entry.line if entry else None for entry in found] == [*LINES, None]
    assert {entry.valid_until for entry in found if entry} == {valid_until}


async def test_a_cached_offer_goes_with_its_time(offers: OfferStore) -> None:
    await offers.put_many([(_key(LINES[0]), LINES[0])], None, 0.05)
    assert (await offers.get_many([_key(LINES[0])]))[0] is not None
    if isinstance(offers, OfferCache):
        offers.clock = lambda: 10**12  # the process's cache reads its own clock
    else:
        await asyncio.sleep(0.1)
    assert await offers.get_many([_key(LINES[0])]) == [None]


async def test_offers_in_redis_are_prefixed_namespaced_by_distributor_and_expire(
    redis: Redis, redis_prefix: str
) -> None:
    cache = RedisOfferCache(redis, redis_prefix)
    await cache.put_many([(_key(LINES[0], 7), LINES[0]), (_key(LINES[0], 8), LINES[0])], None, 30)

    keys = sorted([k.decode() async for k in redis.scan_iter(match=f"{redis_prefix}*")])
    assert keys == [
        f"{redis_prefix}quotes:offer:7:USD:3:R%3A1:A-1",
        f"{redis_prefix}quotes:offer:8:USD:3:R%3A1:A-1",
    ]
    assert 0 < await redis.pttl(keys[0]) <= 30_000
    # a value it cannot read (another release's format, damage) is a miss, not an error
    await redis.set(keys[0], '{"sku": "A-1"}')
    damaged, whole = await cache.get_many([_key(LINES[0], 7), _key(LINES[0], 8)])
    assert damaged is None
    assert whole is not None and whole.line == LINES[0]


def test_an_offer_is_serialised_whole_with_its_price_as_a_string() -> None:
    valid_until = datetime.now(UTC) + timedelta(hours=1)
    encoded = encode_offer(LINES[2], valid_until)
    assert json.loads(encoded)[2] == "1000000000000001"
    decoded = decode_offer(encoded)
    assert decoded.line == LINES[2]
    assert decoded.valid_until == valid_until
    # every field of the contract's line travels (a new field fails here, not silently in production)
    assert OFFER_FIELDS == (*(f.name for f in fields(OfferedLine)), "valid_until")
    assert len(json.loads(encoded)) == len(OFFER_FIELDS)


# ---------------------------------------------------------------- no Redis: fall back, never fail


async def test_without_redis_the_stores_let_calls_through_and_the_cache_misses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    breakers, cache = RedisBreakers(client, "nowhere:"), RedisOfferCache(client, "nowhere:")
    try:
        with caplog.at_level(logging.ERROR, logger="hub.quotes"):
            await breakers.failed(7, "D7", threshold=1)
            assert await breakers.allow([7, 8], 30) == [Permit.CLEAN, Permit.CLEAN]
            await cache.put_many([(_key(LINES[0]), LINES[0])], None, 60)
            assert await cache.get_many([_key(LINES[0])]) == [None]
    finally:
        await client.aclose()
    assert "calls let through" in caplog.text
    assert "offers asked of the distributors" in caplog.text


async def test_a_hub_whose_redis_is_down_asks_every_time_and_logs(
    settings: Settings, faulty: Faulty, caplog: pytest.LogCaptureFixture
) -> None:
    down = settings.model_copy(
        update={"redis_url": SecretStr(f"redis://127.0.0.1:{free_port()}/0"), "quote_breaker_failures": 1}
    )
    async with open_hub(down) as hub:
        await make_catalog(hub, 2)
        await set_policy(hub, cache_seconds=60)
        reseller_id = await make_reseller(hub, "R1")
        token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
        await make_distributor(hub, "GOOD", faulty.endpoint("ok", "GOOD"), resellers=(reseller_id,))
        await make_distributor(hub, "FLAKY", faulty.endpoint("error", "FLAKY"), resellers=(reseller_id,))

        with caplog.at_level(logging.ERROR, logger="hub.quotes"):
            bodies = [await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token) for _ in range(3)]
            scraped = samples_of((await hub.client.get("/metrics")).text)

    # every operation asked both: no cache, and the failing one's breaker never refused
    assert len(faulty.distributors.calls_to("GOOD")) == 3
    assert len(faulty.distributors.calls_to("FLAKY")) == 3
    for body in bodies:
        assert body["data"]["product"]["liveQuotes"] == [
            {"distributor": {"code": "GOOD"}, "unitPrice": {"amount": "10.00"}}
        ]
        assert body["errors"][0]["extensions"]["reason"] == "answered HTTP 503"
    assert "quote state in Redis unreachable" in caplog.text
    assert value(scraped, "hub_metrics_scrape_errors_total", source="breakers") == 1


# ---------------------------------------------------------------- two hub processes, one database, one Redis


@contextmanager
def two_hubs(hub: Hub, workdir: Path, prefix: str) -> Iterator[tuple[str, str]]:
    """Two `create_app` processes on the hub's database and the test's Redis prefix; their GraphQL URLs.

    Started side by side: each takes seconds to import the app, more on a loaded machine.
    """
    shared = {
        "HUB_REDIS_URL": REDIS_URL,
        "HUB_REDIS_KEY_PREFIX": prefix,
        "HUB_QUOTE_BREAKER_FAILURES": "2",
        "HUB_QUOTE_BREAKER_COOL_DOWN_SECONDS": str(COOL_DOWN_S),
        "HUB_OUTBOX_WORKER": "false",
    }
    secret = hub.settings.secret_key.get_secret_value()
    servers = [hub_server(hub.settings.database_url, secret, workdir, **shared) for _ in range(2)]
    with ExitStack() as started, ThreadPoolExecutor(2) as pool:
        entering = [(server, pool.submit(server.__enter__)) for server in servers]
        urls = []
        for server, future in entering:
            try:
                urls.append(future.result())
            except BaseException:
                continue  # its own start stopped it; the other is stopped by the stack
            started.push(server)
        assert len(urls) == 2, "a hub process did not start (its log is in the test's folder)"
        yield urls[0], urls[1]


async def _post(client: httpx.AsyncClient, url: str, query: str, variables: dict, token: str) -> Any:
    response = await client.post(
        url, json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _reason(client: httpx.AsyncClient, url: str, token: str) -> str:
    body = await _post(client, url, LIVE_ONE, {"sku": sku(0)}, token)
    return body["errors"][0]["extensions"]["reason"]


async def _scrape(client: httpx.AsyncClient, graphql_url: str) -> dict:
    response = await client.get(graphql_url.removesuffix("/graphql") + "/metrics")
    assert response.status_code == 200, response.text
    return samples_of(response.text)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # what many processes share
async def test_a_breaker_opened_through_one_process_is_open_through_the_other(
    hub: Hub, faulty: Faulty, redis_prefix: str, tmp_path: Path
) -> None:
    # given a distributor that fails, and two hub processes on one Redis (breaker: 2 failures, 1 s)
    await make_catalog(hub, 2)
    await set_policy(hub, timeout_ms=800)
    reseller_id = await make_reseller(hub, "R1")
    token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    flaky = await make_distributor(hub, "FLAKY", faulty.endpoint("error", "FLAKY"), resellers=(reseller_id,))

    with two_hubs(hub, tmp_path, redis_prefix) as (one, two):
        async with httpx.AsyncClient(timeout=30) as client:
            # when two calls through the first process fail
            failures = [await _reason(client, one, token) for _ in range(2)]
            # then the second refuses at once, without a call, and shows the circuit open
            refused = await _reason(client, two, token)
            calls_while_open = len(faulty.distributors.calls_to("FLAKY"))
            scraped = await _scrape(client, two)

            # and after the cool-down, with the distributor now slow past the deadline (so its probe is in
            # flight while the others ask), six operations at once through both let exactly one probe out
            await asyncio.sleep(COOL_DOWN_S + 0.2)
            await set_endpoint(hub, flaky, faulty.endpoint("late", "FLAKY"))
            after_cool_down = await asyncio.gather(*(_reason(client, url, token) for url in (one, two) * 3))
            reopened = await _reason(client, two, token)

    assert failures == ["answered HTTP 503"] * 2
    assert refused.startswith("circuit open")
    assert calls_while_open == 2
    assert value(scraped, "hub_distributor_circuit_open", distributor="FLAKY") == 1
    assert value(scraped, "hub_distributor_calls_total", distributor="FLAKY", outcome="circuit_open") == 1
    assert value(scraped, "hub_distributor_calls_total", distributor="FLAKY", outcome="failed") == 0
    probes = [c for c in faulty.distributors.calls_to("FLAKY") if c.behaviour == "late"]
    assert len(probes) == 1
    assert sorted(r.startswith("circuit open") for r in after_cool_down) == [False] + [True] * 5
    assert "gave no answer within 800 ms" in after_cool_down  # the probe, which failed
    assert reopened.startswith("circuit open")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_offer_cached_through_one_process_is_served_by_the_other(
    hub: Hub, faulty: Faulty, redis_prefix: str, tmp_path: Path
) -> None:
    # given a live distributor, offers cached for a minute, two hub processes on one Redis
    await make_catalog(hub, 5)
    await set_policy(hub, cache_seconds=60)
    first_id, second_id = await make_reseller(hub, "R1"), await make_reseller(hub, "R2")
    first = await hub.user("RESELLER_ADMIN", reseller_id=first_id)
    second = await hub.user("RESELLER_ADMIN", reseller_id=second_id)
    cached_id = await make_distributor(
        hub, "CACHED", faulty.endpoint("ok", "CACHED"), resellers=(first_id, second_id)
    )

    with two_hubs(hub, tmp_path, redis_prefix) as (one, two):
        async with httpx.AsyncClient(timeout=30) as client:
            # when a page is read through one, then through the other
            through_one = await _post(client, one, LIVE_PAGE, {"quantity": 12}, first)
            calls_after_one = len(faulty.distributors.calls_to("CACHED"))
            through_two = await _post(client, two, LIVE_PAGE, {"quantity": 12}, first)
            calls_after_two = len(faulty.distributors.calls_to("CACHED"))
            # and by another reseller, whose offers are its own
            await _post(client, two, LIVE_PAGE, {"quantity": 12}, second)

    # then the second answered from the cache the first filled: the same offers, to the cent, no call
    assert "errors" not in through_one
    assert through_two == through_one
    assert calls_after_one == 1
    assert calls_after_two == 1
    assert len(faulty.distributors.calls_to("CACHED")) == 2
    node = through_one["data"]["products"]["edges"][0]["node"]
    assert node["liveQuotes"][0]["unitPrice"] == {
        "amount": "9.50",
        "currency": "USD",
    }  # 10.00, less 5 % from 10
    keys = [k async for k in _keys(redis_prefix)]
    assert f"{redis_prefix}quotes:offer:{cached_id}:USD:12:R1:{sku(0)}" in keys


async def _keys(prefix: str) -> AsyncIterator[str]:
    client = redis_client(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            yield key.decode()
    finally:
        await client.aclose()
