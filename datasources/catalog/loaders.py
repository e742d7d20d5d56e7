"""Per-request loaders of the master catalog, one per relation a list can ask for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from datasources.catalog.models import (
    Category,
    Product,
    ProductAttribute,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.db import RequestDatabase
from datasources.loading import Loader, many_per_key, one_per_key


@dataclass
class CatalogLoaders:
    category_by_id: Loader
    category_by_code: Loader
    categories_by_parent_id: Loader
    product_by_id: Loader
    product_by_sku: Loader
    prices_by_product_id: Loader
    attributes_by_product_id: Loader
    groups_by_product_id: Loader
    group_by_code: Loader

    @classmethod
    def create(cls, db: RequestDatabase) -> CatalogLoaders:
        async def categories_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Category).where(Category.id.in_(ids)))

        async def categories_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Category).where(Category.code.in_(codes)))

        async def children_of(parent_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(Category).where(Category.parent_id.in_(parent_ids)).order_by(Category.code)
            )

        async def products_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Product).where(Product.id.in_(ids)))

        async def products_by_skus(skus):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Product).where(Product.sku.in_(skus)))

        async def prices_of(product_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(ProductPrice).where(ProductPrice.product_id.in_(product_ids)))

        async def attributes_of(product_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(ProductAttribute)
                .where(ProductAttribute.product_id.in_(product_ids))
                .order_by(ProductAttribute.product_id, ProductAttribute.position)
            )

        async def groups_of(product_ids):  # type: ignore[no-untyped-def]
            return await db.all(
                select(ProductGroupMember.product_id, ProductGroup)
                .join(ProductGroup, ProductGroup.id == ProductGroupMember.group_id)
                .where(ProductGroupMember.product_id.in_(product_ids))
                .order_by(ProductGroup.code)
            )

        async def groups_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(ProductGroup).where(ProductGroup.code.in_(codes)))

        groups_loader = many_per_key(groups_of, lambda row: row[0])

        async def groups_by_product(product_ids: list[int]) -> list[list[ProductGroup]]:
            pairs = await groups_loader.batch_load_fn(product_ids)
            return [[group for _, group in rows] for rows in pairs]

        return cls(
            category_by_id=one_per_key(categories_by_ids, lambda c: c.id),
            category_by_code=one_per_key(categories_by_codes, lambda c: c.code),
            categories_by_parent_id=many_per_key(children_of, lambda c: c.parent_id),
            product_by_id=one_per_key(products_by_ids, lambda p: p.id),
            product_by_sku=one_per_key(products_by_skus, lambda p: p.sku),
            prices_by_product_id=many_per_key(prices_of, lambda p: p.product_id),
            attributes_by_product_id=many_per_key(attributes_of, lambda a: a.product_id),
            groups_by_product_id=Loader(batch_load_fn=groups_by_product),
            group_by_code=one_per_key(groups_by_codes, lambda g: g.code),
        )
