"""Reads of carts and orders: store prices inside a unit of work, and the keyset-paginated order list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import Product
from datasources.db import RequestDatabase
from datasources.orders.models import Order
from datasources.stores.loaders import StoreProductRow, store_product_row
from datasources.stores.queries import store_products


async def store_prices(
    session: AsyncSession, store_id: int, skus: Sequence[str]
) -> dict[str, StoreProductRow]:
    """The products of one store by SKU, priced and named through its overlay (as `Store.product` shows
    them): one statement, whatever the number of SKUs (a cart holds at most a few hundred)."""
    if not skus:
        return {}
    statement = store_products(None, session.bind.dialect.name).where(Product.sku.in_(sorted(set(skus))))
    rows = (await session.execute(statement, {"store_id": store_id})).all()
    return {item.sku: item for item in (store_product_row(r) for r in rows)}


@dataclass(frozen=True)
class OrderScope:
    """Which orders a viewer may list: one reseller's, or (staff) all."""

    reseller_id: int | None = None
    everything: bool = False


@dataclass(frozen=True)
class OrderQuery:
    """The filter of `orders`, resolved to ids; `matches_nothing` when a named store or reseller is unknown."""

    store_id: int | None = None
    reseller_id: int | None = None
    status: str | None = None
    customer_email_key: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    matches_nothing: bool = False


def _conditions(scope: OrderScope, query: OrderQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not scope.everything:
        conditions.append(Order.reseller_id == scope.reseller_id)
    if query.store_id is not None:
        conditions.append(Order.store_id == query.store_id)
    if query.reseller_id is not None:
        conditions.append(Order.reseller_id == query.reseller_id)
    if query.status is not None:
        conditions.append(Order.status == query.status)
    if query.customer_email_key is not None:
        conditions.append(Order.customer_email_key == query.customer_email_key)
    if query.placed_from is not None:
        conditions.append(Order.placed_at >= query.placed_from)
    if query.placed_to is not None:
        conditions.append(Order.placed_at < query.placed_to)
    return conditions


async def order_page(
    db: RequestDatabase,
    scope: OrderScope,
    query: OrderQuery,
    *,
    limit: int,
    before: tuple[datetime, int] | None,
) -> Sequence[Order]:
    """Newest first (placed_at desc, id desc), after the keyset `before`: one statement."""
    if query.matches_nothing or (not scope.everything and scope.reseller_id is None):
        return []
    statement: Select[tuple[Order]] = select(Order).where(*_conditions(scope, query))
    if before is not None:
        statement = statement.where(tuple_(Order.placed_at, Order.id) < tuple_(*before))
    statement = statement.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    return await db.scalars(statement)


async def count_orders(db: RequestDatabase, scope: OrderScope, query: OrderQuery) -> int:
    if query.matches_nothing or (not scope.everything and scope.reseller_id is None):
        return 0
    return await db.scalar(select(func.count()).select_from(Order).where(*_conditions(scope, query)))
