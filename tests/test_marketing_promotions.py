"""Promotions: upsertPromotion's checks and who may, promotions(storeSlug), timesUsed, the coupon checks and usage
limits (under concurrency too)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from datasources.db import WRITE_TRANSACTION
from datasources.marketing.models import Promotion
from datasources.orders.models import Order, OrderDiscount
from resolvers.marketing.promotions import CartLineInput, check_coupon, exhausted, price_store_cart
from tests.harness import Hub, codes_of
from tests.marketing_factory import add_order, shop
from tests.stores_factory import CatalogSpec, CategorySpec, ProductSpec, load_catalog

UPSERT = """
mutation($input: PromotionInput!) {
  upsertPromotion(input: $input) {
    promotion {
      id code name store { slug } scope target percentOff amountOff currency minimumSubtotal couponCode
      startsAt endsAt enabled usageLimit perCustomerLimit timesUsed
    }
    userErrors { field code message }
  }
}"""
PROMOTIONS = "query($store: String) { promotions(storeSlug: $store) { code timesUsed store { slug } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Promotion { code } } }"

CATALOG = CatalogSpec(
    categories=[CategorySpec("tools"), CategorySpec("drills", parent=0)],
    groups=["bundle"],
    products=[
        ProductSpec("DRILL-1", category=1, groups=[0], prices={"USD": 4999}),
        ProductSpec("SCREW-9", category=0, prices={"USD": 425}),
    ],
)


def promotion(**fields: Any) -> dict[str, Any]:
    return {"code": "TEN", "name": "Ten percent", "scope": "ALL", "percentOff": "10", **fields}


async def upsert(hub: Hub, token: str, **fields: Any) -> dict[str, Any]:
    return (await hub.query(UPSERT, {"input": promotion(**fields)}, token=token))["upsertPromotion"]


async def promotion_count(hub: Hub) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Promotion)) or 0)


async def test_upsert_creates_and_updates_by_code(hub: Hub) -> None:
    await shop(hub)
    await load_catalog(hub, CATALOG)
    token = await hub.staff("MARKETING_MANAGER")
    created = await upsert(
        hub,
        token,
        storeSlug="shop",
        scope="CATEGORY",
        target="tools",
        percentOff="12.5",
        couponCode="Spring25",
        currency="USD",
        minimumSubtotal="50",
        usageLimit=100,
        perCustomerLimit=1,
        startsAt="2026-04-01T00:00:00Z",
        endsAt="2026-05-01T00:00:00Z",
    )
    assert created["userErrors"] == []
    assert created["promotion"] == {
        "id": created["promotion"]["id"],
        "code": "TEN",
        "name": "Ten percent",
        "store": {"slug": "shop"},
        "scope": "CATEGORY",
        "target": "tools",
        "percentOff": "12.50",
        "amountOff": None,
        "currency": "USD",
        "minimumSubtotal": "50.00",
        "couponCode": "Spring25",
        "startsAt": "2026-04-01T00:00:00+00:00",
        "endsAt": "2026-05-01T00:00:00+00:00",
        "enabled": True,
        "usageLimit": 100,
        "perCustomerLimit": 1,
        "timesUsed": 0,
    }
    updated = await upsert(hub, token, amountOff="5", percentOff=None, currency="EUR", enabled=False)
    assert updated["userErrors"] == []
    assert (
        updated["promotion"]["amountOff"],
        updated["promotion"]["store"],
        updated["promotion"]["enabled"],
    ) == (
        "5.00",
        None,
        False,
    )
    assert await promotion_count(hub) == 1


async def test_every_bad_input_is_a_user_error_and_nothing_is_written(hub: Hub) -> None:
    await shop(hub)
    await load_catalog(hub, CATALOG)
    token = await hub.staff("SITE_ADMIN")
    await upsert(hub, token, code="HOLDER", couponCode="TAKEN")
    before = await promotion_count(hub)
    cases = [
        (
            {"percentOff": "10", "amountOff": "5", "currency": "USD"},
            ["input", "percentOff"],
            "INVALID_DISCOUNT",
        ),
        ({"percentOff": None}, ["input", "percentOff"], "INVALID_DISCOUNT"),
        ({"percentOff": "0"}, ["input", "percentOff"], "INVALID_PERCENT"),
        ({"percentOff": "100.01"}, ["input", "percentOff"], "INVALID_PERCENT"),
        ({"percentOff": "-5"}, ["input", "percentOff"], "INVALID_PERCENT"),
        ({"percentOff": "10.001"}, ["input", "percentOff"], "INVALID_PERCENT"),
        (
            {"percentOff": None, "amountOff": "-1", "currency": "USD"},
            ["input", "amountOff"],
            "INVALID_AMOUNT",
        ),
        ({"percentOff": None, "amountOff": "5"}, ["input", "currency"], "CURRENCY_REQUIRED"),
        (
            {"percentOff": None, "amountOff": "5.001", "currency": "USD"},
            ["input", "amountOff"],
            "INVALID_AMOUNT",
        ),
        ({"minimumSubtotal": "10"}, ["input", "currency"], "CURRENCY_REQUIRED"),
        ({"currency": "XYZ"}, ["input", "currency"], "UNKNOWN_CURRENCY"),
        ({"storeSlug": "shop", "currency": "EUR"}, ["input", "currency"], "CURRENCY_MISMATCH"),
        ({"storeSlug": "nowhere"}, ["input", "storeSlug"], "NOT_FOUND"),
        ({"scope": "CATEGORY", "target": "nothing"}, ["input", "target"], "NOT_FOUND"),
        ({"scope": "GROUP", "target": "nothing"}, ["input", "target"], "NOT_FOUND"),
        ({"scope": "SKU", "target": "NO-SKU"}, ["input", "target"], "NOT_FOUND"),
        ({"scope": "SKU"}, ["input", "target"], "REQUIRED"),
        ({"target": "tools"}, ["input", "target"], "INVALID_TARGET"),
        (
            {"startsAt": "2026-05-01T00:00:00Z", "endsAt": "2026-04-01T00:00:00Z"},
            ["input", "endsAt"],
            "INVALID_DATES",
        ),
        ({"couponCode": "taken"}, ["input", "couponCode"], "DUPLICATE"),
        ({"couponCode": "has space"}, ["input", "couponCode"], "INVALID_CODE"),
        ({"code": "bad code"}, ["input", "code"], "INVALID_CODE"),
        ({"name": " "}, ["input", "name"], "REQUIRED"),
        ({"usageLimit": 0}, ["input", "usageLimit"], "INVALID_LIMIT"),
        ({"perCustomerLimit": -1}, ["input", "perCustomerLimit"], "INVALID_LIMIT"),
    ]
    for fields, path, code in cases:
        payload = await upsert(hub, token, **fields)
        assert payload["promotion"] is None, fields
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], fields
    assert await promotion_count(hub) == before
    # the holder of a coupon code may keep it
    assert (await upsert(hub, token, code="HOLDER", couponCode="taken"))["userErrors"] == []


async def test_a_reseller_manages_its_own_stores_promotions_and_reads_the_hub_wide_ones(hub: Hub) -> None:
    reseller_id, _ = await shop(hub)
    await shop(hub, "R-TWO", "other")
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    staff = await hub.staff("MARKETING_MANAGER")
    assert (await upsert(hub, staff, code="HUB"))["userErrors"] == []
    assert (await upsert(hub, staff, code="THEIRS", storeSlug="other"))["userErrors"] == []
    assert (await upsert(hub, own, code="MINE", storeSlug="shop"))["userErrors"] == []
    for fields, code in (
        ({"code": "X1"}, "FORBIDDEN"),
        ({"code": "X2", "storeSlug": "other"}, "FORBIDDEN"),
        ({"code": "HUB", "storeSlug": "shop"}, "DUPLICATE"),
        ({"code": "THEIRS", "storeSlug": "shop"}, "DUPLICATE"),
    ):
        assert [e["code"] for e in (await upsert(hub, own, **fields))["userErrors"]] == [code], fields
    listed = (await hub.query(PROMOTIONS, {}, token=own))["promotions"]
    assert [p["code"] for p in listed] == ["HUB", "MINE"]
    assert [p["code"] for p in (await hub.query(PROMOTIONS, {"store": "shop"}, token=own))["promotions"]] == [
        "HUB",
        "MINE",
    ]
    assert codes_of(await hub.post(PROMOTIONS, {"store": "other"}, token=own)) == ["FORBIDDEN"]
    assert [p["code"] for p in (await hub.query(PROMOTIONS, {}, token=staff))["promotions"]] == [
        "HUB",
        "MINE",
        "THEIRS",
    ]
    assert [
        p["code"] for p in (await hub.query(PROMOTIONS, {"store": "other"}, token=staff))["promotions"]
    ] == [
        "HUB",
        "THEIRS",
    ]
    theirs = (await upsert(hub, staff, code="THEIRS", storeSlug="other"))["promotion"]["id"]
    assert (await hub.query(NODE, {"id": theirs}, token=own))["node"] is None
    assert (await hub.query(NODE, {"id": theirs}, token=staff))["node"] == {"code": "THEIRS"}
    assert (await hub.query(NODE, {"id": theirs}))["node"] is None


async def _promotion_id(hub: Hub, code: str) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(Promotion.id).where(Promotion.code == code)))


async def test_times_used_counts_orders_and_a_cancellation_gives_its_use_back(hub: Hub) -> None:
    reseller_id, store_id = await shop(hub)
    staff = await hub.staff("MARKETING_MANAGER")
    await upsert(hub, staff, code="TEN")
    promotion_id = await _promotion_id(hub, "TEN")
    await add_order(hub, store_id, reseller_id, promotion_id=promotion_id)
    cancelled = await add_order(hub, store_id, reseller_id, promotion_id=promotion_id, status="CANCELLED")
    data = await hub.query(PROMOTIONS, {}, token=staff)
    assert data["promotions"][0]["timesUsed"] == 1
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(Order).where(Order.id == cancelled).values(status="PLACED"))
    assert (await hub.query(PROMOTIONS, {}, token=staff))["promotions"][0]["timesUsed"] == 2


CART = [CartLineInput("DRILL-1", 2, 4999), CartLineInput("SCREW-9", 3, 425)]


async def test_each_coupon_refusal_has_its_own_code(hub: Hub) -> None:
    reseller_id, store_id = await shop(hub)
    await shop(hub, "R-TWO", "other")
    await load_catalog(hub, CATALOG)
    staff = await hub.staff("MARKETING_MANAGER")
    now = datetime.now(UTC)
    for fields in (
        {"code": "GOOD", "couponCode": "GOOD"},
        {"code": "OFF", "couponCode": "OFF", "enabled": False},
        {"code": "SOON", "couponCode": "SOON", "startsAt": (now + timedelta(days=1)).isoformat()},
        {"code": "OVER", "couponCode": "OVER", "endsAt": (now - timedelta(seconds=1)).isoformat()},
        {"code": "ONCE", "couponCode": "ONCE", "usageLimit": 1},
        {"code": "MINE", "couponCode": "MINE", "perCustomerLimit": 1},
        {"code": "THEIRS", "couponCode": "THEIRS", "storeSlug": "other"},
        {"code": "EURO", "couponCode": "EURO", "percentOff": None, "amountOff": "5", "currency": "EUR"},
        {"code": "BIG", "couponCode": "BIG", "currency": "USD", "minimumSubtotal": "500"},
        {"code": "NOSKU", "couponCode": "NOSKU", "scope": "SKU", "target": "SCREW-9"},
    ):
        assert (await upsert(hub, staff, **fields))["userErrors"] == [], fields
    await add_order(hub, store_id, reseller_id, promotion_id=await _promotion_id(hub, "ONCE"))
    await add_order(
        hub, store_id, reseller_id, email="Ann@Example.com", promotion_id=await _promotion_id(hub, "MINE")
    )
    expected = {
        "good": None,
        "NOPE": "UNKNOWN_COUPON",
        "OFF": "COUPON_DISABLED",
        "SOON": "COUPON_NOT_STARTED",
        "OVER": "COUPON_EXPIRED",
        "ONCE": "COUPON_EXHAUSTED",
        "MINE": "COUPON_EXHAUSTED",
        "THEIRS": "COUPON_NOT_APPLICABLE",
        "EURO": "COUPON_NOT_APPLICABLE",
        "BIG": "COUPON_NOT_APPLICABLE",
    }
    async with hub.resources.session_factory() as session:
        for coupon, code in expected.items():
            check = await check_coupon(
                session, coupon, store_id=store_id, currency="USD", lines=CART, email_key="ann@example.com"
            )
            assert check.code == code, coupon
            assert (check.promotion is not None) == (code is None), coupon
        # per customer: another e-mail may still use MINE; without an e-mail (a cart) it is not checked yet
        assert (
            await check_coupon(
                session, "MINE", store_id=store_id, currency="USD", lines=CART, email_key="bo@x.example"
            )
        ).code is None
        assert (
            await check_coupon(session, "MINE", store_id=store_id, currency="USD", lines=CART)
        ).code is None
        only_drills = [CartLineInput("DRILL-1", 1, 4999)]
        nosku = await check_coupon(session, "NOSKU", store_id=store_id, currency="USD", lines=only_drills)
        assert nosku.code == "COUPON_NOT_APPLICABLE"


async def test_the_coupon_competes_with_automatic_promotions(hub: Hub) -> None:
    _, store_id = await shop(hub)
    await load_catalog(hub, CATALOG)
    staff = await hub.staff("MARKETING_MANAGER")
    await upsert(hub, staff, code="AUTO10")  # 10 % of everything: 11.28 off this cart
    await upsert(
        hub, staff, code="DRILLS", scope="CATEGORY", target="drills", percentOff="20", couponCode="DRILL20"
    )
    async with hub.resources.session_factory() as session:
        pricing, chosen = await price_store_cart(session, store_id=store_id, currency="USD", lines=CART)
        assert chosen is not None and chosen.code == "AUTO10"
        assert pricing.line_discounts == (1000, 128)
        pricing, chosen = await price_store_cart(
            session, store_id=store_id, currency="USD", lines=CART, coupon_code="drill20"
        )
        assert chosen is not None and chosen.code == "DRILLS"
        assert pricing.line_discounts == (2000, 0)


async def test_with_usage_limit_one_of_two_concurrent_checkouts_gets_the_discount(hub: Hub) -> None:
    # given a promotion of one use, and two checkouts that count its uses and write their order at once
    reseller_id, store_id = await shop(hub)
    staff = await hub.staff("MARKETING_MANAGER")
    await upsert(hub, staff, code="ONCE", couponCode="ONCE", usageLimit=1)
    promotion_id = await _promotion_id(hub, "ONCE")

    async def checkout(email: str) -> bool:
        async with hub.resources.session_factory() as session:
            # as a unit of work begins (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock below decides)
            await session.connection(execution_options=WRITE_TRANSACTION)
            promotion = await session.get(Promotion, promotion_id)
            assert promotion is not None
            if await exhausted(session, promotion, email, lock=True):
                return False
            await asyncio.sleep(0.05)  # the other checkout runs now, if nothing holds it
            order = Order(
                number=f"ORD-C-{email}",
                store_id=store_id,
                reseller_id=reseller_id,
                status="PLACED",
                customer_email=email,
                customer_email_key=email,
                ship_name="n",
                ship_line1="l",
                ship_city="c",
                ship_postal_code="p",
                ship_country="US",
                payment_method="INVOICE",
                currency="USD",
                subtotal_minor=100,
                discount_minor=10,
                total_minor=90,
                placed_at=datetime.now(UTC),
                marketing_opt_in=False,
            )
            session.add(order)
            await session.flush()
            session.add(
                OrderDiscount(
                    order_id=order.id,
                    position=0,
                    promotion_id=promotion_id,
                    promotion_code="ONCE",
                    name="O",
                    amount_minor=10,
                )
            )
            await session.commit()
            return True

    # when
    results = await asyncio.gather(checkout("a@x.example"), checkout("b@x.example"))
    # then
    assert sorted(results) == [False, True]
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(OrderDiscount)) == 1
