"""The master catalog's queries and upserts ("Set up online catalog")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog import writes
from datasources.catalog.models import Category, Product, ProductGroup
from datasources.catalog.queries import ProductQuery, count_products, product_page
from datasources.db import RequestDatabase
from datasources.pagination import Page, cut_page
from resolvers.access import Viewer
from resolvers.catalog_checks import ProductData, check_products
from resolvers.errors import UserErrors, check_cursor, check_list_size, check_page_size

MAX_UPSERT_ROWS = 1000
MAX_FILTER_SKUS = 500
MAX_GROUP_SKUS = 10_000
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# ---------------------------------------------------------------- inputs


@dataclass
class CategoryData:
    code: str
    name: str
    parent_code: str | None = None


@dataclass
class ProductGroupData:
    code: str
    name: str
    skus: list[str] | None = None


@dataclass
class ProductFilterData:
    search: str | None = None
    category_code: str | None = None
    group_code: str | None = None
    skus: list[str] | None = None
    status: str | None = None


@dataclass
class UpsertResult:
    errors: UserErrors = field(default_factory=UserErrors)
    codes: list[str] = field(default_factory=list)
    rows: list = field(default_factory=list)  # type: ignore[type-arg]
    """The rows written, in input order (filled in by the caller that needs them)."""


# ---------------------------------------------------------------- reads


def visible_statuses(viewer: Viewer | None) -> tuple[str, ...] | None:
    """Staff see every product; everyone else never sees a DRAFT."""
    return None if viewer is not None and viewer.is_staff else ("ACTIVE", "DISCONTINUED")


def product_query(
    viewer: Viewer | None, product_filter: ProductFilterData | None, **scope: str | None
) -> ProductQuery:
    f = product_filter or ProductFilterData()
    if f.skus is not None:
        check_list_size(f.skus, "filter.skus", MAX_FILTER_SKUS)
    return ProductQuery(
        search=f.search or None,
        category_code=scope.get("category_code") or f.category_code,
        group_code=scope.get("group_code") or f.group_code,
        skus=tuple(f.skus) if f.skus is not None else None,
        status=f.status,
        statuses=visible_statuses(viewer),
    )


async def products_page(
    db: RequestDatabase, query: ProductQuery, first: int | None, after: str | None
) -> Page[Product]:
    """A keyset page of products in SKU order."""
    size = check_page_size(first)
    key = check_cursor(after, "product")
    after_sku = str(key[0]) if key else None
    rows = await product_page(db, query, limit=size + 1, after_sku=after_sku)
    return cut_page(rows, size, after_given=after is not None, kind="product", key_of=lambda p: [p.sku])


async def products_count(db: RequestDatabase, query: ProductQuery) -> int:
    return await count_products(db, query)


def is_visible(product: Product | None, viewer: Viewer | None) -> bool:
    statuses = visible_statuses(viewer)
    return product is not None and (statuses is None or product.status in statuses)


# ---------------------------------------------------------------- categories


async def upsert_categories(session: AsyncSession, rows: Sequence[CategoryData]) -> UpsertResult:
    """Create or rename categories and move them in the tree; refuse cycles. Writes nothing on any error."""
    result = UpsertResult()
    errors = result.errors
    if len(rows) > MAX_UPSERT_ROWS:
        errors.add("TOO_MANY", f"At most {MAX_UPSERT_ROWS} categories per call.", "input")
        return result
    existing = {c.code: c for c in await writes.all_categories(session)}
    code_of_id = {c.id: code for code, c in existing.items()}
    parent_of = {code: code_of_id.get(c.parent_id) for code, c in existing.items()}
    batch_codes = {r.code.strip() for r in rows}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        code = row.code.strip()
        if not CODE_PATTERN.match(code):
            errors.add(
                "INVALID_CODE",
                "A category code is 1 to 64 letters, digits, dots, hyphens or underscores.",
                "input",
                index,
                "code",
            )
            continue
        if code in seen:
            errors.add(
                "DUPLICATE",
                f"Category {code} appears twice (rows {seen[code]} and {index}).",
                "input",
                index,
                "code",
            )
            continue
        seen[code] = index
        if not row.name.strip():
            errors.add("REQUIRED", "A category needs a name.", "input", index, "name")
        parent_code = (row.parent_code or "").strip() or None
        if parent_code is not None and parent_code not in existing and parent_code not in batch_codes:
            errors.add("NOT_FOUND", f"No category has the code {parent_code}.", "input", index, "parentCode")
            continue
        parent_of[code] = parent_code
    if errors:
        return result
    for code, index in seen.items():
        if _has_cycle(code, parent_of):
            errors.add(
                "CYCLE",
                f"Category {code} would become its own ancestor.",
                "input",
                index,
                "parentCode",
            )
    if errors:
        return result

    for code, index in seen.items():
        row = rows[index]
        category = existing.get(code)
        if category is None:
            category = Category(code=code, name=row.name.strip(), path="/", depth=0)
            session.add(category)
            existing[code] = category
        else:
            category.name = row.name.strip()
    await session.flush()
    for code in seen:
        parent_code = parent_of[code]
        existing[code].parent_id = existing[parent_code].id if parent_code else None
    _recompute_paths(existing)
    await session.flush()
    result.codes = list(seen)
    return result


def _has_cycle(code: str, parent_of: dict[str, str | None]) -> bool:
    seen = {code}
    current = parent_of.get(code)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def _recompute_paths(categories: dict[str, Category]) -> None:
    by_id = {c.id: c for c in categories.values()}
    children: dict[int | None, list[Category]] = {}
    for category in categories.values():
        children.setdefault(category.parent_id, []).append(category)
    stack = [(c, f"/{c.id}/", 0) for c in children.get(None, [])]
    while stack:
        category, path, depth = stack.pop()
        if category.path != path:
            category.path = path
        if category.depth != depth:
            category.depth = depth
        stack.extend((child, f"{path}{child.id}/", depth + 1) for child in children.get(category.id, []))
    assert all(c.path.endswith(f"/{c.id}/") for c in by_id.values()), "category tree has a cycle"


# ---------------------------------------------------------------- products


async def validate_products(
    session: AsyncSession,
    rows: Sequence[ProductData],
    currencies: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
) -> tuple[list[writes.ProductWrite | None], UserErrors]:
    """Check product rows against the catalog; answers one write (or None when invalid) per row.

    `labels` names each row in the error paths (row indexes by default; line numbers for imports).
    """
    category_ids = await writes.ids_by_code(
        session, Category, sorted({r.category_code for r in rows if r.category_code})
    )
    group_ids = await writes.ids_by_code(
        session, ProductGroup, sorted({c for r in rows for c in r.group_codes or ()})
    )
    return check_products(rows, category_ids, group_ids, currencies, labels=labels)


async def upsert_products(
    session: AsyncSession, rows: Sequence[ProductData], currencies: Sequence[str]
) -> UpsertResult:
    """Create or update products by SKU. Writes nothing when any row is bad."""
    result = UpsertResult()
    if len(rows) > MAX_UPSERT_ROWS:
        result.errors.add("TOO_MANY", f"At most {MAX_UPSERT_ROWS} products per call.", "input")
        return result
    product_writes, errors = await validate_products(session, rows, currencies)
    if errors:
        result.errors = errors
        return result
    await writes.upsert_products(session, [w for w in product_writes if w is not None])
    result.codes = [w.sku for w in product_writes if w is not None]
    return result


# ---------------------------------------------------------------- product groups


async def upsert_product_groups(session: AsyncSession, rows: Sequence[ProductGroupData]) -> UpsertResult:
    """Create or rename product groups; `skus`, when given, replaces the members."""
    result = UpsertResult()
    errors = result.errors
    if len(rows) > MAX_UPSERT_ROWS:
        errors.add("TOO_MANY", f"At most {MAX_UPSERT_ROWS} product groups per call.", "input")
        return result
    all_skus = sorted({s for r in rows for s in r.skus or ()})
    product_ids = await writes.product_ids_by_sku(session, all_skus)
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        code = row.code.strip()
        if not CODE_PATTERN.match(code):
            errors.add(
                "INVALID_CODE",
                "A group code is 1 to 64 letters, digits, dots, hyphens or underscores.",
                "input",
                index,
                "code",
            )
        elif code in seen:
            errors.add("DUPLICATE", f"Group {code} appears twice.", "input", index, "code")
        seen[code] = index
        if not row.name.strip():
            errors.add("REQUIRED", "A product group needs a name.", "input", index, "name")
        if row.skus is not None and len(row.skus) > MAX_GROUP_SKUS:
            errors.add(
                "TOO_MANY", f"A group holds at most {MAX_GROUP_SKUS} SKUs per call.", "input", index, "skus"
            )
            continue
        for j, sku in enumerate(row.skus or ()):
            if sku not in product_ids:
                errors.add("NOT_FOUND", f"No product has the SKU {sku}.", "input", index, "skus", j)
    if errors:
        return result
    groups = await writes.groups_by_code(session, list(seen))
    for code, index in seen.items():
        row = rows[index]
        group = groups.get(code)
        if group is None:
            group = ProductGroup(code=code, name=row.name.strip())
            session.add(group)
            groups[code] = group
        else:
            group.name = row.name.strip()
    await session.flush()
    for code, index in seen.items():
        skus = rows[index].skus
        if skus is not None:
            await writes.replace_group_members(session, groups[code].id, [product_ids[s] for s in skus])
    result.codes = list(seen)
    return result


async def rows_by_codes(session: AsyncSession, model: type, column: str, codes: Sequence[str]) -> list:
    """The rows an upsert touched, in the order of its input."""
    key = getattr(model, column)
    rows = {getattr(r, column): r for r in (await session.scalars(select(model).where(key.in_(codes)))).all()}
    return [rows[c] for c in codes if c in rows]
