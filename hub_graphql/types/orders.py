"""GraphQL types, queries and mutations of carts (store and Commerce Plaza), checkout and store orders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from datasources.db import UnitOfWork
from datasources.orders import models
from hub_graphql.mutations import run_checked
from hub_graphql.permissions import guarded
from hub_graphql.types.catalog import Product
from hub_graphql.types.common import (
    Info,
    Money,
    Node,
    PageInfo,
    UserError,
    flat_input,
    global_id,
    parse_global_id,
)
from hub_graphql.types.marketing import Campaign
from hub_graphql.types.partners import Distributor, Reseller
from hub_graphql.types.quotes import DistributorQuote
from hub_graphql.types.stores import Store, visible_store
from resolvers.access import can_see_order, can_see_reseller
from resolvers.orders import carts, checkout, plaza, service
from resolvers.orders.pricing import Discount, PricedCart, PricedLine
from resolvers.quotes.reads import as_utc, utcnow


@strawberry.enum
class CartKind(Enum):
    STORE = strawberry.enum_value(
        "STORE", description="A customer's cart in a reseller's store, at the store's prices."
    )
    PLAZA = strawberry.enum_value(
        "PLAZA",
        description="A reseller's cart at Commerce Plaza: products bought from distributors at the prices of "
        "accepted quotes.",
    )


@strawberry.enum
class OrderStatus(Enum):
    PLACED = "PLACED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


def _key_of(value: str, type_name: str) -> str | None:
    """The key inside a global id of this type, or None."""
    parsed = parse_global_id(value)
    return parsed[1] if parsed is not None and parsed[0] == type_name else None


def _int_key_of(value: str, type_name: str) -> int | None:
    key = _key_of(value, type_name)
    return int(key) if key is not None and key.isdigit() else None


# ---------------------------------------------------------------- carts


@strawberry.type
class CartLine:
    id: strawberry.ID
    sku: str
    quantity: int
    unit_price: Money
    discount: Money = strawberry.field(description="The line's share of the cart's discounts.")
    total: Money = strawberry.field(description="quantity x unitPrice - discount.")
    price_valid_until: datetime | None = strawberry.field(
        description="When the line's price stops holding (its quote's validUntil); null for store lines."
    )
    priced: strawberry.Private[PricedLine]

    @classmethod
    def of(cls, priced: PricedLine, currency: str) -> CartLine:
        line = priced.line
        return cls(
            id=global_id("CartLine", line.id),
            sku=line.sku,
            quantity=line.quantity,
            unit_price=Money.of_minor(priced.unit_price_minor, currency),
            discount=Money.of_minor(priced.discount_minor, currency),
            total=Money.of_minor(priced.total_minor, currency),
            price_valid_until=as_utc(line.price_valid_until),
            priced=priced,
        )

    @strawberry.field
    async def product(self, info: Info) -> Product:
        if self.priced.product is not None:
            return Product.of(self.priced.product)
        row = await info.context.loaders.catalog.product_by_sku.load(self.sku)
        return Product.of(row)

    @strawberry.field(
        description="Plaza lines: the distributor the line is bought from, and the accepted quote that fixes its price."
    )
    async def distributor(self, info: Info) -> Distributor | None:
        distributor_id = self.priced.line.distributor_id
        if distributor_id is None:
            return None
        return Distributor.of(await info.context.loaders.partners.distributor_by_id.load(distributor_id))

    @strawberry.field
    async def quote(self, info: Info) -> DistributorQuote | None:
        quote_id = self.priced.line.quote_id
        if quote_id is None:
            return None
        row = await info.context.loaders.quotes.quote_by_id.load(quote_id)
        return DistributorQuote.of(row) if row else None


@strawberry.type(
    description="A line of a store cart whose product the store no longer sells: it has no price, and checkout "
    "refuses the cart until it is removed (updateCartLine with quantity 0)."
)
class UnavailableCartLine:
    id: strawberry.ID
    sku: str
    quantity: int


@strawberry.type(description="A promotion as it applies to one cart or order.")
class AppliedDiscount:
    promotion_code: str
    name: str
    coupon_code: str | None = strawberry.field(description="The coupon code that brought it, if any.")
    amount: Money

    @classmethod
    def of(cls, discount: Discount | models.OrderDiscount, currency: str) -> AppliedDiscount:
        return cls(
            promotion_code=discount.promotion_code,
            name=discount.name,
            coupon_code=discount.coupon_code,
            amount=Money.of_minor(discount.amount_minor, currency),
        )


@strawberry.type(
    description="A cart: a customer's in a reseller's store (reached by its id alone), or a reseller's at "
    "Commerce Plaza. Store lines are priced at the store's prices every time the cart is read."
)
class Cart(Node):
    id: strawberry.ID
    kind: CartKind
    currency: str
    row: strawberry.Private[models.Cart]
    memo: strawberry.Private[dict[str, Any]]

    @classmethod
    def of(cls, row: models.Cart) -> Cart:
        return cls(
            id=global_id("Cart", row.id),
            kind=CartKind(row.kind),
            currency=row.currency,
            row=row,
            memo={},
        )

    async def _priced(self, info: Info) -> PricedCart:
        # Priced once per cart object, shared by its sibling fields (they resolve concurrently).
        if "priced" not in self.memo:
            loaders = info.context.loaders
            self.memo["priced"] = asyncio.ensure_future(
                carts.priced(info.context.db, loaders.orders, loaders.stores, self.row)
            )
        return await self.memo["priced"]

    @strawberry.field(description="The coupon entered with applyCoupon, while it still applies.")
    async def coupon_code(self, info: Info) -> str | None:
        if self.row.coupon_code is None:
            return None
        priced = await self._priced(info)
        return self.row.coupon_code if any(d.coupon_code for d in priced.discounts) else None

    @strawberry.field(description="STORE carts; null when the viewer may not see the store (no longer OPEN).")
    async def store(self, info: Info) -> Store | None:
        if self.row.store_id is None:
            return None
        return await visible_store(
            info, await info.context.loaders.stores.store_by_id.load(self.row.store_id)
        )

    @strawberry.field(description="PLAZA carts.")
    async def reseller(self, info: Info) -> Reseller | None:
        if self.row.reseller_id is None or not can_see_reseller(
            await info.context.viewer(), self.row.reseller_id
        ):
            return None
        return Reseller.of(await info.context.loaders.partners.reseller_by_id.load(self.row.reseller_id))

    @strawberry.field(description="The lines with a price, in the order they were added.")
    async def lines(self, info: Info) -> list[CartLine]:
        priced = await self._priced(info)
        return [CartLine.of(p, self.row.currency) for p in priced.lines]

    @strawberry.field(description="Store lines whose product the store no longer sells.")
    async def unavailable_lines(self, info: Info) -> list[UnavailableCartLine]:
        priced = await self._priced(info)
        return [
            UnavailableCartLine(id=global_id("CartLine", line.id), sku=line.sku, quantity=line.quantity)
            for line in priced.unavailable
        ]

    @strawberry.field(description="Sum of quantity x unitPrice over the lines.")
    async def subtotal(self, info: Info) -> Money:
        return Money.of_minor((await self._priced(info)).subtotal_minor, self.row.currency)

    @strawberry.field
    async def discounts(self, info: Info) -> list[AppliedDiscount]:
        return [AppliedDiscount.of(d, self.row.currency) for d in (await self._priced(info)).discounts]

    @strawberry.field(description="subtotal - the discounts.")
    async def total(self, info: Info) -> Money:
        return Money.of_minor((await self._priced(info)).total_minor, self.row.currency)

    @strawberry.field(description="Pieces in the lines with a price.")
    async def item_count(self, info: Info) -> int:
        return (await self._priced(info)).item_count


async def cart_by_key(info: Info, key: str) -> Cart | None:
    row = await info.context.loaders.orders.cart_by_id.load(key)
    visible = carts.visible_cart(row, await info.context.viewer())
    return Cart.of(visible) if visible else None


# ---------------------------------------------------------------- orders


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")


@strawberry.type
class OrderLine:
    sku: str
    name: str = strawberry.field(description="The product's name in the store when the order was placed.")
    quantity: int
    unit_price: Money
    discount: Money
    total: Money

    @classmethod
    def of(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls(
            sku=row.sku,
            name=row.name,
            quantity=row.quantity,
            unit_price=Money.of_minor(row.unit_price_minor, currency),
            discount=Money.of_minor(row.discount_minor, currency),
            total=Money.of_minor(row.total_minor, currency),
        )


@strawberry.type
class OrderEvent:
    status: OrderStatus
    at: datetime
    by: str | None = strawberry.field(
        description="The e-mail of the user who made the change; null for the customer."
    )
    reason: str | None


@strawberry.type
class OrderNote:
    text: str
    at: datetime
    by: str


@strawberry.type(
    description="A customer's order in a reseller's store. Prices, discounts and names are fixed when it is placed."
)
class Order(Node):
    id: strawberry.ID
    number: str = strawberry.field(
        description="Unique in the hub, printable, not guessable from another order's number."
    )
    status: OrderStatus
    customer_email: str
    shipping_address: Address
    payment_method: str
    currency: str
    subtotal: Money
    total: Money
    placed_at: datetime
    placed_by: str | None = strawberry.field(
        description="The staff member who placed it for the customer (customer service), if any."
    )
    row: strawberry.Private[models.Order]

    @classmethod
    def of(cls, row: models.Order) -> Order:
        return cls(
            id=global_id("Order", row.number),
            number=row.number,
            status=OrderStatus(row.status),
            customer_email=row.customer_email,
            shipping_address=Address(
                name=row.ship_name,
                line1=row.ship_line1,
                line2=row.ship_line2,
                city=row.ship_city,
                postal_code=row.ship_postal_code,
                region=row.ship_region,
                country=row.ship_country,
            ),
            payment_method=row.payment_method,
            currency=row.currency,
            subtotal=Money.of_minor(row.subtotal_minor, row.currency),
            total=Money.of_minor(row.total_minor, row.currency),
            placed_at=as_utc(row.placed_at) or utcnow(),
            placed_by=row.placed_by,
            row=row,
        )

    @strawberry.field
    async def store(self, info: Info) -> Store:
        # Whoever sees the order may see its store: staff, the store's reseller, the customer at checkout.
        return Store.of(await info.context.loaders.stores.store_by_id.load(self.row.store_id))

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.orders.lines_by_order_id.load(self.row.id)
        return [OrderLine.of(r, self.row.currency) for r in rows]

    @strawberry.field
    async def discounts(self, info: Info) -> list[AppliedDiscount]:
        rows = await info.context.loaders.orders.discounts_by_order_id.load(self.row.id)
        return [AppliedDiscount.of(r, self.row.currency) for r in rows]

    @strawberry.field(
        description="The marketing campaign the order is credited to (closed-loop marketing), if any."
    )
    async def campaign(self, info: Info) -> Campaign | None:
        # Whoever sees the order sees the campaign it is credited to.
        if self.row.campaign_id is None:
            return None
        row = await info.context.loaders.marketing.campaign_by_id.load(self.row.campaign_id)
        return Campaign.of(row) if row is not None else None

    @strawberry.field(description="Every status the order reached, oldest first: who, when and why.")
    async def history(self, info: Info) -> list[OrderEvent]:
        rows = await info.context.loaders.orders.events_by_order_id.load(self.row.id)
        return [
            OrderEvent(status=OrderStatus(r.status), at=as_utc(r.at) or utcnow(), by=r.by, reason=r.reason)
            for r in rows
        ]

    @strawberry.field(
        description="Customer service notes, oldest first; shown to staff and to the store's reseller."
    )
    async def notes(self, info: Info) -> list[OrderNote]:
        if not can_see_order(await info.context.viewer(), self.row.reseller_id):
            return []
        rows = await info.context.loaders.orders.notes_by_order_id.load(self.row.id)
        return [OrderNote(text=r.text, at=as_utc(r.at) or utcnow(), by=r.by) for r in rows]


async def order_by_number(info: Info, number: str) -> Order | None:
    row = await info.context.loaders.orders.order_by_number.load(number)
    visible = service.visible_order(row, await info.context.viewer())
    return Order.of(visible) if visible else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "Cart": cart_by_key,
    "Order": order_by_number,
}


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many orders match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


# ---------------------------------------------------------------- inputs and payloads


@flat_input
@strawberry.input
class CartLineInput:
    sku: str
    quantity: int


@strawberry.input
class AddressInput:
    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    region: str | None = None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, such as DE or US.")


@strawberry.input
class CheckoutInput:
    email: str = strawberry.field(description="Kept as given; compared case-insensitively.")
    shipping_address: AddressInput
    payment_method: str = strawberry.field(description="One of the hub policies' paymentMethods.")
    marketing_opt_in: bool | None = strawberry.field(
        default=False, description="The customer agrees to receive the store's marketing e-mail."
    )
    visitor_id: str | None = strawberry.field(
        default=None,
        description="The storefront's visitor id (the one its web activity carries), for closed-loop attribution.",
    )


@strawberry.input
class OrderFilter:
    store_slug: str | None = None
    reseller_code: str | None = None
    status: OrderStatus | None = None
    customer_email: str | None = strawberry.field(default=None, description="Exact e-mail, case-insensitive.")
    placed_from: datetime | None = strawberry.field(default=None, description="At or after.")
    placed_to: datetime | None = strawberry.field(default=None, description="Before.")


@strawberry.type
class CartPayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]


async def _cart_payload(
    info: Info, action: Callable[[UnitOfWork], Awaitable[carts.CartResult]]
) -> CartPayload:
    result = await run_checked(info, action)
    if result.errors:
        return CartPayload(cart=None, user_errors=UserError.all(result.errors.errors))
    row = await info.context.loaders.orders.cart_by_id.load(result.cart_id)
    return CartPayload(cart=Cart.of(row) if row else None, user_errors=[])


async def _order_payload(info: Info, action: Callable[[UnitOfWork], Awaitable[Any]]) -> OrderPayload:
    result = await run_checked(info, action)
    if result.errors:
        return OrderPayload(order=None, user_errors=UserError.all(result.errors.errors))
    row = await info.context.loaders.orders.order_by_number.load(result.number)
    return OrderPayload(order=Order.of(row) if row else None, user_errors=[])


# ---------------------------------------------------------------- roots


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        extensions=guarded(),
        description="A cart by its id: a store cart for whoever holds the id, a plaza cart for its reseller and staff.",
    )
    async def cart(self, info: Info, id: strawberry.ID) -> Cart | None:
        key = _key_of(id, "Cart")
        return None if key is None else await cart_by_key(info, key)

    @strawberry.field(
        extensions=guarded(),
        description="The signed-in reseller's open Commerce Plaza cart (made on first use).",
    )
    async def plaza_cart(self, info: Info) -> Cart | None:
        viewer = await info.context.viewer()
        assert viewer is not None  # the guard lets no anonymous caller through
        policy = await info.context.policy()
        payload = await _cart_payload(info, lambda unit: plaza.plaza_cart(unit.session, viewer, policy))
        return payload.cart

    @strawberry.field(
        extensions=guarded(),
        description="Staff (SITE_ADMIN, CHANNEL_MANAGER, CUSTOMER_SERVICE) see every order, a RESELLER_ADMIN its "
        "stores' orders; null for any other.",
    )
    async def order(self, info: Info, number: str) -> Order | None:
        return await order_by_number(info, number)

    @strawberry.field(
        extensions=guarded(),
        description="Newest first. Staff (SITE_ADMIN, CHANNEL_MANAGER, CUSTOMER_SERVICE) see every order, a "
        "RESELLER_ADMIN its stores' orders. `first` is at most 100.",
    )
    async def orders(
        self, info: Info, filter: OrderFilter | None = None, first: int | None = 20, after: str | None = None
    ) -> OrderConnection:
        viewer = await info.context.viewer()
        assert viewer is not None  # the guard lets no anonymous caller through
        db = info.context.db
        data = None
        if filter is not None:
            data = service.OrderFilterData(
                store_slug=filter.store_slug,
                reseller_code=filter.reseller_code,
                status=filter.status.value if filter.status else None,
                customer_email=filter.customer_email,
                placed_from=filter.placed_from,
                placed_to=filter.placed_to,
            )
        query = await service.order_query(db, data)
        page, scope = await service.orders_page(db, viewer, query, first, after)
        return OrderConnection(
            edges=[
                OrderEdge(cursor=c, node=Order.of(o)) for c, o in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: service.orders_count(db, scope, query),
        )


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(extensions=guarded(), description="Open to anyone, for an OPEN store.")
    async def create_cart(self, info: Info, store_slug: str) -> CartPayload:
        return await _cart_payload(info, lambda unit: carts.create_cart(unit.session, store_slug, utcnow()))

    @strawberry.mutation(
        extensions=guarded(),
        description="Adds to the cart; a SKU already in it gets the quantities added. At most 200 lines a call "
        "and a cart, 9,999 pieces a line.",
    )
    async def add_cart_lines(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineInput]
    ) -> CartPayload:
        data = [carts.CartLineData(sku=line.sku, quantity=line.quantity) for line in lines]
        key = _key_of(cart_id, "Cart")
        return await _cart_payload(info, lambda unit: carts.add_lines(unit.session, key, data, utcnow()))

    @strawberry.mutation(extensions=guarded(), description="Quantity 0 removes the line.")
    async def update_cart_line(
        self, info: Info, cart_id: strawberry.ID, line_id: strawberry.ID, quantity: int
    ) -> CartPayload:
        key = _key_of(cart_id, "Cart")
        line = _int_key_of(line_id, "CartLine")
        return await _cart_payload(
            info, lambda unit: carts.update_line(unit.session, key, line, quantity, utcnow())
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="Gives the cart a coupon (case-insensitive). An unknown, disabled, not yet valid, expired, "
        "used-up or not applicable code is a userError (UNKNOWN_COUPON, COUPON_DISABLED, COUPON_NOT_STARTED, "
        "COUPON_EXPIRED, COUPON_EXHAUSTED, COUPON_NOT_APPLICABLE) and the cart keeps its previous coupon.",
    )
    async def apply_coupon(self, info: Info, cart_id: strawberry.ID, code: str) -> CartPayload:
        key = _key_of(cart_id, "Cart")
        return await _cart_payload(info, lambda unit: carts.apply_coupon(unit.session, key, code, utcnow()))

    @strawberry.mutation(extensions=guarded(), description="Takes the cart's coupon off.")
    async def remove_coupon(self, info: Info, cart_id: strawberry.ID) -> CartPayload:
        key = _key_of(cart_id, "Cart")
        return await _cart_payload(info, lambda unit: carts.remove_coupon(unit.session, key, utcnow()))

    @strawberry.mutation(
        extensions=guarded(),
        description="Places the order at the cart's prices and discounts; the cart is then closed. A signed-in "
        "staff user placing it for a customer is recorded as placedBy.",
    )
    async def checkout(self, info: Info, cart_id: strawberry.ID, input: CheckoutInput) -> OrderPayload:
        viewer = await info.context.viewer()
        policy = await info.context.policy()
        address = input.shipping_address
        data = checkout.CheckoutData(
            email=input.email,
            address=checkout.AddressData(
                name=address.name,
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                postal_code=address.postal_code,
                region=address.region,
                country=address.country,
            ),
            payment_method=input.payment_method,
            marketing_opt_in=bool(input.marketing_opt_in),
            visitor_id=input.visitor_id,
        )
        key = _key_of(cart_id, "Cart")
        return await _order_payload(
            info, lambda unit: checkout.checkout(unit.session, viewer, policy, key, data, utcnow())
        )

    @strawberry.mutation(extensions=guarded(), description="PLACED → FULFILLED.")
    async def fulfill_order(self, info: Info, number: str) -> OrderPayload:
        viewer = await info.context.viewer()
        return await _order_payload(info, lambda unit: service.fulfil(unit.session, viewer, number, utcnow()))

    @strawberry.mutation(extensions=guarded(), description="PLACED → CANCELLED; the reason is required.")
    async def cancel_order(self, info: Info, number: str, reason: str) -> OrderPayload:
        viewer = await info.context.viewer()
        return await _order_payload(
            info, lambda unit: service.cancel(unit.session, viewer, number, reason, utcnow())
        )

    @strawberry.mutation(extensions=guarded(), description="A customer service note on the order.")
    async def add_order_note(self, info: Info, number: str, text: str) -> OrderPayload:
        viewer = await info.context.viewer()
        return await _order_payload(
            info, lambda unit: service.add_note(unit.session, viewer, number, text, utcnow())
        )

    @strawberry.mutation(extensions=guarded(), description="Sends the order's confirmation e-mail again.")
    async def resend_order_confirmation(self, info: Info, number: str) -> OrderPayload:
        viewer = await info.context.viewer()
        return await _order_payload(
            info, lambda unit: service.resend_confirmation(unit.session, viewer, number)
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="Every available line of an ACCEPTED, unexpired quote of your reseller, at its prices.",
    )
    async def add_quote_to_plaza_cart(self, info: Info, quote_id: strawberry.ID) -> CartPayload:
        viewer = await info.context.viewer()
        policy = await info.context.policy()
        key = _int_key_of(quote_id, "DistributorQuote")
        return await _cart_payload(
            info, lambda unit: plaza.add_quote(unit.session, viewer, policy, key, utcnow())
        )

    @strawberry.mutation(extensions=guarded(), description="Takes a line out of your plaza cart.")
    async def remove_plaza_cart_line(self, info: Info, line_id: strawberry.ID) -> CartPayload:
        viewer = await info.context.viewer()
        line = _int_key_of(line_id, "CartLine")
        return await _cart_payload(info, lambda unit: plaza.remove_line(unit.session, viewer, line, utcnow()))
