"""Orders after checkout end to end over GraphQL, on both databases: who sees them, the list, customer service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from datasources.orders.models import Order, OrderEvent, OrderNote
from hub_graphql.types.common import global_id
from tests.harness import Hub, QueryCounter, codes_of
from tests.orders_factory import make_shop, outbox
from tests.stores_factory import add_reseller, add_store, set_reseller_status
from tests.test_orders import CHECKOUT, checkout_input, codes, new_cart

ORDER = "query($n: String!) { order(number: $n) { number status store { slug } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Order { number } } }"
ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { number } } }"""
LIST = """
query($filter: OrderFilter, $first: Int, $after: String) {
  orders(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { number status customerEmail placedAt store { slug } } }
  }
}
"""
FULL_LIST = """
query($first: Int) {
  orders(first: $first) {
    totalCount
    edges { node { number store { slug name } lines { sku name } history { status by } notes { text by }
                   discounts { name } shippingAddress { city } total { amount } } }
  }
}
"""
FULFIL = "mutation($n: String!) { fulfillOrder(number: $n) { order { status history { status by reason } } userErrors { field code } } }"
CANCEL = """mutation($n: String!, $reason: String!) {
  cancelOrder(number: $n, reason: $reason) { order { status history { status by reason } } userErrors { field code } }
}"""
NOTE = """mutation($n: String!, $text: String!) {
  addOrderNote(number: $n, text: $text) { order { notes { text by at } } userErrors { field code } }
}"""
RESEND = "mutation($n: String!) { resendOrderConfirmation(number: $n) { order { number } userErrors { field code } } }"


async def place(hub: Hub, slug_shop: Any, email: str = "Ada.Lovelace@Example.COM") -> str:
    cart = await new_cart(hub, slug_shop, [(0, 1)])
    placed = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input(email=email)}))[
        "checkout"
    ]
    assert placed["userErrors"] == [], placed
    return placed["order"]["number"]


async def two_resellers(hub: Hub) -> tuple[Any, Any, str, str]:
    """Shop "shop" of R-SHOP and shop "rival" of R-RIVAL (same catalog), one order each, and their admins' tokens."""
    shop = await make_shop(hub, 2)
    rival_reseller = await add_reseller(hub, "R-RIVAL")
    rival_store = await add_store(hub, rival_reseller, "rival")
    rival = type(shop)(reseller_id=rival_reseller, store_id=rival_store, slug="rival", skus=shop.skus)
    own_admin = await hub.user("RESELLER_ADMIN", reseller_id=shop.reseller_id)
    rival_admin = await hub.user("RESELLER_ADMIN", reseller_id=rival_reseller)
    return shop, rival, own_admin, rival_admin


# ---------------------------------------------------------------- who sees what


async def test_staff_see_every_order_and_a_reseller_only_its_own_stores_orders(hub: Hub) -> None:
    shop, rival, own_admin, rival_admin = await two_resellers(hub)
    own = await place(hub, shop)
    theirs = await place(hub, rival)
    staff = {role: await hub.staff(role) for role in ("SITE_ADMIN", "CHANNEL_MANAGER", "CUSTOMER_SERVICE")}

    for role, token in staff.items():
        listed = (await hub.query(LIST, token=token))["orders"]
        assert listed["totalCount"] == 2, role
        assert {e["node"]["number"] for e in listed["edges"]} == {own, theirs}, role
        assert (await hub.query(ORDER, {"n": theirs}, token=token))["order"]["number"] == theirs, role
    mine = (await hub.query(LIST, token=own_admin))["orders"]
    assert [e["node"]["number"] for e in mine["edges"]] == [own] and mine["totalCount"] == 1
    assert (await hub.query(ORDER, {"n": own}, token=own_admin))["order"]["store"] == {"slug": "shop"}
    # another reseller's order is never revealed: not by number, not by node, not in the list, not filtered for
    assert (await hub.query(ORDER, {"n": theirs}, token=own_admin))["order"] is None
    assert (await hub.query(NODE, {"id": global_id("Order", theirs)}, token=own_admin))["node"] is None
    filtered = (await hub.query(LIST, {"filter": {"storeSlug": "rival"}}, token=own_admin))["orders"]
    assert filtered["totalCount"] == 0 and filtered["edges"] == []
    by_code = (await hub.query(LIST, {"filter": {"resellerCode": "R-RIVAL"}}, token=own_admin))["orders"]
    assert by_code["totalCount"] == 0
    assert (await hub.query(NODE, {"id": global_id("Order", own)}, token=own_admin))["node"] == {
        "id": global_id("Order", own),
        "number": own,
    }
    assert (await hub.query(NODE, {"id": global_id("Order", own)}))["node"] is None
    assert (await hub.query(NODE, {"id": global_id("Order", own)}, token=rival_admin))["node"] is None
    # Order is no federation entity: _entities cannot be asked for it at all
    entities = await hub.post(ENTITIES, {"reps": [{"__typename": "Order", "number": own}]}, token=rival_admin)
    assert entities.get("data") is None or entities["data"]["_entities"] in ([None], [])
    assert "Order" not in str(entities.get("data"))


async def test_callers_the_table_refuses_get_no_order(hub: Hub) -> None:
    shop, _, _, _ = await two_resellers(hub)
    number = await place(hub, shop)
    marketing = await hub.staff("MARKETING_MANAGER")
    customer = await hub.user("CUSTOMER")

    anonymous = await hub.post(ORDER, {"n": number})
    forbidden = await hub.post(ORDER, {"n": number}, token=marketing)
    listed = await hub.post(LIST, token=customer)

    assert codes_of(anonymous) == ["UNAUTHENTICATED"] and anonymous["data"] == {"order": None}
    assert codes_of(forbidden) == ["FORBIDDEN"] and forbidden["data"] == {"order": None}
    assert codes_of(listed) == ["FORBIDDEN"]


# ---------------------------------------------------------------- the list


async def _set_placed_at(hub: Hub, number: str, at: datetime) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(Order).where(Order.number == number).values(placed_at=at))


async def test_orders_come_newest_first_in_keyset_pages_and_filter(hub: Hub) -> None:
    shop, rival, _, _ = await two_resellers(hub)
    admin = await hub.staff("CUSTOMER_SERVICE")
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    numbers = []
    for n in range(7):
        number = await place(hub, shop if n % 2 == 0 else rival, email=f"Buyer{n % 3}@Example.com")
        # two orders share a moment: the id breaks the tie
        await _set_placed_at(hub, number, start + timedelta(days=n if n != 4 else 3))
        numbers.append(number)
    fulfilled = numbers[2]
    assert (await hub.query(FULFIL, {"n": fulfilled}, token=admin))["fulfillOrder"]["userErrors"] == []
    newest_first = [numbers[6], numbers[5], numbers[4], numbers[3], numbers[2], numbers[1], numbers[0]]

    seen, after, pages = [], None, 0
    while True:
        page = (await hub.query(LIST, {"first": 3, "after": after}, token=admin))["orders"]
        pages += 1
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    async def numbers_for(**filter: Any) -> list[str]:
        listed = (await hub.query(LIST, {"filter": filter}, token=admin))["orders"]
        assert listed["totalCount"] == len(listed["edges"])
        return [e["node"]["number"] for e in listed["edges"]]

    assert pages == 3 and seen == newest_first
    assert await numbers_for(storeSlug="rival") == [numbers[5], numbers[3], numbers[1]]
    assert await numbers_for(resellerCode="R-SHOP") == [numbers[6], numbers[4], numbers[2], numbers[0]]
    assert await numbers_for(status="FULFILLED") == [fulfilled]
    assert await numbers_for(customerEmail="  BUYER1@example.COM ") == [numbers[4], numbers[1]]
    assert await numbers_for(placedFrom="2026-03-04T12:00:00Z") == [
        numbers[6],
        numbers[5],
        numbers[4],
        numbers[3],
    ]
    # the same instant in another zone, and an end that excludes its own moment
    assert await numbers_for(placedFrom="2026-03-04T14:00:00+02:00", placedTo="2026-03-06T12:00:00Z") == [
        numbers[4],
        numbers[3],
    ]
    assert await numbers_for(placedTo="2026-03-06T12:00:01Z", status="PLACED") == [
        numbers[5],
        numbers[4],
        numbers[3],
        numbers[1],
        numbers[0],
    ]
    assert await numbers_for(storeSlug="no-such-store") == []
    bad = await hub.post(LIST, {"after": "not-a-cursor"}, token=admin)
    assert codes_of(bad) == ["BAD_USER_INPUT"]
    too_many = await hub.post(LIST, {"first": 101}, token=admin)
    assert codes_of(too_many) == ["BAD_USER_INPUT"]


async def test_a_page_of_orders_costs_the_same_statements_for_2_or_10(
    hub: Hub, count_queries: QueryCounter
) -> None:
    shop, rival, _, _ = await two_resellers(hub)
    admin = await hub.staff("CUSTOMER_SERVICE")
    for n in range(10):
        number = await place(hub, shop if n % 2 else rival)
        await hub.query(NOTE, {"n": number, "text": f"note {n}"}, token=admin)

    counts = []
    for first in (2, 10):
        await hub.query(FULL_LIST, {"first": first}, token=admin)
        count_queries.reset()
        listed = (await hub.query(FULL_LIST, {"first": first}, token=admin))["orders"]
        counts.append(count_queries.count)
        assert len(listed["edges"]) == first and all(e["node"]["notes"] for e in listed["edges"])

    assert counts[0] == counts[1], count_queries.statements
    assert counts[1] <= 10, count_queries.statements


# ---------------------------------------------------------------- customer service


async def test_the_stores_reseller_or_staff_fulfil_and_the_history_says_who_and_when(hub: Hub) -> None:
    shop, _, own_admin, rival_admin = await two_resellers(hub)
    first = await place(hub, shop)
    second = await place(hub, shop)
    manager = await hub.user("CHANNEL_MANAGER", email="manager@hub.example")

    not_theirs = (await hub.query(FULFIL, {"n": first}, token=rival_admin))["fulfillOrder"]
    by_reseller = (await hub.query(FULFIL, {"n": first}, token=own_admin))["fulfillOrder"]
    by_manager = (await hub.query(FULFIL, {"n": second}, token=manager))["fulfillOrder"]
    again = (await hub.query(FULFIL, {"n": second}, token=manager))["fulfillOrder"]
    cancel_fulfilled = (await hub.query(CANCEL, {"n": second, "reason": "late"}, token=own_admin))[
        "cancelOrder"
    ]
    unknown = (await hub.query(FULFIL, {"n": "ORD-0000-0000-0000"}, token=manager))["fulfillOrder"]

    assert codes(not_theirs) == ["NOT_FOUND"] and not_theirs["order"] is None
    assert by_reseller["order"]["status"] == "FULFILLED"
    assert [h["status"] for h in by_reseller["order"]["history"]] == ["PLACED", "FULFILLED"]
    assert by_manager["order"]["history"][-1] == {
        "status": "FULFILLED",
        "by": "manager@hub.example",
        "reason": None,
    }
    assert codes(again) == ["INVALID_STATE"] and codes(cancel_fulfilled) == ["INVALID_STATE"]
    assert codes(unknown) == ["NOT_FOUND"]
    async with hub.resources.session_factory() as session:
        assert len((await session.scalars(select(OrderEvent))).all()) == 4


async def test_cancel_needs_a_reason_and_only_customer_service_admins_or_the_reseller(hub: Hub) -> None:
    shop, _, own_admin, _ = await two_resellers(hub)
    numbers = [await place(hub, shop) for _ in range(3)]
    service = await hub.user("CUSTOMER_SERVICE", email="care@hub.example")
    manager = await hub.staff("CHANNEL_MANAGER")

    blank = (await hub.query(CANCEL, {"n": numbers[0], "reason": "   "}, token=service))["cancelOrder"]
    by_manager = await hub.post(CANCEL, {"n": numbers[0], "reason": "no"}, token=manager)
    by_service = (await hub.query(CANCEL, {"n": numbers[0], "reason": " Customer called "}, token=service))[
        "cancelOrder"
    ]
    by_reseller = (await hub.query(CANCEL, {"n": numbers[1], "reason": "Out of stock"}, token=own_admin))[
        "cancelOrder"
    ]
    twice = (await hub.query(CANCEL, {"n": numbers[0], "reason": "again"}, token=service))["cancelOrder"]
    fulfil_cancelled = (await hub.query(FULFIL, {"n": numbers[1]}, token=service))["fulfillOrder"]

    assert codes(blank) == ["REQUIRED"] and blank["userErrors"][0]["field"] == ["reason"]
    assert codes_of(by_manager) == ["FORBIDDEN"]
    assert by_service["order"]["status"] == "CANCELLED"
    assert by_service["order"]["history"][-1] == {
        "status": "CANCELLED",
        "by": "care@hub.example",
        "reason": "Customer called",
    }
    assert by_reseller["order"]["status"] == "CANCELLED"
    assert codes(twice) == ["INVALID_STATE"] and codes(fulfil_cancelled) == ["INVALID_STATE"]


async def test_a_suspended_resellers_admin_sees_its_orders_but_cannot_change_them(hub: Hub) -> None:
    shop, _, own_admin, _ = await two_resellers(hub)
    number = await place(hub, shop)
    await set_reseller_status(hub, shop.reseller_id, "SUSPENDED")

    seen = (await hub.query(ORDER, {"n": number}, token=own_admin))["order"]
    fulfil = await hub.post(FULFIL, {"n": number}, token=own_admin)

    assert seen["number"] == number
    assert codes_of(fulfil) == ["FORBIDDEN"]


async def test_notes_are_added_by_customer_service_and_shown_with_the_order(hub: Hub) -> None:
    shop, _, own_admin, rival_admin = await two_resellers(hub)
    number = await place(hub, shop)
    service = await hub.user("CUSTOMER_SERVICE", email="care@hub.example")

    first = (await hub.query(NOTE, {"n": number, "text": "Called about delivery."}, token=service))[
        "addOrderNote"
    ]
    second = (await hub.query(NOTE, {"n": number, "text": "Parcel left today."}, token=own_admin))[
        "addOrderNote"
    ]
    blank = (await hub.query(NOTE, {"n": number, "text": ""}, token=service))["addOrderNote"]
    other = (await hub.query(NOTE, {"n": number, "text": "peek"}, token=rival_admin))["addOrderNote"]

    assert first["userErrors"] == []
    notes = second["order"]["notes"]
    assert (notes[0]["text"], notes[0]["by"]) == ("Called about delivery.", "care@hub.example")
    assert [n["text"] for n in notes] == ["Called about delivery.", "Parcel left today."]
    assert codes(blank) == ["REQUIRED"] and codes(other) == ["NOT_FOUND"]
    async with hub.resources.session_factory() as session:
        assert len((await session.scalars(select(OrderNote))).all()) == 2


async def test_the_confirmation_is_resent_under_a_fresh_key_each_time(hub: Hub) -> None:
    shop, _, own_admin, rival_admin = await two_resellers(hub)
    number = await place(hub, shop)
    service = await hub.staff("CUSTOMER_SERVICE")

    once = (await hub.query(RESEND, {"n": number}, token=service))["resendOrderConfirmation"]
    twice = (await hub.query(RESEND, {"n": number}, token=own_admin))["resendOrderConfirmation"]
    other = (await hub.query(RESEND, {"n": number}, token=rival_admin))["resendOrderConfirmation"]

    assert once["userErrors"] == [] and twice["order"] == {"number": number}
    assert codes(other) == ["NOT_FOUND"]
    messages = await outbox(hub)
    assert [m.idempotency_key for m in messages] == [
        f"order-confirmation:{number}",
        f"order-confirmation:{number}:resend:1",
        f"order-confirmation:{number}:resend:2",
    ]
    assert messages[0].payload == messages[1].payload == messages[2].payload


async def test_a_concurrent_fulfil_and_cancel_of_one_order_have_exactly_one_winner(hub: Hub) -> None:
    shop, _, _, _ = await two_resellers(hub)
    service = await hub.staff("CUSTOMER_SERVICE")

    for _ in range(3):  # a few rounds, each on a fresh order, to give the race its chance
        number = await place(hub, shop)
        fulfil, cancel = await asyncio.gather(
            hub.post(FULFIL, {"n": number}, token=service),
            hub.post(CANCEL, {"n": number, "reason": "changed mind"}, token=service),
        )
        payloads = [fulfil["data"]["fulfillOrder"], cancel["data"]["cancelOrder"]]
        winners = [p for p in payloads if p["order"] is not None]
        losers = [p for p in payloads if p["order"] is None]
        assert len(winners) == 1 and len(losers) == 1, payloads
        assert codes(losers[0]) == ["INVALID_STATE"]
        assert winners[0]["order"]["history"][0]["status"] == "PLACED"
        async with hub.resources.session_factory() as session:
            order_id = await session.scalar(select(Order.id).where(Order.number == number))
            events = (
                await session.scalars(select(OrderEvent.status).where(OrderEvent.order_id == order_id))
            ).all()
        assert len(events) == 2
