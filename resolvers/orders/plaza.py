"""The Commerce Plaza cart: a reseller's one open cart of accepted quotes' lines, at the quotes' prices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.orders import writes
from datasources.orders.models import CartLine
from datasources.partners.models import HubPolicy
from datasources.quotes.models import DistributorQuote, DistributorQuoteLine, QuoteRequest
from resolvers.access import Viewer
from resolvers.errors import UserErrors
from resolvers.orders.carts import MAX_LINES, CartResult, new_cart_id
from resolvers.quotes.reads import as_utc


async def plaza_cart(session: AsyncSession, viewer: Viewer, policy: HubPolicy) -> CartResult:
    """The viewer's reseller's open plaza cart, made (empty, in the hub's default currency) on first use."""
    result = CartResult()
    if viewer.reseller_id is None:
        result.errors.add("NOT_FOUND", "Only a reseller's users have a plaza cart.")
        return result
    cart = await writes.open_plaza_cart(session, new_cart_id(), viewer.reseller_id, policy.default_currency)
    result.cart_id = cart.id
    return result


async def add_quote(
    session: AsyncSession, viewer: Viewer, policy: HubPolicy, quote_id: int | None, now: datetime
) -> CartResult:
    """Every available line of an ACCEPTED, unexpired quote of the viewer's reseller, at the quote's prices."""
    result = CartResult()
    errors = result.errors
    found = (
        (
            await session.execute(
                select(DistributorQuote, QuoteRequest.reseller_id)
                .join(QuoteRequest, QuoteRequest.id == DistributorQuote.request_id)
                .where(DistributorQuote.id == quote_id)
            )
        ).first()
        if quote_id is not None
        else None
    )
    if found is None or viewer.reseller_id is None or found[1] != viewer.reseller_id:
        errors.add("NOT_FOUND", "No quote of your reseller has this id.", "quoteId")
        return result
    quote: DistributorQuote = found[0]
    valid_until = as_utc(quote.valid_until)
    if quote.status != "ACCEPTED":
        errors.add(
            "QUOTE_NOT_ACCEPTED", f"The quote is {quote.status}: accept it first (acceptQuote).", "quoteId"
        )
        return result
    if valid_until is not None and valid_until <= now:
        errors.add("QUOTE_EXPIRED", f"The quote's prices held until {valid_until.isoformat()}.", "quoteId")
        return result
    cart = await writes.open_plaza_cart(session, new_cart_id(), viewer.reseller_id, policy.default_currency)
    cart = await writes.touch_open_cart(session, cart.id, "PLAZA", now)  # locks it against a concurrent add
    assert cart is not None
    result.cart_id = cart.id
    in_cart = await writes.lines_of(session, cart.id)
    if any(line.quote_id == quote.id for line in in_cart):
        errors.add("ALREADY_IN_CART", "This quote's lines are in the cart already.", "quoteId")
        return result
    if in_cart and cart.currency != quote.currency:
        errors.add(
            "CURRENCY_MISMATCH",
            f"The cart holds {cart.currency} lines; this quote is in {quote.currency}.",
            "quoteId",
        )
        return result
    lines = _quote_lines(
        await session.scalars(
            select(DistributorQuoteLine)
            .where(DistributorQuoteLine.quote_id == quote.id)
            .order_by(DistributorQuoteLine.position)
        ),
        errors,
    )
    if errors:
        return result
    if not lines:
        errors.add("NOTHING_AVAILABLE", "The quote has no available line.", "quoteId")
    elif len(in_cart) + len(lines) > MAX_LINES:
        errors.add("TOO_MANY_LINES", f"A cart holds at most {MAX_LINES} lines.", "quoteId")
    if errors:
        return result
    await writes.add_plaza_lines(
        session,
        cart,
        quote.currency,
        [
            {
                "sku": sku,
                "quantity": quantity,
                "distributor_id": quote.distributor_id,
                "quote_id": quote.id,
                "unit_price_minor": price,
                "price_valid_until": quote.valid_until,
                "added_at": now,
            }
            for sku, (quantity, price) in lines.items()
        ],
    )
    return result


def _quote_lines(rows: object, errors: UserErrors) -> dict[str, tuple[int, int]]:
    """SKU → (quantity, unit price) of the available lines; a SKU quoted twice at two prices cannot be one line."""
    lines: dict[str, tuple[int, int]] = {}
    for row in rows:  # type: ignore[attr-defined]
        if not row.available or row.unit_price_minor is None:
            continue
        if row.sku in lines:
            quantity, price = lines[row.sku]
            if price != row.unit_price_minor:
                errors.add(
                    "DUPLICATE_SKU",
                    f"The quote prices {row.sku} twice, differently: a cart line has one price.",
                    "quoteId",
                )
                continue
            lines[row.sku] = (quantity + row.quantity, price)
        else:
            lines[row.sku] = (row.quantity, row.unit_price_minor)
    return lines


async def remove_line(
    session: AsyncSession, viewer: Viewer, line_id: int | None, now: datetime
) -> CartResult:
    """Take a line out of the viewer's reseller's open plaza cart."""
    result = CartResult()
    line = await session.get(CartLine, line_id, populate_existing=True) if line_id is not None else None
    cart = await writes.touch_open_cart(session, line.cart_id, "PLAZA", now) if line is not None else None
    if line is None or cart is None or viewer.reseller_id is None or cart.reseller_id != viewer.reseller_id:
        result.errors.add("NOT_FOUND", "Your plaza cart has no line with this id.", "lineId")
        return result
    result.cart_id = cart.id
    await writes.remove_line(session, line.id)
    return result
