"""Commerce Plaza in the hub: submitPlazaCart, purchase order reads and visibility, answers in the proxy store.

Both databases. The outbox worker is off here (the settings fixture): what a
submission enqueues is checked as rows; delivery to real distributor
processes is tests/test_plaza_live.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from datasources.orders.models import Cart
from datasources.outbox.models import OutboxMessage
from datasources.plaza.models import PurchaseOrder, PurchaseOrderLine
from datasources.quotes.models import DistributorQuote
from tests.harness import Hub, QueryCounter
from tests.plaza_factory import accepted_quote, fill_plaza_cart
from tests.quote_data import make_catalog, make_distributor, make_reseller, set_policy, sku

SUBMIT = """
mutation {
  submitPlazaCart {
    purchaseOrders {
      id number status currency submittedAt distributorReference reason deliveryAttempts
      total { amount currency }
      reseller { code } distributor { code }
      lines { sku quantity unitPrice { amount currency } total { amount } }
    }
    userErrors { field code message }
  }
}
"""

LIST = """
query($status: PurchaseOrderStatus, $first: Int, $after: String) {
  purchaseOrders(status: $status, first: $first, after: $after) {
    totalCount
    edges { cursor node { number status distributor { code } reseller { code } lines { sku } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ONE = """
query($number: String!) { purchaseOrder(number: $number) { id number status distributorReference reason } }
"""

NODE = """
query($id: ID!) { node(id: $id) { ... on PurchaseOrder { number } } }
"""

CONFIRM = """
mutation($number: String!, $reference: String) {
  confirmPurchaseOrder(number: $number, distributorReference: $reference) {
    purchaseOrder { number status distributorReference reason }
    userErrors { field code message }
  }
}
"""

REJECT = """
mutation($number: String!, $reason: String!) {
  rejectPurchaseOrder(number: $number, reason: $reason) {
    purchaseOrder { number status distributorReference reason }
    userErrors { field code message }
  }
}
"""

DEAD_ENDPOINT = "http://127.0.0.1:9/quote"
"""A live distributor whose service is never reached here (the worker is off)."""


class World:
    def __init__(self) -> None:
        self.reseller_id = 0
        self.token = ""
        self.distributors: dict[str, int] = {}
        self.reps: dict[str, str] = {}


async def _world(hub: Hub, products: int = 6) -> World:
    """Reseller RES with its admin; MANUAL distributor HAND and live REST distributor LIVE, each with a rep."""
    world = World()
    await make_catalog(hub, products)
    await set_policy(hub)
    world.reseller_id = await make_reseller(hub, "RES")
    world.token = await hub.user("RESELLER_ADMIN", reseller_id=world.reseller_id)
    world.distributors["HAND"] = await make_distributor(
        hub, "HAND", None, transport="MANUAL", resellers=(world.reseller_id,)
    )
    world.distributors["LIVE"] = await make_distributor(
        hub, "LIVE", DEAD_ENDPOINT, transport="REST_JSON", resellers=(world.reseller_id,)
    )
    for code, distributor_id in world.distributors.items():
        world.reps[code] = await hub.user("DISTRIBUTOR_REP", distributor_id=distributor_id)
    return world


async def _quote(hub: Hub, world: World, code: str, items: list[tuple[str, int]], **prices: str) -> int:
    return await accepted_quote(
        hub,
        world.token,
        code,
        items,
        rep_token=world.reps[code],
        prices={s.replace("_", "-"): p for s, p in prices.items()},
    )


async def _count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _submitted_pair(hub: Hub, world: World) -> dict[str, dict]:
    hand = await _quote(hub, world, "HAND", [(sku(0), 2), (sku(1), 3)], Q_0000="12.50", Q_0001="4.00")
    live = await _quote(hub, world, "LIVE", [(sku(2), 5)], Q_0002="9.99")
    await fill_plaza_cart(hub, world.reseller_id, [hand, live])
    payload = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return {o["distributor"]["code"]: o for o in payload["purchaseOrders"]}


async def test_a_plaza_cart_becomes_one_purchase_order_per_distributor_and_a_live_one_is_enqueued(
    hub: Hub,
) -> None:
    # given a plaza cart with two accepted quotes, from a MANUAL and a live distributor
    world = await _world(hub)

    # when
    orders = await _submitted_pair(hub, world)

    # then one SUBMITTED order each, at the quotes' prices
    assert sorted(orders) == ["HAND", "LIVE"]
    hand, live = orders["HAND"], orders["LIVE"]
    assert hand["status"] == live["status"] == "SUBMITTED"
    assert hand["reseller"] == {"code": "RES"} and hand["currency"] == "USD"
    assert [
        (line["sku"], line["quantity"], Decimal(line["unitPrice"]["amount"])) for line in hand["lines"]
    ] == [
        (sku(0), 2, Decimal("12.50")),
        (sku(1), 3, Decimal("4.00")),
    ]
    assert Decimal(hand["total"]["amount"]) == Decimal("37.00")
    assert Decimal(live["total"]["amount"]) == Decimal("49.95")
    assert hand["deliveryAttempts"] == 0 and hand["distributorReference"] is None
    assert hand["number"].startswith("PO-") and hand["number"] != live["number"]
    # and the cart is SUBMITTED, so a second submission finds nothing to order
    async with hub.resources.session_factory() as session:
        cart = await session.scalar(select(Cart).where(Cart.reseller_id == world.reseller_id))
        messages = (await session.scalars(select(OutboxMessage))).all()
        stored = (await session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id))).all()
    assert cart is not None and cart.status == "SUBMITTED"
    again = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]
    assert [e["code"] for e in again["userErrors"]] == ["EMPTY_CART"] and again["purchaseOrders"] is None
    # and only the live distributor's order is on the outbox, keyed by its number, as the contract's input
    assert [(m.kind, m.idempotency_key, m.status, m.max_attempts) for m in messages] == [
        ("purchase_order", live["number"], "PENDING", None)
    ]
    order_input = messages[0].payload["order"]
    assert order_input == {
        "number": live["number"],
        "resellerCode": "RES",
        "currency": "USD",
        "lines": [{"sku": sku(2), "quantity": 5, "unitPrice": "9.99"}],
        "quoteRequestId": str(next(o for o in stored if o.number == live["number"]).quote_request_id),
    }
    assert all(o.quote_request_id is not None and o.cart_id == cart.id for o in stored)


async def test_an_empty_or_missing_plaza_cart_is_a_user_error(hub: Hub) -> None:
    world = await _world(hub)
    missing = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]
    async with hub.resources.session_factory() as session, session.begin():
        session.add(
            Cart(
                id="empty-cart-0001",
                kind="PLAZA",
                status="OPEN",
                reseller_id=world.reseller_id,
                currency="USD",
            )
        )
    empty = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]

    for payload in (missing, empty):
        assert payload["purchaseOrders"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["EMPTY_CART"]
    assert await _count(hub, PurchaseOrder) == 0
    async with hub.resources.session_factory() as session:
        assert (await session.get(Cart, "empty-cart-0001")).status == "OPEN"


async def test_a_line_whose_quote_expired_or_is_no_longer_accepted_is_named_and_nothing_is_written(
    hub: Hub,
) -> None:
    # given a cart of three quotes' lines; then one quote expires and another is no longer ACCEPTED
    world = await _world(hub)
    good = await _quote(hub, world, "HAND", [(sku(0), 1)])
    expiring = await _quote(hub, world, "HAND", [(sku(1), 1)])
    withdrawn = await _quote(hub, world, "LIVE", [(sku(2), 1)])
    cart_id = await fill_plaza_cart(hub, world.reseller_id, [good, expiring, withdrawn])
    async with hub.resources.session_factory() as session, session.begin():
        past = datetime.now(UTC) - timedelta(minutes=1)
        await session.execute(
            update(DistributorQuote).where(DistributorQuote.id == expiring).values(valid_until=past)
        )
        await session.execute(
            update(DistributorQuote).where(DistributorQuote.id == withdrawn).values(status="DECLINED")
        )

    # when
    payload = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]

    # then each bad line is named (its position, SKU and distributor), and nothing is written
    assert payload["purchaseOrders"] is None
    errors = payload["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("QUOTE_EXPIRED", ["lines", "1"]),
        ("QUOTE_NOT_ACCEPTED", ["lines", "2"]),
    ]
    assert sku(1) in errors[0]["message"] and "HAND" in errors[0]["message"]
    assert sku(2) in errors[1]["message"] and "LIVE" in errors[1]["message"]
    assert await _count(hub, PurchaseOrder) == 0 and await _count(hub, OutboxMessage) == 0
    async with hub.resources.session_factory() as session:
        assert (await session.get(Cart, cart_id)).status == "OPEN"


async def test_purchase_orders_are_seen_by_their_reseller_their_distributor_and_staff_only(hub: Hub) -> None:
    world = await _world(hub)
    orders = await _submitted_pair(hub, world)
    other_reseller = await make_reseller(hub, "OTHER")
    other_admin = await hub.user("RESELLER_ADMIN", reseller_id=other_reseller)
    staff = await hub.staff("CUSTOMER_SERVICE")
    hand = orders["HAND"]

    async def listed(token: str) -> list[str]:
        data = await hub.query(LIST, {}, token=token)
        assert data["purchaseOrders"]["totalCount"] == len(data["purchaseOrders"]["edges"])
        return sorted(e["node"]["distributor"]["code"] for e in data["purchaseOrders"]["edges"])

    assert await listed(world.token) == ["HAND", "LIVE"]
    assert await listed(staff) == ["HAND", "LIVE"]
    assert await listed(world.reps["HAND"]) == ["HAND"]
    assert await listed(world.reps["LIVE"]) == ["LIVE"]
    assert await listed(other_admin) == []
    for token, visible in (
        (world.token, True),
        (staff, True),
        (world.reps["HAND"], True),
        (world.reps["LIVE"], False),
        (other_admin, False),
    ):
        one = (await hub.query(ONE, {"number": hand["number"]}, token=token))["purchaseOrder"]
        node = (await hub.query(NODE, {"id": hand["id"]}, token=token))["node"]
        assert (one is not None, node is not None) == (visible, visible), token
        if visible:
            assert one["number"] == node["number"] == hand["number"]
    assert (await hub.query(ONE, {"number": "PO-NONE-NONE-NONE"}, token=staff))["purchaseOrder"] is None


async def test_purchase_orders_page_newest_first_by_status_in_constant_statements(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given five submissions of one line each, to alternating distributors
    world = await _world(hub)
    numbers = []
    for n in range(5):
        code = "HAND" if n % 2 == 0 else "LIVE"
        quote = await _quote(hub, world, code, [(sku(n), n + 1)])
        await fill_plaza_cart(hub, world.reseller_id, [quote])
        payload = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]
        numbers.append(payload["purchaseOrders"][0]["number"])
    staff = await hub.staff()

    # when paging two at a time
    seen, after = [], None
    count_queries.reset()
    while True:
        page = (await hub.query(LIST, {"first": 2, "after": after}, token=staff))["purchaseOrders"]
        seen += [e["node"]["number"] for e in page["edges"]]
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    statements_per_page = count_queries.count / 3

    # then newest first, each once; a status filters
    assert seen == list(reversed(numbers))
    await hub.query(CONFIRM, {"number": numbers[0], "reference": "SO-1"}, token=world.reps["HAND"])
    confirmed = (await hub.query(LIST, {"status": "CONFIRMED"}, token=staff))["purchaseOrders"]
    assert [e["node"]["number"] for e in confirmed["edges"]] == [numbers[0]] and confirmed["totalCount"] == 1
    # and a page of 5 with lines, reseller and distributor costs what a page of 2 did (no N+1)
    count_queries.reset()
    await hub.query(LIST, {"first": 5}, token=staff)
    assert count_queries.count <= statements_per_page + 1, count_queries.statements


async def test_a_distributor_rep_confirms_or_rejects_a_submitted_order_once(hub: Hub) -> None:
    world = await _world(hub)
    orders = await _submitted_pair(hub, world)
    hand, live = orders["HAND"]["number"], orders["LIVE"]["number"]

    # another distributor's rep finds nothing; a rejection needs its reason
    wrong = (await hub.query(CONFIRM, {"number": hand}, token=world.reps["LIVE"]))["confirmPurchaseOrder"]
    assert [e["code"] for e in wrong["userErrors"]] == ["NOT_FOUND"]
    blank = (await hub.query(REJECT, {"number": hand, "reason": "  "}, token=world.reps["HAND"]))[
        "rejectPurchaseOrder"
    ]
    assert [(e["code"], e["field"]) for e in blank["userErrors"]] == [("REQUIRED", ["reason"])]

    # the right rep confirms with its reference
    confirmed = (
        await hub.query(CONFIRM, {"number": hand, "reference": " SO-777 "}, token=world.reps["HAND"])
    )["confirmPurchaseOrder"]
    assert confirmed["userErrors"] == []
    assert confirmed["purchaseOrder"] == {
        "number": hand,
        "status": "CONFIRMED",
        "distributorReference": "SO-777",
        "reason": None,
    }
    # and once answered, neither answer is possible again
    again = (await hub.query(REJECT, {"number": hand, "reason": "late"}, token=world.reps["HAND"]))[
        "rejectPurchaseOrder"
    ]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"] and again["purchaseOrder"] is None

    # a site administrator may answer for a distributor (it phoned in), recorded as who answered
    admin = await hub.user("SITE_ADMIN", email="Admin@Hub.example")
    rejected = (await hub.query(REJECT, {"number": live, "reason": "discontinued"}, token=admin))[
        "rejectPurchaseOrder"
    ]
    assert (
        rejected["purchaseOrder"]["status"] == "REJECTED"
        and rejected["purchaseOrder"]["reason"] == "discontinued"
    )
    async with hub.resources.session_factory() as session:
        rows = {o.number: o for o in (await session.scalars(select(PurchaseOrder))).all()}
    assert rows[live].answered_by == "Admin@Hub.example" and rows[hand].answered_at is not None
    # a reseller cannot answer its own order (the access table refuses it)
    body = await hub.post(CONFIRM, {"number": live}, token=world.token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_two_submissions_of_one_cart_at_once_make_one_set_of_orders(hub: Hub) -> None:
    world = await _world(hub)
    quotes = [
        await _quote(hub, world, "HAND", [(sku(0), 1)]),
        await _quote(hub, world, "LIVE", [(sku(1), 1)]),
    ]
    await fill_plaza_cart(hub, world.reseller_id, quotes)

    first, second = await asyncio.gather(
        hub.post(SUBMIT, token=world.token), hub.post(SUBMIT, token=world.token)
    )

    payloads = [b["data"]["submitPlazaCart"] for b in (first, second)]
    made = [p for p in payloads if p["purchaseOrders"]]
    assert len(made) == 1 and len(made[0]["purchaseOrders"]) == 2
    [loser] = [p for p in payloads if not p["purchaseOrders"]]
    assert [e["code"] for e in loser["userErrors"]] == ["EMPTY_CART"]
    assert await _count(hub, PurchaseOrder) == 2 and await _count(hub, PurchaseOrderLine) == 2
    assert await _count(hub, OutboxMessage) == 1


async def test_a_line_quoted_in_another_currency_than_the_cart_is_refused(hub: Hub) -> None:
    world = await _world(hub)
    cart_id = await fill_plaza_cart(hub, world.reseller_id, [await _quote(hub, world, "HAND", [(sku(0), 1)])])
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(Cart).where(Cart.id == cart_id).values(currency="EUR"))

    payload = (await hub.query(SUBMIT, token=world.token))["submitPlazaCart"]

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("CURRENCY_MISMATCH", ["lines", "0"])]
    assert await _count(hub, PurchaseOrder) == 0
