"""Test data for the report tests: stores and store orders with their lines, written straight to the database.

Orders are generated (seeded random) rather than placed through checkout, so
the reports can be checked against a plain Python computation over the very
same rows, on both databases, independently of the orders domain's API.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from datasources.catalog.models import Product
from datasources.catalog.rows import search_text_of
from datasources.orders.models import Order, OrderLine
from datasources.reports.rollup import rebuild_sales_rollup
from datasources.stores.models import Store
from tests.harness import Hub


@dataclass
class LineSpec:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor - self.discount_minor


@dataclass
class OrderSpec:
    store_id: int
    reseller_id: int
    placed_at: datetime
    currency: str = "USD"
    status: str = "PLACED"
    lines: list[LineSpec] = field(default_factory=list)
    order_discount_minor: int = 0
    """Taken off the order as a whole, beyond the lines' own discounts."""

    @property
    def subtotal_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(line.discount_minor for line in self.lines) + self.order_discount_minor

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor


async def add_store(
    hub: Hub, reseller_id: int, slug: str, *, name: str | None = None, currency: str = "USD"
) -> int:
    async with hub.resources.session_factory() as session, session.begin():
        store = Store(
            slug=slug, name=name or f"Store {slug}", reseller_id=reseller_id, currency=currency, status="OPEN"
        )
        session.add(store)
        await session.flush()
        return store.id


async def add_products(hub: Hub, skus: Sequence[str], *, status: str = "ACTIVE") -> None:
    async with hub.resources.session_factory() as session, session.begin():
        session.add_all(
            Product(
                sku=sku,
                name=f"Product {sku}",
                status=status,
                search_text=search_text_of(sku, f"Product {sku}", None),
            )
            for sku in skus
        )


async def insert_orders(hub: Hub, orders: Sequence[OrderSpec]) -> None:
    """The orders and their lines, in multi-row inserts (ids in list order)."""
    async with hub.resources.session_factory() as session, session.begin():
        for chunk_start in range(0, len(orders), 500):
            chunk = orders[chunk_start : chunk_start + 500]
            ids = (
                (
                    await session.execute(
                        insert(Order).returning(Order.id, sort_by_parameter_order=True),
                        [_order_row(spec) for spec in chunk],
                    )
                )
                .scalars()
                .all()
            )
            lines = [
                {
                    "order_id": order_id,
                    "position": position,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                    "discount_minor": line.discount_minor,
                    "total_minor": line.total_minor,
                }
                for order_id, spec in zip(ids, chunk, strict=True)
                for position, line in enumerate(spec.lines, start=1)
            ]
            if lines:
                await session.execute(insert(OrderLine), lines)
        # Written past the hub's writers: the daily sales rollup is made again from the orders.
        await rebuild_sales_rollup(session)


def _order_row(spec: OrderSpec) -> dict[str, object]:
    email = f"{uuid.uuid4().hex[:10]}@buyer.example"
    return {
        "number": f"ORD-{uuid.uuid4().hex[:16].upper()}",
        "store_id": spec.store_id,
        "reseller_id": spec.reseller_id,
        "status": spec.status,
        "customer_email": email,
        "customer_email_key": email,
        "ship_name": "Buyer",
        "ship_line1": "1 Main Street",
        "ship_city": "Springfield",
        "ship_postal_code": "12345",
        "ship_country": "US",
        "payment_method": "INVOICE",
        "currency": spec.currency,
        "subtotal_minor": spec.subtotal_minor,
        "discount_minor": spec.discount_minor,
        "total_minor": spec.total_minor,
        "placed_at": spec.placed_at.astimezone(UTC),
    }


def random_orders(
    rng: random.Random,
    count: int,
    stores: Sequence[tuple[int, int]],
    skus: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    currencies: Sequence[str] = ("USD", "USD", "USD", "EUR"),
) -> list[OrderSpec]:
    """`count` orders spread over [start, end) at random instants, over (store id, reseller id) pairs:
    1 to 4 lines each, some discounted, some CANCELLED, a share in another currency."""
    span = (end - start).total_seconds()
    orders = []
    for _ in range(count):
        store_id, reseller_id = rng.choice(stores)
        lines = []
        for sku in rng.sample(list(skus), rng.randint(1, min(4, len(skus)))):
            quantity = rng.randint(1, 5)
            unit = rng.randint(100, 20_000)
            discount = rng.choice([0, 0, 0, rng.randint(1, quantity * unit // 4 + 1)])
            lines.append(LineSpec(sku, f"Line name {sku}", quantity, unit, discount))
        orders.append(
            OrderSpec(
                store_id=store_id,
                reseller_id=reseller_id,
                placed_at=start + timedelta(seconds=rng.uniform(0, span)),
                currency=rng.choice(list(currencies)),
                status=rng.choice(["PLACED", "PLACED", "FULFILLED", "CANCELLED"]),
                lines=lines,
                order_discount_minor=rng.choice([0, 0, rng.randint(0, 50)]),
            )
        )
    return orders
