"""Checkout: a store cart becomes an order at the prices, names and discounts it has at that moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.orders import writes
from datasources.orders.models import Cart, OrderDiscount, OrderLine
from datasources.orders.queries import store_prices
from datasources.partners.models import HubPolicy
from datasources.reports.rollup import add_to_sales_rollup
from datasources.stores.models import Store
from resolvers.access import Viewer
from resolvers.errors import UserErrors
from resolvers.marketing.attribution import campaign_for_order
from resolvers.marketing.promotions import check_coupon
from resolvers.orders.carts import open_store_of
from resolvers.orders.confirmation import confirmation_key, enqueue_confirmation
from resolvers.orders.pricing import AppliedPromotion, PricedCart, price_cart
from resolvers.orders.promotions import line_inputs, store_cart_promotion
from resolvers.users import email_problem

# Territories CLDR knows that are not ISO 3166-1 alpha-2 countries (regions, reserved and private codes).
NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
ADDRESS_LIMITS = {"name": 200, "line1": 200, "line2": 200, "city": 100, "postalCode": 32, "region": 100}
REQUIRED_ADDRESS = ("name", "line1", "city", "postalCode")
VISITOR_ID_MAX = 64


@cache
def iso_countries() -> frozenset[str]:
    """The 249 ISO 3166-1 alpha-2 codes (from CLDR, through babel)."""
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


@dataclass
class AddressData:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


@dataclass
class CheckoutData:
    email: str
    address: AddressData
    payment_method: str
    marketing_opt_in: bool = False
    visitor_id: str | None = None


@dataclass
class CheckoutResult:
    errors: UserErrors = field(default_factory=UserErrors)
    number: str | None = None


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def check_address(address: AddressData, errors: UserErrors) -> dict[str, str | None]:
    """The address as stored (trimmed, country upper-case), with a userError for each missing or bad part."""
    values = {
        "name": _clean(address.name),
        "line1": _clean(address.line1),
        "line2": _clean(address.line2),
        "city": _clean(address.city),
        "postalCode": _clean(address.postal_code),
        "region": _clean(address.region),
        "country": (_clean(address.country) or "").upper() or None,
    }
    path = ("input", "shippingAddress")
    for name in REQUIRED_ADDRESS:
        if values[name] is None:
            errors.add("REQUIRED", f"The address needs {name}.", *path, name)
    for name, limit in ADDRESS_LIMITS.items():
        value = values[name]
        if value is not None and len(value) > limit:
            errors.add("TOO_LONG", f"{name} has at most {limit} characters.", *path, name)
    if values["country"] not in iso_countries():
        errors.add(
            "INVALID_COUNTRY",
            "The country is an ISO 3166-1 alpha-2 code, such as DE or US.",
            *path,
            "country",
        )
    return values


def check_input(data: CheckoutData, policy: HubPolicy, errors: UserErrors) -> dict[str, str | None]:
    email = data.email.strip()
    if email_problem(email.lower()) is not None:
        errors.add("INVALID_EMAIL", "That is not an e-mail address.", "input", "email")
    address = check_address(data.address, errors)
    if data.payment_method not in policy.payment_methods:
        errors.add(
            "INVALID_PAYMENT_METHOD",
            f"The payment method is one of {', '.join(policy.payment_methods)}.",
            "input",
            "paymentMethod",
        )
    if data.visitor_id is not None and len(data.visitor_id) > VISITOR_ID_MAX:
        errors.add("TOO_LONG", f"A visitor id has at most {VISITOR_ID_MAX} characters.", "input", "visitorId")
    return {"email": email, **address}


async def checkout(
    session: AsyncSession,
    viewer: Viewer | None,
    policy: HubPolicy,
    cart_id: str | None,
    data: CheckoutData,
    now: datetime,
) -> CheckoutResult:
    """Place the order: the cart moves OPEN → CHECKED_OUT first (of two concurrent checkouts one wins,
    the other finds it closed), then the order is written with its lines, its PLACED event and its
    confirmation e-mail on the outbox, all in this unit of work. Bad input writes nothing."""
    result = CheckoutResult()
    errors = result.errors
    fields = check_input(data, policy, errors)
    cart = await writes.claim_for_checkout(session, cart_id, now) if cart_id else None
    if cart is None:
        known = await writes.cart_by_id(session, cart_id) if cart_id else None
        if known is None or known.kind != "STORE":
            errors.add("NOT_FOUND", "No cart has this id.", "cartId")
        else:
            errors.add("CART_CLOSED", f"This cart is {known.status}: it was checked out already.", "cartId")
        return result
    store = await open_store_of(session, cart.store_id, errors)
    if store is None:
        return result
    lines = await writes.lines_of(session, cart.id)
    if not lines:
        errors.add("EMPTY_CART", "The cart is empty.", "cartId")
        return result
    offers = await store_prices(session, store.id, [line.sku for line in lines])
    priced = price_cart(cart.currency, lines, offers)
    for line in priced.unavailable:
        errors.add(
            "PRODUCT_UNAVAILABLE", f"The store no longer sells {line.sku}: remove it from the cart.", "cartId"
        )
    if errors:
        return result
    promotion = await _promotion(session, cart, store, priced, (fields["email"] or "").lower(), now, errors)
    if errors:
        return result
    if promotion is not None:
        priced = price_cart(cart.currency, lines, offers, promotion)
    placed_by = viewer.email if viewer is not None and viewer.is_staff else None
    campaign_id = await campaign_for_order(
        session, store.id, data.visitor_id, (fields["email"] or "").lower(), now
    )
    order_lines = _order_lines(priced)
    order_discounts = _order_discounts(priced)
    order = await writes.insert_order(
        session,
        {**_order_values(cart, store, priced, fields, data, placed_by, now), "campaign_id": campaign_id},
        order_lines,
        order_discounts,
        {"status": "PLACED", "at": now, "by": placed_by, "reason": None},
    )
    await add_to_sales_rollup(session, order)
    await enqueue_confirmation(
        session,
        confirmation_key(order.number),
        order,
        [OrderLine(**line) for line in order_lines],
        [OrderDiscount(**d) for d in order_discounts],
        store.name,
    )
    result.number = order.number
    return result


async def _promotion(
    session: AsyncSession,
    cart: Cart,
    store: Store,
    priced: PricedCart,
    email_key: str,
    now: datetime,
    errors: UserErrors,
) -> AppliedPromotion | None:
    """The cart's promotion, limited promotions locked and their uses counted (this customer's
    by e-mail): a coupon used up since it was applied is a COUPON_EXHAUSTED userError."""
    if cart.coupon_code:
        check = await check_coupon(
            session,
            cart.coupon_code,
            store_id=store.id,
            currency=cart.currency,
            lines=line_inputs(priced),
            email_key=email_key,
            now=now,
            lock=True,
        )
        if check.code == "COUPON_EXHAUSTED":
            errors.add(check.code, check.message or "The coupon has been used up.", "cartId")
            return None
    return await store_cart_promotion(
        session,
        priced,
        store_id=store.id,
        coupon_code=cart.coupon_code,
        email_key=email_key,
        now=now,
        lock=True,
    )


def _order_values(
    cart: Cart,
    store: Store,
    priced: PricedCart,
    fields: dict[str, str | None],
    data: CheckoutData,
    placed_by: str | None,
    now: datetime,
) -> dict[str, object]:
    email = fields["email"] or ""
    return {
        "store_id": store.id,
        "reseller_id": store.reseller_id,
        "cart_id": cart.id,
        "status": "PLACED",
        "customer_email": email,
        "customer_email_key": email.lower(),
        "ship_name": fields["name"],
        "ship_line1": fields["line1"],
        "ship_line2": fields["line2"],
        "ship_city": fields["city"],
        "ship_postal_code": fields["postalCode"],
        "ship_region": fields["region"],
        "ship_country": fields["country"],
        "payment_method": data.payment_method,
        "currency": cart.currency,
        "subtotal_minor": priced.subtotal_minor,
        "discount_minor": priced.discount_minor,
        "total_minor": priced.total_minor,
        "placed_at": now,
        "placed_by": placed_by,
        "marketing_opt_in": bool(data.marketing_opt_in),
        "visitor_id": data.visitor_id,
        "coupon_code": cart.coupon_code if priced.discounts else None,
    }


def _order_lines(priced: PricedCart) -> list[dict[str, object]]:
    return [
        {
            "position": position,
            "sku": p.line.sku,
            "name": p.name,
            "quantity": p.line.quantity,
            "unit_price_minor": p.unit_price_minor,
            "discount_minor": p.discount_minor,
            "total_minor": p.total_minor,
        }
        for position, p in enumerate(priced.lines)
    ]


def _order_discounts(priced: PricedCart) -> list[dict[str, object]]:
    return [
        {
            "position": position,
            "promotion_id": d.promotion_id,
            "promotion_code": d.promotion_code,
            "name": d.name,
            "coupon_code": d.coupon_code,
            "amount_minor": d.amount_minor,
        }
        for position, d in enumerate(priced.discounts)
    ]
