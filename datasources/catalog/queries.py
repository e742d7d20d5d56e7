"""Catalog reads that are not loader lookups: filtered, keyset-paginated product lists and counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, text

from datasources.catalog.models import Category, Product, ProductGroup, ProductGroupMember
from datasources.db import RequestDatabase

MIN_INDEXED_SEARCH = 3
"""Shorter search terms have no trigram to look up, so they scan."""


@dataclass(frozen=True)
class ProductQuery:
    """What a product list is filtered by (the GraphQL ProductFilter, plus visibility)."""

    search: str | None = None
    category_code: str | None = None
    group_code: str | None = None
    skus: tuple[str, ...] | None = None
    status: str | None = None
    statuses: tuple[str, ...] | None = None
    """The statuses the viewer may see at all (None: every status)."""


def category_subtree_ids(code: str) -> Select[tuple[int]]:
    """Ids of the category with this code and of every category below it."""
    root_path = select(Category.path).where(Category.code == code).scalar_subquery()
    return select(Category.id).where(Category.path.startswith(root_path))


def search_condition(term: str, dialect: str) -> ColumnElement[bool]:
    needle = term.strip().lower()
    if dialect == "sqlite" and len(needle) >= MIN_INDEXED_SEARCH:
        phrase = '"' + needle.replace('"', '""') + '"'
        matches = text("SELECT rowid FROM product_search WHERE product_search MATCH :phrase").bindparams(
            phrase=phrase
        )
        return Product.id.in_(matches.columns(literal_column("rowid")))
    return Product.search_text.contains(needle, autoescape=True)


def product_conditions(query: ProductQuery, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.statuses is not None:
        conditions.append(Product.status.in_(query.statuses))
    if query.status is not None:
        conditions.append(Product.status == query.status)
    if query.skus is not None:
        conditions.append(Product.sku.in_(query.skus))
    if query.category_code is not None:
        conditions.append(Product.category_id.in_(category_subtree_ids(query.category_code)))
    if query.group_code is not None:
        conditions.append(
            Product.id.in_(
                select(ProductGroupMember.product_id)
                .join(ProductGroup, ProductGroup.id == ProductGroupMember.group_id)
                .where(ProductGroup.code == query.group_code)
            )
        )
    if query.search:
        conditions.append(search_condition(query.search, dialect))
    return conditions


async def product_page(
    db: RequestDatabase, query: ProductQuery, *, limit: int, after_sku: str | None
) -> Sequence[Product]:
    """Products in SKU order after a SKU: a keyset page, never an OFFSET scan."""
    conditions = product_conditions(query, db.session.bind.dialect.name)
    if after_sku is not None:
        conditions.append(Product.sku > after_sku)
    return await db.scalars(select(Product).where(and_(True, *conditions)).order_by(Product.sku).limit(limit))


async def count_products(db: RequestDatabase, query: ProductQuery) -> int:
    conditions = product_conditions(query, db.session.bind.dialect.name)
    return await db.scalar(select(func.count()).select_from(Product).where(and_(True, *conditions)))


async def root_categories(db: RequestDatabase) -> Sequence[Category]:
    return await db.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.code))


async def all_groups(db: RequestDatabase) -> Sequence[ProductGroup]:
    return await db.scalars(select(ProductGroup).order_by(ProductGroup.code))
