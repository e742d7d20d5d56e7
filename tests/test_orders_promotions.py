"""Commerce meets marketing: coupons on carts, promotions at checkout (usage limits under concurrency), and
the campaign an order is credited to; over GraphQL, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from datasources.orders.models import Cart, Order, OrderDiscount
from tests.harness import Hub
from tests.marketing_factory import add_campaign, add_events
from tests.orders_factory import Shop, make_shop
from tests.test_orders import CHECKOUT, READ, checkout_input, codes, new_cart

UPSERT = """
mutation($input: PromotionInput!) {
  upsertPromotion(input: $input) { promotion { code timesUsed } userErrors { field code } }
}"""
CART = "couponCode subtotal { amount } total { amount } discounts { promotionCode couponCode amount { amount } } lines { sku discount { amount } total { amount } }"
APPLY = f"""
mutation($cart: ID!, $code: String!) {{
  applyCoupon(cartId: $cart, code: $code) {{ cart {{ {CART} }} userErrors {{ field code message }} }}
}}"""
REMOVE = (
    f"mutation($cart: ID!) {{ removeCoupon(cartId: $cart) {{ cart {{ {CART} }} userErrors {{ code }} }} }}"
)
TIMES_USED = "query($store: String) { promotions(storeSlug: $store) { code timesUsed } }"
CANCEL = 'mutation($n: String!) { cancelOrder(number: $n, reason: "asked") { order { status } userErrors { code } } }'
ORDER = """query($n: String!) { order(number: $n) {
  number total { amount } discounts { promotionCode couponCode amount { amount } }
  lines { sku discount { amount } total { amount } } campaign { code } } }"""


async def promote(hub: Hub, shop: Shop, code: str, **fields: Any) -> None:
    token = await hub.staff("MARKETING_MANAGER")
    values = {
        "code": code,
        "name": code,
        "scope": "ALL",
        "percentOff": "10",
        "storeSlug": shop.slug,
        **fields,
    }
    payload = (await hub.query(UPSERT, {"input": values}, token=token))["upsertPromotion"]
    assert payload["userErrors"] == [], payload


async def apply(hub: Hub, cart: dict[str, Any], code: str) -> dict[str, Any]:
    return (await hub.query(APPLY, {"cart": cart["id"], "code": code}))["applyCoupon"]


async def times_used(hub: Hub, shop: Shop) -> dict[str, int]:
    token = await hub.staff("MARKETING_MANAGER")
    rows = (await hub.query(TIMES_USED, {"store": shop.slug}, token=token))["promotions"]
    return {row["code"]: row["timesUsed"] for row in rows}


async def test_apply_coupon_discounts_the_cart_and_each_refusal_keeps_the_previous_coupon(hub: Hub) -> None:
    shop = await make_shop(hub, 5)
    now = datetime.now(UTC)
    await promote(hub, shop, "SAVE10", couponCode="save10")
    await promote(hub, shop, "OFF", couponCode="OFF", enabled=False)
    await promote(hub, shop, "LATER", couponCode="LATER", startsAt=(now + timedelta(days=1)).isoformat())
    await promote(
        hub,
        shop,
        "GONE",
        couponCode="GONE",
        startsAt=(now - timedelta(days=2)).isoformat(),
        endsAt=(now - timedelta(days=1)).isoformat(),
    )
    await promote(hub, shop, "OTHER", couponCode="OTHER", scope="SKU", target="S-0004")
    cart = await new_cart(hub, shop, [(0, 1), (1, 2)])  # 10.00 + 2 x 11.00

    applied = await apply(hub, cart, "Save10")  # case-insensitive
    assert applied["userErrors"] == [], applied
    priced = applied["cart"]
    assert priced["couponCode"] == "save10"
    assert priced["subtotal"]["amount"] == "32.00" and priced["total"]["amount"] == "28.80"
    assert priced["discounts"] == [
        {"promotionCode": "SAVE10", "couponCode": "save10", "amount": {"amount": "3.20"}}
    ]
    assert [(line["discount"]["amount"], line["total"]["amount"]) for line in priced["lines"]] == [
        ("1.00", "9.00"),
        ("2.20", "19.80"),
    ]

    refusals = {
        "NOPE": "UNKNOWN_COUPON",
        "OFF": "COUPON_DISABLED",
        "LATER": "COUPON_NOT_STARTED",
        "GONE": "COUPON_EXPIRED",
        "OTHER": "COUPON_NOT_APPLICABLE",
    }
    for code, error in refusals.items():
        payload = await apply(hub, cart, code)
        assert payload["cart"] is None and codes(payload) == [error], (code, payload)
        assert payload["userErrors"][0]["field"] == ["code"]
        read = (await hub.query(READ, {"id": cart["id"]}))["cart"]
        assert read["couponCode"] == "save10" and read["total"]["amount"] == "28.80"

    removed = (await hub.query(REMOVE, {"cart": cart["id"]}))["removeCoupon"]
    assert removed["userErrors"] == []
    assert removed["cart"]["couponCode"] is None and removed["cart"]["discounts"] == []
    assert removed["cart"]["total"]["amount"] == "32.00"


async def test_checkout_fixes_the_discount_and_a_cancelled_order_gives_its_use_back(hub: Hub) -> None:
    shop = await make_shop(hub, 2)
    await promote(hub, shop, "ONCE", couponCode="ONCE", usageLimit=1)
    cart = await new_cart(hub, shop, [(0, 1), (1, 2)])
    assert (await apply(hub, cart, "ONCE"))["userErrors"] == []

    placed = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"]
    assert placed["userErrors"] == [], placed
    number = placed["order"]["number"]
    staff = await hub.staff("CUSTOMER_SERVICE")
    order = (await hub.query(ORDER, {"n": number}, token=staff))["order"]
    assert order["total"]["amount"] == "28.80"
    assert order["discounts"] == [
        {"promotionCode": "ONCE", "couponCode": "ONCE", "amount": {"amount": "3.20"}}
    ]
    assert [line["discount"]["amount"] for line in order["lines"]] == ["1.00", "2.20"]
    async with hub.resources.session_factory() as session:
        row = await session.scalar(select(Order).where(Order.number == number))
        assert row is not None and row.coupon_code == "ONCE" and row.discount_minor == 320
    assert (await times_used(hub, shop))["ONCE"] == 1

    second = await new_cart(hub, shop, [(0, 1)])
    assert codes(await apply(hub, second, "ONCE")) == ["COUPON_EXHAUSTED"]

    cancelled = (await hub.query(CANCEL, {"n": number}, token=staff))["cancelOrder"]
    assert cancelled["userErrors"] == [] and cancelled["order"]["status"] == "CANCELLED"
    assert (await times_used(hub, shop))["ONCE"] == 0
    assert (await apply(hub, second, "ONCE"))["cart"]["couponCode"] == "ONCE"


async def test_of_two_concurrent_checkouts_with_a_single_use_coupon_exactly_one_gets_it(hub: Hub) -> None:
    shop = await make_shop(hub, 2)
    for round_ in range(3):  # a few rounds, each with a fresh single-use coupon, to give the race its chance
        code = f"ONCE{round_}"
        await promote(hub, shop, code, couponCode=code, usageLimit=1)
        carts = [await new_cart(hub, shop, [(0, 1), (1, 1)]) for _ in range(2)]
        for cart in carts:
            assert (await apply(hub, cart, code))["userErrors"] == []
        emails = [f"buyer{n}@example.com" for n in range(2)]
        results = await asyncio.gather(
            *(
                hub.post(CHECKOUT, {"cart": cart["id"], "input": checkout_input(email=email)})
                for cart, email in zip(carts, emails, strict=True)
            )
        )
        assert all(not r.get("errors") for r in results), results
        payloads = [r["data"]["checkout"] for r in results]
        winners = [p for p in payloads if p["order"] is not None]
        losers = [p for p in payloads if p["order"] is None]
        assert len(winners) == 1 and len(losers) == 1, payloads
        assert winners[0]["order"]["discounts"] == [{"promotionCode": code}]
        assert codes(losers[0]) == ["COUPON_EXHAUSTED"]
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 3
        assert await session.scalar(select(func.count()).select_from(OrderDiscount)) == 3
        # nothing written for the losers: their carts are still OPEN
        assert await session.scalar(select(func.count()).select_from(Cart).where(Cart.status == "OPEN")) == 3


async def test_a_checkout_is_credited_to_the_campaign_its_visitor_came_from(hub: Hub) -> None:
    shop = await make_shop(hub, 1)
    campaign_id = await add_campaign(hub, shop.store_id, "SPRING")
    await add_events(
        hub,
        [
            {
                "visitor_id": "visitor-1",
                "store_id": shop.store_id,
                "reseller_id": shop.reseller_id,
                "type": "PAGE_VIEW",
                "campaign_code": "SPRING",
                "campaign_id": campaign_id,
                "path": "/",
                "at": datetime.now(UTC) - timedelta(hours=1),
            }
        ],
    )
    staff = await hub.staff("CUSTOMER_SERVICE")
    numbers = []
    for visitor in ("visitor-1", "visitor-2"):
        cart = await new_cart(hub, shop, [(0, 1)])
        placed = (
            await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input(visitorId=visitor)})
        )["checkout"]
        assert placed["userErrors"] == [], placed
        numbers.append(placed["order"]["number"])
    credited = [(await hub.query(ORDER, {"n": n}, token=staff))["order"]["campaign"] for n in numbers]
    assert credited == [{"code": "SPRING"}, None]
