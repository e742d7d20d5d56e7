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
