"""Store carts and checkout end to end over GraphQL, on both databases."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from datasources.orders.models import Cart, CartLine, Order, OrderEvent, OrderLine
from datasources.stores.models import Store
from hub_graphql.types.common import global_id
from resolvers.orders.carts import MAX_LINES, MAX_QUANTITY
from tests.harness import Hub, QueryCounter
from tests.orders_factory import Shop, make_shop, outbox, shop_sku, unit_price_minor
from tests.stores_factory import add_store, set_reseller_status

CART_FIELDS = """
  id kind currency couponCode itemCount
  store { slug }
  reseller { code }
  subtotal { amount currency }
  total { amount currency }
  discounts { promotionCode amount { amount } }
  lines { id sku quantity product { sku name } unitPrice { amount currency } discount { amount }
          total { amount } distributor { code } quote { id } priceValidUntil }
  unavailableLines { id sku quantity }
"""

CREATE = f"""
mutation($slug: String!) {{ createCart(storeSlug: $slug) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }} }}
"""
ADD = f"""
mutation($cart: ID!, $lines: [CartLineInput!]!) {{
  addCartLines(cartId: $cart, lines: $lines) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
UPDATE = f"""
mutation($cart: ID!, $line: ID!, $quantity: Int!) {{
  updateCartLine(cartId: $cart, lineId: $line, quantity: $quantity) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code }} }}
}}
"""
READ = f"query($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Cart { kind } } }"

ORDER_FIELDS = """
  id number status customerEmail paymentMethod currency placedAt placedBy
  store { slug name }
  shippingAddress { name line1 line2 city postalCode region country }
  lines { sku name quantity unitPrice { amount } discount { amount } total { amount } }
  subtotal { amount currency } total { amount currency } discounts { promotionCode }
  history { status by reason at }
  notes { text }
"""
CHECKOUT = f"""
mutation($cart: ID!, $input: CheckoutInput!) {{
  checkout(cartId: $cart, input: $input) {{ order {{ {ORDER_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
SET_RULES = """
mutation($slug: String!, $rules: [PriceRuleInput!]!) {
  setStorePriceRules(slug: $slug, rules: $rules) { store { slug } userErrors { code } }
}
"""
EXCLUDE = """
mutation($slug: String!, $skus: [String!]!) {
  setStoreAssortment(slug: $slug, input: {excludeSkus: $skus}) { store { slug } userErrors { code } }
}
"""
STORE_PRODUCT = "query($slug: String!, $sku: String!) { store(slug: $slug) { product(sku: $sku) { price { amount } name } } }"


def address(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postalCode": "N1 9GU",
        "country": "GB",
        **changes,
    }


def checkout_input(**changes: Any) -> dict[str, Any]:
    return {
        "email": "Ada.Lovelace@Example.COM",
        "shippingAddress": address(),
        "paymentMethod": "INVOICE",
        **changes,
    }


async def new_cart(hub: Hub, shop: Shop, lines: list[tuple[int, int]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    cart = (await hub.query(CREATE, {"slug": shop.slug}))["createCart"]["cart"]
    if lines:
        payload = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines(lines)}))["addCartLines"]
        assert payload["userErrors"] == [], payload
        cart = payload["cart"]
    return cart


def _lines(lines: list[tuple[int, int]]) -> list[dict[str, Any]]:
    return [{"sku": shop_sku(n), "quantity": q} for n, q in lines]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- carts


async def test_a_cart_is_made_for_an_open_store_with_an_unguessable_id_and_priced_at_the_store_price(
    hub: Hub,
) -> None:
    shop = await make_shop(hub, 3)

    created = (await hub.query(CREATE, {"slug": shop.slug}))["createCart"]
    cart = created["cart"]
    added = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(0, 2), (1, 1)])}))["addCartLines"]
    again = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(0, 3)])}))["addCartLines"]

    assert created["userErrors"] == []
    assert cart["kind"] == "STORE" and cart["currency"] == "USD" and cart["store"] == {"slug": "shop"}
    assert cart["lines"] == [] and cart["itemCount"] == 0 and cart["subtotal"]["amount"] == "0.00"
    async with hub.resources.session_factory() as session:
        (token,) = await session.scalars(select(Cart.id))
    assert len(token) >= 22  # at least 128 random bits in URL-safe base 64
    assert cart["id"] == global_id("Cart", token)
    assert added["userErrors"] == [] and again["userErrors"] == []
    lines = again["cart"]["lines"]
    assert [(line["sku"], line["quantity"]) for line in lines] == [(shop_sku(0), 5), (shop_sku(1), 1)]
    assert lines[0]["unitPrice"] == {"amount": "10.00", "currency": "USD"}
    assert lines[0]["total"]["amount"] == "50.00" and lines[0]["discount"]["amount"] == "0.00"
    assert lines[0]["product"] == {"sku": shop_sku(0), "name": "Shop product 0"}
    assert (
        lines[0]["distributor"] is None and lines[0]["quote"] is None and lines[0]["priceValidUntil"] is None
    )
    assert again["cart"]["subtotal"] == {"amount": "61.00", "currency": "USD"}
    assert again["cart"]["total"] == {"amount": "61.00", "currency": "USD"}
    assert again["cart"]["discounts"] == [] and again["cart"]["itemCount"] == 6
    assert await count(hub, CartLine) == 2


async def test_a_price_rule_change_shows_in_the_cart_at_once_exactly_as_the_store_prices(hub: Hub) -> None:
    shop = await make_shop(hub, 3)
    admin = await hub.staff("CHANNEL_MANAGER")
    cart = await new_cart(hub, shop, [(0, 1), (2, 3)])

    rules = [
        {"scope": "ALL", "markupPercent": "12.5"},
        {"scope": "SKU", "target": shop_sku(2), "fixedPrice": "7.77"},
    ]
    assert (await hub.query(SET_RULES, {"slug": shop.slug, "rules": rules}, token=admin))[
        "setStorePriceRules"
    ]["userErrors"] == []
    read = (await hub.query(READ, {"id": cart["id"]}))["cart"]
    store_prices = [
        (await hub.query(STORE_PRODUCT, {"slug": shop.slug, "sku": shop_sku(n)}))["store"]["product"][
            "price"
        ]["amount"]
        for n in (0, 2)
    ]

    assert [line["unitPrice"]["amount"] for line in read["lines"]] == store_prices == ["11.25", "7.77"]
    assert read["subtotal"]["amount"] == str(Decimal("11.25") + 3 * Decimal("7.77"))


async def test_update_sets_a_quantity_and_zero_removes_the_line(hub: Hub) -> None:
    shop = await make_shop(hub, 2)
    cart = await new_cart(hub, shop, [(0, 2), (1, 1)])
    first, second = (line["id"] for line in cart["lines"])

    changed = (await hub.query(UPDATE, {"cart": cart["id"], "line": first, "quantity": 7}))["updateCartLine"]
    removed = (await hub.query(UPDATE, {"cart": cart["id"], "line": second, "quantity": 0}))["updateCartLine"]
    gone = (await hub.query(UPDATE, {"cart": cart["id"], "line": second, "quantity": 1}))["updateCartLine"]

    assert changed["userErrors"] == [] and [line["quantity"] for line in changed["cart"]["lines"]] == [7, 1]
    assert removed["userErrors"] == [] and [line["sku"] for line in removed["cart"]["lines"]] == [shop_sku(0)]
    assert gone == {"cart": None, "userErrors": [{"field": ["lineId"], "code": "NOT_FOUND"}]}


async def test_bad_cart_input_is_a_user_error_and_writes_nothing(hub: Hub) -> None:
    shop = await make_shop(hub, 3)
    cart = await new_cart(hub, shop, [(0, 9_000)])
    line = cart["lines"][0]["id"]
    other = await make_shop(hub, 0, slug="other", reseller="R-OTHER")
    other_cart = await new_cart(hub, other)

    unknown_store = (await hub.query(CREATE, {"slug": "nope"}))["createCart"]
    not_sold = (await hub.query(ADD, {"cart": cart["id"], "lines": [{"sku": "NOPE", "quantity": 1}]}))[
        "addCartLines"
    ]
    zero = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(1, 0)])}))["addCartLines"]
    too_many_pieces = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(1, MAX_QUANTITY + 1)])}))[
        "addCartLines"
    ]
    over_the_line_limit = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(0, 1_000)])}))[
        "addCartLines"
    ]
    too_many_lines = (
        await hub.query(
            ADD, {"cart": cart["id"], "lines": [{"sku": shop_sku(1), "quantity": 1}] * (MAX_LINES + 1)}
        )
    )["addCartLines"]
    unknown_cart = (await hub.query(ADD, {"cart": global_id("Cart", "x" * 32), "lines": _lines([(1, 1)])}))[
        "addCartLines"
    ]
    not_a_cart_id = (await hub.query(ADD, {"cart": "garbage", "lines": _lines([(1, 1)])}))["addCartLines"]
    negative = (await hub.query(UPDATE, {"cart": cart["id"], "line": line, "quantity": -1}))["updateCartLine"]
    line_of_another_cart = (await hub.query(UPDATE, {"cart": other_cart["id"], "line": line, "quantity": 1}))[
        "updateCartLine"
    ]

    assert codes(unknown_store) == ["NOT_FOUND"] and unknown_store["cart"] is None
    assert codes(not_sold) == ["NOT_SOLD"] and not_sold["userErrors"][0]["field"] == ["lines", "0", "sku"]
    assert codes(zero) == ["INVALID_QUANTITY"] and zero["userErrors"][0]["field"] == [
        "lines",
        "0",
        "quantity",
    ]
    assert codes(too_many_pieces) == ["INVALID_QUANTITY"]
    assert codes(over_the_line_limit) == ["INVALID_QUANTITY"]
    assert codes(too_many_lines) == ["TOO_MANY_LINES"]
    assert codes(unknown_cart) == ["NOT_FOUND"] and codes(not_a_cart_id) == ["NOT_FOUND"]
    assert codes(negative) == ["INVALID_QUANTITY"]
    assert codes(line_of_another_cart) == ["NOT_FOUND"]
    after = (await hub.query(READ, {"id": cart["id"]}))["cart"]
    assert [(line["sku"], line["quantity"]) for line in after["lines"]] == [(shop_sku(0), 9_000)]
    assert await count(hub, CartLine) == 1


async def test_a_cart_holds_at_most_200_lines(hub: Hub) -> None:
    shop = await make_shop(hub, MAX_LINES + 1)
    cart = await new_cart(hub, shop, [(n, 1) for n in range(MAX_LINES)])

    one_more = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(MAX_LINES, 1)])}))["addCartLines"]
    same_sku_again = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(0, 1)])}))["addCartLines"]

    assert len(cart["lines"]) == MAX_LINES
    assert codes(one_more) == ["TOO_MANY_LINES"]
    assert same_sku_again["userErrors"] == [] and same_sku_again["cart"]["lines"][0]["quantity"] == 2


async def test_a_store_that_closes_or_was_never_open_takes_no_cart_changes(hub: Hub) -> None:
    shop = await make_shop(hub, 2)
    draft = await add_store(hub, shop.reseller_id, "draft-shop", status="DRAFT")
    cart = await new_cart(hub, shop, [(0, 1)])
    async with hub.resources.session_factory() as session, session.begin():
        (await session.get(Store, shop.store_id)).status = "CLOSED"  # type: ignore[union-attr]

    on_draft = (await hub.query(CREATE, {"slug": "draft-shop"}))["createCart"]
    on_closed = (await hub.query(CREATE, {"slug": shop.slug}))["createCart"]
    add = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(1, 1)])}))["addCartLines"]
    bought = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"]

    assert draft
    assert codes(on_draft) == ["STORE_NOT_OPEN"] and codes(on_closed) == ["STORE_NOT_OPEN"]
    assert codes(add) == ["STORE_NOT_OPEN"] and codes(bought) == ["STORE_NOT_OPEN"]
    assert await count(hub, Cart) == 1 and await count(hub, Order) == 0
    async with hub.resources.session_factory() as session:
        assert (await session.scalar(select(Cart.status))) == "OPEN"


async def test_a_suspended_resellers_store_takes_no_carts(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    await set_reseller_status(hub, shop.reseller_id, "SUSPENDED")

    created = (await hub.query(CREATE, {"slug": shop.slug}))["createCart"]

    assert codes(created) == ["STORE_NOT_OPEN"] and await count(hub, Cart) == 0


async def test_a_store_cart_is_read_by_whoever_holds_its_id_also_through_node(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    cart = await new_cart(hub, shop, [(0, 1)])
    someone = await hub.user("CUSTOMER")

    anonymous = (await hub.query(READ, {"id": cart["id"]}))["cart"]
    signed_in = (await hub.query(READ, {"id": cart["id"]}, token=someone))["cart"]
    node = (await hub.query(NODE, {"id": cart["id"]}))["node"]
    unknown = (await hub.query(READ, {"id": global_id("Cart", "nope")}))["cart"]

    assert anonymous == signed_in == cart
    assert node == {"id": cart["id"], "kind": "STORE"}
    assert unknown is None


async def test_reading_a_cart_costs_the_same_statements_for_1_line_or_20(
    hub: Hub, count_queries: QueryCounter
) -> None:
    shop = await make_shop(hub, 20)
    small = await new_cart(hub, shop, [(0, 1)])
    large = await new_cart(hub, shop, [(n, n + 1) for n in range(20)])

    counts = []
    for cart in (small, large):
        await hub.query(READ, {"id": cart["id"]})  # warm: the first request of a connection may set it up
        count_queries.reset()
        read = (await hub.query(READ, {"id": cart["id"]}))["cart"]
        counts.append(count_queries.count)
        assert read == cart

    assert counts[0] == counts[1], count_queries.statements
    # the cart, its lines, the store's prices, the store, its reseller; then the promotion engine: the
    # automatic promotions, the lines' products with their categories, their groups
    assert counts[1] <= 8, count_queries.statements


# ---------------------------------------------------------------- checkout


async def test_checkout_places_the_order_at_the_carts_prices_and_names_and_closes_the_cart(hub: Hub) -> None:
    shop = await make_shop(hub, 3)
    admin = await hub.staff("CHANNEL_MANAGER")
    named = """mutation { setStoreProductContent(slug: "shop", sku: "S-0001", input: {name: "Our drill"}) {
      userErrors { code } } }"""
    assert (await hub.query(named, token=admin))["setStoreProductContent"]["userErrors"] == []
    cart = await new_cart(hub, shop, [(0, 2), (1, 1)])
    given = checkout_input(
        shippingAddress=address(line2="Flat 3", region="Greater London", country="gb"),
        marketingOptIn=True,
        visitorId="visitor-123",
    )

    placed = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": given}))["checkout"]
    # the store's prices change afterwards: the order keeps what it was placed at
    rules = [{"scope": "ALL", "markupPercent": "50"}]
    await hub.query(SET_RULES, {"slug": shop.slug, "rules": rules}, token=admin)
    read = (
        await hub.query(
            "query($n: String!) { order(number: $n) { " + ORDER_FIELDS + " } }",
            {"n": placed["order"]["number"]},
            token=admin,
        )
    )["order"]

    assert placed["userErrors"] == []
    order = placed["order"]
    assert order == read
    assert order["number"].startswith("ORD-") and len(order["number"]) == len("ORD-XXXX-XXXX-XXXX")
    assert order["status"] == "PLACED" and order["customerEmail"] == "Ada.Lovelace@Example.COM"
    assert order["paymentMethod"] == "INVOICE" and order["currency"] == "USD" and order["placedBy"] is None
    assert order["store"] == {"slug": "shop", "name": "Store shop"}
    assert order["shippingAddress"] == {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "line2": "Flat 3",
        "city": "London",
        "postalCode": "N1 9GU",
        "region": "Greater London",
        "country": "GB",
    }
    assert order["lines"] == [
        {
            "sku": shop_sku(0),
            "name": "Shop product 0",
            "quantity": 2,
            "unitPrice": {"amount": "10.00"},
            "discount": {"amount": "0.00"},
            "total": {"amount": "20.00"},
        },
        {
            "sku": shop_sku(1),
            "name": "Our drill",
            "quantity": 1,
            "unitPrice": {"amount": "11.00"},
            "discount": {"amount": "0.00"},
            "total": {"amount": "11.00"},
        },
    ]
    assert order["subtotal"] == {"amount": "31.00", "currency": "USD"} and order["total"]["amount"] == "31.00"
    assert order["discounts"] == []
    assert [(e["status"], e["by"], e["reason"]) for e in order["history"]] == [("PLACED", None, None)]
    async with hub.resources.session_factory() as session:
        row = await session.scalar(select(Order))
        assert row.customer_email_key == "ada.lovelace@example.com"
        assert row.marketing_opt_in is True and row.visitor_id == "visitor-123"
        assert row.discount_minor == 0 and row.subtotal_minor == 3100
        assert await session.scalar(select(Cart.status)) == "CHECKED_OUT"
    closed = (await hub.query(ADD, {"cart": cart["id"], "lines": _lines([(2, 1)])}))["addCartLines"]
    assert codes(closed) == ["CART_CLOSED"]


async def test_checkout_puts_the_confirmation_on_the_outbox_with_the_order(hub: Hub) -> None:
    shop = await make_shop(hub, 2)
    async with hub.resources.session_factory() as session, session.begin():
        (await session.get(Store, shop.store_id)).name = "Bob's <Tools> & Co"  # type: ignore[union-attr]
    cart = await new_cart(hub, shop, [(0, 2), (1, 1)])
    given = checkout_input(shippingAddress=address(name="<script>alert(1)</script>"))

    order = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": given}))["checkout"]["order"]

    (message,) = await outbox(hub)
    number = order["number"]
    assert message.kind == "email" and message.idempotency_key == f"order-confirmation:{number}"
    assert message.status == "PENDING"
    payload = message.payload
    assert payload["to"] == "Ada.Lovelace@Example.COM"
    assert payload["subject"] == f"Your order {number} at Bob's <Tools> & Co"
    text = payload["text"]
    for expected in (
        number,
        "Bob's <Tools> & Co",
        "2 x Shop product 0 (S-0000)",
        "20.00 USD",
        "Total: 31.00 USD",
        "<script>alert(1)</script>",
        "12 Analytical Row",
        "N1 9GU London",
        "GB",
        "INVOICE",
    ):
        assert expected in text, expected
    html = payload["html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Bob&#x27;s &lt;Tools&gt; &amp; Co" in html and number in html


async def test_bad_checkout_input_is_a_user_error_and_writes_nothing(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    cart = await new_cart(hub, shop, [(0, 1)])
    cases = {
        "INVALID_EMAIL": checkout_input(email="not-an-address"),
        "INVALID_COUNTRY": checkout_input(shippingAddress=address(country="XX")),
        "REQUIRED": checkout_input(shippingAddress=address(city="  ")),
        "INVALID_PAYMENT_METHOD": checkout_input(paymentMethod="BITCOIN"),
        "TOO_LONG": checkout_input(visitorId="v" * 65),
    }

    answers = {
        code: (await hub.query(CHECKOUT, {"cart": cart["id"], "input": given}))["checkout"]
        for code, given in cases.items()
    }
    region_code = (
        await hub.query(
            CHECKOUT, {"cart": cart["id"], "input": checkout_input(shippingAddress=address(country="EU"))}
        )
    )["checkout"]

    for code, answer in answers.items():
        assert answer["order"] is None and codes(answer) == [code], (code, answer)
    assert answers["INVALID_COUNTRY"]["userErrors"][0]["field"] == ["input", "shippingAddress", "country"]
    assert answers["REQUIRED"]["userErrors"][0]["field"] == ["input", "shippingAddress", "city"]
    assert codes(region_code) == ["INVALID_COUNTRY"]
    assert await count(hub, Order) == 0 and await outbox(hub) == []
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(Cart.status)) == "OPEN"


async def test_an_empty_cart_a_second_checkout_and_a_product_that_left_the_store_are_user_errors(
    hub: Hub,
) -> None:
    shop = await make_shop(hub, 2)
    admin = await hub.staff("SITE_ADMIN")
    empty = await new_cart(hub, shop)
    left = await new_cart(hub, shop, [(0, 1), (1, 1)])
    done = await new_cart(hub, shop, [(0, 1)])
    first = (await hub.query(CHECKOUT, {"cart": done["id"], "input": checkout_input()}))["checkout"]
    assert first["userErrors"] == []
    excluded = await hub.query(EXCLUDE, {"slug": shop.slug, "skus": [shop_sku(1)]}, token=admin)
    assert excluded["setStoreAssortment"]["userErrors"] == []

    on_empty = (await hub.query(CHECKOUT, {"cart": empty["id"], "input": checkout_input()}))["checkout"]
    second = (await hub.query(CHECKOUT, {"cart": done["id"], "input": checkout_input()}))["checkout"]
    with_gone = (await hub.query(CHECKOUT, {"cart": left["id"], "input": checkout_input()}))["checkout"]
    read = (await hub.query(READ, {"id": left["id"]}))["cart"]
    gone_line = read["unavailableLines"][0]
    removed = (await hub.query(UPDATE, {"cart": left["id"], "line": gone_line["id"], "quantity": 0}))[
        "updateCartLine"
    ]
    then = (await hub.query(CHECKOUT, {"cart": left["id"], "input": checkout_input()}))["checkout"]

    assert codes(on_empty) == ["EMPTY_CART"]
    assert codes(second) == ["CART_CLOSED"]
    assert (
        codes(with_gone) == ["PRODUCT_UNAVAILABLE"] and shop_sku(1) in with_gone["userErrors"][0]["message"]
    )
    assert [line["sku"] for line in read["lines"]] == [shop_sku(0)] and read["subtotal"]["amount"] == "10.00"
    assert gone_line["sku"] == shop_sku(1)
    assert removed["userErrors"] == [] and removed["cart"]["unavailableLines"] == []
    assert then["userErrors"] == [] and [line["sku"] for line in then["order"]["lines"]] == [shop_sku(0)]
    assert await count(hub, Order) == 2 and len(await outbox(hub)) == 2


async def test_a_staff_user_checking_out_for_a_customer_is_recorded_as_placed_by(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    agent = await hub.user("CUSTOMER_SERVICE", email="Agent.Smith@hub.example")
    customer = await hub.user("CUSTOMER")
    by_agent = await new_cart(hub, shop, [(0, 1)])
    by_customer = await new_cart(hub, shop, [(0, 1)])

    placed = (await hub.query(CHECKOUT, {"cart": by_agent["id"], "input": checkout_input()}, token=agent))[
        "checkout"
    ]
    own = (await hub.query(CHECKOUT, {"cart": by_customer["id"], "input": checkout_input()}, token=customer))[
        "checkout"
    ]

    assert placed["order"]["placedBy"] == "Agent.Smith@hub.example"
    assert placed["order"]["history"][0]["by"] == "Agent.Smith@hub.example"
    assert own["order"]["placedBy"] is None and own["order"]["history"][0]["by"] is None


async def test_checkout_costs_the_same_statements_for_1_line_or_20(
    hub: Hub, count_queries: QueryCounter
) -> None:
    shop = await make_shop(hub, 20)
    warm = await new_cart(hub, shop, [(0, 1)])
    await hub.query(CHECKOUT, {"cart": warm["id"], "input": checkout_input()})
    small = await new_cart(hub, shop, [(0, 1)])
    large = await new_cart(hub, shop, [(n, 1) for n in range(20)])
    light = "mutation($cart: ID!, $input: CheckoutInput!) { checkout(cartId: $cart, input: $input) { order { number lines { sku } } userErrors { code } } }"

    counts = []
    for cart, lines in ((small, 1), (large, 20)):
        count_queries.reset()
        placed = (await hub.query(light, {"cart": cart["id"], "input": checkout_input()}))["checkout"]
        assert placed["userErrors"] == [] and len(placed["order"]["lines"]) == lines
        counts.append(count_queries.count)

    assert counts[0] == counts[1], count_queries.statements
    # 16 for the order itself, then the promotion engine's 3, the attribution's last click and the
    # sales rollup's 3 upserts (daily, daily per product, monthly per product; constant)
    assert counts[1] <= 22, count_queries.statements


async def test_two_concurrent_checkouts_of_one_cart_make_exactly_one_order(hub: Hub) -> None:
    shop = await make_shop(hub, 2)

    for _ in range(3):  # a few rounds, each on a fresh cart, to give the race its chance
        cart = await new_cart(hub, shop, [(0, 1), (1, 2)])
        results = await asyncio.gather(
            *(hub.post(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}) for _ in range(2))
        )
        payloads = [r["data"]["checkout"] for r in results]
        assert all(not r.get("errors") for r in results), results
        winners = [p for p in payloads if p["order"] is not None]
        losers = [p for p in payloads if p["order"] is None]
        assert len(winners) == 1 and len(losers) == 1, payloads
        assert codes(losers[0]) == ["CART_CLOSED"]
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 3
        assert await session.scalar(select(func.count()).select_from(OrderLine)) == 6
        assert await session.scalar(select(func.count()).select_from(OrderEvent)) == 3
    assert len(await outbox(hub)) == 3


async def test_order_numbers_are_unique_and_not_a_sequence(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    numbers = []
    for _ in range(5):
        cart = await new_cart(hub, shop, [(0, 1)])
        numbers.append(
            (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"]["order"][
                "number"
            ]
        )

    assert len(set(numbers)) == 5
    assert sorted(numbers) != numbers or sorted(numbers, reverse=True) != numbers
    assert unit_price_minor(0) == 1000


def test_the_confirmation_subject_stays_one_line_whatever_the_store_is_called() -> None:
    from datasources.orders.models import Order as OrderRow
    from resolvers.orders.confirmation import render

    order = OrderRow(
        number="ORD-AAAA-BBBB-CCCC",
        currency="USD",
        subtotal_minor=0,
        total_minor=0,
        payment_method="INVOICE",
        ship_name="A",
        ship_line1="B",
        ship_city="C",
        ship_postal_code="D",
        ship_country="DE",
    )

    subject, _, _ = render(order, [], [], "Shop\r\nBcc: victim@example.com")

    assert subject == "Your order ORD-AAAA-BBBB-CCCC at Shop Bcc: victim@example.com"
