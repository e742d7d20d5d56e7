"""Reseller stores: reads through the overlay, and the store mutations ("Manage reseller stores")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog import writes as catalog_writes
from datasources.catalog.models import Category, ProductGroup
from datasources.catalog.queries import ProductQuery
from datasources.db import RequestDatabase
from datasources.money import MAX_AMOUNT, to_minor
from datasources.pagination import Page, cut_page
from datasources.partners.models import HubPolicy, Reseller
from datasources.stores import writes
from datasources.stores.counts import StoreCounts
from datasources.stores.loaders import StoreProductRow, store_page_row
from datasources.stores.models import MARKUP_SCALE, Store
from datasources.stores.queries import count_store_products, store_product_page
from resolvers.access import Viewer, can_manage_store, can_see_store
from resolvers.catalog import MAX_FILTER_SKUS, ProductFilterData
from resolvers.errors import UserErrors, check_cursor, check_list_size, check_page_size, forbidden

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
NAME_MAX = 200
PRODUCT_NAME_MAX = 300
TEXT_KEY_MAX = 100
TEXT_VALUE_MAX = 20_000
MAX_TEXTS = 100
MAX_ASSORTMENT_ENTRIES = 10_000
MAX_PRICE_RULES = 1_000
MAX_MARKUP_PERCENT = Decimal(1000)
STATUS_CHANGES = {"DRAFT": {"OPEN", "CLOSED"}, "OPEN": {"CLOSED"}, "CLOSED": {"OPEN"}}
"""Which status a store may move to from each status (staying put is no change)."""


# ---------------------------------------------------------------- inputs


@dataclass
class CreateStoreData:
    reseller_code: str
    slug: str
    name: str
    currency: str | None = None


@dataclass
class UpdateStoreData:
    name: str | None = None
    status: str | None = None
    texts: list[tuple[str, str]] | None = None


@dataclass
class AssortmentData:
    include_category_codes: list[str] = field(default_factory=list)
    include_group_codes: list[str] = field(default_factory=list)
    include_skus: list[str] = field(default_factory=list)
    exclude_category_codes: list[str] = field(default_factory=list)
    exclude_group_codes: list[str] = field(default_factory=list)
    exclude_skus: list[str] = field(default_factory=list)


@dataclass
class PriceRuleData:
    scope: str
    target: str | None = None
    markup_percent: Decimal | None = None
    fixed_price: Decimal | None = None


@dataclass
class StoreResult:
    errors: UserErrors = field(default_factory=UserErrors)
    store: Store | None = None


# ---------------------------------------------------------------- reads


def is_visible(store: Store | None, reseller: Reseller | None, viewer: Viewer | None) -> bool:
    return store is not None and can_see_store(
        viewer, store.reseller_id, store.status, reseller.status if reseller else None
    )


def store_product_query(product_filter: ProductFilterData | None) -> ProductQuery:
    """The master catalog's filter, over ACTIVE products only (a store never shows any other)."""
    f = product_filter or ProductFilterData()
    if f.skus is not None:
        check_list_size(f.skus, "filter.skus", MAX_FILTER_SKUS)
    return ProductQuery(
        search=f.search or None,
        category_code=f.category_code,
        group_code=f.group_code,
        skus=tuple(f.skus) if f.skus is not None else None,
        status=f.status,
        statuses=("ACTIVE",),
    )


async def store_products_page(
    db: RequestDatabase, store_id: int, query: ProductQuery, first: int | None, after: str | None
) -> Page[StoreProductRow]:
    """A keyset page of a store's products in SKU order, priced and described through the overlay."""
    size = check_page_size(first)
    key = check_cursor(after, "store-product")
    after_sku = str(key[0]) if key else None
    rows = await store_product_page(db, store_id, query, limit=size + 1, after_sku=after_sku)
    return cut_page(
        [store_page_row(r) for r in rows],
        size,
        after_given=after is not None,
        kind="store-product",
        key_of=lambda p: [p.sku],
    )


async def store_products_count(
    db: RequestDatabase, counts: StoreCounts, store_id: int, query: ProductQuery
) -> int:
    """How many products of the store match, over all pages: kept until the catalog or the stores change."""
    return await counts.count(db, (store_id, query), lambda: count_store_products(db, store_id, query))


# ---------------------------------------------------------------- mutations


async def _manageable_store(
    session: AsyncSession, viewer: Viewer | None, slug: str, errors: UserErrors
) -> tuple[Store | None, Reseller | None]:
    """The store to change, or a NOT_FOUND userError; FORBIDDEN when it is another reseller's."""
    store = await writes.store_by_slug(session, slug)
    if store is None:
        errors.add("NOT_FOUND", f"No store has the slug {slug}.", "slug")
        return None, None
    if not can_manage_store(viewer, store.reseller_id):
        raise forbidden("You may change only the stores of your own reseller.")
    reseller = await session.get(Reseller, store.reseller_id)
    return store, reseller


async def create_store(
    session: AsyncSession, viewer: Viewer | None, data: CreateStoreData, policy: HubPolicy
) -> StoreResult:
    """A new DRAFT store of an APPROVED reseller."""
    result = StoreResult()
    errors = result.errors
    reseller = await session.scalar(select(Reseller).where(Reseller.code == data.reseller_code))
    if reseller is None:
        errors.add("NOT_FOUND", f"No reseller has the code {data.reseller_code}.", "input", "resellerCode")
    elif not can_manage_store(viewer, reseller.id):
        raise forbidden("You may create stores only for your own reseller.")
    elif reseller.status != "APPROVED":
        errors.add(
            "INVALID_STATE",
            f"Reseller {reseller.code} is {reseller.status}: only an APPROVED reseller can have stores.",
            "input",
            "resellerCode",
        )
    slug = data.slug.strip()
    if not SLUG_PATTERN.match(slug):
        errors.add(
            "INVALID_SLUG",
            "A slug is 1 to 64 lower-case letters, digits and hyphens, starting and ending with a letter or digit.",
            "input",
            "slug",
        )
    elif await writes.slug_taken(session, slug):
        errors.add("DUPLICATE", f"A store has the slug {slug} already.", "input", "slug")
    name = _check_name(data.name, errors, ("input", "name"))
    currency = data.currency or policy.default_currency
    if currency not in policy.currencies:
        errors.add(
            "UNKNOWN_CURRENCY",
            f"{currency} is not one of the hub's currencies ({', '.join(policy.currencies)}).",
            "input",
            "currency",
        )
    if errors or reseller is None:
        return result
    store = Store(slug=slug, name=name, reseller_id=reseller.id, currency=currency, status="DRAFT")
    session.add(store)
    await session.flush()
    result.store = store
    return result


def _check_name(value: str, errors: UserErrors, path: tuple[str, ...]) -> str:
    name = value.strip()
    if not name:
        errors.add("REQUIRED", "A store needs a name.", *path)
    elif len(name) > NAME_MAX:
        errors.add("TOO_LONG", f"A name has at most {NAME_MAX} characters.", *path)
    return name


async def update_store(
    session: AsyncSession, viewer: Viewer | None, slug: str, data: UpdateStoreData
) -> StoreResult:
    """Rename a store, change its status (DRAFT → OPEN/CLOSED, OPEN ↔ CLOSED) or replace its texts."""
    result = StoreResult()
    errors = result.errors
    store, reseller = await _manageable_store(session, viewer, slug, errors)
    if store is None:
        return result
    name = _check_name(data.name, errors, ("input", "name")) if data.name is not None else None
    if data.status is not None and data.status != store.status:
        if data.status not in STATUS_CHANGES.get(store.status, set()):
            errors.add(
                "INVALID_STATE",
                f"A {store.status} store cannot become {data.status}.",
                "input",
                "status",
            )
        elif data.status == "OPEN" and (reseller is None or reseller.status != "APPROVED"):
            errors.add("INVALID_STATE", "Only the store of an APPROVED reseller can open.", "input", "status")
    texts = _check_texts(data.texts, errors) if data.texts is not None else None
    if errors:
        return result
    if name is not None:
        store.name = name
    if data.status is not None:
        store.status = data.status
    if texts is not None:
        await writes.replace_texts(session, store.id, texts)
    await session.flush()
    result.store = store
    return result


def _check_texts(texts: Sequence[tuple[str, str]], errors: UserErrors) -> list[tuple[str, str]]:
    if len(texts) > MAX_TEXTS:
        errors.add("TOO_MANY", f"A store has at most {MAX_TEXTS} texts.", "input", "texts")
        return []
    seen: set[str] = set()
    checked = []
    for index, (raw_key, value) in enumerate(texts):
        key = raw_key.strip()
        if not key:
            errors.add("REQUIRED", "A text needs a key.", "input", "texts", index, "key")
        elif len(key) > TEXT_KEY_MAX:
            errors.add(
                "TOO_LONG", f"A key has at most {TEXT_KEY_MAX} characters.", "input", "texts", index, "key"
            )
        elif key in seen:
            errors.add("DUPLICATE", f"The key {key} appears twice.", "input", "texts", index, "key")
        if len(value) > TEXT_VALUE_MAX:
            errors.add(
                "TOO_LONG",
                f"A text has at most {TEXT_VALUE_MAX} characters.",
                "input",
                "texts",
                index,
                "value",
            )
        seen.add(key)
        checked.append((key, value))
    return checked


ASSORTMENT_FIELDS = (
    ("INCLUDE", "CATEGORY", "includeCategoryCodes", "include_category_codes"),
    ("INCLUDE", "GROUP", "includeGroupCodes", "include_group_codes"),
    ("INCLUDE", "SKU", "includeSkus", "include_skus"),
    ("EXCLUDE", "CATEGORY", "excludeCategoryCodes", "exclude_category_codes"),
    ("EXCLUDE", "GROUP", "excludeGroupCodes", "exclude_group_codes"),
    ("EXCLUDE", "SKU", "excludeSkus", "exclude_skus"),
)


async def _target_ids(session: AsyncSession, scope: str, keys: Sequence[str]) -> dict[str, int]:
    """Ids of categories or groups by code, or of products by SKU."""
    unique = sorted(set(keys))
    if scope == "CATEGORY":
        return await catalog_writes.ids_by_code(session, Category, unique)
    if scope == "GROUP":
        return await catalog_writes.ids_by_code(session, ProductGroup, unique)
    return await catalog_writes.product_ids_by_sku(session, unique)


async def set_assortment(
    session: AsyncSession, viewer: Viewer | None, slug: str, data: AssortmentData
) -> StoreResult:
    """Replace what a store sells: inclusions (empty: the whole catalog) minus exclusions."""
    result = StoreResult()
    errors = result.errors
    store, _ = await _manageable_store(session, viewer, slug, errors)
    if store is None:
        return result
    rules: list[tuple[str, str, int]] = []
    for mode, scope, name, attribute in ASSORTMENT_FIELDS:
        keys: list[str] = getattr(data, attribute)
        if len(keys) > MAX_ASSORTMENT_ENTRIES:
            errors.add("TOO_MANY", f"`{name}` holds at most {MAX_ASSORTMENT_ENTRIES} entries.", "input", name)
            continue
        ids = await _target_ids(session, scope, keys)
        for index, key in enumerate(keys):
            if key not in ids:
                what = "product has the SKU" if scope == "SKU" else f"{scope.lower()} has the code"
                errors.add("NOT_FOUND", f"No {what} {key}.", "input", name, index)
            else:
                rules.append((mode, scope, ids[key]))
    if errors:
        return result
    await writes.replace_assortment(session, store.id, rules)
    result.store = store
    return result


async def set_price_rules(
    session: AsyncSession, viewer: Viewer | None, slug: str, rules: Sequence[PriceRuleData]
) -> StoreResult:
    """Replace a store's price rules (see datasources/stores/queries.py for how they price)."""
    result = StoreResult()
    errors = result.errors
    store, _ = await _manageable_store(session, viewer, slug, errors)
    if store is None:
        return result
    if len(rules) > MAX_PRICE_RULES:
        errors.add("TOO_MANY", f"A store has at most {MAX_PRICE_RULES} price rules.", "rules")
        return result
    ids = {
        scope: await _target_ids(session, scope, [r.target for r in rules if r.scope == scope and r.target])
        for scope in ("CATEGORY", "GROUP", "SKU")
    }
    seen: dict[tuple[str, str | None], int] = {}
    checked: list[tuple[str, int | None, int | None, int | None]] = []
    for index, rule in enumerate(rules):
        target_id = _check_target(rule, index, ids, seen, errors)
        markup_bp = _check_markup(rule.markup_percent, index, errors)
        fixed_minor = _check_fixed(rule.fixed_price, store.currency, index, errors)
        if (rule.markup_percent is None) == (rule.fixed_price is None):
            errors.add(
                "INVALID_RULE",
                "A rule has either markupPercent or fixedPrice, not both or neither.",
                "rules",
                index,
            )
        checked.append((rule.scope, target_id, markup_bp, fixed_minor))
    if errors:
        return result
    await writes.replace_price_rules(session, store.id, checked)
    result.store = store
    return result


def _check_target(
    rule: PriceRuleData,
    index: int,
    ids: dict[str, dict[str, int]],
    seen: dict[tuple[str, str | None], int],
    errors: UserErrors,
) -> int | None:
    target = rule.target or None
    if rule.scope == "ALL":
        if target is not None:
            errors.add("INVALID_TARGET", "An ALL rule has no target.", "rules", index, "target")
        target_id = None
    elif target is None:
        errors.add("REQUIRED", f"A {rule.scope} rule needs a target.", "rules", index, "target")
        return None
    elif target not in ids[rule.scope]:
        what = "product has the SKU" if rule.scope == "SKU" else f"{rule.scope.lower()} has the code"
        errors.add("NOT_FOUND", f"No {what} {target}.", "rules", index, "target")
        return None
    else:
        target_id = ids[rule.scope][target]
    if (rule.scope, target) in seen:
        errors.add(
            "DUPLICATE",
            f"Rules {seen[(rule.scope, target)]} and {index} have the same scope and target.",
            "rules",
            index,
            "target",
        )
    seen[(rule.scope, target)] = index
    return target_id


def _check_markup(markup: Decimal | None, index: int, errors: UserErrors) -> int | None:
    if markup is None:
        return None
    if not markup.is_finite() or markup <= -100 or markup > MAX_MARKUP_PERCENT:
        errors.add(
            "INVALID_MARKUP",
            f"A markup is above -100 and at most {MAX_MARKUP_PERCENT} percent.",
            "rules",
            index,
            "markupPercent",
        )
        return None
    basis_points = markup * (MARKUP_SCALE // 100)
    if basis_points != basis_points.to_integral_value():
        errors.add(
            "INVALID_MARKUP", "A markup has at most two decimal places.", "rules", index, "markupPercent"
        )
        return None
    return int(basis_points)


def _check_fixed(amount: Decimal | None, currency: str, index: int, errors: UserErrors) -> int | None:
    if amount is None:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        errors.add(
            "INVALID_AMOUNT", f"A fixed price is from 0 to {MAX_AMOUNT}.", "rules", index, "fixedPrice"
        )
        return None
    try:
        return to_minor(amount, currency)
    except ValueError as error:
        errors.add("INVALID_AMOUNT", str(error), "rules", index, "fixedPrice")
        return None


async def set_product_content(
    session: AsyncSession,
    viewer: Viewer | None,
    slug: str,
    sku: str,
    name: str | None,
    description: str | None,
) -> StoreResult:
    """A store's own name and description for a product; null falls back to the master's."""
    result = StoreResult()
    errors = result.errors
    store, _ = await _manageable_store(session, viewer, slug, errors)
    if store is None:
        return result
    product_ids = await catalog_writes.product_ids_by_sku(session, [sku])
    if sku not in product_ids:
        errors.add("NOT_FOUND", f"No product has the SKU {sku}.", "sku")
    if name is not None:
        name = name.strip()
        if not name:
            errors.add(
                "REQUIRED", "A name cannot be blank: leave it out to show the master's.", "input", "name"
            )
        elif len(name) > PRODUCT_NAME_MAX:
            errors.add("TOO_LONG", f"A name has at most {PRODUCT_NAME_MAX} characters.", "input", "name")
    if errors:
        return result
    await writes.set_product_content(session, store.id, product_ids[sku], name, description)
    result.store = store
    return result
