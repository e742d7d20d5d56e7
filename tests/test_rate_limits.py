"""Rate limits: sign-in by e-mail and address, registerReseller by address, in the process and in Redis.

Time is the limiter's clock (`RateLimits.clock`), which the tests move instead
of sleeping. Redis is the real server (HUB_TEST_REDIS_URL, 127.0.0.1:6379 by
default), each test under a key prefix of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from pydantic import SecretStr
from starlette.requests import Request

from datasources.rate_limits import CounterStore, FailureRule, MemoryCounters, RedisCounters
from hub_graphql.client_address import client_address
from hub_graphql.permissions import GuardExtension
from hub_graphql.schema import build_schema
from hub_graphql.settings import Settings
from resolvers.limits import OPERATIONS, address_key, parse_override
from tests.conftest import REDIS_URL
from tests.harness import Hub, open_hub

CONTRACT = "tests/contract/hub.graphql"

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userErrors { code } }
}"""
REGISTER = """mutation($code: String!, $email: String!) {
  registerReseller(input: {code: $code, name: "New", contactEmail: $email, password: "long-enough-pw"}) {
    reseller { code } userErrors { code }
  }
}"""
PASSWORD = "correct-horse-battery"


class Clock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def limited_hub(settings: Settings, clock: Clock, **changes: Any) -> AsyncIterator[Hub]:
    async with open_hub(settings.model_copy(update=changes)) as hub:
        hub.resources.rate_limits.clock = clock
        yield hub


async def sign_in(
    hub: Hub, email: str, password: str, headers: dict[str, str] | None = None
) -> tuple[str, Any, str | None]:
    """(outcome, retryAfter, Retry-After header): outcome is TOKEN, a userError code, or an error code."""
    response = await hub.client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": password}},
        headers=headers or {},
    )
    body = response.json()
    if body.get("errors"):
        extensions = body["errors"][0]["extensions"]
        return extensions["code"], extensions.get("retryAfter"), response.headers.get("retry-after")
    payload = body["data"]["login"]
    outcome = "TOKEN" if payload["token"] else payload["userErrors"][0]["code"]
    return outcome, None, response.headers.get("retry-after")


async def register(hub: Hub, code: str, headers: dict[str, str] | None = None) -> tuple[str, Any, str | None]:
    response = await hub.client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"code": code, "email": f"{code.lower()}@new.example"}},
        headers=headers or {},
    )
    body = response.json()
    if body.get("errors"):
        extensions = body["errors"][0]["extensions"]
        return extensions["code"], extensions.get("retryAfter"), response.headers.get("retry-after")
    payload = body["data"]["registerReseller"]
    return ("REGISTERED" if payload["reseller"] else payload["userErrors"][0]["code"]), None, None


# ---------------------------------------------------------------- sign-in through the hub


async def test_thirty_wrong_passwords_are_refused_after_the_threshold_and_lock_even_the_right_one(
    settings: Settings,
) -> None:
    clock = Clock()
    async with limited_hub(settings, clock) as hub:
        await hub.user("CATALOG_MANAGER", email="owner@brightbuild.example", password=PASSWORD)

        # when 30 wrong passwords come, one every 5 s (past any slowing down)
        outcomes = []
        for _ in range(30):
            outcomes.append(await sign_in(hub, "owner@brightbuild.example", "wrong-password"))
            clock.advance(5)

        # then five are answered, the sixth locks the e-mail for a minute (Retry-After: 60), and
        # the attempts during the lock are refused with the seconds it has left
        assert [o[0] for o in outcomes[:5]] == ["INVALID_CREDENTIALS"] * 5
        assert outcomes[5] == ("RATE_LIMITED", 60, "60")
        assert outcomes[6:17] == [("RATE_LIMITED", 55 - 5 * n, str(55 - 5 * n)) for n in range(11)]
        # the lock ran out: five more answers, and the second lock lasts twice as long
        assert [o[0] for o in outcomes[17:22]] == ["INVALID_CREDENTIALS"] * 5
        assert outcomes[22] == ("RATE_LIMITED", 120, "120")
        assert {o[0] for o in outcomes[23:]} == {"RATE_LIMITED"}

        # and the right password during the lock is refused too, with the same answer
        assert (await sign_in(hub, "owner@brightbuild.example", PASSWORD))[0] == "RATE_LIMITED"

        # when the lock runs out, the right password signs in (and clears the e-mail's failures)
        clock.advance(120)
        assert (await sign_in(hub, "owner@brightbuild.example", PASSWORD))[0] == "TOKEN"
        assert (await sign_in(hub, "owner@brightbuild.example", "wrong-password"))[0] == "INVALID_CREDENTIALS"


async def test_quick_guesses_are_slowed_down_before_the_lock(settings: Settings) -> None:
    clock = Clock()
    async with limited_hub(settings, clock) as hub:
        outcomes = [await sign_in(hub, "someone@x.example", "guess") for _ in range(6)]
        # three failures, then each further try must wait: 1 s after the third
        assert [o[0] for o in outcomes] == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 3
        assert outcomes[3][1:] == (1, "1")

        clock.advance(1)
        assert (await sign_in(hub, "someone@x.example", "guess"))[0] == "INVALID_CREDENTIALS"
        # the next waits 2 s (doubling)
        assert (await sign_in(hub, "someone@x.example", "guess"))[1] == 2


async def test_the_e_mail_is_counted_case_insensitively_and_the_same_whether_it_has_an_account(
    settings: Settings,
) -> None:
    clock = Clock()
    async with limited_hub(settings, clock, sign_in_slow_after=0, sign_in_failures_per_email=2) as hub:
        await hub.user("CATALOG_MANAGER", email="owner@brightbuild.example", password=PASSWORD)
        for email in ("Owner@BrightBuild.example", "OWNER@brightbuild.example"):
            assert (await sign_in(hub, email, "wrong"))[0] == "INVALID_CREDENTIALS"
        assert (await sign_in(hub, "owner@brightbuild.example", PASSWORD))[0] == "RATE_LIMITED"

        # an e-mail without an account: the same answers, in the same order
        for _ in range(2):
            assert (await sign_in(hub, "nobody@brightbuild.example", "wrong"))[0] == "INVALID_CREDENTIALS"
        assert (await sign_in(hub, "nobody@brightbuild.example", "wrong"))[0] == "RATE_LIMITED"


async def test_one_address_trying_many_e_mails_is_locked(settings: Settings) -> None:
    clock = Clock()
    async with limited_hub(settings, clock, sign_in_failures_per_address=4, sign_in_lock_seconds=30) as hub:
        await hub.user("CATALOG_MANAGER", email="real@x.example", password=PASSWORD)
        outcomes = [(await sign_in(hub, f"user{n}@x.example", "wrong"))[0] for n in range(5)]
        assert outcomes == ["INVALID_CREDENTIALS"] * 4 + ["RATE_LIMITED"]
        # the lock is on the address: another account's right password waits too
        assert (await sign_in(hub, "real@x.example", PASSWORD))[:2] == ("RATE_LIMITED", 30)
        clock.advance(30)
        assert (await sign_in(hub, "real@x.example", PASSWORD))[0] == "TOKEN"


async def test_successful_sign_ins_do_not_count_against_the_address(settings: Settings) -> None:
    clock = Clock()
    async with limited_hub(settings, clock, sign_in_failures_per_address=3) as hub:
        await hub.user("CATALOG_MANAGER", email="busy@x.example", password=PASSWORD)
        outcomes = [(await sign_in(hub, "busy@x.example", PASSWORD))[0] for _ in range(10)]
        assert outcomes == ["TOKEN"] * 10


async def test_aliases_count_one_attempt_each(settings: Settings) -> None:
    clock = Clock()
    async with limited_hub(settings, clock) as hub:
        aliases = " ".join(
            f'a{n}: login(email: "victim@x.example", password: "guess{n}") {{ token }}' for n in range(8)
        )
        response = await hub.client.post("/graphql", json={"query": f"mutation {{ {aliases} }}"})
        body = response.json()
        # three guesses ran; the fourth was refused, and a refused (non-null) field ends the mutation
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["a3"], "RATE_LIMITED")]
        assert response.headers["retry-after"] == "1"
        assert (await sign_in(hub, "victim@x.example", "guess"))[0] == "RATE_LIMITED"


# ---------------------------------------------------------------- registerReseller and the client address


async def test_register_reseller_is_limited_per_address(settings: Settings) -> None:
    clock = Clock()
    async with limited_hub(settings, clock, rate_limits=["registerReseller=3/3600"]) as hub:
        outcomes = [await register(hub, f"R-{n}") for n in range(4)]
        assert [o[0] for o in outcomes[:3]] == ["REGISTERED"] * 3
        assert outcomes[3] == ("RATE_LIMITED", 3600, "3600")

        # a made-up X-Forwarded-For from a peer that is not a trusted proxy changes nothing
        spoofed = await register(hub, "R-SPOOF", headers={"X-Forwarded-For": "203.0.113.50"})
        assert spoofed[0] == "RATE_LIMITED"

        clock.advance(3600)
        assert (await register(hub, "R-LATER"))[0] == "REGISTERED"


async def test_behind_a_trusted_proxy_each_client_has_its_own_count(settings: Settings) -> None:
    clock = Clock()
    # the in-process client's peer is 127.0.0.1: here it stands for the hub's proxy
    async with limited_hub(
        settings, clock, rate_limits=["registerReseller=1/3600"], trusted_proxies=["127.0.0.1"]
    ) as hub:
        first = {"X-Forwarded-For": "198.51.100.1"}
        second = {"X-Forwarded-For": "198.51.100.2"}
        assert (await register(hub, "R-1", headers=first))[0] == "REGISTERED"
        assert (await register(hub, "R-2", headers=second))[0] == "REGISTERED"
        assert (await register(hub, "R-3", headers=first))[0] == "RATE_LIMITED"
        # a client writing its own X-Forwarded-For: the proxy appends the real one, which is what counts
        forged = {"X-Forwarded-For": "10.9.9.9, 198.51.100.1"}
        assert (await register(hub, "R-4", headers=forged))[0] == "RATE_LIMITED"


def _request(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    return Request({"type": "http", "client": (peer, 50000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.7", ["198.51.100.1"], [], "203.0.113.7"),  # nothing trusted: the peer
        ("203.0.113.7", ["198.51.100.1"], ["10.0.0.0/8"], "203.0.113.7"),  # an untrusted peer's header
        ("10.0.0.5", ["198.51.100.1"], ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], ["10.0.0.0/8"], "198.51.100.1"),  # the client's own part
        ("10.0.0.5", ["198.51.100.1, 10.0.0.9"], ["10.0.0.0/8"], "198.51.100.1"),  # two proxies
        ("10.0.0.5", ["198.51.100.1", "10.0.0.9"], ["10.0.0.0/8"], "198.51.100.1"),  # two header lines
        ("10.0.0.5", ["10.0.0.8, 10.0.0.9"], ["10.0.0.0/8"], "10.0.0.8"),  # all proxies: the left-most
        ("10.0.0.5", ["not-an-address"], ["10.0.0.0/8"], "10.0.0.5"),
        ("10.0.0.5", [], ["10.0.0.0/8"], "10.0.0.5"),
        ("10.0.0.5", ["[2001:db8::1]:4711"], ["10.0.0.0/8"], "2001:db8::1"),
        ("::ffff:10.0.0.5", ["198.51.100.1:4711"], ["10.0.0.0/8"], "198.51.100.1"),
    ],
)
def test_the_client_address(peer: str, forwarded: list[str], trusted: list[str], expected: str) -> None:
    assert client_address(_request(peer, forwarded), trusted) == expected


def test_ipv6_clients_count_by_their_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:198.51.100.1") == "198.51.100.1"


# ---------------------------------------------------------------- the table and its settings


def test_every_row_names_an_operation_of_the_contract_and_every_row_in_the_schema_is_guarded() -> None:
    contract = parse(Path(CONTRACT).read_text(encoding="utf-8"))
    coordinates = {
        f"{definition.name.value}.{field.name.value}"
        for definition in contract.definitions
        if hasattr(definition, "fields") and definition.fields
        for field in definition.fields
    }
    assert set(OPERATIONS) <= coordinates
    schema = build_schema(Settings(_env_file=None))
    for coordinate in OPERATIONS:
        type_name, field_name = coordinate.split(".")
        field = schema.get_field_for_type(field_name, type_name)
        if field is not None:  # not built yet: the commerce rows wait for their mutations
            assert any(isinstance(e, GuardExtension) for e in field.extensions), coordinate


@pytest.mark.parametrize(
    "entry",
    ["registerReseller", "registerReseller=10", "noSuchOperation=1/60", "login=5/60", "checkout=0/60"],
)
def test_a_malformed_rate_limit_override_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_override(entry)
    with pytest.raises(ValueError):
        Settings(_env_file=None, rate_limits=entry)


def test_overrides_and_trusted_proxies_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_RATE_LIMITS", "registerReseller=5/60, Mutation.checkout=off")
    monkeypatch.setenv("HUB_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
    settings = Settings(_env_file=None)
    assert settings.rate_limits == ["registerReseller=5/60", "Mutation.checkout=off"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.7"]
    monkeypatch.setenv("HUB_TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


# ---------------------------------------------------------------- the counters, in the process and in Redis


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    if request.param == "memory":
        store: CounterStore = MemoryCounters()
    else:
        store = RedisCounters.from_url(REDIS_URL, request.getfixturevalue("redis_prefix"))
    try:
        yield store
    finally:
        await store.close()


RULE = FailureRule(
    window_ms=900_000, lock_after=3, lock_ms=60_000, lock_max_ms=150_000, slow_after=2, delay_ms=1000
)


async def test_a_fixed_window(counters: CounterStore) -> None:
    now = 1_000_000
    assert [await counters.hit("w", 2, 10_000, now) for _ in range(3)] == [0, 0, 10_000]
    assert await counters.hit("w", 2, 10_000, now + 4000) == 6000
    assert await counters.hit("other", 2, 10_000, now + 4000) == 0
    assert await counters.hit("w", 2, 10_000, now + 10_000) == 0


async def test_failures_slow_down_then_lock_with_doubling_up_to_the_maximum(counters: CounterStore) -> None:
    now = 1_000_000
    assert await counters.attempt("k", RULE, now) == 0
    assert await counters.attempt("k", RULE, now) == 0
    assert await counters.attempt("k", RULE, now) == 1000  # slowed down after two failures
    assert await counters.attempt("k", RULE, now + 1000) == 0
    assert await counters.attempt("k", RULE, now + 2000) == 60_000  # three failures: locked
    assert await counters.attempt("k", RULE, now + 30_000) == 32_000  # still locked
    now += 62_000
    for step in range(3):
        assert await counters.attempt("k", RULE, now + step * 5000) == 0
    assert await counters.attempt("k", RULE, now + 20_000) == 120_000  # the second lock: doubled
    now += 140_000
    for step in range(3):
        assert await counters.attempt("k", RULE, now + step * 5000) == 0
    assert await counters.attempt("k", RULE, now + 20_000) == 150_000  # the maximum


async def test_settling_gives_a_failure_back_or_clears_the_key(counters: CounterStore) -> None:
    now = 1_000_000
    for _ in range(2):
        assert await counters.attempt("k", RULE, now) == 0
        await counters.settle("k", clear=False)
    assert await counters.attempt("k", RULE, now) == 0  # both given back: not slowed down
    assert await counters.attempt("k", RULE, now) == 0
    assert await counters.attempt("k", RULE, now) == 1000
    await counters.settle("k", clear=True)
    assert await counters.attempt("k", RULE, now) == 0


async def test_failures_out_of_the_window_are_forgotten(counters: CounterStore) -> None:
    now = 1_000_000
    assert await counters.attempt("k", RULE, now) == 0
    assert await counters.attempt("k", RULE, now) == 0
    assert await counters.attempt("k", RULE, now + RULE.window_ms) == 0
    assert await counters.attempt("k", RULE, now + RULE.window_ms) == 0  # a new window: not slowed


async def test_two_hubs_on_one_redis_see_one_limit(settings: Settings, redis_prefix: str) -> None:
    clock = Clock()
    shared = {"redis_url": SecretStr(REDIS_URL), "redis_key_prefix": redis_prefix}
    async with (
        limited_hub(settings, clock, rate_limits=["registerReseller=3/3600"], **shared) as one,
        limited_hub(settings, clock, rate_limits=["registerReseller=3/3600"], **shared) as two,
    ):
        assert (await register(one, "R-1"))[0] == "REGISTERED"
        assert (await register(two, "R-2"))[0] == "REGISTERED"
        assert (await register(one, "R-3"))[0] == "REGISTERED"
        assert (await register(two, "R-4"))[:2] == ("RATE_LIMITED", 3600)

        # and a sign-in lock made through one is kept by the other
        await one.user("CATALOG_MANAGER", email="shared@x.example", password=PASSWORD)
        for hub in (one, two, one, two, one):
            assert (await sign_in(hub, "shared@x.example", "wrong"))[0] == "INVALID_CREDENTIALS"
            clock.advance(10)
        assert (await sign_in(two, "shared@x.example", PASSWORD))[:2] == ("RATE_LIMITED", 60)
        assert (await sign_in(one, "shared@x.example", PASSWORD))[0] == "RATE_LIMITED"


async def test_without_redis_the_hub_lets_requests_through(settings: Settings) -> None:
    from tests.servers import free_port

    clock = Clock()
    async with limited_hub(
        settings,
        clock,
        redis_url=SecretStr(f"redis://127.0.0.1:{free_port()}/0"),
        sign_in_failures_per_email=1,
    ) as hub:
        outcomes = [(await sign_in(hub, "someone@x.example", "wrong"))[0] for _ in range(3)]
    assert outcomes == ["INVALID_CREDENTIALS"] * 3


async def test_a_key_quiet_for_a_window_after_its_lock_starts_again_at_the_first_lock(
    counters: CounterStore,
) -> None:
    now = 1_000_000
    for step in range(3):
        assert await counters.attempt("k", RULE, now + step * 5000) == 0
    assert await counters.attempt("k", RULE, now + 15_000) == 60_000
    now += 15_000 + 60_000 + RULE.window_ms  # the lock, then a quiet window
    for step in range(3):
        assert await counters.attempt("k", RULE, now + step * 5000) == 0
    assert await counters.attempt("k", RULE, now + 15_000) == 60_000  # not doubled


async def test_the_process_counters_stay_bounded_under_a_flood_of_new_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datasources import rate_limits

    monkeypatch.setattr(rate_limits, "MAX_KEYS", 100)
    counters = MemoryCounters()
    now = 1_000_000
    for n in range(1000):
        await counters.hit(f"address-{n}", 5, 60_000, now + n)
        await counters.attempt(f"e-mail-{n}", RULE, now + n)
    assert len(counters._windows) <= 100 and len(counters._failures) <= 100
    # the newest keys are kept: the latest address still counts where it stood
    assert await counters.hit("address-999", 1, 60_000, now + 1000) == 60_000 - 1
