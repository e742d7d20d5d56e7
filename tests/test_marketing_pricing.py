"""THE promotion rule (resolvers/marketing/pricing.py): worked examples, and a property test against a plain
reference written separately from the issue's words (Decimal arithmetic, no shared code), in memory and
through the database (`price_store_cart` reading promotions and the catalog) on both backends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from datasources.marketing.models import Promotion
from hub_graphql.settings import Settings
from resolvers.marketing.pricing import CartLineFacts, PromotionTerms, price_cart, spread
from resolvers.marketing.promotions import CartLineInput, price_store_cart
from tests.harness import open_hub
from tests.stores_factory import (
    CatalogSpec,
    CategorySpec,
    ProductSpec,
    add_reseller,
    add_store,
    clear_catalog_and_stores,
    load_catalog,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def line(
    sku: str, quantity: int, price: int, categories: set[int] = frozenset(), groups: set[int] = frozenset()
):  # type: ignore[assignment]
    return CartLineFacts(sku, quantity, price, frozenset(categories), frozenset(groups))


# ---------------------------------------------------------------- worked examples (docs/marketing.md)


def test_worked_example_of_the_docs() -> None:
    # A cart in USD: two drills at 49.99 (category 7, power tools), three boxes of screws at 4.25.
    lines = [line("DRILL-1", 2, 4999, {1, 7}), line("SCREW-9", 3, 425, {1, 3})]
    ten_percent = PromotionTerms(id=1, code="TEN", scope="ALL", percent_off=1000)
    fifteen_off_tools = PromotionTerms(
        id=2, code="TOOLS15", scope="CATEGORY", target_id=7, amount_off_minor=1500, currency="USD"
    )
    twenty_percent_coupon = PromotionTerms(
        id=3, code="VIP", scope="ALL", percent_off=2000, minimum_subtotal_minor=20000, currency="USD"
    )
    pricing = price_cart(lines, "USD", [ten_percent, fifteen_off_tools, twenty_percent_coupon], NOW)
    # 10 % of 99.98 is 9.998 -> 10.00; of 12.75 is 1.275 -> 1.28: 11.28. TOOLS15: 15.00 off the drills.
    # VIP: the subtotal 112.73 is under its minimum 200.00.
    assert pricing.promotion is not None and pricing.promotion.code == "TOOLS15"
    assert pricing.line_discounts == (1500, 0)
    assert price_cart(lines, "USD", [ten_percent], NOW).line_discounts == (1000, 128)
    # 15.00 off ALL lines instead: 15.00 x 99.98 / 112.73 = 13.30 on DRILL-1, the remainder 1.70 on SCREW-9
    fifteen_off_all = PromotionTerms(id=4, code="ALL15", scope="ALL", amount_off_minor=1500, currency="USD")
    assert price_cart(lines, "USD", [fifteen_off_all], NOW).line_discounts == (1330, 170)


def test_amount_off_is_spread_in_proportion_with_the_remainder_on_the_last_line_in_sku_order() -> None:
    lines = [line("C", 1, 3333), line("A", 1, 3333), line("B", 1, 3334)]
    pricing = price_cart(
        lines, "USD", [PromotionTerms(1, "X", "ALL", amount_off_minor=1000, currency="USD")], NOW
    )
    # In SKU order A, B, C: 333.3 -> 333, 333.4 -> 333, and C (the last) takes the remainder 334.
    assert pricing.line_discounts == (334, 333, 333)


def test_amount_off_is_capped_at_the_qualifying_subtotal() -> None:
    lines = [line("A", 1, 500, groups={4}), line("B", 2, 1000)]
    promotion = PromotionTerms(1, "X", "GROUP", target_id=4, amount_off_minor=2000, currency="USD")
    assert price_cart(lines, "USD", [promotion], NOW).line_discounts == (500, 0)


def test_the_spread_never_takes_a_line_below_zero() -> None:
    # Plainly, A..C would get round(5 * 2 / 7) = 1 each and D the remainder 2, more than its total 1.
    assert spread(5, [2, 2, 2, 1]) == [1, 2, 1, 1]
    assert spread(1000, [3000, 2000, 5000]) == [300, 200, 500]


def test_a_tie_goes_to_the_promotion_created_first_and_nothing_off_is_no_promotion() -> None:
    lines = [line("A", 1, 1000)]
    later = PromotionTerms(9, "LATER", "ALL", amount_off_minor=100, currency="USD")
    first = PromotionTerms(4, "FIRST", "ALL", percent_off=1000)
    assert price_cart(lines, "USD", [later, first], NOW).promotion == first
    tiny = PromotionTerms(1, "TINY", "ALL", percent_off=1)  # 0.01 % of 10.00 rounds to 0
    assert price_cart(lines, "USD", [tiny], NOW).promotion is None


def test_dates_enabled_and_currency() -> None:
    lines = [line("A", 1, 1000)]
    cases = [
        PromotionTerms(1, "OFF", "ALL", percent_off=1000, enabled=False),
        PromotionTerms(2, "LATE", "ALL", percent_off=1000, starts_at=NOW + timedelta(seconds=1)),
        PromotionTerms(3, "OVER", "ALL", percent_off=1000, ends_at=NOW),
        PromotionTerms(4, "EUR", "ALL", amount_off_minor=100, currency="EUR"),
    ]
    for promotion in cases:
        assert price_cart(lines, "USD", [promotion], NOW).promotion is None, promotion.code
    starting_now = PromotionTerms(5, "NOW", "ALL", percent_off=1000, starts_at=NOW)
    assert price_cart(lines, "USD", [starting_now], NOW).promotion == starting_now


# ---------------------------------------------------------------- the reference


def reference(
    lines: list[CartLineFacts], currency: str, promotions: list[PromotionTerms], now: datetime
) -> tuple[str | None, list[int]]:
    """The issue's rule read plainly, in Decimal arithmetic: (chosen code, discount of each line)."""

    def rounded(value: Decimal) -> int:
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    best: tuple[int, int, str, list[int]] | None = None
    for p in promotions:
        if not p.enabled:
            continue
        if p.starts_at is not None and now < p.starts_at:
            continue
        if p.ends_at is not None and now >= p.ends_at:
            continue
        if p.currency is not None and p.currency != currency:
            continue
        chosen_lines = []
        for index, item in enumerate(lines):
            if (
                p.scope == "ALL"
                or (p.scope == "CATEGORY" and p.target_id in item.category_ids)
                or (p.scope == "GROUP" and p.target_id in item.group_ids)
                or (p.scope == "SKU" and p.target_sku == item.sku)
            ):
                chosen_lines.append(index)
        if not chosen_lines:
            continue
        subtotal = sum(lines[i].quantity * lines[i].unit_price_minor for i in chosen_lines)
        if p.minimum_subtotal_minor is not None and subtotal < p.minimum_subtotal_minor:
            continue
        off = [0] * len(lines)
        if p.percent_off is not None:
            for i in chosen_lines:
                total = lines[i].quantity * lines[i].unit_price_minor
                off[i] = rounded(Decimal(total) * Decimal(p.percent_off) / Decimal(100) / Decimal(100))
        else:
            amount = min(p.amount_off_minor or 0, subtotal)
            ordered = sorted(chosen_lines, key=lambda i: lines[i].sku)
            totals = [lines[i].quantity * lines[i].unit_price_minor for i in ordered]
            if subtotal > 0:
                shares = [rounded(Decimal(amount) * t / Decimal(subtotal)) for t in totals[:-1]]
                shares.append(amount - sum(shares))
                if not 0 <= shares[-1] <= totals[-1]:
                    # the documented fallback: differences of the rounded running shares
                    shares, running, before = [], 0, 0
                    for t in totals:
                        running += t
                        reached = rounded(Decimal(amount) * running / Decimal(subtotal))
                        shares.append(reached - before)
                        before = reached
                for i, share in zip(ordered, shares, strict=True):
                    off[i] = share
        taken = sum(off)
        if taken <= 0:
            continue
        if best is None or taken > best[0] or (taken == best[0] and p.id < best[1]):
            best = (taken, p.id, p.code, off)
    if best is None:
        return None, [0] * len(lines)
    return best[2], best[3]


# ---------------------------------------------------------------- generation

# Categories 1..6: 1 <- 2 <- 3, 1 <- 4, 5 <- 6 (parent <- child). A product in 3 is also in 2 and 1.
ANCESTORS = {1: {1}, 2: {1, 2}, 3: {1, 2, 3}, 4: {1, 4}, 5: {5}, 6: {5, 6}}
SKUS = ["A-1", "A-2", "B-1", "B-2", "C-1", "D-1"]


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[CartLineFacts], dict[str, tuple[int | None, set[int]]]]:
    products = {
        sku: (
            draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6])),
            draw(st.sets(st.sampled_from([1, 2, 3]), max_size=2)),
        )
        for sku in SKUS
    }
    chosen = draw(st.lists(st.sampled_from(SKUS), min_size=0, max_size=6, unique=True))
    lines = [
        CartLineFacts(
            sku=sku,
            quantity=draw(st.integers(1, 5)),
            unit_price_minor=draw(st.one_of(st.integers(0, 30), st.integers(0, 50_000))),
            category_ids=frozenset(ANCESTORS[products[sku][0]]) if products[sku][0] else frozenset(),
            group_ids=frozenset(products[sku][1]),
        )
        for sku in chosen
    ]
    return lines, products


@st.composite
def promotion_lists(draw: st.DrawFn) -> list[PromotionTerms]:
    count = draw(st.integers(0, 5))
    ids = draw(st.lists(st.integers(1, 1000), min_size=count, max_size=count, unique=True))
    found = []
    for number, promotion_id in enumerate(ids):
        scope = draw(st.sampled_from(["ALL", "CATEGORY", "GROUP", "SKU"]))
        percent = draw(st.booleans())
        currency = (
            draw(st.sampled_from([None, "USD", "EUR"])) if percent else draw(st.sampled_from(["USD", "EUR"]))
        )
        found.append(
            PromotionTerms(
                id=promotion_id,
                code=f"P{number}",
                scope=scope,
                target_id=draw(st.integers(1, 6)) if scope in ("CATEGORY", "GROUP") else None,
                target_sku=draw(st.sampled_from(SKUS)) if scope == "SKU" else None,
                percent_off=draw(st.integers(1, 10_000)) if percent else None,
                amount_off_minor=None
                if percent
                else draw(st.one_of(st.integers(1, 50), st.integers(1, 100_000))),
                currency=currency,
                minimum_subtotal_minor=draw(st.none() | st.integers(0, 100_000)) if currency else None,
                starts_at=draw(
                    st.none() | st.sampled_from([NOW - timedelta(days=1), NOW, NOW + timedelta(hours=1)])
                ),
                ends_at=draw(st.none() | st.sampled_from([NOW, NOW + timedelta(days=1)])),
                enabled=draw(st.booleans() | st.just(True)),
            )
        )
    return found


@settings(max_examples=400, deadline=None)
@given(cart=carts(), promotions=promotion_lists(), currency=st.sampled_from(["USD", "EUR"]))
def test_the_rule_matches_the_reference(cart, promotions, currency) -> None:  # type: ignore[no-untyped-def]
    lines, _ = cart
    pricing = price_cart(lines, currency, promotions, NOW)
    code, expected = reference(lines, currency, promotions, NOW)
    assert (pricing.promotion.code if pricing.promotion else None) == code
    assert list(pricing.line_discounts) == expected
    for item, off in zip(lines, pricing.line_discounts, strict=True):
        assert 0 <= off <= item.quantity * item.unit_price_minor


# ---------------------------------------------------------------- through the database


@dataclass
class DbWorld:
    lines: list[CartLineFacts]
    products: dict[str, tuple[int | None, set[int]]]
    promotions: list[PromotionTerms]
    currency: str


CATALOG = CatalogSpec(
    categories=[
        CategorySpec("c1"),
        CategorySpec("c2", parent=0),
        CategorySpec("c3", parent=1),
        CategorySpec("c4", parent=0),
        CategorySpec("c5"),
        CategorySpec("c6", parent=4),
    ],
    groups=["g1", "g2", "g3"],
)


async def check_in_database(settings: Settings, world: DbWorld) -> None:
    async with open_hub(settings) as hub:
        await clear_catalog_and_stores(hub)
        async with hub.resources.session_factory() as session, session.begin():
            await session.execute(delete(Promotion))
        # the catalog: ids 1..6 for categories and 1..3 for groups (load_catalog gives id_base + index)
        spec = CatalogSpec(
            categories=CATALOG.categories,
            groups=CATALOG.groups,
            products=[
                ProductSpec(
                    sku=sku,
                    category=None if category is None else category - 1,
                    groups=[g - 1 for g in sorted(groups)],
                )
                for sku, (category, groups) in world.products.items()
            ],
        )
        await load_catalog(hub, spec)
        import uuid

        reseller_id = await add_reseller(hub, f"prop-{uuid.uuid4().hex[:10]}")
        store_id = await add_store(hub, reseller_id, "prop", currency=world.currency)
        if world.promotions:
            async with hub.resources.session_factory() as session, session.begin():
                await session.execute(
                    insert(Promotion),
                    [
                        {
                            "id": p.id,
                            "code": p.code,
                            "name": p.code,
                            "store_id": store_id if p.id % 2 else None,
                            "scope": p.scope,
                            "target": p.target_sku,
                            "target_id": p.target_id,
                            "percent_off": p.percent_off,
                            "amount_off_minor": p.amount_off_minor,
                            "currency": p.currency,
                            "minimum_subtotal_minor": p.minimum_subtotal_minor,
                            "starts_at": p.starts_at,
                            "ends_at": p.ends_at,
                            "enabled": p.enabled,
                        }
                        for p in world.promotions
                    ],
                )
        async with hub.resources.session_factory() as session:
            pricing, chosen = await price_store_cart(
                session,
                store_id=store_id,
                currency=world.currency,
                lines=[CartLineInput(item.sku, item.quantity, item.unit_price_minor) for item in world.lines],
                now=NOW,
            )
        code, expected = reference(world.lines, world.currency, world.promotions, NOW)
        assert (chosen.code if chosen else None) == code
        assert list(pricing.line_discounts) == expected


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cart=carts(), promotions=promotion_lists(), currency=st.sampled_from(["USD", "EUR"]))
def test_the_hubs_store_cart_pricing_matches_the_reference(
    settings: Settings, cart, promotions, currency
) -> None:  # type: ignore[no-untyped-def]
    lines, products = cart
    asyncio.run(check_in_database(settings, DbWorld(lines, products, promotions, currency)))
