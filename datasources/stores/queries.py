"""Store reads computed in SQL: the overlay (assortment, price, content) applied to the master catalog.

Every store read is one statement over the master catalog and the store's
overlay tables; nothing is copied and nothing is loaded into Python first, so
a change to the master catalog shows in every store on the next read.

Price, per product, in the store's currency (all integer arithmetic, the same
on SQLite and PostgreSQL):
- the most specific matching rule wins: SKU, then GROUP, then the deepest
  CATEGORY on the product's category path, then ALL; with no rule, the list price;
- within a rule a fixed price wins over a markup; a markup prices the list
  price: round_half_up(list_minor * (10000 + markup_bp) / 10000);
- when several GROUP rules match, the lowest resulting price wins;
- a winning rule that yields no price (a markup on a product with no list
  price in the store's currency) leaves the product out of the store, as does
  having neither a rule nor a list price.

Shape of the statement: the store id is a bound parameter, so the parts of
the overlay that do not depend on the product (the categories a store
includes or excludes, its included and excluded SKUs, whether it includes
anything) are uncorrelated subqueries that both databases evaluate once per
statement; only group membership and the price rules are looked up per
product, through indexes. The page walks the products in SKU order (keyset)
and stops after `limit` products of the store, so its cost depends on the
share of the catalog the store sells, not on the catalog's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Subquery

from datasources.catalog.models import Category, Product, ProductGroupMember, ProductPrice
from datasources.catalog.queries import ProductQuery, product_conditions
from datasources.db import RequestDatabase
from datasources.stores.models import (
    MARKUP_SCALE,
    Store,
    StoreAssortmentRule,
    StorePriceRule,
    StoreProductContent,
)

# "A rule matched but gives no price": larger than any price, so MIN() over GROUP rules prefers a real one.
NO_PRICE = literal_column("9223372036854775807", BigInteger)

ProductCategory = aliased(Category, name="product_category")
ListPrice = aliased(ProductPrice, name="list_price")
Content = aliased(StoreProductContent, name="content")


def _rule_price(rule: Any) -> ColumnElement[int]:
    """What one price rule makes of the product's list price (NO_PRICE when a markup has nothing to mark up)."""
    return case(
        (rule.fixed_minor.is_not(None), rule.fixed_minor),
        (ListPrice.amount_minor.is_(None), NO_PRICE),
        else_=(ListPrice.amount_minor * (MARKUP_SCALE + rule.markup_bp) + MARKUP_SCALE // 2) // MARKUP_SCALE,
    )


def category_rules(store_id: Any) -> Subquery:
    """Per category, the store's deepest CATEGORY rule at or above it: computed once per statement.

    Every store page outer-joins it on the product's category (`category_rule`).
    """
    rule = aliased(StorePriceRule, name="crule")
    rule_category = aliased(Category, name="crule_category")
    below = aliased(Category, name="crule_below")
    ranked = (
        select(
            below.id.label("category_id"),
            rule.fixed_minor,
            rule.markup_bp,
            func.row_number().over(partition_by=below.id, order_by=rule_category.depth.desc()).label("rank"),
        )
        .select_from(rule)
        .join(rule_category, rule_category.id == rule.target_id)
        .join(below, below.path.like(rule_category.path.concat("%")))
        .where(rule.store_id == store_id, rule.scope == "CATEGORY")
        .subquery("ranked_category_rules")
    )
    return (
        select(ranked.c.category_id, ranked.c.fixed_minor, ranked.c.markup_bp)
        .where(ranked.c.rank == 1)
        .subquery("category_rule")
    )


def price_minor(store_id: Any, category_rule: Subquery) -> ColumnElement[int | None]:
    """The product's price in the store (minor units), or NULL when it has none there.

    `category_rule` is category_rules(store_id), which the statement must outer-join on the product's category.
    """
    sku_rule = aliased(StorePriceRule, name="sku_rule")
    by_sku = (
        select(_rule_price(sku_rule))
        .where(sku_rule.store_id == store_id, sku_rule.scope == "SKU", sku_rule.target_id == Product.id)
        .limit(1)
        .scalar_subquery()
    )
    group_rule = aliased(StorePriceRule, name="group_rule")
    member = aliased(ProductGroupMember, name="member")
    by_group = (
        select(func.min(_rule_price(group_rule)))
        .select_from(member)
        .join(
            group_rule,
            and_(
                group_rule.store_id == store_id,
                group_rule.scope == "GROUP",
                group_rule.target_id == member.group_id,
            ),
        )
        .where(member.product_id == Product.id)
        .scalar_subquery()
    )
    by_category = case((category_rule.c.category_id.is_(None), None), else_=_rule_price(category_rule.c))
    all_rule = aliased(StorePriceRule, name="all_rule")
    by_all = (
        select(_rule_price(all_rule))
        .where(all_rule.store_id == store_id, all_rule.scope == "ALL")
        .limit(1)
        .scalar_subquery()
    )
    return func.nullif(
        func.coalesce(by_sku, by_group, by_category, by_all, ListPrice.amount_minor, NO_PRICE), NO_PRICE
    )


def _named(store_id: Any, mode: str) -> ColumnElement[bool]:
    """The product is named by one of the store's assortment rules of this mode (INCLUDE or EXCLUDE)."""
    prefix = mode.lower()
    by_sku = aliased(StoreAssortmentRule, name=f"{prefix}_sku")
    by_group = aliased(StoreAssortmentRule, name=f"{prefix}_group")
    member = aliased(ProductGroupMember, name=f"{prefix}_member")
    by_category = aliased(StoreAssortmentRule, name=f"{prefix}_category")
    rule_category = aliased(Category, name=f"{prefix}_rule_category")
    below = aliased(Category, name=f"{prefix}_below")
    # Evaluated once per statement: the store's SKUs, and every category at or below a named one.
    skus = select(by_sku.target_id).where(
        by_sku.store_id == store_id, by_sku.mode == mode, by_sku.scope == "SKU"
    )
    categories = (
        select(below.id)
        .select_from(by_category)
        .join(rule_category, rule_category.id == by_category.target_id)
        .join(below, below.path.like(rule_category.path.concat("%")))
        .where(by_category.store_id == store_id, by_category.mode == mode, by_category.scope == "CATEGORY")
    )
    # Per product: its groups (few) against the store's rules, by index.
    groups = (
        select(literal(1))
        .select_from(member)
        .join(
            by_group,
            and_(
                by_group.store_id == store_id,
                by_group.mode == mode,
                by_group.scope == "GROUP",
                by_group.target_id == member.group_id,
            ),
        )
        .where(member.product_id == Product.id)
        .exists()
    )
    # A product without a category must be FALSE here, not NULL (NOT NULL would drop it from the store).
    in_categories = and_(Product.category_id.is_not(None), Product.category_id.in_(categories))
    return or_(Product.id.in_(skus), in_categories, groups)


def in_assortment(store_id: Any) -> ColumnElement[bool]:
    """Empty includes mean the whole catalog; exclusions are taken out of what the inclusions give."""
    any_include = aliased(StoreAssortmentRule, name="any_include")
    has_includes = (
        select(literal(1)).where(any_include.store_id == store_id, any_include.mode == "INCLUDE").exists()
    )
    return and_(or_(~has_includes, _named(store_id, "INCLUDE")), ~_named(store_id, "EXCLUDE"))


STORE_ID = bindparam("store_id", type_=Integer)
"""Every store statement takes the store's id as this parameter: `{"store_id": …}`."""


@lru_cache(maxsize=16)
def _store_products_base(kind: str, search_on_sqlite: bool) -> Select[Any]:
    """The statement shape, built once: building it costs far more than running it (many aliases)."""
    category_rule = category_rules(STORE_ID)
    price = price_minor(STORE_ID, category_rule)
    if kind == "rows":
        selected: tuple[Any, ...] = (
            Store.id,
            Product,
            price.label("price_minor"),
            ListPrice.amount_minor.label("list_minor"),
            func.coalesce(Content.name, Product.name).label("name"),
            func.coalesce(Content.description, Product.description).label("description"),
        )
    elif kind == "page":
        # A page's columns only: loading 51 `Product` entities through the ORM cost 0.87 ms of CPU
        # a page, these columns 0.30 ms (docs/performance.md, "Store page, uncached").
        selected = (
            Store.id,
            Product.id,
            Product.sku,
            Product.category_id,
            price.label("price_minor"),
            ListPrice.amount_minor.label("list_minor"),
            func.coalesce(Content.name, Product.name).label("name"),
            func.coalesce(Content.description, Product.description).label("description"),
        )
    elif kind == "count":
        selected = (func.count().label("n"),)
    else:
        selected = (literal(1),)
    active = Product.status == "ACTIVE"
    if search_on_sqlite:
        # A search is driven by the text index's matches; SQLite would otherwise walk the whole
        # catalog in SKU order and probe each product. (A function of the column uses no index.)
        active = func.lower(Product.status) == "active"
    # "Has a price in the store". With a list price in the store's currency every rule that can
    # win prices the product, so the price needs computing only for the products without one: the
    # OR stops there for nearly every product (both databases evaluate OR left to right and stop at
    # the first true), and the per-product rule lookups (three correlated subqueries) run for the
    # few others. The same products as `price IS NOT NULL`; the count of a store's products, which
    # walks them all, took 8 ms at 5,000 products with those lookups for each.
    priced = or_(ListPrice.amount_minor.is_not(None), price.is_not(None))
    statement = (
        select(*selected)
        .select_from(Product)
        .join(Store, Store.id == STORE_ID)
        .outerjoin(ProductCategory, ProductCategory.id == Product.category_id)
        .outerjoin(category_rule, category_rule.c.category_id == Product.category_id)
        .outerjoin(ListPrice, and_(ListPrice.product_id == Product.id, ListPrice.currency == Store.currency))
        .where(active, in_assortment(STORE_ID), priced)
    )
    if kind in ("rows", "page"):
        statement = statement.outerjoin(
            Content, and_(Content.store_id == Store.id, Content.product_id == Product.id)
        )
    return statement


def store_products(query: ProductQuery | None, dialect: str, kind: str = "rows") -> Select[Any]:
    """One store's products (the store id is the STORE_ID parameter) with the overlay applied, unordered.

    `kind` "rows" selects (store id, the master product, price, list price, name, description);
    "page" the same with the product's id, SKU and category instead of its entity; "count" a count;
    "any" a constant, for EXISTS.
    """
    search_on_sqlite = bool(query is not None and query.search and dialect == "sqlite")
    statement = _store_products_base(kind, search_on_sqlite)
    if query is not None:
        statement = statement.where(*product_conditions(query, dialect))
    return statement


AFTER_SKU = bindparam("after_sku", type_=Product.sku.type)


@lru_cache(maxsize=256)
def _store_page_statement(query: ProductQuery, dialect: str, limit: int, keyset: bool) -> Select[Any]:
    """A store page's whole statement, built once per filter, size and dialect.

    SQLAlchemy finds a statement's compiled form by a cache key it walks the statement to make,
    and remembers the key on the statement object: a statement built anew for every page (the
    store's overlay has dozens of aliased subqueries) paid that walk every time, 1 to 2 ms a page.
    The store and the keyset's SKU are parameters; a filter's values are part of the key here.
    """
    statement = store_products(query, dialect, "page")
    if keyset:
        statement = statement.where(Product.sku > AFTER_SKU)
    return statement.order_by(Product.sku).limit(limit)


async def store_product_page(
    db: RequestDatabase, store_id: int, query: ProductQuery, *, limit: int, after_sku: str | None
) -> Sequence[Any]:
    """A keyset page of one store's products in SKU order: one statement."""
    statement = _store_page_statement(query, db.session.bind.dialect.name, limit, after_sku is not None)
    params: dict[str, Any] = {"store_id": store_id}
    if after_sku is not None:
        params["after_sku"] = after_sku
    return await db.all(statement, params)


async def count_store_products(db: RequestDatabase, store_id: int, query: ProductQuery) -> int:
    statement = store_products(query, db.session.bind.dialect.name, "count")
    return await db.scalar(statement, {"store_id": store_id})


async def store_products_by_skus(db: RequestDatabase, store_id: int, skus: Sequence[str]) -> Sequence[Any]:
    """Named products of one store (the store_product loader's batch, per store)."""
    statement = store_products(None, db.session.bind.dialect.name).where(Product.sku.in_(skus))
    return await db.all(statement, {"store_id": store_id})


@lru_cache(maxsize=1)
def _root_categories_statement() -> Select[Any]:
    root = aliased(Category, name="root")
    holds_product = (
        _store_products_base("any", False).where(ProductCategory.path.like(root.path.concat("%"))).exists()
    )
    return select(root).where(root.parent_id.is_(None), holds_product).order_by(root.code)


async def store_root_categories(db: RequestDatabase, store_id: int) -> Sequence[Category]:
    """Root categories holding at least one product of the store."""
    return await db.scalars(_root_categories_statement(), {"store_id": store_id})
