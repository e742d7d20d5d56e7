"""/metrics: requests by outcome, distributor calls, breakers, rate-limit refusals, pool and outbox, who may read it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from datasources.outbox.models import OutboxMessage
from datasources.quotes.state import quote_state
from hub_graphql.metrics import MAX_OPERATION_NAMES, HubMetrics
from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub
from tests.quote_data import make_catalog, make_distributor, make_reseller, set_policy, sku

if TYPE_CHECKING:
    from tests.quote_servers import Faulty

pytest_plugins = ["tests.quote_servers"]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

LIVE_ONE = """
query LiveOne($sku: String!) {
  product(sku: $sku) { liveQuotes(quantity: 3) { distributor { code } unitPrice { amount } } }
}
"""
REGISTER = """
mutation Register($code: String!, $email: String!) {
  registerReseller(input: {code: $code, name: "New", contactEmail: $email, password: "correct-horse-battery"}) {
    reseller { code } userErrors { code }
  }
}
"""


async def scrape(hub: Hub) -> Samples:
    """Every sample of the exposition, parsed by prometheus_client's own parser."""
    response = await hub.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples_of(response.text)


def samples_of(exposition: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_operation_and_outcome_with_their_latency(hub: Hub) -> None:
    before = await scrape(hub)

    ok = await hub.post("query Roots { categories { name } }")
    forbidden = await hub.post("query Resellers { resellers(first: 5) { totalCount } }")
    bad_input = await hub.post("query Page { products(first: 1000) { totalCount } }")
    invalid = await hub.post("query Broken { noSuchField }")
    unnamed = await hub.post("{ categories { name } }")

    after = await scrape(hub)
    assert "errors" not in ok and "errors" not in unnamed
    codes = [body["errors"][0]["extensions"].get("code") for body in (forbidden, bad_input)]
    total = "hub_graphql_requests_total"
    for operation, outcome in [
        ("Roots", "ok"),
        ("Resellers", codes[0]),
        ("Page", "BAD_USER_INPUT"),
        ("Broken", "GRAPHQL_VALIDATION_FAILED"),
        ("anonymous", "ok"),
    ]:
        moved = value(after, total, operation=operation, outcome=outcome) - value(
            before, total, operation=operation, outcome=outcome
        )
        assert moved == 1, (operation, outcome)
    assert codes[0] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert "errors" in invalid
    count = "hub_graphql_request_duration_seconds_count"
    assert value(after, count, operation="Roots") == value(before, count, operation="Roots") + 1
    assert value(after, "hub_graphql_request_duration_seconds_bucket", operation="Roots", le="+Inf") >= 1


async def test_a_request_the_hub_cannot_take_counts_by_its_http_status(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    samples = await scrape(hub)
    assert response.status_code == 400
    assert value(samples, "hub_graphql_requests_total", operation="anonymous", outcome="HTTP_400") == 1


async def test_distributor_calls_are_counted_by_outcome_and_the_open_circuit_shows(
    hub: Hub, faulty: Faulty
) -> None:
    # given one distributor that answers and one that fails, with a breaker that opens after 2 failures
    await make_catalog(hub, 2)
    await set_policy(hub)
    state = quote_state(hub.resources.shared)
    state.breaker_threshold, state.breaker_cool_down_s = 2, 60
    reseller_id = await make_reseller(hub, "R1", "APPROVED")
    token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    await make_distributor(hub, "GOOD", faulty.endpoint("ok", "GOOD"), resellers=(reseller_id,))
    await make_distributor(hub, "FLAKY", faulty.endpoint("error", "FLAKY"), resellers=(reseller_id,))

    # when three operations ask both (no offer cache: set_policy's default)
    for index in (0, 1, 0):
        await hub.post(LIVE_ONE, {"sku": sku(index)}, token=token)
    samples = await scrape(hub)

    # then
    calls = "hub_distributor_calls_total"
    assert value(samples, calls, distributor="GOOD", outcome="ok") == 3
    assert value(samples, calls, distributor="FLAKY", outcome="failed") == 2
    assert value(samples, calls, distributor="FLAKY", outcome="circuit_open") == 1
    assert value(samples, "hub_distributor_call_duration_seconds_count", distributor="FLAKY") == 2
    assert value(samples, "hub_distributor_circuit_open", distributor="FLAKY") == 1
    assert value(samples, "hub_distributor_circuit_open", distributor="GOOD") == 0


async def test_rate_limit_refusals_are_counted_by_operation(settings: Settings) -> None:
    async with open_hub(settings.model_copy(update={"rate_limits": ["registerReseller=1/3600"]})) as hub:
        first = await hub.post(REGISTER, {"code": "NEW1", "email": "new1@new.example"})
        second = await hub.post(REGISTER, {"code": "NEW2", "email": "new2@new.example"})
        samples = await scrape(hub)
    assert "errors" not in first
    assert second["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert value(samples, "hub_rate_limit_refusals_total", operation="Mutation.registerReseller") == 1
    assert value(samples, "hub_graphql_requests_total", operation="Register", outcome="RATE_LIMITED") == 1


async def test_the_outbox_depth_and_age_and_the_pool_are_read_at_scrape_time(hub: Hub) -> None:
    empty = await scrape(hub)
    later = datetime.now(UTC) + timedelta(hours=1)  # not due: the outbox worker leaves them alone
    async with hub.resources.session_factory() as session, session.begin():
        for number, age in enumerate((120, 5)):
            session.add(
                OutboxMessage(
                    kind="email",
                    idempotency_key=f"test-{number}",
                    payload={},
                    status="PENDING",
                    next_attempt_at=later,
                    created_at=datetime.now(UTC) - timedelta(seconds=age),
                )
            )
        session.add(
            OutboxMessage(
                kind="email",
                idempotency_key="test-sent",
                payload={},
                status="DONE",
                next_attempt_at=datetime.now(UTC),
                created_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
    samples = await scrape(hub)

    assert value(empty, "hub_outbox_pending_messages") == 0
    assert value(empty, "hub_outbox_oldest_pending_age_seconds") == 0
    assert value(samples, "hub_outbox_pending_messages") == 2
    assert 119 <= value(samples, "hub_outbox_oldest_pending_age_seconds") < 3600
    assert value(samples, "hub_db_pool_checked_out") == 0  # the scrape's own session is back in the pool
    if not hub.settings.is_sqlite:
        assert value(samples, "hub_db_pool_size") == hub.settings.db_pool_size


async def test_metrics_are_for_loopback_callers_unless_a_token_is_set(settings: Settings) -> None:
    async with open_hub(settings) as hub:
        outside = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub.app, client=("203.0.113.9", 40000)),
            base_url="http://hub.test",
        )
        async with outside:
            refused = await outside.get("/metrics")
    assert refused.status_code == 403

    async with open_hub(
        settings.model_copy(update={"metrics_token": SecretStr("scrape-token-0123456789")})
    ) as hub:
        outside = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub.app, client=("203.0.113.9", 40000)),
            base_url="http://hub.test",
        )
        async with outside:
            without = await outside.get("/metrics")
            wrong = await outside.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await outside.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        from_loopback_without = await hub.client.get("/metrics")
    assert (without.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert from_loopback_without.status_code == 401  # with a token set, everyone needs it
    assert "# TYPE hub_graphql_requests_total counter" in right.text


async def test_two_apps_in_one_process_count_apart(settings: Settings) -> None:
    async with open_hub(settings) as first, open_hub(settings) as second:
        await first.post("query Roots { categories { name } }")
        await asyncio.gather(first.post("query Roots { categories { name } }"))
        one, other = await scrape(first), await scrape(second)
    assert value(one, "hub_graphql_requests_total", operation="Roots", outcome="ok") == 2
    assert value(other, "hub_graphql_requests_total", operation="Roots", outcome="ok") == 0


def test_operation_names_are_bounded_labels() -> None:
    metrics = HubMetrics()
    names = [metrics.operation_label(f"Op{n}") for n in range(MAX_OPERATION_NAMES + 5)]
    assert names[:MAX_OPERATION_NAMES] == [f"Op{n}" for n in range(MAX_OPERATION_NAMES)]
    assert set(names[MAX_OPERATION_NAMES:]) == {"other"}
    assert metrics.operation_label("Op3") == "Op3"  # a name seen before keeps its label
    assert metrics.operation_label(None) == "anonymous"
    assert HubMetrics().operation_label("bad name; {") == "other"
    assert HubMetrics().operation_label("x" * 65) == "other"
