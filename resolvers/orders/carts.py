"""Store carts: made for an OPEN store, reached by their unguessable id alone, priced every time they are read."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.orders import writes
from datasources.orders.loaders import OrderLoaders
from datasources.orders.models import Cart, CartLine
from datasources.orders.queries import store_prices
from datasources.partners.models import Reseller
from datasources.stores.loaders import StoreLoaders
from datasources.stores.models import Store
from resolvers.access import Viewer, can_see_plaza_cart
from resolvers.errors import UserErrors
from resolvers.marketing.promotions import check_coupon
from resolvers.orders.pricing import PricedCart, price_cart
from resolvers.orders.promotions import line_inputs, store_cart_promotion

MAX_QUANTITY = 9_999
"""Per line: more is a typo, not an order."""
MAX_LINES = 200
"""Per cart, and per `addCartLines` call."""
CART_ID_BYTES = 24
"""192 random bits (32 characters): the id is all a customer needs, so it must not be guessable."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_cart_id() -> str:
    return secrets.token_urlsafe(CART_ID_BYTES)


@dataclass
class CartLineData:
    sku: str
    quantity: int


@dataclass
class CartResult:
    errors: UserErrors = field(default_factory=UserErrors)
    cart_id: str | None = None


# ---------------------------------------------------------------- reads


def visible_cart(cart: Cart | None, viewer: Viewer | None) -> Cart | None:
    """A store cart for whoever holds its id; a plaza cart for its reseller's users and staff."""
    if cart is None:
        return None
    if cart.kind == "PLAZA" and not can_see_plaza_cart(viewer, cart.reseller_id):
        return None
    return cart


async def priced(db: RequestDatabase, orders: OrderLoaders, stores: StoreLoaders, cart: Cart) -> PricedCart:
    """The cart at today's prices and promotions, through the request's loaders: a fixed number of
    statements for any number of lines (its lines, one statement for the store's prices of all of
    them, then the promotion engine's few)."""
    lines: list[CartLine] = await orders.lines_by_cart_id.load(cart.id)
    if cart.kind != "STORE" or cart.store_id is None:
        return price_cart(cart.currency, lines, None)
    offers = await stores.store_product.load_many([(cart.store_id, line.sku) for line in lines])
    by_sku = {line.sku: offer for line, offer in zip(lines, offers, strict=True)}
    plain = price_cart(cart.currency, lines, by_sku)
    async with db.held() as session:
        promotion = await store_cart_promotion(
            session, plain, store_id=cart.store_id, coupon_code=cart.coupon_code
        )
    return price_cart(cart.currency, lines, by_sku, promotion) if promotion else plain


# ---------------------------------------------------------------- checks shared by the cart mutations


async def _store_where(session: AsyncSession, condition: ColumnElement[bool]) -> tuple[Store | None, bool]:
    """The store, and whether it takes orders: OPEN, of an APPROVED reseller (as `store` shows it to anyone)."""
    row = (
        await session.execute(
            select(Store, Reseller.status).join(Reseller, Reseller.id == Store.reseller_id).where(condition)
        )
    ).first()
    if row is None:
        return None, False
    return row[0], row[0].status == "OPEN" and row[1] == "APPROVED"


async def open_store_of(session: AsyncSession, store_id: int | None, errors: UserErrors) -> Store | None:
    """The cart's store while it is OPEN (and its reseller APPROVED); else a STORE_NOT_OPEN userError."""
    store, is_open = await _store_where(session, Store.id == store_id)
    if not is_open:
        errors.add(
            "STORE_NOT_OPEN", "The store is not open: its carts cannot change or be checked out.", "cartId"
        )
        return None
    return store


async def open_cart(
    session: AsyncSession,
    cart_id: str | None,
    kind: str,
    now: datetime,
    errors: UserErrors,
    path: str = "cartId",
) -> Cart | None:
    """The OPEN cart of this kind, locked for the unit of work; NOT_FOUND or CART_CLOSED otherwise."""
    cart = await writes.touch_open_cart(session, cart_id, kind, now) if cart_id else None
    if cart is not None:
        return cart
    known = await writes.cart_by_id(session, cart_id) if cart_id else None
    if known is None or known.kind != kind:
        errors.add("NOT_FOUND", "No cart has this id.", path)
    else:
        errors.add("CART_CLOSED", f"This cart is {known.status}: it can no longer change.", path)
    return None


def check_quantity(quantity: int, errors: UserErrors, *path: str | int, allow_zero: bool = False) -> bool:
    low = 0 if allow_zero else 1
    if low <= quantity <= MAX_QUANTITY:
        return True
    errors.add("INVALID_QUANTITY", f"A quantity is from {low} to {MAX_QUANTITY}.", *path)
    return False


# ---------------------------------------------------------------- mutations


async def create_cart(session: AsyncSession, store_slug: str, now: datetime) -> CartResult:
    """A new, empty cart in an OPEN store, in the store's currency."""
    result = CartResult()
    store, is_open = await _store_where(session, Store.slug == store_slug)
    if store is None:
        result.errors.add("NOT_FOUND", f"No store has the slug {store_slug}.", "storeSlug")
        return result
    if not is_open:
        result.errors.add("STORE_NOT_OPEN", f"The store {store_slug} is not open.", "storeSlug")
        return result
    cart = Cart(
        id=new_cart_id(),
        kind="STORE",
        status="OPEN",
        store_id=store.id,
        currency=store.currency,
        created_at=now,
        updated_at=now,
    )
    session.add(cart)
    await session.flush()
    result.cart_id = cart.id
    return result


async def add_lines(
    session: AsyncSession, cart_id: str | None, lines: Sequence[CartLineData], now: datetime
) -> CartResult:
    """Add SKUs the store sells; a SKU already in the cart gets the quantities added."""
    result = CartResult(cart_id=cart_id)
    errors = result.errors
    if not lines:
        errors.add("REQUIRED", "Name at least one line.", "lines")
        return result
    if len(lines) > MAX_LINES:
        errors.add("TOO_MANY_LINES", f"At most {MAX_LINES} lines at a time.", "lines")
        return result
    cart = await open_cart(session, cart_id, "STORE", now, errors)
    if cart is None or await open_store_of(session, cart.store_id, errors) is None:
        return result
    offers = await store_prices(session, cart.store_id, [line.sku for line in lines])  # type: ignore[arg-type]
    existing = {line.sku: line.quantity for line in await writes.lines_of(session, cart.id)}
    totals = dict(existing)
    for index, line in enumerate(lines):
        if not check_quantity(line.quantity, errors, "lines", index, "quantity"):
            continue
        if line.sku not in offers:
            errors.add("NOT_SOLD", f"The store does not sell {line.sku}.", "lines", index, "sku")
            continue
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
        if totals[line.sku] > MAX_QUANTITY:
            errors.add(
                "INVALID_QUANTITY",
                f"{line.sku} would come to {totals[line.sku]} in the cart: at most {MAX_QUANTITY} a line.",
                "lines",
                index,
                "quantity",
            )
    if not errors and len(totals) > MAX_LINES:
        errors.add("TOO_MANY_LINES", f"A cart holds at most {MAX_LINES} lines.", "lines")
    if errors:
        return result
    await writes.add_store_lines(
        session, cart.id, {sku: q for sku, q in totals.items() if existing.get(sku) != q}, now
    )
    return result


async def update_line(
    session: AsyncSession, cart_id: str | None, line_id: int | None, quantity: int, now: datetime
) -> CartResult:
    """Set a line's quantity; 0 removes it."""
    result = CartResult(cart_id=cart_id)
    errors = result.errors
    cart = await open_cart(session, cart_id, "STORE", now, errors)
    if cart is None or await open_store_of(session, cart.store_id, errors) is None:
        return result
    line = await session.get(CartLine, line_id, populate_existing=True) if line_id is not None else None
    if line is None or line.cart_id != cart.id:
        errors.add("NOT_FOUND", "This cart has no line with this id.", "lineId")
        return result
    if not check_quantity(quantity, errors, "quantity", allow_zero=True):
        return result
    if quantity == 0:
        await writes.remove_line(session, line.id)
    else:
        line.quantity = quantity
        await session.flush()
    return result


async def apply_coupon(session: AsyncSession, cart_id: str | None, code: str, now: datetime) -> CartResult:
    """Give the cart a coupon: unknown, disabled, not started, expired, used-up or not applicable codes
    are userErrors with their own codes, and the cart keeps its previous coupon."""
    result = CartResult(cart_id=cart_id)
    errors = result.errors
    code = code.strip()
    if not code:
        errors.add("REQUIRED", "Enter a coupon code.", "code")
        return result
    cart = await open_cart(session, cart_id, "STORE", now, errors)
    if cart is None or await open_store_of(session, cart.store_id, errors) is None:
        return result
    lines = await writes.lines_of(session, cart.id)
    offers = await store_prices(session, cart.store_id, [line.sku for line in lines])  # type: ignore[arg-type]
    plain = price_cart(cart.currency, lines, offers)
    check = await check_coupon(
        session,
        code,
        store_id=cart.store_id,  # type: ignore[arg-type]
        currency=cart.currency,
        lines=line_inputs(plain),
        now=now,
    )
    if check.promotion is None:
        errors.add(
            check.code or "COUPON_NOT_APPLICABLE", check.message or "The coupon does not apply.", "code"
        )
        return result
    cart.coupon_code = check.promotion.coupon_code
    await session.flush()
    return result


async def remove_coupon(session: AsyncSession, cart_id: str | None, now: datetime) -> CartResult:
    """Take the cart's coupon off (none: nothing changes)."""
    result = CartResult(cart_id=cart_id)
    cart = await open_cart(session, cart_id, "STORE", now, result.errors)
    if cart is None or await open_store_of(session, cart.store_id, result.errors) is None:
        return result
    cart.coupon_code = None
    await session.flush()
    return result
