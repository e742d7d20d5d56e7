"""Writes of stores and of their overlays: each replaces what it is given in one go."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.stores.models import (
    Store,
    StoreAssortmentRule,
    StorePriceRule,
    StoreProductContent,
    StoreText,
)


async def store_by_slug(session: AsyncSession, slug: str) -> Store | None:
    return await session.scalar(select(Store).where(Store.slug == slug))


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    return await session.scalar(select(Store.id).where(Store.slug == slug)) is not None


async def replace_texts(session: AsyncSession, store_id: int, texts: Sequence[tuple[str, str]]) -> None:
    await session.execute(delete(StoreText).where(StoreText.store_id == store_id))
    if texts:
        await session.execute(
            insert(StoreText), [{"store_id": store_id, "key": k, "value": v} for k, v in texts]
        )


async def replace_assortment(
    session: AsyncSession, store_id: int, rules: Sequence[tuple[str, str, int]]
) -> None:
    """`rules` are (mode, scope, target id); duplicates are written once."""
    await session.execute(delete(StoreAssortmentRule).where(StoreAssortmentRule.store_id == store_id))
    unique = dict.fromkeys(rules)
    if unique:
        await session.execute(
            insert(StoreAssortmentRule),
            [{"store_id": store_id, "mode": m, "scope": s, "target_id": t} for m, s, t in unique],
        )


async def replace_price_rules(
    session: AsyncSession, store_id: int, rules: Sequence[tuple[str, int | None, int | None, int | None]]
) -> None:
    """`rules` are (scope, target id, markup in basis points, fixed price in minor units), in order."""
    await session.execute(delete(StorePriceRule).where(StorePriceRule.store_id == store_id))
    if rules:
        await session.execute(
            insert(StorePriceRule),
            [
                {
                    "store_id": store_id,
                    "position": position,
                    "scope": scope,
                    "target_id": target_id,
                    "markup_bp": markup_bp,
                    "fixed_minor": fixed_minor,
                }
                for position, (scope, target_id, markup_bp, fixed_minor) in enumerate(rules)
            ],
        )


async def set_product_content(
    session: AsyncSession, store_id: int, product_id: int, name: str | None, description: str | None
) -> None:
    """Store a product's name and description for one store; both None removes the override."""
    await session.execute(
        delete(StoreProductContent).where(
            StoreProductContent.store_id == store_id, StoreProductContent.product_id == product_id
        )
    )
    if name is not None or description is not None:
        session.add(
            StoreProductContent(store_id=store_id, product_id=product_id, name=name, description=description)
        )
        await session.flush()
