"""Product.liveQuotes against real distributor services on loopback: fan-out, faults, breaker, cache, access."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import event

from datasources.quotes.state import quote_state
from hub_graphql.sample_distributor import PriceList
from hub_graphql.settings import Settings
from resolvers.samples.quotes import write_price_list
from tests.harness import Hub, codes_of, open_hub
from tests.quote_data import (
    GROUP,
    expected_unit_price,
    make_catalog,
    make_distributor,
    make_reseller,
    set_policy,
    sku,
)

if TYPE_CHECKING:
    from tests.quote_servers import Faulty, Reference

pytest_plugins = ["tests.quote_servers"]  # the loopback distributor fixtures

LIVE_PAGE = """
query LivePage($first: Int!, $quantity: Int!, $currency: String, $codes: [String!]) {
  products(first: $first) {
    edges { node { sku liveQuotes(quantity: $quantity, currency: $currency, distributorCodes: $codes) {
      distributor { code } sku quantity unitPrice { amount currency } available availableQuantity
      leadTimeDays validUntil
    } } }
  }
}
"""

LIVE_ONE = """
query LiveOne($sku: String!) {
  product(sku: $sku) { liveQuotes(quantity: 3) { distributor { code } unitPrice { amount } } }
}
"""


async def _reseller_admin(hub: Hub, code: str = "R1", status: str = "APPROVED") -> tuple[int, str]:
    reseller_id = await make_reseller(hub, code, status)
    return reseller_id, await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)


def _offers_by_distributor(body: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for edge in body["data"]["products"]["edges"]:
        for offer in edge["node"]["liveQuotes"]:
            found.setdefault(offer["distributor"]["code"], []).append(offer)
    return found


async def test_a_page_of_products_sends_one_call_per_distributor_with_every_line(
    hub: Hub, faulty: Faulty, reference: Reference
) -> None:
    # given three live distributors over both transports, one needing its credential
    await make_catalog(hub, 100)
    await set_policy(hub, timeout_ms=1500)
    reseller_id, token = await _reseller_admin(hub)
    key = ("X-Distributor-Key", "s3cret-distributor-key")
    await make_distributor(hub, "LIVE-A", faulty.endpoint("ok", "LIVE-A"), resellers=(reseller_id,))
    await make_distributor(
        hub, "LIVE-B", faulty.endpoint("auth", "LIVE-B"), credential=key, resellers=(reseller_id,)
    )
    await make_distributor(
        hub, "LIVE-G", f"{reference.url}/graphql", transport="GRAPHQL_SUBGRAPH", resellers=(reseller_id,)
    )
    before = reference.stats()

    # when a reseller reads liveQuotes on a 100-product page
    body = await hub.post(LIVE_PAGE, {"first": 100, "quantity": 12}, token=token)

    # then every product has all three offers, priced as the price lists say
    assert not body.get("errors"), body.get("errors")
    offers = _offers_by_distributor(body)
    assert sorted(offers) == ["LIVE-A", "LIVE-B", "LIVE-G"]
    for code, found in offers.items():
        assert len(found) == 100, code
        for offer in found:
            n = int(offer["sku"][2:])
            assert offer["quantity"] == 12
            assert offer["available"] is (n % 10 != 9)
            if offer["available"]:
                assert Decimal(offer["unitPrice"]["amount"]) == expected_unit_price(n, 12)
                assert offer["unitPrice"]["currency"] == "USD"
            else:
                assert offer["unitPrice"] is None and offer["availableQuantity"] == 0
            assert offer["validUntil"] is not None
    # and exactly one call went to each distributor, holding all 100 lines, with the credential where due
    for code in ("LIVE-A", "LIVE-B"):
        calls = faulty.distributors.calls_to(code)
        assert len(calls) == 1, code
        assert sorted(line["sku"] for line in calls[0].body["lines"]) == [sku(n) for n in range(100)]
        assert calls[0].body["currency"] == "USD" and calls[0].body["resellerCode"] == "R1"
    assert faulty.distributors.calls_to("LIVE-B")[0].headers[key[0].lower()] == key[1]
    after = reference.stats()
    assert after["graphql"] - before["graphql"] == 1
    assert after["lines"] - before["lines"] == 100


async def test_failing_distributors_give_no_offer_and_one_error_each_while_the_others_answer(
    hub: Hub, faulty: Faulty
) -> None:
    # given one healthy distributor and one for every fault, over both transports
    await make_catalog(hub, 20)
    await set_policy(hub, timeout_ms=1000)
    reseller_id, token = await _reseller_admin(hub)
    secret = ("X-Distributor-Key", "never-shown-credential")
    await make_distributor(hub, "OK", faulty.endpoint("ok", "OK"), resellers=(reseller_id,))
    faults = {
        "late": "gave no answer within 1000 ms",
        "error": "answered HTTP 503",
        "malformed": "answered malformed JSON",
        "huge": "answered more than 5 MB",
        "shape": "wrong shape",
        "missing": "left out 1 of the 20 asked lines",
        "unasked": "answered a line that was not asked",
        "currency": "answered in GBP when USD was asked",
    }
    for behaviour in faults:
        for transport in ("REST_JSON", "GRAPHQL_SUBGRAPH"):
            code = f"F-{behaviour}-{transport[0]}"
            await make_distributor(
                hub,
                code,
                faulty.endpoint(behaviour, code, transport),
                transport=transport,
                credential=secret,
                resellers=(reseller_id,),
            )

    # when
    started = time.perf_counter()
    body = await hub.post(LIVE_PAGE, {"first": 20, "quantity": 2}, token=token)
    elapsed = time.perf_counter() - started

    # then the healthy distributor's offers came, for every product
    offers = _offers_by_distributor(body)
    assert list(offers) == ["OK"] and len(offers["OK"]) == 20
    # and each failed distributor is named once, with its reason, and no endpoint or credential
    errors = body["errors"]
    assert codes_of(body) == ["DISTRIBUTOR_UNAVAILABLE"] * len(errors)
    by_code = {e["extensions"]["distributor"]: e for e in errors}
    assert len(errors) == len(by_code) == 2 * len(faults)
    for behaviour, reason in faults.items():
        for transport in ("R", "G"):
            error = by_code[f"F-{behaviour}-{transport}"]
            assert reason in error["extensions"]["reason"], (behaviour, error)
            assert reason in error["message"]
    text = str(body)
    assert faulty.server.url not in text and "127.0.0.1" not in text and secret[1] not in text
    # and the late distributor did not hold the page past the deadline by much
    assert elapsed < 1.0 + 0.9, elapsed  # the late one sleeps 2 s
    # and still exactly one call per distributor
    for code in by_code:
        assert len(faulty.distributors.calls_to(code)) == 1, code


async def test_only_approved_connected_distributors_are_asked_and_staff_may_ask_any_approved(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 3)
    await set_policy(hub)
    reseller_id, token = await _reseller_admin(hub)
    await make_distributor(hub, "CONN", faulty.endpoint("ok", "CONN"), resellers=(reseller_id,))
    await make_distributor(
        hub, "SUSP", faulty.endpoint("ok", "SUSP"), status="SUSPENDED", resellers=(reseller_id,)
    )
    await make_distributor(hub, "OTHER", faulty.endpoint("ok", "OTHER"))
    await make_distributor(hub, "MANU", None, transport="MANUAL", resellers=(reseller_id,))

    as_reseller = await hub.query(LIVE_ONE, {"sku": sku(1)}, token=token)
    as_staff = await hub.query(LIVE_ONE, {"sku": sku(1)}, token=await hub.staff("CHANNEL_MANAGER"))
    narrowed = await hub.post(LIVE_PAGE, {"first": 3, "quantity": 1, "codes": ["OTHER"]}, token=token)

    assert [q["distributor"]["code"] for q in as_reseller["product"]["liveQuotes"]] == ["CONN"]
    assert sorted(q["distributor"]["code"] for q in as_staff["product"]["liveQuotes"]) == ["CONN", "OTHER"]
    assert _offers_by_distributor(narrowed) == {} and not narrowed.get("errors")
    assert faulty.distributors.calls_to("SUSP") == []
    assert len(faulty.distributors.calls_to("OTHER")) == 1  # the staff's call only


async def test_live_quotes_need_a_reseller_admin_of_an_approved_reseller_or_staff(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 2)
    _, pending_token = await _reseller_admin(hub, "PEND", status="PENDING")
    customer = await hub.user("CUSTOMER")

    anonymous = await hub.post(LIVE_ONE, {"sku": sku(0)})
    as_customer = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=customer)
    as_pending = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=pending_token)

    assert codes_of(anonymous) == ["UNAUTHENTICATED"]
    assert codes_of(as_customer) == ["FORBIDDEN"]
    assert codes_of(as_pending) == ["FORBIDDEN"]


async def test_bad_arguments_are_refused_before_any_call(hub: Hub, faulty: Faulty) -> None:
    await make_catalog(hub, 2)
    reseller_id, token = await _reseller_admin(hub)
    await make_distributor(hub, "ARGS", faulty.endpoint("ok", "ARGS"), resellers=(reseller_id,))

    zero = await hub.post(LIVE_PAGE, {"first": 2, "quantity": 0}, token=token)
    currency = await hub.post(LIVE_PAGE, {"first": 2, "quantity": 1, "currency": "XXX"}, token=token)

    assert set(codes_of(zero)) == {"BAD_USER_INPUT"}
    assert set(codes_of(currency)) == {"BAD_USER_INPUT"}
    assert faulty.distributors.calls_to("ARGS") == []


async def test_the_circuit_opens_after_repeated_failures_then_lets_one_probe_through(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 2)
    await set_policy(hub)
    state = quote_state(hub.resources.shared)
    state.breaker_threshold, state.breaker_cool_down_s = 2, 0.5
    reseller_id, token = await _reseller_admin(hub)
    await make_distributor(hub, "FLAKY", faulty.endpoint("error", "FLAKY"), resellers=(reseller_id,))

    reasons = []
    for _ in range(3):
        body = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token)
        reasons.append(body["errors"][0]["extensions"]["reason"])
    calls_while_open = len(faulty.distributors.calls_to("FLAKY"))
    await asyncio.sleep(0.6)
    probe = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token)
    again = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token)

    assert reasons[:2] == ["answered HTTP 503", "answered HTTP 503"]
    assert reasons[2].startswith("circuit open")
    assert calls_while_open == 2
    assert probe["errors"][0]["extensions"]["reason"] == "answered HTTP 503"  # the probe went out, and failed
    assert again["errors"][0]["extensions"]["reason"].startswith(
        "circuit open"
    )  # so the circuit is open again
    assert len(faulty.distributors.calls_to("FLAKY")) == 3


async def test_offers_are_cached_briefly_per_reseller(hub: Hub, faulty: Faulty) -> None:
    await make_catalog(hub, 5)
    await set_policy(hub, cache_seconds=60)
    first_id, first = await _reseller_admin(hub, "CACHE1")
    second_id, second = await _reseller_admin(hub, "CACHE2")
    await make_distributor(hub, "CACHED", faulty.endpoint("ok", "CACHED"), resellers=(first_id, second_id))

    one = await hub.query(LIVE_PAGE, {"first": 5, "quantity": 2}, token=first)
    two = await hub.query(LIVE_PAGE, {"first": 5, "quantity": 2}, token=first)
    calls_after_refresh = len(faulty.distributors.calls_to("CACHED"))
    await hub.query(LIVE_PAGE, {"first": 5, "quantity": 3}, token=first)  # another quantity
    await hub.query(LIVE_PAGE, {"first": 5, "quantity": 2}, token=second)  # another reseller

    assert one == two
    assert calls_after_refresh == 1
    assert len(faulty.distributors.calls_to("CACHED")) == 3


async def test_without_a_cache_every_operation_asks_again(hub: Hub, faulty: Faulty) -> None:
    await make_catalog(hub, 2)
    await set_policy(hub, cache_seconds=0)
    reseller_id, token = await _reseller_admin(hub)
    await make_distributor(hub, "NOCACHE", faulty.endpoint("ok", "NOCACHE"), resellers=(reseller_id,))

    await hub.query(LIVE_PAGE, {"first": 2, "quantity": 2}, token=token)
    await hub.query(LIVE_PAGE, {"first": 2, "quantity": 2}, token=token)

    assert len(faulty.distributors.calls_to("NOCACHE")) == 2


async def test_an_endpoint_the_allowlist_does_not_name_is_never_called(
    settings: Settings, faulty: Faulty
) -> None:
    # given a hub whose allowlist names another host than the distributor's (127.0.0.1)
    limited = settings.model_copy(update={"quote_endpoint_allowlist": ["quotes.example.com"]})
    async with open_hub(limited) as hub:
        await make_catalog(hub, 2)
        reseller_id, token = await _reseller_admin(hub)
        await make_distributor(hub, "FENCED", faulty.endpoint("ok", "FENCED"), resellers=(reseller_id,))

        body = await hub.post(LIVE_ONE, {"sku": sku(0)}, token=token)

    assert body["data"]["product"]["liveQuotes"] == []
    assert body["errors"][0]["extensions"]["reason"] == "has a quote endpoint the hub's policy does not allow"
    assert faulty.distributors.calls_to("FENCED") == []


def test_the_sample_price_lists_are_what_the_reference_service_reads(tmp_path: Path) -> None:
    rows = [("EL-0001", "EUR", 15169), ("EL-0001", "USD", 19741), ("JP-1", "JPY", 1234)]
    path = write_price_list("northwind", rows, tmp_path)

    prices = PriceList.read(path)

    assert set(prices.rows) == {("EL-0001", "EUR"), ("EL-0001", "USD"), ("JP-1", "JPY")}
    usd = prices.rows[("EL-0001", "USD")]
    assert Decimal("154") <= usd.unit_price <= Decimal("190")  # 78% to 96% of the list price 197.41
    assert usd.price_for(25) < usd.unit_price == usd.price_for(24)
    assert (
        prices.rows[("JP-1", "JPY")].unit_price == prices.rows[("JP-1", "JPY")].unit_price.to_integral_value()
    )
    assert write_price_list("northwind", rows, tmp_path).read_text() == path.read_text()  # deterministic


# ---------------------------------------------------------------- the look-ahead from a product page

LIVE_PAGE_WITH_GROUPS = """
query ($first: Int!) {
  products(first: $first) {
    edges { node { sku groups { code } liveQuotes(quantity: 2) { sku distributor { code } } } }
  }
}
"""


async def test_a_page_sends_its_calls_before_its_products_own_fields_read_the_database(
    hub: Hub, faulty: Faulty
) -> None:
    # given two live distributors, and a log of the hub's outbound calls and SQL statements, in order
    await make_catalog(hub, 20, group_size=5)
    await set_policy(hub, timeout_ms=5000)
    reseller_id, token = await _reseller_admin(hub)
    for code in ("AHEAD-A", "AHEAD-B"):
        await make_distributor(hub, code, faulty.endpoint("ok", code), resellers=(reseller_id,))
    events: list[str] = []

    async def outbound(request: httpx.Request) -> None:
        events.append(f"call {request.url.path}")
        hubs_own = request.extensions.get("trace")  # httpcore's trace hook: it tells what the call waits on

        async def trace(name: str, info: dict) -> None:  # type: ignore[type-arg]
            # Waiting on the network: connecting (a new connection), or its request sent whole.
            if name in ("connection.connect_tcp.started", "http11.send_request_body.complete"):
                events.append(f"on its way {request.url.path}")
            if hubs_own is not None:
                await hubs_own(name, info)

        request.extensions["trace"] = trace

    def statement(_conn, _cursor, text: str, *_args) -> None:  # type: ignore[no-untyped-def]
        events.append(f"sql {text}")

    # and connections to both open already (kept alive): each call's wait on the network is then
    # its request sent, not a connection being made
    await hub.post(LIVE_PAGE_WITH_GROUPS, {"first": 20}, token=token)
    with faulty.distributors.lock:
        faulty.distributors.calls.clear()
    hub.resources.http.event_hooks["request"].append(outbound)
    event.listen(hub.resources.engine.sync_engine, "before_cursor_execute", statement)

    # when a page reads, for each product, its groups (a loader's statement) and its live quotes
    body = await hub.post(LIVE_PAGE_WITH_GROUPS, {"first": 20}, token=token)

    # then every product has both offers and its groups
    assert not body.get("errors"), body.get("errors")
    nodes = [edge["node"] for edge in body["data"]["products"]["edges"]]
    assert len(nodes) == 20
    for node in nodes:
        assert sorted(q["distributor"]["code"] for q in node["liveQuotes"]) == ["AHEAD-A", "AHEAD-B"]
        assert {q["sku"] for q in node["liveQuotes"]} == {node["sku"]}
    assert [n["groups"] for n in nodes[:6]] == [[{"code": GROUP}]] * 5 + [[]]
    # and both calls left before the products' own fields ran their statement: the fan-out started
    # from the page, not from the products' liveQuotes resolvers
    calls = [i for i, e in enumerate(events) if e.startswith("call ")]
    on_their_way = {e: i for i, e in reversed(list(enumerate(events))) if e.startswith("on its way ")}
    sent = list(on_their_way.values())  # the first time each call waited on the network
    groups = [i for i, e in enumerate(events) if e.startswith("sql ") and "product_group_members" in e]
    assert len(calls) == 2 and len(sent) == 2 and groups, events
    assert max(calls) < min(groups), events
    # and both waited on the network before graphql-core walked the page (the products' groups):
    # the distributors work, or the connections open, while the hub walks it
    assert max(sent) < min(groups), events
    # and one call per distributor, with the page's every line
    for code in ("AHEAD-A", "AHEAD-B"):
        (call,) = faulty.distributors.calls_to(code)
        assert sorted(line["sku"] for line in call.body["lines"]) == [sku(n) for n in range(20)]


LIVE_PAGE_SHAPES = """
query ($quantity: Int!, $yes: Boolean!, $codes: [String!]) {
  products(first: 4) {
    edges {
      node {
        ...Two
        ... on Product { three: liveQuotes(quantity: $quantity, distributorCodes: $codes) { quantity } }
        seven: liveQuotes(quantity: 7) @skip(if: $yes) { quantity }
        eight: liveQuotes(quantity: 8) @include(if: false) { quantity }
        again: liveQuotes(quantity: 2) @include(if: $yes) { quantity }
      }
    }
  }
}
fragment Two on Node { ... on Product { two: liveQuotes(quantity: 2) { quantity } } }
"""


async def test_fragments_aliases_and_directives_ask_what_the_fields_read_in_one_call(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 4)
    await set_policy(hub, timeout_ms=5000)
    reseller_id, token = await _reseller_admin(hub)
    for code in ("SHAPE-A", "SHAPE-B"):
        await make_distributor(hub, code, faulty.endpoint("ok", code), resellers=(reseller_id,))

    body = await hub.post(
        LIVE_PAGE_SHAPES, {"quantity": 3, "yes": True, "codes": ["SHAPE-A", "SHAPE-B"]}, token=token
    )

    assert not body.get("errors"), body.get("errors")
    for edge in body["data"]["products"]["edges"]:
        node = edge["node"]
        assert sorted(node) == ["again", "three", "two"]
        assert [q["quantity"] for q in node["two"]] == [2, 2] == [q["quantity"] for q in node["again"]]
        assert [q["quantity"] for q in node["three"]] == [3, 3]
    # one call per distributor, with the lines of the selections read (quantities 2 and 3), never 7 or 8
    for code in ("SHAPE-A", "SHAPE-B"):
        (call,) = faulty.distributors.calls_to(code)
        asked = sorted((line["sku"], line["quantity"]) for line in call.body["lines"])
        assert asked == sorted((sku(n), q) for n in range(4) for q in (2, 3))


async def test_a_page_without_live_quotes_or_with_them_skipped_calls_no_distributor(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 5)
    reseller_id, token = await _reseller_admin(hub)
    await make_distributor(hub, "QUIET", faulty.endpoint("ok", "QUIET"), resellers=(reseller_id,))
    skipped = """
    query ($no: Boolean!) {
      products(first: 5) { edges { node { sku liveQuotes(quantity: 1) @include(if: $no) { sku } } } }
    }
    """

    plain = await hub.query("{ products(first: 5) { edges { node { sku name } } } }", token=token)
    without = await hub.query(skipped, {"no": False}, token=token)

    assert len(plain["products"]["edges"]) == 5
    assert [edge["node"] for edge in without["products"]["edges"]] == [{"sku": sku(n)} for n in range(5)]
    assert faulty.distributors.calls_to("QUIET") == []


async def test_a_viewer_the_field_refuses_makes_the_page_call_no_distributor(
    hub: Hub, faulty: Faulty
) -> None:
    await make_catalog(hub, 3)
    pending_id, pending_token = await _reseller_admin(hub, "PEND", status="PENDING")
    await make_distributor(hub, "GUARDED", faulty.endpoint("ok", "GUARDED"), resellers=(pending_id,))

    body = await hub.post(LIVE_PAGE, {"first": 3, "quantity": 1}, token=pending_token)

    assert set(codes_of(body)) == {"FORBIDDEN"}
    assert faulty.distributors.calls_to("GUARDED") == []
