"""Test data for the order tests: a reseller's OPEN store over a small priced catalog, written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from datasources.outbox.models import OutboxMessage
from tests.harness import Hub
from tests.stores_factory import CatalogSpec, ProductSpec, add_reseller, add_store, load_catalog


@dataclass
class Shop:
    reseller_id: int
    store_id: int
    slug: str
    skus: list[str]


def shop_sku(n: int) -> str:
    return f"S-{n:04d}"


def unit_price_minor(n: int) -> int:
    """Product n's list price in USD cents: 10.00 + n."""
    return 1000 + 100 * n


async def make_shop(
    hub: Hub,
    products: int = 5,
    *,
    slug: str = "shop",
    reseller: str = "R-SHOP",
    id_base: int = 1,
    **store: Any,
) -> Shop:
    """An APPROVED reseller with an OPEN USD store selling `products` ACTIVE products (S-0000…)."""
    reseller_id = await add_reseller(hub, reseller)
    await load_catalog(
        hub,
        CatalogSpec(
            products=[
                ProductSpec(sku=shop_sku(n), name=f"Shop product {n}", prices={"USD": unit_price_minor(n)})
                for n in range(products)
            ]
        ),
        id_base=id_base,
    )
    store_id = await add_store(hub, reseller_id, slug, **store)
    return Shop(
        reseller_id=reseller_id, store_id=store_id, slug=slug, skus=[shop_sku(n) for n in range(products)]
    )


async def outbox(hub: Hub) -> list[OutboxMessage]:
    async with hub.resources.session_factory() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


PERMISSION_ORDER = "ORD-PERM-0000-0001"
PERMISSION_CALLERS = (
    "anonymous",
    "customer",
    "distributor-rep",
    "reseller-admin-suspended",
    "reseller-admin",
    "customer-service",
    "marketing-manager",
    "catalog-manager",
    "channel-manager",
    "site-admin",
)
"""The callers of tests/test_permissions.py, as tests/permission_cases.py names them: each gets a cart."""


def permission_cart(caller_slug: str) -> str:
    return f"perm-cart-{caller_slug}"


async def permission_orders(hub: Hub, world: Any) -> None:
    """For tests/permission_cases.py: perm-shop (tests/stores_factory.py), a cart of one line per caller,
    and one PLACED order of perm-shop; quote request 1 of tests/quote_data.py quote_world."""
    from datetime import UTC, datetime

    from datasources.orders.models import Cart, CartLine, Order, OrderEvent, OrderLine
    from datasources.reports.rollup import add_to_sales_rollup
    from datasources.stores.models import Store
    from tests.quote_data import quote_world
    from tests.stores_factory import PERMISSION_SKU, permission_store

    await permission_store(hub, world)
    await quote_world(hub, world)
    now = datetime.now(UTC)
    async with hub.resources.session_factory() as session, session.begin():
        store = await session.scalar(select(Store).where(Store.slug == "perm-shop"))
        assert store is not None
        for caller in PERMISSION_CALLERS:
            session.add(
                Cart(
                    id=permission_cart(caller), kind="STORE", status="OPEN", store_id=store.id, currency="USD"
                )
            )
        await session.flush()
        session.add_all(
            CartLine(cart_id=permission_cart(caller), sku=PERMISSION_SKU, quantity=1)
            for caller in PERMISSION_CALLERS
        )
        order = Order(
            number=PERMISSION_ORDER,
            store_id=store.id,
            reseller_id=store.reseller_id,
            status="PLACED",
            customer_email="Perm@Customer.example",
            customer_email_key="perm@customer.example",
            ship_name="P",
            ship_line1="1 Road",
            ship_city="Town",
            ship_postal_code="1000",
            ship_country="DE",
            payment_method="INVOICE",
            currency="USD",
            subtotal_minor=1000,
            total_minor=1000,
            placed_at=now,
        )
        session.add(order)
        await session.flush()
        session.add(
            OrderLine(
                order_id=order.id,
                position=0,
                sku=PERMISSION_SKU,
                name="Store product",
                quantity=1,
                unit_price_minor=1000,
                total_minor=1000,
            )
        )
        session.add(OrderEvent(order_id=order.id, status="PLACED", at=now))
        await session.flush()
        # Written past checkout: added to the daily sales rollup as checkout adds its orders.
        await add_to_sales_rollup(session, order)
