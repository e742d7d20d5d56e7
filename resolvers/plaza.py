"""Commerce Plaza: a reseller's plaza cart submitted as purchase orders, their visibility and their answers.

`submit_cart` turns the signed-in reseller's OPEN plaza cart into one
purchase order per distributor, at the prices of the accepted quotes, and
puts each live distributor's order on the outbox (kind `purchase_order`,
keyed by its number) in the same transaction: the order and its delivery
job commit together, or neither does. MANUAL distributors (and live ones
whose service has no `placeOrder`) answer in the hub, in their proxy store,
with `answer` (confirmPurchaseOrder / rejectPurchaseOrder).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.money import from_minor
from datasources.numbers import new_number
from datasources.orders.models import Cart, CartLine
from datasources.outbox.queue import PURCHASE_ORDER, enqueue
from datasources.pagination import Page, cut_page
from datasources.partners.models import Distributor, Reseller
from datasources.plaza.delivery import purchase_order_payload
from datasources.plaza.loaders import PlazaLoaders
from datasources.plaza.models import PurchaseOrder, PurchaseOrderLine
from datasources.plaza.queries import (
    PurchaseOrderScope,
    count_purchase_orders,
    open_plaza_cart,
    plaza_lines,
    purchase_order_page,
)
from datasources.quotes.clients import LIVE_TRANSPORTS
from datasources.quotes.models import DistributorQuote
from resolvers.access import Viewer, can_answer_purchase_order, can_see_purchase_order
from resolvers.errors import UserErrors, check_cursor, check_page_size

MAX_REFERENCE_LENGTH = 200
MAX_REASON_LENGTH = 2000
CURSOR_KIND = "purchase-order"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the hub only ever stores UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Result:
    errors: UserErrors = field(default_factory=UserErrors)
    purchase_order_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- submitPlazaCart


def _line_problem(
    line: CartLine, quote: DistributorQuote | None, currency: str, now: datetime
) -> tuple[str, str] | None:
    """Why a line can no longer be ordered at its price: (code, reason), or None when it can."""
    if quote is None or quote.status != "ACCEPTED":
        return "QUOTE_NOT_ACCEPTED", "its quote is no longer ACCEPTED"
    if quote.currency != currency:
        return "CURRENCY_MISMATCH", f"its quote is in {quote.currency}, the cart in {currency}"
    valid_until = as_utc(quote.valid_until)
    line_until = as_utc(line.price_valid_until)
    if (valid_until is not None and valid_until <= now) or (line_until is not None and line_until <= now):
        return "QUOTE_EXPIRED", "its quote has expired"
    if line.unit_price_minor is None:
        return "QUOTE_NOT_ACCEPTED", "it has no quoted price"
    return None


def order_input(
    number: str,
    reseller_code: str,
    currency: str,
    lines: list[PurchaseOrderLine],
    quote_request_id: int | None,
) -> dict[str, Any]:
    """The contract's PurchaseOrderInput (datasources/partners/distributor-quote.graphql) as JSON."""
    return {
        "number": number,
        "resellerCode": reseller_code,
        "currency": currency,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unitPrice": str(from_minor(line.unit_price_minor, currency)),
            }
            for line in lines
        ],
        "quoteRequestId": str(quote_request_id) if quote_request_id is not None else None,
    }


async def submit_cart(session: AsyncSession, viewer: Viewer, now: datetime) -> Result:
    """The reseller's OPEN plaza cart as one SUBMITTED purchase order per distributor (see the module docstring).

    Every line is checked again (its quote still ACCEPTED and unexpired); one
    that fails is a userError naming it, and the caller writes nothing.
    """
    result = Result()
    errors = result.errors
    if viewer.reseller_id is None:
        errors.add("NOT_A_RESELLER", "Only a reseller's users submit a plaza cart.")
        return result
    cart = await open_plaza_cart(session, viewer.reseller_id)
    # Claimed first: of two submissions at once, the second finds the cart no longer OPEN.
    if cart is None or not await _claim_cart(session, cart.id, now):
        errors.add("EMPTY_CART", "Your plaza cart is empty: add an accepted quote to it first.")
        return result
    rows = await plaza_lines(session, cart.id)
    if not rows:
        errors.add("EMPTY_CART", "Your plaza cart is empty: add an accepted quote to it first.")
        return result
    for index, (line, quote, distributor) in enumerate(rows):
        problem = _line_problem(line, quote, cart.currency, now)
        if problem is not None:
            code, reason = problem
            errors.add(
                code,
                f"Line {index + 1} ({line.sku} from {distributor.code}) cannot be ordered: {reason}. "
                "Remove it or add a newer accepted quote.",
                "lines",
                index,
            )
    if errors:
        return result
    reseller_code = await session.scalar(select(Reseller.code).where(Reseller.id == viewer.reseller_id))
    by_distributor: dict[int, list[tuple[CartLine, DistributorQuote, Distributor]]] = defaultdict(list)
    for line, quote, distributor in rows:
        assert quote is not None  # checked above
        by_distributor[distributor.id].append((line, quote, distributor))
    for group in by_distributor.values():
        order = await _purchase_order(session, viewer, cart, group, reseller_code or "", now)
        result.purchase_order_ids.append(order.id)
    return result


async def _claim_cart(session: AsyncSession, cart_id: str, now: datetime) -> bool:
    claimed = await session.execute(
        update(Cart)
        .where(Cart.id == cart_id, Cart.status == "OPEN")
        .values(status="SUBMITTED", updated_at=now)
    )
    return claimed.rowcount == 1


async def _purchase_order(
    session: AsyncSession,
    viewer: Viewer,
    cart: Cart,
    group: list[tuple[CartLine, DistributorQuote, Distributor]],
    reseller_code: str,
    now: datetime,
) -> PurchaseOrder:
    distributor = group[0][2]
    request_ids = {quote.request_id for _, quote, _ in group}
    quote_request_id = next(iter(request_ids)) if len(request_ids) == 1 else None
    lines = [
        PurchaseOrderLine(
            position=position,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            total_minor=(line.unit_price_minor or 0) * line.quantity,
            quote_id=quote.id,
        )
        for position, (line, quote, _) in enumerate(group)
    ]
    order = PurchaseOrder(
        number=new_number("PO"),
        reseller_id=cart.reseller_id,
        distributor_id=distributor.id,
        cart_id=cart.id,
        quote_request_id=quote_request_id,
        status="SUBMITTED",
        currency=cart.currency,
        total_minor=sum(line.total_minor for line in lines),
        submitted_at=now,
        submitted_by=viewer.email,
        delivery_attempts=0,
    )
    session.add(order)
    await session.flush()
    for line in lines:
        line.purchase_order_id = order.id
    session.add_all(lines)
    if distributor.quote_transport in LIVE_TRANSPORTS and distributor.quote_endpoint:
        payload = order_input(order.number, reseller_code, order.currency, lines, quote_request_id)
        await enqueue(session, PURCHASE_ORDER, order.number, purchase_order_payload(order, payload))
    return order


# ---------------------------------------------------------------- confirm / reject in the proxy store


async def answer(
    session: AsyncSession,
    viewer: Viewer,
    number: str,
    *,
    confirmed: bool,
    reference: str | None,
    reason: str | None,
    now: datetime,
) -> Result:
    """A distributor's answer typed in the hub: CONFIRMED (with its reference) or REJECTED (with a reason)."""
    result = Result()
    errors = result.errors
    order = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
    if order is None or not can_see_purchase_order(viewer, order.reseller_id, order.distributor_id):
        errors.add("NOT_FOUND", "No purchase order has this number.", "number")
        return result
    result.purchase_order_ids.append(order.id)
    if not can_answer_purchase_order(viewer, order.distributor_id):
        errors.add("FORBIDDEN", "Only the distributor's reps answer its purchase orders.", "number")
        return result
    reference = (reference or "").strip() or None
    reason = (reason or "").strip() or None
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        errors.add(
            "TOO_LONG", f"A reference has at most {MAX_REFERENCE_LENGTH} characters.", "distributorReference"
        )
    if not confirmed and reason is None:
        errors.add("REQUIRED", "Say why the purchase order is rejected.", "reason")
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        errors.add("TOO_LONG", f"A reason has at most {MAX_REASON_LENGTH} characters.", "reason")
    if errors:
        return result
    answered = await session.execute(
        update(PurchaseOrder)
        .where(PurchaseOrder.id == order.id, PurchaseOrder.status == "SUBMITTED")
        .values(
            status="CONFIRMED" if confirmed else "REJECTED",
            distributor_reference=reference if confirmed else None,
            reason=None if confirmed else reason,
            answered_at=now,
            answered_by=viewer.email,
        )
    )
    if answered.rowcount != 1:
        await session.refresh(order)
        errors.add(
            "INVALID_STATE",
            f"The purchase order is {order.status}: only a SUBMITTED one can be answered.",
            "number",
        )
    return result


# ---------------------------------------------------------------- reads


def scope_of(viewer: Viewer) -> PurchaseOrderScope:
    if viewer.is_staff:
        return PurchaseOrderScope(everything=True)
    return PurchaseOrderScope(reseller_id=viewer.reseller_id, distributor_id=viewer.distributor_id)


async def visible_purchase_order(
    loaders: PlazaLoaders, viewer: Viewer | None, number: str
) -> PurchaseOrder | None:
    """The order, or None when it does not exist or the viewer may not see it."""
    order = await loaders.purchase_order_by_number.load(number)
    if order is None or not can_see_purchase_order(viewer, order.reseller_id, order.distributor_id):
        return None
    return order


async def visible_purchase_order_by_id(
    loaders: PlazaLoaders, viewer: Viewer | None, order_id: int
) -> PurchaseOrder | None:
    order = await loaders.purchase_order_by_id.load(order_id)
    if order is None or not can_see_purchase_order(viewer, order.reseller_id, order.distributor_id):
        return None
    return order


async def purchase_orders_page(
    db: RequestDatabase, viewer: Viewer, status: str | None, first: int | None, after: str | None
) -> tuple[Page[PurchaseOrder], PurchaseOrderScope]:
    """Newest first; a reseller its own, a distributor's reps those sent to it, staff all."""
    size = check_page_size(first)
    key = check_cursor(after, CURSOR_KIND)
    before_id = int(key[0]) if key and isinstance(key[0], int) else None
    scope = scope_of(viewer)
    rows = await purchase_order_page(db, scope, status, limit=size + 1, before_id=before_id)
    page = cut_page(rows, size, after_given=after is not None, kind=CURSOR_KIND, key_of=lambda r: [r.id])
    return page, scope


async def purchase_orders_count(db: RequestDatabase, scope: PurchaseOrderScope, status: str | None) -> int:
    return await count_purchase_orders(db, scope, status)
