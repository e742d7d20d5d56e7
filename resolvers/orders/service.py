"""Orders after checkout: who sees them, the newest-first list, and customer service's state changes and notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.orders import writes
from datasources.orders.models import Order, OrderDiscount, OrderLine
from datasources.orders.queries import OrderQuery, OrderScope, count_orders, order_page
from datasources.pagination import Page, cut_page
from datasources.partners.models import Reseller
from datasources.reports.rollup import remove_from_sales_rollup
from datasources.stores.models import Store
from resolvers.access import ORDER_STAFF, Viewer, can_fulfil_order, can_see_order, can_serve_order
from resolvers.errors import UserErrors, bad_input, check_cursor, check_page_size
from resolvers.orders.confirmation import confirmation_key, enqueue_confirmation

REASON_MAX = 2_000
NOTE_MAX = 5_000


@dataclass
class OrderFilterData:
    store_slug: str | None = None
    reseller_code: str | None = None
    status: str | None = None
    customer_email: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


@dataclass
class OrderResult:
    errors: UserErrors = field(default_factory=UserErrors)
    number: str | None = None


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the hub stores UTC only. A filter's time in any zone becomes UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ---------------------------------------------------------------- reads


def visible_order(order: Order | None, viewer: Viewer | None) -> Order | None:
    return order if order is not None and can_see_order(viewer, order.reseller_id) else None


def scope_of(viewer: Viewer) -> OrderScope:
    if viewer.has_any(frozenset(ORDER_STAFF)):
        return OrderScope(everything=True)
    return OrderScope(reseller_id=viewer.reseller_id if "RESELLER_ADMIN" in viewer.roles else None)


async def order_query(db: RequestDatabase, data: OrderFilterData | None) -> OrderQuery:
    """The filter with the store's and the reseller's codes turned into ids (unknown: no order matches)."""
    f = data or OrderFilterData()
    store_id = reseller_id = None
    if f.store_slug is not None:
        store_id = await db.scalar(select(Store.id).where(Store.slug == f.store_slug))
        if store_id is None:
            return OrderQuery(matches_nothing=True)
    if f.reseller_code is not None:
        reseller_id = await db.scalar(select(Reseller.id).where(Reseller.code == f.reseller_code))
        if reseller_id is None:
            return OrderQuery(matches_nothing=True)
    return OrderQuery(
        store_id=store_id,
        reseller_id=reseller_id,
        status=f.status,
        customer_email_key=f.customer_email.strip().lower() if f.customer_email is not None else None,
        placed_from=as_utc(f.placed_from),
        placed_to=as_utc(f.placed_to),
    )


async def orders_page(
    db: RequestDatabase, viewer: Viewer, query: OrderQuery, first: int | None, after: str | None
) -> tuple[Page[Order], OrderScope]:
    """Newest first (placed_at desc, id desc); staff see every order, a RESELLER_ADMIN its stores'."""
    size = check_page_size(first)
    key = check_cursor(after, "order")
    before = None
    if key is not None:
        try:
            before = (as_utc(datetime.fromisoformat(str(key[0]))), int(key[1]))  # type: ignore[call-overload]
        except (ValueError, TypeError, IndexError):
            raise bad_input("`after` is not a cursor this list gave out.") from None
    scope = scope_of(viewer)
    rows = await order_page(db, scope, query, limit=size + 1, before=before)
    page = cut_page(
        rows,
        size,
        after_given=after is not None,
        kind="order",
        key_of=lambda o: [as_utc(o.placed_at).isoformat(), o.id],  # type: ignore[union-attr]
    )
    return page, scope


async def orders_count(db: RequestDatabase, scope: OrderScope, query: OrderQuery) -> int:
    return await count_orders(db, scope, query)


# ---------------------------------------------------------------- customer service


async def _order_for(
    session: AsyncSession,
    viewer: Viewer,
    number: str,
    allowed: Callable[[Viewer, int], bool],
    errors: UserErrors,
) -> Order | None:
    """The order when the viewer may act on it; NOT_FOUND for any other (another reseller's is not revealed)."""
    order = await writes.order_by_number(session, number)
    if (
        order is None
        or not can_see_order(viewer, order.reseller_id)
        or not allowed(viewer, order.reseller_id)
    ):
        errors.add("NOT_FOUND", f"No order you may change has the number {number}.", "number")
        return None
    return order


async def _move(
    session: AsyncSession,
    viewer: Viewer,
    number: str,
    to_status: str,
    reason: str | None,
    allowed: Callable[[Viewer, int], bool],
    now: datetime,
) -> OrderResult:
    result = OrderResult(number=number)
    order = await _order_for(session, viewer, number, allowed, result.errors)
    if order is None:
        return result
    if not await writes.move_order(session, order, to_status, at=now, by=viewer.email, reason=reason):
        await session.refresh(order)
        result.errors.add(
            "INVALID_STATE",
            f"The order is {order.status}: only a PLACED order can become {to_status}.",
            "number",
        )
    elif to_status == "CANCELLED":
        await remove_from_sales_rollup(session, order)
    return result


async def fulfil(session: AsyncSession, viewer: Viewer, number: str, now: datetime) -> OrderResult:
    """PLACED → FULFILLED: the store's reseller or the hub's order staff."""
    return await _move(session, viewer, number, "FULFILLED", None, can_fulfil_order, now)


def _text(value: str, limit: int, what: str, errors: UserErrors, name: str) -> str:
    text = value.strip()
    if not text:
        errors.add("REQUIRED", f"{what} cannot be blank.", name)
    elif len(text) > limit:
        errors.add("TOO_LONG", f"{what} has at most {limit} characters.", name)
    return text


async def cancel(
    session: AsyncSession, viewer: Viewer, number: str, reason: str, now: datetime
) -> OrderResult:
    """PLACED → CANCELLED with a reason: customer service, a site administrator or the store's reseller."""
    errors = UserErrors()
    text = _text(reason, REASON_MAX, "A reason", errors, "reason")
    if errors:
        return OrderResult(errors=errors, number=number)
    return await _move(session, viewer, number, "CANCELLED", text, can_serve_order, now)


async def add_note(
    session: AsyncSession, viewer: Viewer, number: str, text: str, now: datetime
) -> OrderResult:
    """A customer service note on the order, in any status."""
    result = OrderResult(number=number)
    note = _text(text, NOTE_MAX, "A note", result.errors, "text")
    order = await _order_for(session, viewer, number, can_serve_order, result.errors)
    if order is None or result.errors:
        return result
    await writes.add_note(session, order.id, note, now, viewer.email)
    return result


async def resend_confirmation(session: AsyncSession, viewer: Viewer, number: str) -> OrderResult:
    """The confirmation again, rendered from the order as placed, under a fresh outbox key."""
    result = OrderResult(number=number)
    order = await _order_for(session, viewer, number, can_serve_order, result.errors)
    if order is None:
        return result
    prefix = f"{confirmation_key(order.number)}:resend:"
    sent = await writes.count_keys_like(session, prefix)
    lines = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    )
    discounts = await session.scalars(
        select(OrderDiscount).where(OrderDiscount.order_id == order.id).order_by(OrderDiscount.position)
    )
    store = await session.get(Store, order.store_id)
    assert store is not None  # an order's store is deleted with it
    await enqueue_confirmation(
        session, f"{prefix}{sent + 1}", order, list(lines), list(discounts), store.name
    )
    return result
