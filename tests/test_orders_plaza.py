"""The Commerce Plaza cart end to end over GraphQL, on both databases: accepted quotes' lines at their prices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from datasources.orders.models import Cart, CartLine
from datasources.quotes.models import DistributorQuote, DistributorQuoteLine, QuoteRequest
from hub_graphql.types.common import global_id
from tests.harness import Hub, QueryCounter, codes_of
from tests.orders_factory import make_shop, shop_sku
from tests.quote_data import make_distributor
from tests.stores_factory import add_reseller
from tests.test_orders import ADD, CART_FIELDS, CHECKOUT, READ, checkout_input, codes

PLAZA = f"{{ plazaCart {{ {CART_FIELDS} }} }}"
ADD_QUOTE = f"""
mutation($id: ID!) {{ addQuoteToPlazaCart(quoteId: $id) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }} }}
"""
REMOVE = f"""
mutation($id: ID!) {{ removePlazaCartLine(lineId: $id) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code }} }} }}
"""


async def quote(
    hub: Hub,
    reseller_id: int,
    distributor_id: int,
    lines: list[tuple[int, int, int | None]],
    *,
    status: str = "ACCEPTED",
    currency: str = "USD",
    valid_for: timedelta = timedelta(days=2),
) -> str:
    """A quote of `distributor_id` on a request of `reseller_id`: (product n, quantity, unit price or None
    for unavailable) lines. Answers its global id."""
    now = datetime.now(UTC)
    async with hub.resources.session_factory() as session, session.begin():
        request = QuoteRequest(
            reseller_id=reseller_id,
            status="ACCEPTED" if status == "ACCEPTED" else "QUOTED",
            currency=currency,
            created_at=now,
            expires_at=now + timedelta(days=3),
        )
        session.add(request)
        await session.flush()
        row = DistributorQuote(
            request_id=request.id,
            distributor_id=distributor_id,
            status=status,
            source="MANUAL",
            currency=currency,
            total_minor=sum(q * (p or 0) for _, q, p in lines),
            valid_until=now + valid_for,
            answered_at=now,
        )
        session.add(row)
        await session.flush()
        session.add_all(
            DistributorQuoteLine(
                quote_id=row.id,
                position=i,
                sku=shop_sku(n),
                quantity=q,
                unit_price_minor=p,
                available=p is not None,
            )
            for i, (n, q, p) in enumerate(lines)
        )
        return global_id("DistributorQuote", row.id)


async def plaza_world(hub: Hub) -> dict[str, Any]:
    shop = await make_shop(hub, 5)
    rival = await add_reseller(hub, "R-RIVAL")
    north = await make_distributor(hub, "NORTH", None, transport="MANUAL", resellers=(shop.reseller_id,))
    east = await make_distributor(hub, "EAST", None, transport="MANUAL", resellers=(shop.reseller_id,))
    return {
        "reseller": shop.reseller_id,
        "rival": rival,
        "north": north,
        "east": east,
        "admin": await hub.user("RESELLER_ADMIN", reseller_id=shop.reseller_id),
        "rival_admin": await hub.user("RESELLER_ADMIN", reseller_id=rival),
    }


async def count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_plaza_cart_is_made_on_first_use_and_is_the_same_after(hub: Hub) -> None:
    world = await plaza_world(hub)

    first = (await hub.query(PLAZA, token=world["admin"]))["plazaCart"]
    second = (await hub.query(PLAZA, token=world["admin"]))["plazaCart"]
    rivals = (await hub.query(PLAZA, token=world["rival_admin"]))["plazaCart"]

    assert first == second
    assert first["kind"] == "PLAZA" and first["reseller"] == {"code": "R-SHOP"} and first["store"] is None
    assert first["lines"] == [] and first["currency"] == "USD" and first["total"]["amount"] == "0.00"
    assert rivals["id"] != first["id"] and rivals["reseller"] == {"code": "R-RIVAL"}
    assert await count(hub, Cart) == 2


async def test_two_first_uses_at_once_make_one_plaza_cart(hub: Hub) -> None:
    world = await plaza_world(hub)

    answers = await asyncio.gather(*(hub.post(PLAZA, token=world["admin"]) for _ in range(4)))

    assert all(not a.get("errors") for a in answers), answers
    assert len({a["data"]["plazaCart"]["id"] for a in answers}) == 1
    assert await count(hub, Cart) == 1


async def test_an_accepted_quotes_available_lines_come_in_at_its_prices(hub: Hub) -> None:
    world = await plaza_world(hub)
    quote_id = await quote(
        hub, world["reseller"], world["north"], [(0, 4, 950), (1, 2, None), (2, 10, 1_999)], currency="EUR"
    )

    added = (await hub.query(ADD_QUOTE, {"id": quote_id}, token=world["admin"]))["addQuoteToPlazaCart"]

    assert added["userErrors"] == []
    cart = added["cart"]
    assert cart["kind"] == "PLAZA" and cart["currency"] == "EUR"
    assert [(line["sku"], line["quantity"], line["unitPrice"]["amount"]) for line in cart["lines"]] == [
        (shop_sku(0), 4, "9.50"),
        (shop_sku(2), 10, "19.99"),
    ]
    line = cart["lines"][0]
    assert line["distributor"] == {"code": "NORTH"} and line["quote"] == {"id": quote_id}
    assert line["product"]["sku"] == shop_sku(0) and line["priceValidUntil"] is not None
    assert line["unitPrice"]["currency"] == "EUR" and line["total"]["amount"] == "38.00"
    assert cart["subtotal"] == {"amount": "237.90", "currency": "EUR"} and cart["itemCount"] == 14
    assert cart == (await hub.query(PLAZA, token=world["admin"]))["plazaCart"]
    async with hub.resources.session_factory() as session:
        rows = (await session.scalars(select(CartLine).order_by(CartLine.id))).all()
        assert [(r.distributor_id, r.unit_price_minor) for r in rows] == [
            (world["north"], 950),
            (world["north"], 1999),
        ]


async def test_quotes_that_cannot_come_in_are_user_errors_and_write_nothing(hub: Hub) -> None:
    world = await plaza_world(hub)
    in_cart = await quote(hub, world["reseller"], world["north"], [(0, 1, 500)])
    offered = await quote(hub, world["reseller"], world["east"], [(1, 1, 500)], status="OFFERED")
    expired = await quote(
        hub, world["reseller"], world["east"], [(1, 1, 500)], valid_for=timedelta(minutes=-1)
    )
    euros = await quote(hub, world["reseller"], world["east"], [(1, 1, 500)], currency="EUR")
    rivals = await quote(hub, world["rival"], world["east"], [(1, 1, 500)])
    nothing = await quote(hub, world["reseller"], world["east"], [(3, 1, None)])
    assert (await hub.query(ADD_QUOTE, {"id": in_cart}, token=world["admin"]))["addQuoteToPlazaCart"][
        "userErrors"
    ] == []
    before = await count(hub, CartLine)

    async def error_of(quote_id: str) -> list[str]:
        return codes(
            (await hub.query(ADD_QUOTE, {"id": quote_id}, token=world["admin"]))["addQuoteToPlazaCart"]
        )

    assert await error_of(offered) == ["QUOTE_NOT_ACCEPTED"]
    assert await error_of(expired) == ["QUOTE_EXPIRED"]
    assert await error_of(euros) == ["CURRENCY_MISMATCH"]
    assert await error_of(rivals) == ["NOT_FOUND"]
    assert await error_of(in_cart) == ["ALREADY_IN_CART"]
    assert await error_of(nothing) == ["NOTHING_AVAILABLE"]
    assert await error_of(global_id("DistributorQuote", 999)) == ["NOT_FOUND"]
    assert await error_of(global_id("Cart", 1)) == ["NOT_FOUND"]
    assert await count(hub, CartLine) == before == 1


async def test_a_line_is_removed_only_from_ones_own_plaza_cart(hub: Hub) -> None:
    world = await plaza_world(hub)
    quote_id = await quote(hub, world["reseller"], world["north"], [(0, 1, 500), (1, 1, 600)])
    cart = (await hub.query(ADD_QUOTE, {"id": quote_id}, token=world["admin"]))["addQuoteToPlazaCart"]["cart"]
    first, second = (line["id"] for line in cart["lines"])

    by_rival = (await hub.query(REMOVE, {"id": first}, token=world["rival_admin"]))["removePlazaCartLine"]
    removed = (await hub.query(REMOVE, {"id": first}, token=world["admin"]))["removePlazaCartLine"]
    again = (await hub.query(REMOVE, {"id": first}, token=world["admin"]))["removePlazaCartLine"]

    assert codes(by_rival) == ["NOT_FOUND"]
    assert removed["userErrors"] == [] and [line["id"] for line in removed["cart"]["lines"]] == [second]
    assert codes(again) == ["NOT_FOUND"]


async def test_a_plaza_cart_is_seen_by_its_resellers_users_and_staff_only_and_is_no_store_cart(
    hub: Hub,
) -> None:
    world = await plaza_world(hub)
    cart = (await hub.query(PLAZA, token=world["admin"]))["plazaCart"]
    staff = await hub.staff("CUSTOMER_SERVICE")
    colleague = await hub.user("CUSTOMER", reseller_id=world["reseller"])
    node = "query($id: ID!) { node(id: $id) { id } }"

    assert (await hub.query(READ, {"id": cart["id"]}, token=staff))["cart"]["id"] == cart["id"]
    assert (await hub.query(READ, {"id": cart["id"]}, token=colleague))["cart"]["id"] == cart["id"]
    assert (await hub.query(READ, {"id": cart["id"]}))["cart"] is None
    assert (await hub.query(READ, {"id": cart["id"]}, token=world["rival_admin"]))["cart"] is None
    assert (await hub.query(node, {"id": cart["id"]}, token=world["rival_admin"]))["node"] is None
    lines = [{"sku": shop_sku(0), "quantity": 1}]
    assert codes((await hub.query(ADD, {"cart": cart["id"], "lines": lines}))["addCartLines"]) == [
        "NOT_FOUND"
    ]
    bought = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"]
    assert codes(bought) == ["NOT_FOUND"]
    refused = await hub.post(PLAZA, token=staff)
    assert codes_of(refused) == ["FORBIDDEN"]


async def test_reading_a_plaza_cart_costs_the_same_statements_for_1_or_3_quotes(
    hub: Hub, count_queries: QueryCounter
) -> None:
    world = await plaza_world(hub)
    counts = []
    for distributor, lines in ((world["north"], [(0, 1, 100)]), (world["east"], [(1, 1, 100), (2, 1, 100)])):
        quote_id = await quote(hub, world["reseller"], distributor, lines)
        await hub.query(ADD_QUOTE, {"id": quote_id}, token=world["admin"])
        await hub.query(PLAZA, token=world["admin"])
        count_queries.reset()
        await hub.query(PLAZA, token=world["admin"])
        counts.append(count_queries.count)

    assert counts[0] == counts[1], count_queries.statements
