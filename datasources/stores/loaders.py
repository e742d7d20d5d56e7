"""Per-request loaders of stores, one per relation a list can ask for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from datasources.catalog.models import Category, Product, ProductGroup
from datasources.db import RequestDatabase
from datasources.loading import KEYS, Loader, chunks, many_per_key, one_per_key, rows_by_keys
from datasources.stores.models import Store, StorePriceRule, StoreText
from datasources.stores.queries import store_products_by_skus


@dataclass(frozen=True)
class PriceRuleRow:
    """A stored price rule with the code of what it targets (None for ALL)."""

    store_id: int
    position: int
    scope: str
    target: str | None
    markup_bp: int | None
    fixed_minor: int | None


@dataclass(frozen=True)
class StoreProductRow:
    """A master product as one store sells it (price and list price in the store's minor units)."""

    store_id: int
    product_id: int
    sku: str
    category_id: int | None
    price_minor: int
    list_minor: int | None
    name: str
    description: str | None
    product: Product | None
    """The master product's row; None from a store page, which reads only the columns it shows (its
    `product` field loads the row by id when asked)."""


def store_product_row(row: Any) -> StoreProductRow:
    """From `store_products(kind="rows")`: (store id, the Product entity, price, list price, name, description)."""
    product = row[1]
    return StoreProductRow(
        store_id=row[0],
        product_id=product.id,
        sku=product.sku,
        category_id=product.category_id,
        price_minor=row[2],
        list_minor=row[3],
        name=row[4],
        description=row[5],
        product=product,
    )


def store_page_row(row: Any) -> StoreProductRow:
    """From `store_products(kind="page")`: the same, with the product's id, SKU and category for its entity."""
    return StoreProductRow(
        store_id=row[0],
        product_id=row[1],
        sku=row[2],
        category_id=row[3],
        price_minor=row[4],
        list_minor=row[5],
        name=row[6],
        description=row[7],
        product=None,
    )


@dataclass
class StoreLoaders:
    store_by_id: Loader
    store_by_slug: Loader
    stores_by_reseller_id: Loader
    texts_by_store_id: Loader
    price_rules_by_store_id: Loader
    store_product: Loader
    """Keyed by (store id, SKU): the product as that store sells it, or None when it is not in the store."""

    @classmethod
    def create(cls, db: RequestDatabase) -> StoreLoaders:
        async def stores_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(rows_by_keys(Store.id), {KEYS: list(ids)})

        async def stores_by_slugs(slugs):  # type: ignore[no-untyped-def]
            return await db.scalars(rows_by_keys(Store.slug), {KEYS: list(slugs)})

        async def stores_of(reseller_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(Store).where(Store.reseller_id.in_(reseller_ids)).order_by(Store.slug)
            )

        async def texts_of(store_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(StoreText).where(StoreText.store_id.in_(store_ids)).order_by(StoreText.key)
            )

        async def rules_of(store_ids: Sequence[int]) -> list[PriceRuleRow]:
            rows = await db.all(
                select(StorePriceRule, Category.code, ProductGroup.code, Product.sku)
                .outerjoin(
                    Category,
                    and_(StorePriceRule.scope == "CATEGORY", Category.id == StorePriceRule.target_id),
                )
                .outerjoin(
                    ProductGroup,
                    and_(StorePriceRule.scope == "GROUP", ProductGroup.id == StorePriceRule.target_id),
                )
                .outerjoin(
                    Product, and_(StorePriceRule.scope == "SKU", Product.id == StorePriceRule.target_id)
                )
                .where(StorePriceRule.store_id.in_(store_ids))
                .order_by(StorePriceRule.store_id, StorePriceRule.position)
            )
            return [
                PriceRuleRow(
                    store_id=rule.store_id,
                    position=rule.position,
                    scope=rule.scope,
                    target=category_code or group_code or sku,
                    markup_bp=rule.markup_bp,
                    fixed_minor=rule.fixed_minor,
                )
                for rule, category_code, group_code, sku in rows
            ]

        async def store_products(keys: list[tuple[int, str]]) -> list[StoreProductRow | None]:
            # One statement per store in the batch (a page of one store is the usual case).
            found: dict[tuple[int, str], StoreProductRow] = {}
            skus_by_store: dict[int, set[str]] = defaultdict(set)
            for store_id, sku in keys:
                skus_by_store[store_id].add(sku)
            for store_id, skus in sorted(skus_by_store.items()):
                for part in chunks(sorted(skus)):
                    for row in await store_products_by_skus(db, store_id, part):
                        item = store_product_row(row)
                        found[(item.store_id, item.product.sku)] = item
            return [found.get(key) for key in keys]

        return cls(
            store_by_id=one_per_key(stores_by_ids, lambda s: s.id),
            store_by_slug=one_per_key(stores_by_slugs, lambda s: s.slug),
            stores_by_reseller_id=many_per_key(stores_of, lambda s: s.reseller_id),
            texts_by_store_id=many_per_key(texts_of, lambda t: t.store_id),
            price_rules_by_store_id=many_per_key(rules_of, lambda r: r.store_id),
            store_product=Loader(batch_load_fn=store_products),
        )
