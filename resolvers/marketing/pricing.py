"""THE promotion rule: which one promotion a cart gets and what it takes off each line (pure, no I/O).

The contract's words (the `Promotion` type) and issue 11's, as code:

1. **Candidates**: the automatic promotions (no coupon code) that may apply to the cart's store
   (the store's own and the hub-wide ones) and the promotion of the coupon the cart holds. The
   caller gathers them (resolvers/marketing/promotions.py `candidate_promotions`), leaving out
   those whose usage limit is reached.
2. **Applicable**: `enabled`, inside its dates (`startsAt` inclusive, `endsAt` exclusive), and
   when it names a `currency`, the cart is in that currency (an `amountOff` always names one).
3. **Qualifying lines**, by scope and target as for price rules: ALL every line; CATEGORY the
   lines whose product is in the category or anywhere below it; GROUP the lines whose product is
   a member of the group; SKU the line of that SKU. None qualifying: not applicable.
4. **Minimum**: the qualifying lines' subtotal (the sum of quantity times unit price) must reach
   `minimumSubtotal`.
5. **Discount**:
   - `percentOff`: on each qualifying line, its total times the percentage, rounded half-up to the minor unit;
   - `amountOff`: once, capped at the qualifying subtotal, spread over the qualifying lines in
     proportion to their totals: in SKU order each line but the last gets its share rounded
     half-up, and the last line the remainder, so the shares add up to the amount exactly. (Where
     that remainder would fall below zero or above the last line's total, which takes many lines
     of a few minor units each, the shares are instead the differences of the rounded cumulative
     shares: same total, every line between zero and its own total.)
6. **Choice**: of the applicable promotions that take something off, the one taking most off the
   cart; on a tie the one created first (the lower id). At most one promotion per cart.

Amounts are integers in the currency's minor unit; a percentage is in hundredths of a percent
(12.5 % is 1250), so the arithmetic is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from resolvers.marketing.common import in_dates

PERCENT_DENOMINATOR = 10_000
"""Hundredths of a percent in a whole: 100 % is 10,000."""


@dataclass(frozen=True)
class CartLineFacts:
    """What the rule needs of one cart line."""

    sku: str
    quantity: int
    unit_price_minor: int
    category_ids: frozenset[int] = frozenset()
    """The product's category and every category above it (empty when it has none)."""
    group_ids: frozenset[int] = frozenset()

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class PromotionTerms:
    """What the rule needs of one promotion."""

    id: int
    code: str
    scope: str
    target_id: int | None = None
    """The category's or group's id for CATEGORY and GROUP."""
    target_sku: str | None = None
    """The SKU for SKU."""
    percent_off: int | None = None
    """Hundredths of a percent."""
    amount_off_minor: int | None = None
    currency: str | None = None
    minimum_subtotal_minor: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    enabled: bool = True
    coupon_code: str | None = None


@dataclass(frozen=True)
class CartPricing:
    """The promotion a cart gets (None: none) and what it takes off each line, in the lines' order."""

    promotion: PromotionTerms | None
    line_discounts: tuple[int, ...]

    @property
    def total_discount(self) -> int:
        return sum(self.line_discounts)


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator >= 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def qualifies(line: CartLineFacts, promotion: PromotionTerms) -> bool:
    """Whether the line is in the promotion's scope (as for price rules; a category includes its subtree)."""
    if promotion.scope == "ALL":
        return True
    if promotion.scope == "CATEGORY":
        return promotion.target_id is not None and promotion.target_id in line.category_ids
    if promotion.scope == "GROUP":
        return promotion.target_id is not None and promotion.target_id in line.group_ids
    if promotion.scope == "SKU":
        return line.sku == promotion.target_sku
    return False


def is_live(promotion: PromotionTerms, currency: str, now: datetime) -> bool:
    """Enabled, inside its dates, and for a cart in its currency when it names one."""
    if not promotion.enabled or not in_dates(promotion.starts_at, promotion.ends_at, now):
        return False
    return promotion.currency is None or promotion.currency == currency


def spread(amount: int, totals: Sequence[int]) -> list[int]:
    """`amount` (at most sum(totals), totals in SKU order) spread in proportion to the totals.

    Each share but the last is rounded half-up and the last takes the remainder; when that
    remainder falls outside [0, last total], the rounded cumulative shares' differences instead.
    """
    whole = sum(totals)
    if amount == 0 or whole == 0:
        return [0] * len(totals)
    shares = [half_up(amount * total, whole) for total in totals[:-1]]
    last = amount - sum(shares)
    if 0 <= last <= totals[-1]:
        return [*shares, last]
    cumulative_shares = []
    running = 0
    before = 0
    for total in totals:
        running += total
        reached = half_up(amount * running, whole)
        cumulative_shares.append(reached - before)
        before = reached
    return cumulative_shares


def discounts_of(
    promotion: PromotionTerms, lines: Sequence[CartLineFacts], currency: str, now: datetime
) -> tuple[int, ...] | None:
    """What the promotion takes off each line (in the lines' order), or None when it does not apply."""
    if not is_live(promotion, currency, now):
        return None
    qualifying = [i for i, line in enumerate(lines) if qualifies(line, promotion)]
    if not qualifying:
        return None
    subtotal = sum(lines[i].total_minor for i in qualifying)
    if promotion.minimum_subtotal_minor is not None and subtotal < promotion.minimum_subtotal_minor:
        return None
    discounts = [0] * len(lines)
    if promotion.percent_off is not None:
        for i in qualifying:
            discounts[i] = half_up(lines[i].total_minor * promotion.percent_off, PERCENT_DENOMINATOR)
    elif promotion.amount_off_minor is not None:
        in_sku_order = sorted(qualifying, key=lambda i: (lines[i].sku, i))
        amount = min(promotion.amount_off_minor, subtotal)
        for i, share in zip(
            in_sku_order, spread(amount, [lines[i].total_minor for i in in_sku_order]), strict=True
        ):
            discounts[i] = share
    else:
        return None
    return tuple(discounts)


def price_cart(
    lines: Sequence[CartLineFacts],
    currency: str,
    candidates: Sequence[PromotionTerms],
    now: datetime,
) -> CartPricing:
    """THE rule: at most one promotion, the one taking most off; on a tie the one created first."""
    best: tuple[int, int, PromotionTerms, tuple[int, ...]] | None = None
    for promotion in candidates:
        discounts = discounts_of(promotion, lines, currency, now)
        if discounts is None:
            continue
        taken = sum(discounts)
        if taken <= 0:
            continue
        key = (-taken, promotion.id)
        if best is None or key < (best[0], best[1]):
            best = (key[0], key[1], promotion, discounts)
    if best is None:
        return CartPricing(promotion=None, line_discounts=tuple(0 for _ in lines))
    return CartPricing(promotion=best[2], line_discounts=best[3])
