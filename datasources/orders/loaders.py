"""Per-request loaders of carts and orders, one per relation a cart or an order list can ask for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import Loader, many_per_key, one_per_key
from datasources.orders.models import (
    Cart,
    CartLine,
    Order,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    OrderNote,
)


@dataclass
class OrderLoaders:
    cart_by_id: Loader
    lines_by_cart_id: Loader
    order_by_number: Loader
    lines_by_order_id: Loader
    discounts_by_order_id: Loader
    events_by_order_id: Loader
    notes_by_order_id: Loader

    @classmethod
    def create(cls, db: RequestDatabase) -> OrderLoaders:
        async def carts(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Cart).where(Cart.id.in_(ids)))

        async def cart_lines(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(CartLine).where(CartLine.cart_id.in_(ids)).order_by(CartLine.cart_id, CartLine.id)
            )

        async def orders(numbers):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Order).where(Order.number.in_(numbers)))

        def of_orders(model, *order_by):  # type: ignore[no-untyped-def]
            async def fetch(ids):  # type: ignore[no-untyped-def]
                return await db.scalars(
                    select(model).where(model.order_id.in_(ids)).order_by(model.order_id, *order_by)
                )

            return many_per_key(fetch, lambda row: row.order_id)

        return cls(
            cart_by_id=one_per_key(carts, lambda c: c.id),
            lines_by_cart_id=many_per_key(cart_lines, lambda line: line.cart_id),
            order_by_number=one_per_key(orders, lambda o: o.number),
            lines_by_order_id=of_orders(OrderLine, OrderLine.position),
            discounts_by_order_id=of_orders(OrderDiscount, OrderDiscount.position),
            events_by_order_id=of_orders(OrderEvent, OrderEvent.id),
            notes_by_order_id=of_orders(OrderNote, OrderNote.id),
        )
