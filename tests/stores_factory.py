"""Test data for the store tests, written straight to the database (fast, and independent of other domains' APIs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, text

from datasources.catalog.models import (
    Category,
    Product,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.catalog.rows import search_text_of
from datasources.partners.models import Reseller
from datasources.stores.models import (
    Store,
    StoreAssortmentRule,
    StorePriceRule,
    StoreProductContent,
    StoreText,
)
from tests.harness import Hub


@dataclass
class CategorySpec:
    code: str
    parent: int | None = None
    """Index of the parent in the list of categories (always an earlier one)."""


@dataclass
class ProductSpec:
    sku: str
    category: int | None = None
    groups: list[int] = field(default_factory=list)
    status: str = "ACTIVE"
    prices: dict[str, int] = field(default_factory=dict)
    """Currency -> list price in minor units."""
    name: str = ""
    description: str | None = None


@dataclass
class CatalogSpec:
    categories: list[CategorySpec] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)

    def category_path(self, index: int) -> list[int]:
        """Indexes from the root down to this category."""
        path = [index]
        while self.categories[path[0]].parent is not None:
            path.insert(0, self.categories[path[0]].parent)  # type: ignore[arg-type]
        return path


async def add_reseller(hub: Hub, code: str, status: str = "APPROVED") -> int:
    async with hub.resources.session_factory() as session, session.begin():
        reseller = Reseller(
            code=code, name=f"Reseller {code}", status=status, contact_email=f"{code}@test.example"
        )
        session.add(reseller)
        await session.flush()
        return reseller.id


async def set_reseller_status(hub: Hub, reseller_id: int, status: str) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        reseller = await session.get(Reseller, reseller_id)
        assert reseller is not None
        reseller.status = status


async def clear_catalog_and_stores(hub: Hub) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        for model in (
            StoreProductContent,
            StorePriceRule,
            StoreAssortmentRule,
            StoreText,
            Store,
            ProductGroupMember,
            ProductPrice,
            Product,
            ProductGroup,
        ):
            await session.execute(delete(model))
        await session.execute(delete(Category).where(Category.parent_id.is_not(None)))
        await session.execute(delete(Category))


async def load_catalog(hub: Hub, spec: CatalogSpec, *, id_base: int = 1) -> None:
    """Insert the catalog with explicit ids (id_base + index) so paths are known up front."""
    cat_ids = [id_base + i for i in range(len(spec.categories))]
    async with hub.resources.session_factory() as session, session.begin():
        if spec.categories:
            await session.execute(
                insert(Category),
                [
                    {
                        "id": cat_ids[i],
                        "code": c.code,
                        "name": f"Category {c.code}",
                        "parent_id": cat_ids[c.parent] if c.parent is not None else None,
                        "path": "/" + "".join(f"{cat_ids[j]}/" for j in spec.category_path(i)),
                        "depth": len(spec.category_path(i)) - 1,
                    }
                    for i, c in enumerate(spec.categories)
                ],
            )
        if spec.groups:
            await session.execute(
                insert(ProductGroup),
                [{"id": id_base + i, "code": g, "name": f"Group {g}"} for i, g in enumerate(spec.groups)],
            )
        if spec.products:
            await session.execute(
                insert(Product),
                [
                    {
                        "id": id_base + i,
                        "sku": p.sku,
                        "name": p.name or f"Product {p.sku}",
                        "description": p.description,
                        "status": p.status,
                        "category_id": cat_ids[p.category] if p.category is not None else None,
                        "search_text": search_text_of(p.sku, p.name or f"Product {p.sku}", p.description),
                    }
                    for i, p in enumerate(spec.products)
                ],
            )
            prices = [
                {"product_id": id_base + i, "currency": cur, "amount_minor": amount}
                for i, p in enumerate(spec.products)
                for cur, amount in p.prices.items()
            ]
            if prices:
                await session.execute(insert(ProductPrice), prices)
            members = [
                {"product_id": id_base + i, "group_id": id_base + g}
                for i, p in enumerate(spec.products)
                for g in sorted(set(p.groups))
            ]
            if members:
                await session.execute(insert(ProductGroupMember), members)
        if session.bind.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind: move them past what was inserted.
            for table in ("categories", "product_groups", "products"):
                await session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                    )
                )


async def add_store(
    hub: Hub, reseller_id: int, slug: str, *, currency: str = "USD", status: str = "OPEN"
) -> int:
    async with hub.resources.session_factory() as session, session.begin():
        store = Store(
            slug=slug, name=f"Store {slug}", reseller_id=reseller_id, currency=currency, status=status
        )
        session.add(store)
        await session.flush()
        return store.id


def skus(count: int, prefix: str = "SKU") -> Sequence[str]:
    return [f"{prefix}-{i:04d}" for i in range(count)]


PERMISSION_STORE = "perm-shop"
PERMISSION_SKU = "P-STORE"


async def permission_store(hub: Hub, world: Any) -> None:
    """For tests/permission_cases.py: an OPEN store of R-APPROVED and one product it sells."""
    async with hub.resources.session_factory() as session, session.begin():
        session.add(Product(sku=PERMISSION_SKU, name="Store product", status="ACTIVE", search_text="p-store"))
        await session.flush()
        product_id = (
            await session.execute(text("SELECT id FROM products WHERE sku = 'P-STORE'"))
        ).scalar_one()
        session.add(ProductPrice(product_id=product_id, currency="USD", amount_minor=1000))
        session.add(
            Store(
                slug=PERMISSION_STORE,
                name="Permission shop",
                reseller_id=world.resellers["R-APPROVED"],
                currency="USD",
                status="OPEN",
            )
        )
