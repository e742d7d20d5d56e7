"""Writes of carts and orders, inside a mutation's unit of work.

Concurrency: every change to a cart starts with a conditional UPDATE of the cart's row (still OPEN),
so on PostgreSQL two requests on one cart take turns on its row lock, and the second sees what the
first committed (SQLite's write transactions take turns anyway). A checkout moves the cart from OPEN
to CHECKED_OUT with that UPDATE: of two concurrent checkouts exactly one moves it, the other finds
it closed and writes nothing. `orders.cart_id` is unique as a second guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from datasources.numbers import new_number
from datasources.orders.models import Cart, CartLine, Order, OrderDiscount, OrderEvent, OrderLine, OrderNote
from datasources.outbox.models import OutboxMessage

NUMBER_DRAWS = 3
"""A new order number clashes with one of 2^60 rarely; the unique index catches it and we draw again."""


async def touch_open_cart(session: AsyncSession, cart_id: str, kind: str, now: datetime) -> Cart | None:
    """The cart, locked for this unit of work, if it exists, is of this kind and is still OPEN; else None."""
    return await session.scalar(
        update(Cart)
        .where(Cart.id == cart_id, Cart.kind == kind, Cart.status == "OPEN")
        .values(updated_at=now)
        .returning(Cart)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


async def claim_for_checkout(session: AsyncSession, cart_id: str, now: datetime) -> Cart | None:
    """OPEN → CHECKED_OUT for the one checkout that wins; None for any other (closed, unknown, plaza)."""
    return await session.scalar(
        update(Cart)
        .where(Cart.id == cart_id, Cart.kind == "STORE", Cart.status == "OPEN")
        .values(status="CHECKED_OUT", updated_at=now)
        .returning(Cart)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


async def cart_by_id(session: AsyncSession, cart_id: str) -> Cart | None:
    return await session.get(Cart, cart_id, populate_existing=True)


async def lines_of(session: AsyncSession, cart_id: str) -> list[CartLine]:
    return list(
        await session.scalars(
            select(CartLine)
            .where(CartLine.cart_id == cart_id)
            .order_by(CartLine.id)
            .execution_options(populate_existing=True)
        )
    )


async def add_store_lines(
    session: AsyncSession, cart_id: str, quantities: dict[str, int], now: datetime
) -> None:
    """Set the quantity of each SKU (existing lines get the new total, new SKUs a new line)."""
    existing = {line.sku: line for line in await lines_of(session, cart_id)}
    new = []
    for sku, quantity in quantities.items():
        if sku in existing:
            existing[sku].quantity = quantity
        else:
            new.append({"cart_id": cart_id, "sku": sku, "quantity": quantity, "added_at": now})
    if new:
        await session.execute(insert(CartLine), new)
    await session.flush()


async def remove_line(session: AsyncSession, line_id: int) -> None:
    await session.execute(
        delete(CartLine).where(CartLine.id == line_id).execution_options(synchronize_session=False)
    )


async def add_plaza_lines(
    session: AsyncSession, cart: Cart, currency: str, lines: Sequence[dict[str, Any]]
) -> None:
    """Plaza lines at their quote's prices; the cart takes the quotes' currency."""
    cart.currency = currency
    await session.execute(insert(CartLine), [{"cart_id": cart.id, **line} for line in lines])
    await session.flush()


async def open_plaza_cart(session: AsyncSession, cart_id: str, reseller_id: int, currency: str) -> Cart:
    """The reseller's open plaza cart, made with `cart_id` when it has none.

    Two first uses at once both try to insert; the partial unique index `uq_carts_open_plaza_reseller`
    lets one in, and the other (in a savepoint, so its transaction lives on) reads the winner's.
    """
    found = await _open_plaza_cart(session, reseller_id)
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            session.add(
                Cart(id=cart_id, kind="PLAZA", status="OPEN", reseller_id=reseller_id, currency=currency)
            )
    except IntegrityError:
        found = await _open_plaza_cart(session, reseller_id)
        if found is None:
            raise
        return found
    cart = await _open_plaza_cart(session, reseller_id)
    assert cart is not None
    return cart


async def _open_plaza_cart(session: AsyncSession, reseller_id: int) -> Cart | None:
    return await session.scalar(
        select(Cart)
        .where(Cart.kind == "PLAZA", Cart.status == "OPEN", Cart.reseller_id == reseller_id)
        .execution_options(populate_existing=True)
    )


async def insert_order(
    session: AsyncSession,
    order: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    discounts: Sequence[dict[str, Any]],
    event: dict[str, Any],
) -> Order:
    """The order with its lines, discounts and first history event, under a fresh unique number."""
    for attempt in range(NUMBER_DRAWS):
        try:
            async with session.begin_nested():
                row = Order(number=new_number("ORD"), **order)
                session.add(row)
                await session.flush()
            break
        except IntegrityError:
            # The savepoint's rollback took the row out of the session; draw another number.
            if attempt == NUMBER_DRAWS - 1:
                raise
    await session.execute(insert(OrderLine), [{"order_id": row.id, **line} for line in lines])
    if discounts:
        await session.execute(insert(OrderDiscount), [{"order_id": row.id, **d} for d in discounts])
    await session.execute(insert(OrderEvent), [{"order_id": row.id, **event}])
    return row


async def order_by_number(session: AsyncSession, number: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.number == number).execution_options(populate_existing=True)
    )


async def move_order(
    session: AsyncSession, order: Order, to_status: str, *, at: datetime, by: str | None, reason: str | None
) -> bool:
    """PLACED → `to_status` with its history event, if the order is still PLACED (one winner)."""
    moved = await session.scalar(
        update(Order)
        .where(Order.id == order.id, Order.status == "PLACED")
        .values(status=to_status)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        return False
    set_committed_value(order, "status", to_status)
    await session.execute(
        insert(OrderEvent),
        [{"order_id": order.id, "status": to_status, "at": at, "by": by, "reason": reason}],
    )
    return True


async def add_note(session: AsyncSession, order_id: int, text: str, at: datetime, by: str) -> None:
    await session.execute(insert(OrderNote), [{"order_id": order_id, "text": text, "at": at, "by": by}])


async def count_keys_like(session: AsyncSession, prefix: str) -> int:
    """How many outbox messages have an idempotency key starting with `prefix` (resent confirmations)."""
    return await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.idempotency_key.startswith(prefix))
    )
