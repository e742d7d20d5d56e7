"""Promotions in the database: lookups, the candidates of a store's cart, uses counted from orders, line facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import Category, Product, ProductGroupMember
from datasources.db import RequestDatabase
from datasources.loading import chunks
from datasources.marketing.models import Promotion
from datasources.orders.models import Order, OrderDiscount


async def promotion_by_code(session: AsyncSession, code: str) -> Promotion | None:
    return await session.scalar(select(Promotion).where(Promotion.code == code))


async def promotion_by_coupon(session: AsyncSession, coupon_code: str) -> Promotion | None:
    """The promotion of a coupon code, compared case-insensitively."""
    return await session.scalar(select(Promotion).where(Promotion.coupon_key == coupon_key(coupon_code)))


def coupon_key(coupon_code: str) -> str:
    return coupon_code.strip().upper()


async def automatic_promotions(session: AsyncSession, store_id: int, now: datetime) -> Sequence[Promotion]:
    """Enabled automatic promotions (no coupon) of the store and hub-wide, inside their dates."""
    return (
        await session.scalars(
            select(Promotion)
            .where(
                Promotion.coupon_key.is_(None),
                Promotion.enabled.is_(True),
                or_(Promotion.store_id == store_id, Promotion.store_id.is_(None)),
                or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
                or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
            )
            .order_by(Promotion.id)
        )
    ).all()


def _uses() -> Select[tuple[int | None, int]]:
    return (
        select(OrderDiscount.promotion_id, func.count(func.distinct(Order.id)))
        .join(Order, Order.id == OrderDiscount.order_id)
        .where(Order.status != "CANCELLED")
        .group_by(OrderDiscount.promotion_id)
    )


async def times_used(session: AsyncSession | RequestDatabase, promotion_ids: Sequence[int]) -> dict[int, int]:
    """Orders placed with each promotion, cancelled ones left out (a cancellation gives its use back).

    In a unit of work (its session) or for a request's loader (its locked RequestDatabase)."""
    found: dict[int, int] = {}
    for part in chunks(sorted(set(promotion_ids))):
        rows = await session.execute(_uses().where(OrderDiscount.promotion_id.in_(part)))
        found.update({promotion_id: int(count) for promotion_id, count in rows})
    return found


async def times_used_by(session: AsyncSession, promotion_id: int, email_key: str) -> int:
    """Orders one customer e-mail (lower-cased) placed with the promotion, cancelled ones left out."""
    count = await session.scalar(
        select(func.count(func.distinct(Order.id)))
        .select_from(OrderDiscount)
        .join(Order, Order.id == OrderDiscount.order_id)
        .where(
            OrderDiscount.promotion_id == promotion_id,
            Order.customer_email_key == email_key,
            Order.status != "CANCELLED",
        )
    )
    return int(count or 0)


async def lock_promotion(session: AsyncSession, promotion_id: int) -> None:
    """Hold the promotion's row until the transaction ends, so concurrent checkouts count its uses in turn.

    PostgreSQL: `SELECT … FOR UPDATE`. SQLite: a unit of work already holds the database's write
    lock from its BEGIN IMMEDIATE, so checkouts take turns anyway.
    """
    await session.execute(select(Promotion.id).where(Promotion.id == promotion_id).with_for_update())


async def line_groups_and_categories(
    session: AsyncSession, skus: Sequence[str]
) -> dict[str, tuple[frozenset[int], frozenset[int]]]:
    """For each known SKU: (its category and every category above it, its product groups)."""
    found: dict[str, tuple[frozenset[int], frozenset[int]]] = {}
    unique = sorted(set(skus))
    for part in chunks(unique):
        rows = await session.execute(
            select(Product.id, Product.sku, Category.path)
            .outerjoin(Category, Category.id == Product.category_id)
            .where(Product.sku.in_(part))
        )
        products = {product_id: (sku, path) for product_id, sku, path in rows}
        groups: dict[int, set[int]] = {product_id: set() for product_id in products}
        if products:
            members = await session.execute(
                select(ProductGroupMember.product_id, ProductGroupMember.group_id).where(
                    ProductGroupMember.product_id.in_(list(products))
                )
            )
            for product_id, group_id in members:
                groups[product_id].add(group_id)
        for product_id, (sku, path) in products.items():
            # A category's path is "/<root id>/…/<own id>/": every id on it is the category or above it.
            categories = frozenset(int(part) for part in (path or "").split("/") if part)
            found[sku] = (categories, frozenset(groups[product_id]))
    return found
