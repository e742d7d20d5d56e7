"""Catalog reads that are not loader lookups: filtered, keyset-paginated product lists and counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, text
from sqlalchemy.orm import aliased

from datasources.catalog.models import Category, Product, ProductGroup, ProductGroupMember
from datasources.catalog.search import PG_SEARCH_COLUMN, index_query, pg_index_query
from datasources.db import RequestDatabase


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
    """Products whose SKU, name or description contains the term, whatever the case."""
    needle = term.strip().lower()
    contains = Product.search_text.contains(needle, autoescape=True)
    # The index finds the products holding every word of the term; LIKE checks the whole term.
    if dialect == "sqlite" and (words := index_query(needle)) is not None:
        matches = text("SELECT rowid FROM product_search WHERE product_search MATCH :words").bindparams(
            words=words
        )
        return and_(Product.id.in_(matches.columns(literal_column("rowid"))), contains)
    if dialect == "postgresql" and (words := pg_index_query(needle)) is not None:
        matches = text(f"products.{PG_SEARCH_COLUMN} @@ CAST(:search_words AS tsquery)").bindparams(
            search_words=words
        )
        return and_(matches, contains)
    return contains


def product_conditions(query: ProductQuery, dialect: str) -> list[ColumnElement[bool]]:
    # No index on status on purpose: three statuses make a poor index to drive a page from, and
    # SQLite (it keeps no statistics) would pick one anyway, then sort every match by SKU.
    conditions = status_conditions(query, Product.status)
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


def status_conditions(query: ProductQuery, status: ColumnElement[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.statuses is not None:
        conditions.append(status.in_(query.statuses))
    if query.status is not None:
        conditions.append(status == query.status)
    return conditions


def category_page_end(query: ProductQuery, after_sku: str | None, limit: int) -> ColumnElement[str]:
    """The last SKU a category page can reach: an upper bound that keeps the page's cost bounded.

    Every category of the subtree answers its `limit`-th matching SKU (a short walk along
    ix_products_category_sku); the smallest of them bounds the page, since that category alone fills
    it. With the bound, each category contributes at most `limit` rows to sort, whatever the size of
    the catalog, where a plain `category_id IN (…) ORDER BY sku` sorts every product of the subtree.
    Only for pages filtered by nothing but category and status (the conditions the walk applies).
    """
    category, product = aliased(Category), aliased(Product)
    # The plain status column here: the walk's equality on category_id already picks its index.
    walk = select(product.sku).where(
        product.category_id == category.id, *status_conditions(query, product.status)
    )
    if after_sku is not None:
        walk = walk.where(product.sku > after_sku)
    nth = walk.order_by(product.sku).offset(limit - 1).limit(1).correlate(category).scalar_subquery()
    root_path = select(Category.path).where(Category.code == query.category_code).scalar_subquery()
    bounds = select(func.min(nth)).where(category.path.startswith(root_path)).scalar_subquery()
    return func.coalesce(bounds, select(func.max(Product.sku)).scalar_subquery())


async def product_page(
    db: RequestDatabase, query: ProductQuery, *, limit: int, after_sku: str | None
) -> Sequence[Product]:
    """Products in SKU order after a SKU: a keyset page, never an OFFSET scan."""
    conditions = product_conditions(query, db.session.bind.dialect.name)
    if after_sku is not None:
        conditions.append(Product.sku > after_sku)
    if query.category_code is not None and not (query.search or query.group_code or query.skus is not None):
        conditions.append(Product.sku <= category_page_end(query, after_sku, limit))
    return await db.scalars(select(Product).where(and_(True, *conditions)).order_by(Product.sku).limit(limit))


async def count_products(db: RequestDatabase, query: ProductQuery) -> int:
    conditions = product_conditions(query, db.session.bind.dialect.name)
    return await db.scalar(select(func.count()).select_from(Product).where(and_(True, *conditions)))


async def root_categories(db: RequestDatabase) -> Sequence[Category]:
    return await db.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.code))


async def all_groups(db: RequestDatabase) -> Sequence[ProductGroup]:
    return await db.scalars(select(ProductGroup).order_by(ProductGroup.code))
