"""Test data for Commerce Plaza: accepted quotes made through the API, and plaza carts filled from them.

`addQuoteToPlazaCart` is built by the orders engineer at the same time, so the
cart's rows are written here the way it writes them: one line per available
line of an ACCEPTED quote, at the quote's unit price, valid until the quote is.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from datasources.db import WRITE_TRANSACTION
from datasources.orders.models import Cart, CartLine
from datasources.plaza.models import PurchaseOrder, PurchaseOrderLine
from datasources.quotes.models import DistributorQuote, DistributorQuoteLine
from hub_graphql.types.common import parse_global_id
from tests.harness import Hub

REQUEST_QUOTE = """
mutation($input: RequestQuoteInput!) {
  requestQuote(input: $input) {
    quoteRequest { id quotes { id status distributor { code } } }
    userErrors { field code message }
  }
}
"""

RESPOND = """
mutation($input: QuoteResponseInput!) {
  respondToQuoteRequest(input: $input) { quote { id status } userErrors { field code message } }
}
"""

ACCEPT = """
mutation($id: ID!) { acceptQuote(id: $id) { quote { id status } userErrors { field code message } } }
"""


def row_id(global_id: str) -> int:
    parsed = parse_global_id(global_id)
    assert parsed is not None
    return int(parsed[1])


async def accepted_quote(
    hub: Hub,
    reseller_token: str,
    distributor_code: str,
    items: list[tuple[str, int]],
    *,
    rep_token: str | None = None,
    prices: dict[str, str] | None = None,
    currency: str = "USD",
) -> int:
    """A quote request to one distributor, answered (live by its service, or by `rep_token` by hand with
    `prices`), then accepted by the reseller: the accepted quote's row id."""
    data = await hub.query(
        REQUEST_QUOTE,
        {
            "input": {
                "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
                "currency": currency,
                "distributorCodes": [distributor_code],
            }
        },
        token=reseller_token,
    )
    payload = data["requestQuote"]
    assert payload["userErrors"] == [], payload["userErrors"]
    request = payload["quoteRequest"]
    if rep_token is not None:
        answer = await hub.query(
            RESPOND,
            {
                "input": {
                    "quoteRequestId": request["id"],
                    "lines": [
                        {
                            "sku": sku,
                            "quantity": quantity,
                            "available": True,
                            "unitPrice": (prices or {}).get(sku, "10.00"),
                        }
                        for sku, quantity in items
                    ],
                }
            },
            token=rep_token,
        )
        assert answer["respondToQuoteRequest"]["userErrors"] == []
        quote_id = answer["respondToQuoteRequest"]["quote"]["id"]
    else:
        [quote] = request["quotes"]
        assert quote["status"] == "OFFERED", quote
        quote_id = quote["id"]
    accepted = await hub.query(ACCEPT, {"id": quote_id}, token=reseller_token)
    assert accepted["acceptQuote"]["userErrors"] == [], accepted["acceptQuote"]["userErrors"]
    return row_id(quote_id)


async def fill_plaza_cart(hub: Hub, reseller_id: int, quote_ids: list[int]) -> str:
    """The reseller's OPEN plaza cart (made if none) with every available line of these quotes added."""
    async with hub.resources.session_factory() as session, session.begin():
        # The worker writes too: take SQLite's write lock up front, as a unit of work does.
        await session.connection(execution_options=WRITE_TRANSACTION)
        cart = await session.scalar(
            select(Cart).where(Cart.reseller_id == reseller_id, Cart.kind == "PLAZA", Cart.status == "OPEN")
        )
        quotes = [await session.get(DistributorQuote, q) for q in quote_ids]
        if cart is None:
            cart = Cart(
                id=secrets.token_urlsafe(24),
                kind="PLAZA",
                status="OPEN",
                reseller_id=reseller_id,
                currency=quotes[0].currency if quotes and quotes[0] else "USD",
            )
            session.add(cart)
            await session.flush()
        for quote in quotes:
            assert quote is not None
            lines = await session.scalars(
                select(DistributorQuoteLine)
                .where(DistributorQuoteLine.quote_id == quote.id, DistributorQuoteLine.available.is_(True))
                .order_by(DistributorQuoteLine.position)
            )
            session.add_all(
                CartLine(
                    cart_id=cart.id,
                    sku=line.sku,
                    quantity=line.quantity,
                    distributor_id=quote.distributor_id,
                    quote_id=quote.id,
                    unit_price_minor=line.unit_price_minor,
                    price_valid_until=quote.valid_until,
                )
                for line in lines
            )
        return cart.id


async def purchase_order_world(hub: Hub, world: Any) -> None:
    """For the permission cases: PO-PERM-0001, R-APPROVED's SUBMITTED order to D-ONE, one line."""
    now = datetime.now(UTC)
    async with hub.resources.session_factory() as session, session.begin():
        order = PurchaseOrder(
            number="PO-PERM-0001",
            reseller_id=world.resellers["R-APPROVED"],
            distributor_id=world.distributors["D-ONE"],
            status="SUBMITTED",
            currency="USD",
            total_minor=1000,
            submitted_at=now - timedelta(minutes=5),
            submitted_by="r-approved@test.example",
            delivery_attempts=0,
        )
        session.add(order)
        await session.flush()
        session.add(
            PurchaseOrderLine(
                purchase_order_id=order.id,
                position=0,
                sku="P-ONE",
                quantity=2,
                unit_price_minor=500,
                total_minor=1000,
            )
        )
