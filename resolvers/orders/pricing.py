"""What a cart costs: the one function that prices its lines and applies discounts (cart reads and checkout).

Store lines take the store's price as `Store.product` computes it (the overlay, read again every
time); plaza lines carry their accepted quote's unit price. Discounts come from promotions: the
promotion engine's answer (resolvers/orders/promotions.py) goes in through `price_cart`'s `promotion`,
so a cart read and the order a checkout fixes always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from datasources.catalog.models import Product
from datasources.orders.models import CartLine
from datasources.stores.loaders import StoreProductRow


@dataclass(frozen=True)
class PricedLine:
    """A cart line at its price now; `name` is the store's name for the product (plaza lines: the SKU)."""

    line: CartLine
    name: str
    unit_price_minor: int
    product: Product | None
    discount_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.line.quantity * self.unit_price_minor - self.discount_minor


@dataclass(frozen=True)
class Discount:
    """A promotion as it applies to a cart (and, at checkout, to its order)."""

    promotion_id: int | None
    promotion_code: str
    name: str
    coupon_code: str | None
    amount_minor: int


@dataclass(frozen=True)
class AppliedPromotion:
    """The promotion a cart gets and what it takes off each of its priced lines (in their order)."""

    discount: Discount
    line_discounts: Sequence[int]


@dataclass(frozen=True)
class PricedCart:
    currency: str
    lines: list[PricedLine]
    unavailable: list[CartLine] = field(default_factory=list)
    """Store lines whose product the store no longer sells (no price): checkout refuses them."""
    discounts: list[Discount] = field(default_factory=list)

    @property
    def subtotal_minor(self) -> int:
        return sum(p.line.quantity * p.unit_price_minor for p in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(d.amount_minor for d in self.discounts)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor

    @property
    def item_count(self) -> int:
        return sum(p.line.quantity for p in self.lines)


def price_cart(
    currency: str,
    lines: Sequence[CartLine],
    store_offers: Mapping[str, StoreProductRow | None] | None,
    promotion: AppliedPromotion | None = None,
) -> PricedCart:
    """Price a cart: store lines from `store_offers` (by SKU; None for a plaza cart), plaza lines from
    their quote, then the discount of `promotion` (the promotion engine's answer for these lines)."""
    priced: list[PricedLine] = []
    unavailable: list[CartLine] = []
    for line in lines:
        if store_offers is None:
            if line.unit_price_minor is None:
                unavailable.append(line)
                continue
            priced.append(
                PricedLine(line=line, name=line.sku, unit_price_minor=line.unit_price_minor, product=None)
            )
            continue
        offer = store_offers.get(line.sku)
        if offer is None:
            unavailable.append(line)
            continue
        priced.append(
            PricedLine(line=line, name=offer.name, unit_price_minor=offer.price_minor, product=offer.product)
        )
    discounts: list[Discount] = []
    if promotion is not None and promotion.discount.amount_minor > 0:
        # The discount is spread over the lines, so that the lines' totals add up to the cart's total.
        priced = [
            replace(p, discount_minor=amount)
            for p, amount in zip(priced, promotion.line_discounts, strict=True)
        ]
        discounts.append(promotion.discount)
    return PricedCart(currency=currency, lines=priced, unavailable=unavailable, discounts=discounts)
