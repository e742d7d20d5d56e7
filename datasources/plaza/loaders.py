"""Per-request loaders of purchase orders and their lines."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import Loader, many_per_key, one_per_key
from datasources.plaza.models import PurchaseOrder, PurchaseOrderLine


@dataclass
class PlazaLoaders:
    purchase_order_by_id: Loader
    purchase_order_by_number: Loader
    lines_by_purchase_order_id: Loader

    @classmethod
    def create(cls, db: RequestDatabase) -> PlazaLoaders:
        async def orders_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(PurchaseOrder).where(PurchaseOrder.id.in_(ids)))

        async def orders_by_numbers(numbers):  # type: ignore[no-untyped-def]
            return await db.scalars(select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers)))

        async def lines_of(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.purchase_order_id.in_(ids))
                .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.position)
            )

        return cls(
            purchase_order_by_id=one_per_key(orders_by_ids, lambda r: r.id),
            purchase_order_by_number=one_per_key(orders_by_numbers, lambda r: r.number),
            lines_by_purchase_order_id=many_per_key(lines_of, lambda r: r.purchase_order_id),
        )
