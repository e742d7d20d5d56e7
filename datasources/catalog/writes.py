"""Bulk writes of the master catalog, shared by the upsert mutations and `hub catalog import`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import (
    Category,
    Product,
    ProductAttribute,
    ProductGroup,
    ProductGroupMember,
    ProductPrice,
)
from datasources.loading import chunks


@dataclass
class ProductWrite:
    """One validated product row. A list left as None keeps what is stored; a list replaces it."""

    sku: str
    name: str
    description: str | None
    status: str
    category_id: int | None
    prices_minor: dict[str, int] | None = None
    attributes: list[tuple[str, str]] | None = None
    group_ids: list[int] | None = None


def search_text_of(sku: str, name: str, description: str | None) -> str:
    return " ".join(part for part in (sku, name, description or "") if part).lower()


async def ids_by_code(session: AsyncSession, model: type, codes: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(codes)):
        for row in (await session.execute(select(model.code, model.id).where(model.code.in_(part)))).all():
            found[row[0]] = row[1]
    return found


async def product_ids_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(skus)):
        for sku, product_id in (
            await session.execute(select(Product.sku, Product.id).where(Product.sku.in_(part)))
        ).all():
            found[sku] = product_id
    return found


async def upsert_products(session: AsyncSession, rows: Sequence[ProductWrite]) -> dict[str, int]:
    """Insert or update products by SKU with their prices, attributes and groups; returns SKU → id."""
    ids = await product_ids_by_sku(session, [row.sku for row in rows])
    new_rows = [row for row in rows if row.sku not in ids]
    old_rows = [row for row in rows if row.sku in ids]
    if new_rows:
        inserted = await session.execute(
            insert(Product).returning(Product.id, Product.sku),
            [_product_values(row) for row in new_rows],
        )
        ids.update({sku: product_id for product_id, sku in inserted.all()})
    if old_rows:
        await session.execute(
            update(Product), [{"id": ids[row.sku], **_product_values(row)} for row in old_rows]
        )
    await _replace_children(session, rows, ids)
    return ids


def _product_values(row: ProductWrite) -> dict[str, object]:
    return {
        "sku": row.sku,
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "category_id": row.category_id,
        "search_text": search_text_of(row.sku, row.name, row.description),
    }


async def _replace_children(session: AsyncSession, rows: Sequence[ProductWrite], ids: dict[str, int]) -> None:
    priced = [ids[row.sku] for row in rows if row.prices_minor is not None]
    described = [ids[row.sku] for row in rows if row.attributes is not None]
    grouped = [ids[row.sku] for row in rows if row.group_ids is not None]
    for part in chunks(priced):
        await session.execute(delete(ProductPrice).where(ProductPrice.product_id.in_(part)))
    for part in chunks(described):
        await session.execute(delete(ProductAttribute).where(ProductAttribute.product_id.in_(part)))
    for part in chunks(grouped):
        await session.execute(delete(ProductGroupMember).where(ProductGroupMember.product_id.in_(part)))
    prices = [
        {"product_id": ids[row.sku], "currency": currency, "amount_minor": amount}
        for row in rows
        if row.prices_minor
        for currency, amount in row.prices_minor.items()
    ]
    attributes = [
        {"product_id": ids[row.sku], "position": position, "name": name, "value": value}
        for row in rows
        if row.attributes
        for position, (name, value) in enumerate(row.attributes)
    ]
    members = [
        {"product_id": ids[row.sku], "group_id": group_id}
        for row in rows
        if row.group_ids
        for group_id in dict.fromkeys(row.group_ids)
    ]
    for model, values in (
        (ProductPrice, prices),
        (ProductAttribute, attributes),
        (ProductGroupMember, members),
    ):
        if values:
            await session.execute(insert(model), values)


async def replace_group_members(session: AsyncSession, group_id: int, product_ids: Sequence[int]) -> None:
    await session.execute(delete(ProductGroupMember).where(ProductGroupMember.group_id == group_id))
    if product_ids:
        await session.execute(
            insert(ProductGroupMember),
            [{"group_id": group_id, "product_id": pid} for pid in dict.fromkeys(product_ids)],
        )


async def all_categories(session: AsyncSession) -> list[Category]:
    return list((await session.scalars(select(Category))).all())


async def groups_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, ProductGroup]:
    found: dict[str, ProductGroup] = {}
    for part in chunks(list(codes)):
        for group in (await session.scalars(select(ProductGroup).where(ProductGroup.code.in_(part)))).all():
            found[group.code] = group
    return found
