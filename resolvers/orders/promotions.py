"""A store cart's promotion: the marketing engine asked about a cart's priced lines (cart reads, checkout)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.marketing.promotions import CartLineInput, price_store_cart
from resolvers.orders.pricing import AppliedPromotion, Discount, PricedCart


def line_inputs(priced: PricedCart) -> list[CartLineInput]:
    """The priced lines as the promotion engine takes them."""
    return [
        CartLineInput(sku=p.line.sku, quantity=p.line.quantity, unit_price_minor=p.unit_price_minor)
        for p in priced.lines
    ]


async def store_cart_promotion(
    session: AsyncSession,
    priced: PricedCart,
    *,
    store_id: int,
    coupon_code: str | None,
    email_key: str | None = None,
    now: datetime | None = None,
    lock: bool = False,
) -> AppliedPromotion | None:
    """The one promotion the cart's priced lines get (automatic or the cart's coupon), or None.

    A fixed number of statements for any number of lines. `lock` (checkout) holds each candidate
    promotion with a usage limit before counting its uses (resolvers/marketing/promotions.py).
    """
    if not priced.lines:
        return None
    pricing, promotion = await price_store_cart(
        session,
        store_id=store_id,
        currency=priced.currency,
        lines=line_inputs(priced),
        coupon_code=coupon_code,
        email_key=email_key,
        now=now,
        lock=lock,
    )
    if promotion is None or pricing.total_discount == 0:
        return None
    discount = Discount(
        promotion_id=promotion.id,
        promotion_code=promotion.code,
        name=promotion.name,
        coupon_code=promotion.coupon_code,
        amount_minor=pricing.total_discount,
    )
    return AppliedPromotion(discount=discount, line_discounts=pricing.line_discounts)
