"""The request-for-quote workflow end to end, with real distributor services on loopback, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from datasources.quotes.models import DistributorQuote, DistributorQuoteLine, QuoteRequest
from hub_graphql.sample_distributor import quote_result
from tests.harness import Hub, QueryCounter, codes_of
from tests.quote_data import (
    CATEGORY,
    GROUP,
    expected_unit_price,
    make_catalog,
    make_distributor,
    make_reseller,
    price_list,
    set_endpoint,
    set_policy,
    sku,
)

if TYPE_CHECKING:
    from tests.quote_servers import Faulty

pytest_plugins = ["tests.quote_servers"]  # the loopback distributor fixtures

REQUEST_FIELDS = """
  id status currency createdAt expiresAt
  reseller { code }
  items { sku quantity product { sku } }
  quotes { id status source failure validUntil total { amount currency }
           distributor { code }
           lines { sku quantity unitPrice { amount } available availableQuantity leadTimeDays } }
"""

REQUEST_QUOTE = f"""
mutation RequestQuote($input: RequestQuoteInput!) {{
  requestQuote(input: $input) {{
    quoteRequest {{ {REQUEST_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""

REFRESH = f"""
mutation Refresh($id: ID!) {{
  refreshQuotes(quoteRequestId: $id) {{ quoteRequest {{ {REQUEST_FIELDS} }} userErrors {{ field code }} }}
}}
"""

RESPOND = """
mutation Respond($input: QuoteResponseInput!) {
  respondToQuoteRequest(input: $input) {
    quote { id status source total { amount } lines { sku quantity unitPrice { amount } available } }
    userErrors { field code message }
  }
}
"""

ACCEPT = """
mutation Accept($id: ID!) {
  acceptQuote(id: $id) { quote { id status } userErrors { field code message } }
}
"""

CANCEL = """
mutation Cancel($id: ID!) {
  cancelQuoteRequest(id: $id) { quoteRequest { id status } userErrors { field code } }
}
"""

READ = f"""
query Read($id: ID!) {{ quoteRequest(id: $id) {{ {REQUEST_FIELDS} }} }}
"""

COMPARISON = """
query Compare($id: ID!) {
  quoteRequest(id: $id) {
    comparison {
      currency bestTotal { amount currency } linesWithoutOffer
      lines { sku quantity
        best { distributor { code } unitPrice { amount } lineTotal { amount } }
        offers { distributor { code } available unitPrice { amount } lineTotal { amount } quote { status } } }
    }
  }
}
"""

LIST = """
query List($status: QuoteRequestStatus, $first: Int, $after: String) {
  quoteRequests(status: $status, first: $first, after: $after) {
    totalCount edges { cursor node { id status reseller { code } quotes { distributor { code } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _setup(
    hub: Hub, faulty: Faulty, products: int = 20, **distributors: str
) -> tuple[int, str, dict[str, int]]:
    """A catalog, an approved reseller with its admin, and distributors by code -> behaviour (or MANUAL)."""
    await make_catalog(hub, products, group_size=min(products, 5))
    await set_policy(hub)  # no late distributor here: a roomy deadline keeps a loaded machine from failing
    reseller_id = await make_reseller(hub, "RES")
    token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    ids = {}
    for code, behaviour in distributors.items():
        if behaviour == "MANUAL":
            ids[code] = await make_distributor(hub, code, None, transport="MANUAL", resellers=(reseller_id,))
        else:
            transport = "GRAPHQL_SUBGRAPH" if code.endswith("G") else "REST_JSON"
            ids[code] = await make_distributor(
                hub,
                code,
                faulty.endpoint(behaviour, code, transport),
                transport=transport,
                resellers=(reseller_id,),
            )
    return reseller_id, token, ids


def _items(count: int, quantity: int = 4) -> list[dict]:
    return [{"sku": sku(n), "quantity": quantity} for n in range(count)]


async def _request(hub: Hub, token: str, items: list[dict], **extra: object) -> dict:
    data = await hub.query(REQUEST_QUOTE, {"input": {"items": items, **extra}}, token=token)
    return data["requestQuote"]


async def _count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_300_line_request_asks_each_live_distributor_once_and_stores_what_each_said(
    hub: Hub, faulty: Faulty
) -> None:
    # given two healthy distributors (both transports), a failing one and a manual one
    _, token, _ = await _setup(hub, faulty, 300, OK_R="ok", OK_G="ok", BAD_R="error", HAND="MANUAL")

    # when
    payload = await _request(hub, token, _items(300, quantity=10))

    # then the request is stored with its 300 lines and is QUOTED
    assert payload["userErrors"] == []
    request = payload["quoteRequest"]
    assert request["status"] == "QUOTED" and request["currency"] == "USD"
    assert len(request["items"]) == 300 and request["items"][0]["product"] == {"sku": sku(0)}
    # and one call per live distributor carried all 300 lines, under the hub's request id
    for code in ("OK_R", "OK_G", "BAD_R"):
        calls = faulty.distributors.calls_to(code)
        assert len(calls) == 1, code
        assert len(calls[0].body["lines"]) == 300
        assert calls[0].body["resellerCode"] == "RES"
    assert faulty.distributors.calls_to("HAND") == []
    # and every stored live quote matches what its distributor sent, line by line
    quotes = {q["distributor"]["code"]: q for q in request["quotes"]}
    assert sorted(quotes) == ["BAD_R", "OK_G", "OK_R"]
    for code in ("OK_R", "OK_G"):
        quote = quotes[code]
        assert (quote["status"], quote["source"], quote["failure"]) == ("OFFERED", "LIVE", None)
        assert len(quote["lines"]) == 300
        total = Decimal(0)
        for line in quote["lines"]:
            n = int(line["sku"][2:])
            assert line["available"] is (n % 10 != 9)
            if line["available"]:
                assert Decimal(line["unitPrice"]["amount"]) == expected_unit_price(n, 10)
                total += expected_unit_price(n, 10) * 10
            assert line["availableQuantity"] == (0 if n % 10 == 9 else 100 + n)
            assert line["leadTimeDays"] == 1 + n % 5
        assert Decimal(quote["total"]["amount"]) == total
    bad = quotes["BAD_R"]
    assert (bad["status"], bad["source"], bad["lines"], bad["total"]) == ("UNAVAILABLE", "LIVE", [], None)
    assert bad["failure"] == "answered HTTP 503"


async def test_categories_and_groups_expand_into_active_products(hub: Hub, faulty: Faulty) -> None:
    _, token, _ = await _setup(hub, faulty, 12, OK_R="ok")

    payload = await _request(
        hub,
        token,
        [
            {"groupCode": GROUP, "quantity": 2},
            {"categoryCode": CATEGORY, "quantity": 7},
            {"sku": sku(0), "quantity": 9},
        ],
        currency="EUR",
    )

    items = payload["quoteRequest"]["items"]
    # the group's five come first at 2; the category adds the other seven at 7; SKU 0 keeps its first line
    assert [(i["sku"], i["quantity"]) for i in items] == [(sku(n), 2) for n in range(5)] + [
        (sku(n), 7) for n in range(5, 12)
    ]
    quote = payload["quoteRequest"]["quotes"][0]
    assert quote["total"]["currency"] == "EUR"
    assert Decimal(quote["lines"][5]["unitPrice"]["amount"]) == expected_unit_price(5, 7, "EUR")


async def test_bad_requests_are_user_errors_and_write_nothing(hub: Hub, faulty: Faulty) -> None:
    _, token, _ = await _setup(hub, faulty, 3, OK_R="ok")
    cases = {
        "quantity": (
            [{"sku": sku(0), "quantity": 0}],
            {},
            ["input", "items", "0", "quantity"],
            "INVALID_QUANTITY",
        ),
        "unknown sku": ([{"sku": "NOPE", "quantity": 1}], {}, ["input", "items", "0", "sku"], "NOT_FOUND"),
        "two kinds": (
            [{"sku": sku(0), "categoryCode": CATEGORY, "quantity": 1}],
            {},
            ["input", "items", "0"],
            "INVALID_ITEM",
        ),
        "currency": (
            [{"sku": sku(0), "quantity": 1}],
            {"currency": "JPY"},
            ["input", "currency"],
            "UNKNOWN_CURRENCY",
        ),
        "distributor": (
            [{"sku": sku(0), "quantity": 1}],
            {"distributorCodes": ["NOT-MINE"]},
            ["input", "distributorCodes", "0"],
            "NOT_FOUND",
        ),
        "empty": ([], {}, ["input", "items"], "REQUIRED"),
    }
    for name, (items, extra, field, code) in cases.items():
        payload = await _request(hub, token, items, **extra)
        assert payload["quoteRequest"] is None, name
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in payload["userErrors"]
        ], (name, payload["userErrors"])
    assert await _count(hub, QuoteRequest) == 0
    assert faulty.distributors.calls_to("OK_R") == []


async def test_more_than_500_lines_after_expansion_is_a_user_error(hub: Hub, faulty: Faulty) -> None:
    _, token, _ = await _setup(hub, faulty, 501, OK_R="ok")

    payload = await _request(hub, token, [{"categoryCode": CATEGORY, "quantity": 1}])

    assert payload["quoteRequest"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("TOO_MANY_LINES", ["input", "items"])
    ]
    assert await _count(hub, QuoteRequest) == 0


async def test_manual_distributors_answer_and_the_comparison_shows_the_cheapest_per_line(
    hub: Hub, faulty: Faulty
) -> None:
    # given a request to one live and one manual distributor
    _, token, ids = await _setup(hub, faulty, 3, OK_R="ok", HAND="MANUAL", OTHER="MANUAL")
    rep = await hub.user("DISTRIBUTOR_REP", distributor_id=ids["HAND"])
    outsider = await hub.user(
        "DISTRIBUTOR_REP", distributor_id=await make_distributor(hub, "STRANGER", None, transport="MANUAL")
    )
    request = (await _request(hub, token, _items(3, quantity=1), distributorCodes=["OK_R", "HAND"]))[
        "quoteRequest"
    ]

    # when the manual distributor's rep answers: cheaper on SKU 0, dearer on SKU 1, nothing on SKU 2
    response = await hub.query(
        RESPOND,
        {
            "input": {
                "quoteRequestId": request["id"],
                "lines": [
                    {"sku": sku(0), "quantity": 1, "available": True, "unitPrice": "5.00"},
                    {"sku": sku(1), "quantity": 1, "available": True, "unitPrice": "99.99"},
                    {"sku": sku(2), "quantity": 1, "available": False},
                ],
            }
        },
        token=rep,
    )

    # then it is a MANUAL, OFFERED quote
    answer = response["respondToQuoteRequest"]
    assert answer["userErrors"] == []
    assert (answer["quote"]["status"], answer["quote"]["source"]) == ("OFFERED", "MANUAL")
    assert answer["quote"]["total"]["amount"] == "104.99"
    # and the comparison puts the cheapest first on each line, with the best total across distributors
    comparison = (await hub.query(COMPARISON, {"id": request["id"]}, token=token))["quoteRequest"][
        "comparison"
    ]
    best = [
        (line["sku"], line["best"]["distributor"]["code"], line["best"]["unitPrice"]["amount"])
        for line in comparison["lines"]
    ]
    assert best == [(sku(0), "HAND", "5.00"), (sku(1), "OK_R", "11.00"), (sku(2), "OK_R", "12.00")]
    assert comparison["bestTotal"] == {"amount": "28.00", "currency": "USD"}
    assert comparison["linesWithoutOffer"] == 0
    assert [o["available"] for o in comparison["lines"][2]["offers"]] == [True, False]
    # and the rep sees the request with its own quote only; a rep of another distributor sees nothing
    as_rep = (await hub.query(READ, {"id": request["id"]}, token=rep))["quoteRequest"]
    assert [q["distributor"]["code"] for q in as_rep["quotes"]] == ["HAND"]
    assert (await hub.query(READ, {"id": request["id"]}, token=outsider))["quoteRequest"] is None
    refused = await hub.query(
        RESPOND,
        {
            "input": {
                "quoteRequestId": request["id"],
                "lines": [{"sku": sku(0), "quantity": 1, "available": False}],
            }
        },
        token=outsider,
    )
    assert [e["code"] for e in refused["respondToQuoteRequest"]["userErrors"]] == ["NOT_FOUND"]


async def test_a_manual_answer_must_keep_to_the_request(hub: Hub, faulty: Faulty) -> None:
    _, token, ids = await _setup(hub, faulty, 2, HAND="MANUAL")
    rep = await hub.user("DISTRIBUTOR_REP", distributor_id=ids["HAND"])
    request = (await _request(hub, token, _items(2, quantity=3)))["quoteRequest"]
    assert request["status"] == "OPEN"

    payload = (
        await hub.query(
            RESPOND,
            {
                "input": {
                    "quoteRequestId": request["id"],
                    "lines": [
                        {"sku": sku(0), "quantity": 4, "available": True, "unitPrice": "1.00"},
                        {"sku": sku(1), "quantity": 3, "available": True},
                        {"sku": sku(1), "quantity": 3, "available": True, "unitPrice": "1.001"},
                    ],
                    "validUntil": "2001-01-01T00:00:00+00:00",
                }
            },
            token=rep,
        )
    )["respondToQuoteRequest"]

    assert payload["quote"] is None
    assert sorted((e["code"], tuple(e["field"])) for e in payload["userErrors"]) == [
        ("DUPLICATE", ("input", "lines", "2")),
        ("INVALID_DATE", ("input", "validUntil")),
        ("REQUIRED", ("input", "lines", "1", "unitPrice")),
        ("UNASKED_LINE", ("input", "lines", "0")),
    ]
    assert await _count(hub, DistributorQuote) == 0


async def test_accepting_a_quote_accepts_the_request_and_declines_the_others(
    hub: Hub, faulty: Faulty
) -> None:
    _, token, _ = await _setup(hub, faulty, 3, OK_R="ok", OK_G="ok", BAD_R="error")
    request = (await _request(hub, token, _items(3)))["quoteRequest"]
    chosen = next(q for q in request["quotes"] if q["distributor"]["code"] == "OK_G")

    accepted = (await hub.query(ACCEPT, {"id": chosen["id"]}, token=token))["acceptQuote"]
    again = (await hub.query(ACCEPT, {"id": chosen["id"]}, token=token))["acceptQuote"]
    after = (await hub.query(READ, {"id": request["id"]}, token=token))["quoteRequest"]

    assert accepted == {"quote": {"id": chosen["id"], "status": "ACCEPTED"}, "userErrors": []}
    assert again["quote"] is None and [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]
    assert after["status"] == "ACCEPTED"
    assert {q["distributor"]["code"]: q["status"] for q in after["quotes"]} == {
        "OK_G": "ACCEPTED",
        "OK_R": "DECLINED",
        "BAD_R": "DECLINED",
    }


async def test_two_concurrent_accepts_on_one_request_have_exactly_one_winner(
    hub: Hub, faulty: Faulty
) -> None:
    _, token, _ = await _setup(hub, faulty, 3, OK_R="ok", OK_G="ok")
    request = (await _request(hub, token, _items(3)))["quoteRequest"]
    first, second = (q["id"] for q in request["quotes"])

    for _ in range(3):  # a few rounds, each on a fresh request, to give the race its chance
        results = await asyncio.gather(
            hub.post(ACCEPT, {"id": first}, token=token), hub.post(ACCEPT, {"id": second}, token=token)
        )
        payloads = [r["data"]["acceptQuote"] for r in results]
        winners = [p for p in payloads if p["quote"] is not None]
        losers = [p for p in payloads if p["quote"] is None]
        assert len(winners) == 1 and len(losers) == 1, payloads
        assert [e["code"] for e in losers[0]["userErrors"]] == ["INVALID_STATE"]
        statuses = sorted(
            q["status"]
            for q in (await hub.query(READ, {"id": request["id"]}, token=token))["quoteRequest"]["quotes"]
        )
        assert statuses == ["ACCEPTED", "DECLINED"]
        request = (await _request(hub, token, _items(3)))["quoteRequest"]
        first, second = (q["id"] for q in request["quotes"])


async def test_an_expired_quote_or_request_cannot_be_accepted_and_reads_as_expired(
    hub: Hub, faulty: Faulty
) -> None:
    _, token, _ = await _setup(hub, faulty, 2, OK_R="ok")
    stale = (await _request(hub, token, _items(2)))["quoteRequest"]
    old = (await _request(hub, token, _items(2)))["quoteRequest"]
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(
            update(DistributorQuote)
            .where(DistributorQuote.id == _row_id(stale["quotes"][0]["id"]))
            .values(valid_until=past)
        )
        await session.execute(
            update(QuoteRequest).where(QuoteRequest.id == _row_id(old["id"])).values(expires_at=past)
        )

    expired_quote = (await hub.query(ACCEPT, {"id": stale["quotes"][0]["id"]}, token=token))["acceptQuote"]
    expired_request = (await hub.query(ACCEPT, {"id": old["quotes"][0]["id"]}, token=token))["acceptQuote"]
    stale_read = (await hub.query(READ, {"id": stale["id"]}, token=token))["quoteRequest"]
    old_read = (await hub.query(READ, {"id": old["id"]}, token=token))["quoteRequest"]
    listed = await hub.query(LIST, {"status": "EXPIRED"}, token=token)

    assert [e["code"] for e in expired_quote["userErrors"]] == ["QUOTE_EXPIRED"]
    assert [e["code"] for e in expired_request["userErrors"]] == ["INVALID_STATE"]
    assert stale_read["status"] == "QUOTED" and stale_read["quotes"][0]["status"] == "EXPIRED"
    assert old_read["status"] == "EXPIRED"
    assert [e["node"]["id"] for e in listed["quoteRequests"]["edges"]] == [old["id"]]


async def test_cancel_by_its_reseller_only(hub: Hub, faulty: Faulty) -> None:
    _, token, _ = await _setup(hub, faulty, 2, OK_R="ok")
    other = await hub.user("RESELLER_ADMIN", reseller_id=await make_reseller(hub, "OTHER"))
    request = (await _request(hub, token, _items(2)))["quoteRequest"]

    by_other = (await hub.query(CANCEL, {"id": request["id"]}, token=other))["cancelQuoteRequest"]
    by_owner = (await hub.query(CANCEL, {"id": request["id"]}, token=token))["cancelQuoteRequest"]
    twice = (await hub.query(CANCEL, {"id": request["id"]}, token=token))["cancelQuoteRequest"]
    accept = (await hub.query(ACCEPT, {"id": request["quotes"][0]["id"]}, token=token))["acceptQuote"]

    assert [e["code"] for e in by_other["userErrors"]] == ["NOT_FOUND"]
    assert by_owner == {"quoteRequest": {"id": request["id"], "status": "CANCELLED"}, "userErrors": []}
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_STATE"]
    assert [e["code"] for e in accept["userErrors"]] == ["INVALID_STATE"]


async def test_refresh_asks_again_only_the_distributors_whose_quote_is_unavailable(
    hub: Hub, faulty: Faulty
) -> None:
    _, token, ids = await _setup(hub, faulty, 4, OK_R="ok", SICK_R="error")
    request = (await _request(hub, token, _items(4)))["quoteRequest"]
    assert {q["distributor"]["code"]: q["status"] for q in request["quotes"]} == {
        "OK_R": "OFFERED",
        "SICK_R": "UNAVAILABLE",
    }
    await set_endpoint(hub, ids["SICK_R"], faulty.endpoint("ok", "SICK_R"))

    refreshed = (await hub.query(REFRESH, {"id": request["id"]}, token=token))["refreshQuotes"]

    assert {q["distributor"]["code"]: q["status"] for q in refreshed["quoteRequest"]["quotes"]} == {
        "OK_R": "OFFERED",
        "SICK_R": "OFFERED",
    }
    assert len(faulty.distributors.calls_to("OK_R")) == 1
    assert len(faulty.distributors.calls_to("SICK_R")) == 2
    assert await _count(hub, DistributorQuoteLine) == 8


async def test_each_viewer_lists_only_the_requests_it_may_see(hub: Hub, faulty: Faulty) -> None:
    _, token, ids = await _setup(hub, faulty, 2, OK_R="ok", HAND="MANUAL")
    other_id = await make_reseller(hub, "OTHER")
    other = await hub.user("RESELLER_ADMIN", reseller_id=other_id)
    await make_distributor(hub, "OWN", faulty.endpoint("ok", "OWN"), resellers=(other_id,))
    rep = await hub.user("DISTRIBUTOR_REP", distributor_id=ids["HAND"])
    mine = [(await _request(hub, token, _items(2)))["quoteRequest"]["id"] for _ in range(3)]
    only_ok = (await _request(hub, token, _items(1), distributorCodes=["OK_R"]))["quoteRequest"]["id"]
    theirs = (await _request(hub, other, _items(2)))["quoteRequest"]["id"]

    def ids_of(data: dict) -> list[str]:
        return [e["node"]["id"] for e in data["quoteRequests"]["edges"]]

    as_reseller = await hub.query(LIST, {"first": 10}, token=token)
    page = await hub.query(LIST, {"first": 2}, token=token)
    next_page = await hub.query(
        LIST, {"first": 2, "after": page["quoteRequests"]["pageInfo"]["endCursor"]}, token=token
    )
    as_rep = await hub.query(LIST, {}, token=rep)
    as_staff = await hub.query(LIST, {}, token=await hub.staff("CUSTOMER_SERVICE"))
    as_customer = await hub.post(LIST, {}, token=await hub.user("CUSTOMER"))

    assert ids_of(as_reseller) == [only_ok, *reversed(mine)]
    assert as_reseller["quoteRequests"]["totalCount"] == 4
    assert ids_of(page) + ids_of(next_page) == [only_ok, *reversed(mine)]
    assert ids_of(as_rep) == list(reversed(mine))
    assert ids_of(as_staff) == [theirs, only_ok, *reversed(mine)]
    assert codes_of(as_customer) == ["FORBIDDEN"]
    assert (await hub.query(READ, {"id": theirs}, token=token))["quoteRequest"] is None


def _row_id(global_id: str) -> int:
    from hub_graphql.types.common import parse_global_id

    parsed = parse_global_id(global_id)
    assert parsed is not None
    return int(parsed[1])


DEEP_LIST = """
query Deep {
  quoteRequests(first: 50) {
    edges { node { id reseller { code } items { sku product { name } }
      quotes { status distributor { code } lines { sku unitPrice { amount } } }
      comparison { bestTotal { amount } lines { best { distributor { code } } } } } }
  }
}
"""


async def test_listing_requests_with_their_quotes_costs_the_same_statements_for_2_or_6(
    hub: Hub, faulty: Faulty, count_queries: QueryCounter
) -> None:
    _, token, _ = await _setup(hub, faulty, 4, OK_R="ok", OK_G="ok", HAND="MANUAL")
    for _ in range(2):
        await _request(hub, token, _items(4))
    count_queries.reset()
    two = await hub.query(DEEP_LIST, token=token)
    with_two = count_queries.count
    for _ in range(4):
        await _request(hub, token, _items(4))
    count_queries.reset()
    six = await hub.query(DEEP_LIST, token=token)

    assert len(two["quoteRequests"]["edges"]) == 2 and len(six["quoteRequests"]["edges"]) == 6
    assert count_queries.count == with_two, count_queries.statements


async def test_every_fault_is_stored_as_unavailable_with_its_reason_and_the_healthy_quote_is_kept_whole(
    hub: Hub, faulty: Faulty
) -> None:
    # given one healthy distributor and one per fault
    faults = {
        "late": "gave no answer within 1000 ms",
        "error": "answered HTTP 503",
        "malformed": "answered malformed JSON",
        "shape": "wrong shape",
        "missing": "left out 1 of the 12 asked lines",
        "unasked": "answered a line that was not asked",
        "currency": "answered in GBP when USD was asked",
    }
    _, token, _ = await _setup(hub, faulty, 12, OK_R="ok", **{f"F_{b}": b for b in faults})
    await set_policy(hub, timeout_ms=1000)

    # when
    request = (await _request(hub, token, _items(12, quantity=25)))["quoteRequest"]

    # then nothing is lost: every distributor has its quote, and the request is QUOTED by the healthy one
    quotes = {q["distributor"]["code"]: q for q in request["quotes"]}
    assert sorted(quotes) == sorted(["OK_R", *(f"F_{b}" for b in faults)])
    assert request["status"] == "QUOTED"
    for behaviour, reason in faults.items():
        quote = quotes[f"F_{behaviour}"]
        assert (quote["status"], quote["lines"], quote["total"]) == ("UNAVAILABLE", [], None), behaviour
        assert reason in quote["failure"], (behaviour, quote["failure"])
    # and the healthy quote is exactly what its distributor sent
    sent = quote_result(price_list(12), faulty.distributors.calls_to("OK_R")[0].body)
    stored = quotes["OK_R"]["lines"]
    assert [(line["sku"], line["quantity"]) for line in stored] == [
        (line["sku"], line["quantity"]) for line in sent["lines"]
    ]
    for mine, theirs in zip(stored, sent["lines"], strict=True):
        assert mine["available"] is theirs["available"]
        assert mine["availableQuantity"] == theirs["availableQuantity"]
        assert mine["leadTimeDays"] == theirs["leadTimeDays"]
        if theirs["available"]:
            assert Decimal(mine["unitPrice"]["amount"]) == Decimal(theirs["unitPrice"])


async def test_each_live_answer_is_stored_as_it_comes_not_after_the_slowest(hub: Hub, faulty: Faulty) -> None:
    # given a healthy distributor and a late one (it answers after 2 s, past the 1.9 s deadline)
    _, token, ids = await _setup(hub, faulty, 12, OK_R="ok", SLOW="late")
    await set_policy(hub, timeout_ms=1900)

    # when a request is on its way, and the database is read meanwhile, from another session
    requesting = asyncio.create_task(_request(hub, token, _items(12, quantity=3)))
    seen: tuple[str, bool] | None = None  # the healthy quote's status, and whether the request had ended
    deadline = asyncio.get_running_loop().time() + 1.8
    while seen is None and asyncio.get_running_loop().time() < deadline:
        async with hub.resources.session_factory() as session:
            status = await session.scalar(
                select(DistributorQuote.status).where(DistributorQuote.distributor_id == ids["OK_R"])
            )
        if status is not None:
            seen = (status, requesting.done())
        else:
            await asyncio.sleep(0.02)
    payload = await requesting

    # then the healthy quote was stored, committed, while the late one was still awaited
    assert seen == ("OFFERED", False)
    # and in the end each has its quote: what the healthy one sent, and why the late one has none
    quotes = {q["distributor"]["code"]: q for q in payload["quoteRequest"]["quotes"]}
    assert quotes["OK_R"]["status"] == "OFFERED" and len(quotes["OK_R"]["lines"]) == 12
    assert quotes["SLOW"]["status"] == "UNAVAILABLE"
    assert "gave no answer within 1900 ms" in quotes["SLOW"]["failure"]
    assert payload["quoteRequest"]["status"] == "QUOTED"
