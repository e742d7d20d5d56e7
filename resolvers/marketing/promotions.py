"""Promotions: upsertPromotion's checks, who sees which, the coupon checks and a store cart's pricing.

The rule itself is resolvers/marketing/pricing.py. What the cart and checkout code calls:

- `check_coupon(...)`: before a cart takes a coupon (applyCoupon) and again at checkout; answers the
  promotion or a specific userError code (UNKNOWN_COUPON, COUPON_DISABLED, COUPON_NOT_STARTED,
  COUPON_EXPIRED, COUPON_EXHAUSTED, COUPON_NOT_APPLICABLE).
- `price_store_cart(...)`: the one promotion a store cart gets and each line's discount.
- At checkout, inside the checkout's unit of work: `price_store_cart(..., email_key=…, lock=True)`
  locks every candidate promotion with a usage limit before counting its uses, so that of two
  concurrent checkouts of a `usageLimit: 1` promotion the second counts the first's order; the
  checkout then writes its `order_discounts` row (promotion_id) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog import writes as catalog_writes
from datasources.catalog.models import Category, ProductGroup
from datasources.db import RequestDatabase
from datasources.marketing import promotions as queries
from datasources.marketing.models import PERCENT_SCALE, Promotion
from datasources.money import MAX_AMOUNT, is_iso_currency, to_minor
from datasources.stores.models import Store
from resolvers.access import Viewer
from resolvers.errors import UserErrors, forbidden
from resolvers.marketing.common import (
    CODE_PATTERN,
    as_utc,
    in_dates,
    is_marketing_staff,
    manages_reseller_marketing,
    utcnow,
)
from resolvers.marketing.creatives import check_dates, marketing_store, may_change
from resolvers.marketing.pricing import CartLineFacts, CartPricing, PromotionTerms, discounts_of, price_cart

NAME_MAX = 200
SCOPES = ("ALL", "CATEGORY", "GROUP", "SKU")
LIMIT_MAX = 1_000_000_000


@dataclass
class PromotionData:
    code: str
    name: str
    scope: str
    store_slug: str | None = None
    target: str | None = None
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    currency: str | None = None
    minimum_subtotal: Decimal | None = None
    coupon_code: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    enabled: bool = True
    usage_limit: int | None = None
    per_customer_limit: int | None = None


@dataclass
class PromotionResult:
    errors: UserErrors = field(default_factory=UserErrors)
    promotion: Promotion | None = None


# ---------------------------------------------------------------- upsertPromotion


def _percent(value: Decimal | None, errors: UserErrors) -> int | None:
    if value is None:
        return None
    if not value.is_finite() or value <= 0 or value > 100:
        errors.add("INVALID_PERCENT", "percentOff is above 0 and at most 100.", "input", "percentOff")
        return None
    scaled = value * PERCENT_SCALE
    if scaled != scaled.to_integral_value():
        errors.add("INVALID_PERCENT", "percentOff has at most two decimal places.", "input", "percentOff")
        return None
    return int(scaled)


def _amount(
    value: Decimal | None, currency: str | None, name: str, errors: UserErrors, *, positive: bool
) -> int | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or (positive and value == 0) or value > MAX_AMOUNT:
        low = "above 0" if positive else "0 or more"
        errors.add("INVALID_AMOUNT", f"`{name}` is {low} and at most {MAX_AMOUNT}.", "input", name)
        return None
    if currency is None:
        errors.add("CURRENCY_REQUIRED", f"`{name}` needs a `currency`.", "input", "currency")
        return None
    if not is_iso_currency(currency):
        return None  # reported once, on `currency`
    try:
        return to_minor(value, currency)
    except ValueError as error:
        errors.add("INVALID_AMOUNT", str(error), "input", name)
        return None


async def _target(
    session: AsyncSession, scope: str, target: str | None, errors: UserErrors
) -> tuple[str | None, int | None]:
    """(target as stored, category or group id)."""
    target = (target or "").strip() or None
    if scope == "ALL":
        if target is not None:
            errors.add("INVALID_TARGET", "An ALL promotion has no target.", "input", "target")
        return None, None
    if target is None:
        errors.add("REQUIRED", f"A {scope} promotion needs a target.", "input", "target")
        return None, None
    if scope == "CATEGORY":
        ids = await catalog_writes.ids_by_code(session, Category, [target])
    elif scope == "GROUP":
        ids = await catalog_writes.ids_by_code(session, ProductGroup, [target])
    else:
        ids = await catalog_writes.product_ids_by_sku(session, [target])
    if target not in ids:
        what = "product has the SKU" if scope == "SKU" else f"{scope.lower()} has the code"
        errors.add("NOT_FOUND", f"No {what} {target}.", "input", "target")
        return None, None
    return target, ids[target] if scope != "SKU" else None


def _limit(value: int | None, name: str, errors: UserErrors) -> int | None:
    if value is not None and not 1 <= value <= LIMIT_MAX:
        errors.add("INVALID_LIMIT", f"`{name}` is at least 1 (leave it out for no limit).", "input", name)
        return None
    return value


async def upsert_promotion(
    session: AsyncSession, viewer: Viewer | None, data: PromotionData
) -> PromotionResult:
    """Create or update a promotion by code; every bad value is a userError and nothing is written."""
    result = PromotionResult()
    errors = result.errors
    code = data.code.strip()
    if not CODE_PATTERN.match(code):
        errors.add("INVALID_CODE", "A code is 1 to 64 letters, digits, `_`, `.` and `-`.", "input", "code")
    name = data.name.strip()
    if not name:
        errors.add("REQUIRED", "A promotion needs a name.", "input", "name")
    elif len(name) > NAME_MAX:
        errors.add("TOO_LONG", f"A name has at most {NAME_MAX} characters.", "input", "name")
    store = await marketing_store(session, viewer, data.store_slug, errors, "promotion")
    if data.scope not in SCOPES:
        errors.add("INVALID", f"Unknown scope {data.scope}.", "input", "scope")
        target, target_id = None, None
    else:
        target, target_id = await _target(session, data.scope, data.target, errors)
    if (data.percent_off is None) == (data.amount_off is None):
        errors.add(
            "INVALID_DISCOUNT",
            "A promotion has either percentOff or amountOff, not both or neither.",
            "input",
            "percentOff",
        )
    currency = (data.currency or "").strip().upper() or None
    if currency is not None and not is_iso_currency(currency):
        errors.add("UNKNOWN_CURRENCY", f"{currency} is not an ISO 4217 currency.", "input", "currency")
    elif currency is not None and store is not None and currency != store.currency:
        errors.add(
            "CURRENCY_MISMATCH",
            f"Store {store.slug} sells in {store.currency}: a promotion in {currency} could never apply.",
            "input",
            "currency",
        )
    percent = _percent(data.percent_off, errors)
    amount = _amount(data.amount_off, currency, "amountOff", errors, positive=True)
    minimum = _amount(data.minimum_subtotal, currency, "minimumSubtotal", errors, positive=False)
    coupon = (data.coupon_code or "").strip() or None
    if coupon is not None:
        if not CODE_PATTERN.match(coupon):
            errors.add(
                "INVALID_CODE",
                "A coupon code is 1 to 64 letters, digits, `_`, `.` and `-`.",
                "input",
                "couponCode",
            )
        else:
            holder = await queries.promotion_by_coupon(session, coupon)
            if holder is not None and holder.code != code:
                errors.add(
                    "DUPLICATE",
                    f"The coupon code {coupon} belongs to another promotion.",
                    "input",
                    "couponCode",
                )
    check_dates(data.starts_at, data.ends_at, errors)
    usage_limit = _limit(data.usage_limit, "usageLimit", errors)
    per_customer_limit = _limit(data.per_customer_limit, "perCustomerLimit", errors)
    existing = await queries.promotion_by_code(session, code) if CODE_PATTERN.match(code) else None
    if existing is not None:
        owner_store = await session.get(Store, existing.store_id) if existing.store_id is not None else None
        if not may_change(viewer, owner_store.reseller_id if owner_store else None):
            errors.add(
                "DUPLICATE", f"The code {code} belongs to a promotion you may not change.", "input", "code"
            )
    if errors:
        return result
    promotion = existing or Promotion(code=code)
    promotion.name = name
    promotion.store_id = store.id if store else None
    promotion.scope = data.scope
    promotion.target = target
    promotion.target_id = target_id
    promotion.percent_off = percent
    promotion.amount_off_minor = amount
    promotion.currency = currency
    promotion.minimum_subtotal_minor = minimum
    promotion.coupon_code = coupon
    promotion.coupon_key = queries.coupon_key(coupon) if coupon else None
    promotion.starts_at = as_utc(data.starts_at)
    promotion.ends_at = as_utc(data.ends_at)
    promotion.enabled = data.enabled
    promotion.usage_limit = usage_limit
    promotion.per_customer_limit = per_customer_limit
    promotion.updated_at = utcnow()
    if existing is None:
        session.add(promotion)
    await session.flush()
    result.promotion = promotion
    return result


# ---------------------------------------------------------------- reads


async def promotions_list(
    db: RequestDatabase, viewer: Viewer | None, store_slug: str | None
) -> Sequence[Promotion]:
    """`promotions(storeSlug)`, by code.

    Marketing staff: every promotion, or with a store its own and the hub-wide ones. A RESELLER_ADMIN:
    its stores' and the hub-wide ones (those it cannot change, but which apply in its stores), or with
    one of its stores that store's and the hub-wide ones; another reseller's store is FORBIDDEN. An
    unknown store: an empty list.
    """
    staff = is_marketing_staff(viewer)
    query = select(Promotion).order_by(Promotion.code)
    if store_slug is not None:
        store = await db.scalar(select(Store).where(Store.slug == store_slug))
        if store is None:
            return []
        if not staff and not manages_reseller_marketing(viewer, store.reseller_id):
            raise forbidden("A reseller sees the promotions of its own stores only.")
        return await db.scalars(
            query.where(or_(Promotion.store_id == store.id, Promotion.store_id.is_(None)))
        )
    if staff:
        return await db.scalars(query)
    reseller_id = viewer.reseller_id if viewer else None
    own = select(Store.id).where(Store.reseller_id == reseller_id)
    return await db.scalars(query.where(or_(Promotion.store_id.in_(own), Promotion.store_id.is_(None))))


async def promotion_row(db: RequestDatabase, code: str) -> Promotion | None:
    return await db.scalar(select(Promotion).where(Promotion.code == code))


def promotion_visible(viewer: Viewer | None, store_reseller_id: int | None) -> bool:
    """A promotion by id (node): marketing staff any; a RESELLER_ADMIN the hub-wide ones and its stores'."""
    if is_marketing_staff(viewer):
        return True
    if viewer is None or "RESELLER_ADMIN" not in viewer.roles or not viewer.reseller_approved:
        return False
    return store_reseller_id is None or manages_reseller_marketing(viewer, store_reseller_id)


# ---------------------------------------------------------------- pricing a store's cart


def terms_of(promotion: Promotion) -> PromotionTerms:
    return PromotionTerms(
        id=promotion.id,
        code=promotion.code,
        scope=promotion.scope,
        target_id=promotion.target_id,
        target_sku=promotion.target if promotion.scope == "SKU" else None,
        percent_off=promotion.percent_off,
        amount_off_minor=promotion.amount_off_minor,
        currency=promotion.currency,
        minimum_subtotal_minor=promotion.minimum_subtotal_minor,
        starts_at=as_utc(promotion.starts_at),
        ends_at=as_utc(promotion.ends_at),
        enabled=promotion.enabled,
        coupon_code=promotion.coupon_code,
    )


@dataclass(frozen=True)
class CartLineInput:
    """A store cart's line as the cart code has it: the SKU, how many, the store's unit price."""

    sku: str
    quantity: int
    unit_price_minor: int


async def line_facts(session: AsyncSession, lines: Sequence[CartLineInput]) -> list[CartLineFacts]:
    """The lines with their products' categories (and those above) and groups, for the rule."""
    known = await queries.line_groups_and_categories(session, [line.sku for line in lines])
    facts = []
    for line in lines:
        categories, groups = known.get(line.sku, (frozenset(), frozenset()))
        facts.append(
            CartLineFacts(
                sku=line.sku,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                category_ids=categories,
                group_ids=groups,
            )
        )
    return facts


async def exhausted(
    session: AsyncSession, promotion: Promotion, email_key: str | None, *, lock: bool = False
) -> bool:
    """Whether the promotion's usage limit, or the customer's (by lower-cased e-mail), is reached.

    Uses are orders placed with it, cancelled ones left out. `lock` (at checkout) holds the
    promotion's row first, so that concurrent checkouts count each other's orders.
    """
    if promotion.usage_limit is None and (promotion.per_customer_limit is None or email_key is None):
        return False
    if lock:
        await queries.lock_promotion(session, promotion.id)
    if promotion.usage_limit is not None:
        used = (await queries.times_used(session, [promotion.id])).get(promotion.id, 0)
        if used >= promotion.usage_limit:
            return True
    if promotion.per_customer_limit is not None and email_key is not None:
        if (
            await queries.times_used_by(session, promotion.id, email_key.lower())
            >= promotion.per_customer_limit
        ):
            return True
    return False


@dataclass(frozen=True)
class CouponCheck:
    """A coupon's promotion, or why the cart cannot have it (`code` is the userError code)."""

    promotion: Promotion | None = None
    code: str | None = None
    message: str | None = None


async def check_coupon(
    session: AsyncSession,
    coupon_code: str,
    *,
    store_id: int,
    currency: str,
    lines: Sequence[CartLineInput],
    email_key: str | None = None,
    now: datetime | None = None,
    lock: bool = False,
) -> CouponCheck:
    """Whether a store cart may take this coupon: each refusal has its own userError code.

    UNKNOWN_COUPON (no promotion has it), COUPON_DISABLED, COUPON_NOT_STARTED, COUPON_EXPIRED,
    COUPON_EXHAUSTED (its usage limit, or this customer's, is reached; the customer's only when an
    e-mail is given), COUPON_NOT_APPLICABLE (another store's, another currency's, no line in its
    scope, or the minimum subtotal not reached). The cart code keeps the cart's previous coupon on
    any of them.
    """
    at = now or utcnow()
    promotion = await queries.promotion_by_coupon(session, coupon_code)
    if promotion is None:
        return CouponCheck(code="UNKNOWN_COUPON", message=f"No promotion has the coupon code {coupon_code}.")
    if not promotion.enabled:
        return CouponCheck(code="COUPON_DISABLED", message=f"The coupon {coupon_code} is disabled.")
    starts, ends = as_utc(promotion.starts_at), as_utc(promotion.ends_at)
    if starts is not None and at < starts:
        return CouponCheck(code="COUPON_NOT_STARTED", message=f"The coupon {coupon_code} is not valid yet.")
    if ends is not None and at >= ends:
        return CouponCheck(code="COUPON_EXPIRED", message=f"The coupon {coupon_code} has expired.")
    if promotion.store_id is not None and promotion.store_id != store_id:
        return CouponCheck(
            code="COUPON_NOT_APPLICABLE", message=f"The coupon {coupon_code} is not valid in this store."
        )
    if await exhausted(session, promotion, email_key, lock=lock):
        return CouponCheck(code="COUPON_EXHAUSTED", message=f"The coupon {coupon_code} has been used up.")
    facts = await line_facts(session, lines)
    discounts = discounts_of(terms_of(promotion), facts, currency, at)
    if discounts is None or sum(discounts) == 0:
        return CouponCheck(
            code="COUPON_NOT_APPLICABLE",
            message=f"The coupon {coupon_code} takes nothing off this cart (its products, currency or minimum).",
        )
    return CouponCheck(promotion=promotion)


async def candidate_promotions(
    session: AsyncSession,
    store_id: int,
    coupon_code: str | None,
    email_key: str | None,
    now: datetime,
    *,
    lock: bool = False,
) -> list[Promotion]:
    """The store's and the hub-wide automatic promotions and the coupon's, less the used-up ones."""
    found = list(await queries.automatic_promotions(session, store_id, now))
    if coupon_code:
        promotion = await queries.promotion_by_coupon(session, coupon_code)
        if (
            promotion is not None
            and promotion.enabled
            and in_dates(promotion.starts_at, promotion.ends_at, now)
            and promotion.store_id in (None, store_id)
        ):
            found.append(promotion)
    return [p for p in found if not await exhausted(session, p, email_key, lock=lock)]


async def price_store_cart(
    session: AsyncSession,
    *,
    store_id: int,
    currency: str,
    lines: Sequence[CartLineInput],
    coupon_code: str | None = None,
    email_key: str | None = None,
    now: datetime | None = None,
    lock: bool = False,
) -> tuple[CartPricing, Promotion | None]:
    """A store cart's promotion and per-line discounts (in the lines' order), by THE rule."""
    at = now or utcnow()
    candidates = await candidate_promotions(session, store_id, coupon_code, email_key, at, lock=lock)
    pricing = price_cart(await line_facts(session, lines), currency, [terms_of(p) for p in candidates], at)
    chosen = next((p for p in candidates if pricing.promotion and p.id == pricing.promotion.id), None)
    return pricing, chosen
