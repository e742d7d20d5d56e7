"""Reads of purchase orders (the keyset-paginated list) and of the plaza cart a submission turns into orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.orders.models import Cart, CartLine
from datasources.partners.models import Distributor
from datasources.plaza.models import PurchaseOrder
from datasources.quotes.models import DistributorQuote


@dataclass(frozen=True)
class PurchaseOrderScope:
    """Which purchase orders a viewer may list: one reseller's, one distributor's, or (staff) all."""

    reseller_id: int | None = None
    distributor_id: int | None = None
    everything: bool = False


def _conditions(scope: PurchaseOrderScope, status: str | None) -> list[ColumnElement[bool]]:
    if scope.everything:
        conditions: list[ColumnElement[bool]] = []
    elif scope.reseller_id is None and scope.distributor_id is None:
        conditions = [PurchaseOrder.id.is_(None)]  # nobody's: an empty list
    else:
        # A user may be both a reseller's and a distributor's: either of its own.
        own: list[ColumnElement[bool]] = []
        if scope.reseller_id is not None:
            own.append(PurchaseOrder.reseller_id == scope.reseller_id)
        if scope.distributor_id is not None:
            own.append(PurchaseOrder.distributor_id == scope.distributor_id)
        conditions = [own[0] if len(own) == 1 else (own[0] | own[1])]
    if status is not None:
        conditions.append(PurchaseOrder.status == status)
    return conditions


async def purchase_order_page(
    db: RequestDatabase,
    scope: PurchaseOrderScope,
    status: str | None,
    *,
    limit: int,
    before_id: int | None,
) -> Sequence[PurchaseOrder]:
    """Newest first (keyset on id, which grows with submission)."""
    conditions = _conditions(scope, status)
    if before_id is not None:
        conditions.append(PurchaseOrder.id < before_id)
    return await db.scalars(
        select(PurchaseOrder).where(and_(True, *conditions)).order_by(PurchaseOrder.id.desc()).limit(limit)
    )


async def count_purchase_orders(db: RequestDatabase, scope: PurchaseOrderScope, status: str | None) -> int:
    return await db.scalar(
        select(func.count()).select_from(PurchaseOrder).where(and_(True, *_conditions(scope, status)))
    )


# ---------------------------------------------------------------- inside a unit of work


async def open_plaza_cart(session: AsyncSession, reseller_id: int) -> Cart | None:
    """The reseller's one OPEN plaza cart, if it has one."""
    return await session.scalar(
        select(Cart).where(Cart.reseller_id == reseller_id, Cart.kind == "PLAZA", Cart.status == "OPEN")
    )


async def plaza_lines(
    session: AsyncSession, cart_id: str
) -> Sequence[tuple[CartLine, DistributorQuote | None, Distributor]]:
    """The cart's lines in the order they were added, each with its quote and its distributor."""
    rows = await session.execute(
        select(CartLine, DistributorQuote, Distributor)
        .outerjoin(DistributorQuote, DistributorQuote.id == CartLine.quote_id)
        .join(Distributor, Distributor.id == CartLine.distributor_id)
        .where(CartLine.cart_id == cart_id)
        .order_by(CartLine.id)
    )
    return [(line, quote, distributor) for line, quote, distributor in rows.all()]
