"""The sales rollup (daily, and monthly per product) stays equal to the aggregation of the orders, whatever
writes them, on both databases."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text

from datasources.migrate import alembic_config, upgrade
from datasources.orders.history import write_orders
from datasources.orders.rows import HistoricalLine, HistoricalOrder
from tests.harness import Hub
from tests.orders_factory import shop_sku
from tests.test_orders import CHECKOUT, checkout_input, new_cart
from tests.test_orders_service import CANCEL, two_resellers

Key = tuple[date, int, int, str]
Rollup = tuple[
    dict[Key, tuple[int, ...]], dict[tuple[Any, ...], tuple[int, int]], dict[tuple[Any, ...], tuple[int, int]]
]


def as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def fetch(hub: Hub, sql: str) -> list[tuple[Any, ...]]:
    async with hub.resources.session_factory() as session:
        return [tuple(row) for row in (await session.execute(text(sql))).all()]


async def reference(hub: Hub) -> Rollup:
    """The rollup as it should be, added up in Python from every order and line (UTC days and months of
    placed_at)."""
    orders = await fetch(
        hub,
        "SELECT id, placed_at, store_id, reseller_id, currency, status, total_minor, discount_minor FROM orders",
    )
    lines = await fetch(hub, "SELECT order_id, sku, quantity, total_minor FROM order_lines")
    units_of: Counter[int] = Counter()
    for order_id, _, quantity, _ in lines:
        units_of[order_id] += quantity
    daily: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    key_of: dict[int, Key] = {}
    for order_id, placed_at, store_id, reseller_id, currency, status, total, discount in orders:
        if status == "CANCELLED":
            continue
        key = (utc(placed_at).date(), store_id, reseller_id, currency)
        key_of[order_id] = key
        row = daily[key]
        row[0] += 1
        row[1] += units_of[order_id]
        row[2] += total
        row[3] += discount
    products: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    monthly: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for order_id, sku, quantity, total in lines:
        if order_id in key_of:
            day, store_id, reseller_id, currency = key_of[order_id]
            # the monthly rows are the whole hub's: no store, no reseller
            for row in (
                products[(day, store_id, reseller_id, currency, sku)],
                monthly[(day.replace(day=1), currency, sku)],
            ):
                row[0] += quantity
                row[1] += total
    return (
        {k: tuple(v) for k, v in daily.items()},
        {k: tuple(v) for k, v in products.items()},
        {k: tuple(v) for k, v in monthly.items()},
    )


async def rollup(hub: Hub) -> Rollup:
    daily = await fetch(
        hub,
        "SELECT day, store_id, reseller_id, currency, orders, units, revenue_minor, discount_minor "
        "FROM sales_daily",
    )
    products = await fetch(
        hub,
        "SELECT day, store_id, reseller_id, currency, sku, units, revenue_minor FROM sales_daily_products",
    )
    monthly = await fetch(
        hub,
        "SELECT month, currency, sku, units, revenue_minor FROM sales_monthly_products",
    )
    return (
        {(as_day(r[0]), r[1], r[2], r[3]): tuple(r[4:]) for r in daily},
        {(as_day(r[0]), r[1], r[2], r[3], r[4]): tuple(r[5:]) for r in products},
        {(as_day(r[0]), r[1], r[2]): tuple(r[3:]) for r in monthly},
    )


async def table_names(hub: Hub) -> list[str]:
    async with hub.resources.engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).get_table_names())


def imported(
    number: str, shop: Any, placed_at: datetime, lines: list[tuple[str, int, int]], status: str = "PLACED"
) -> HistoricalOrder:
    """An order of the history writer, in USD, with (sku, quantity, unit price) lines."""
    return HistoricalOrder(
        number=number,
        store_id=shop.store_id,
        reseller_id=shop.reseller_id,
        currency="USD",
        customer_email="History@Example.com",
        placed_at=placed_at,
        status=status,
        lines=[HistoricalLine(sku, f"Product {sku}", quantity, unit) for sku, quantity, unit in lines],
    )


def historical(
    rng: random.Random, shop: Any, number: str, skus: list[str], around: datetime
) -> HistoricalOrder:
    # Instants on and next to midnight UTC, where a day's edge is easiest to get wrong.
    placed_at = around + rng.choice(
        [timedelta(0), -timedelta(microseconds=1), timedelta(hours=rng.randint(0, 23), minutes=7)]
    )
    # the random draws in the order they always had (status, then lines), so each seed keeps its sequence
    status = rng.choice(["PLACED", "FULFILLED", "CANCELLED"])
    lines = [
        (sku, rng.randint(1, 4), rng.randint(50, 900)) for sku in rng.sample(skus, rng.randint(1, len(skus)))
    ]
    order = imported(number, shop, placed_at, lines, status=status)
    order.status_at, order.status_by = placed_at, "owner@example.com"
    return order


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_rollup_equals_the_orders_after_any_checkouts_cancellations_and_imports(
    hub: Hub, seed: int
) -> None:
    rng = random.Random(seed)
    shop, rival, _, _ = await two_resellers(hub)
    service = await hub.user("CUSTOMER_SERVICE", email="care@hub.example")
    skus = [shop_sku(n) for n in range(2)]
    placed: list[str] = []
    imported = 0
    done: Counter[str] = Counter()
    for step in range(16):
        action = rng.choice(["checkout", "checkout", "cancel", "import"])
        if action == "cancel" and not placed:
            action = "checkout"
        done[action] += 1
        if action == "checkout":
            where = rng.choice([shop, rival])
            cart = await new_cart(hub, where, [(n, rng.randint(1, 3)) for n in range(rng.randint(1, 2))])
            answer = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"]
            assert answer["userErrors"] == [], answer
            placed.append(answer["order"]["number"])
        elif action == "cancel":
            number = placed.pop(rng.randrange(len(placed)))
            answer = (await hub.query(CANCEL, {"n": number, "reason": "asked"}, token=service))["cancelOrder"]
            assert answer["userErrors"] == [], answer
        else:
            midnight = datetime(2026, 3, rng.randint(1, 3), tzinfo=UTC)
            batch = [
                historical(rng, rng.choice([shop, rival]), f"H-{seed}-{imported + n}", skus, midnight)
                for n in range(rng.randint(1, 4))
            ]
            imported += len(batch)
            async with hub.resources.session_factory() as session, session.begin():
                await write_orders(session, batch)
        assert await rollup(hub) == await reference(hub), f"after step {step} ({action})"
    assert set(done) == {"checkout", "cancel", "import"}, done
    daily, _, monthly = await rollup(hub)
    assert daily and monthly, "the sequence wrote no counted order"


async def test_a_cancelled_order_leaves_no_row_behind(hub: Hub) -> None:
    shop, _, own_admin, _ = await two_resellers(hub)
    cart = await new_cart(hub, shop, [(0, 2)])
    number = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"][
        "order"
    ]["number"]
    assert (await rollup(hub))[0] == (await reference(hub))[0] != {}
    answer = (await hub.query(CANCEL, {"n": number, "reason": "asked"}, token=own_admin))["cancelOrder"]
    assert answer["userErrors"] == []
    assert await rollup(hub) == await reference(hub) == ({}, {}, {})


async def test_the_migration_fills_the_rollup_from_the_orders_already_there(
    hub: Hub, database_url: str
) -> None:
    shop, _, _, _ = await two_resellers(hub)
    rng = random.Random(5)
    async with hub.resources.session_factory() as session, session.begin():
        await write_orders(
            session,
            [
                historical(rng, shop, f"M-{n}", [shop_sku(0), shop_sku(1)], datetime(2026, 5, 1, tzinfo=UTC))
                for n in range(6)
            ],
        )
    expected = await reference(hub)
    assert await rollup(hub) == expected
    assert expected[2], "no monthly rows to fill"
    # down to the reports' revision and up again: the tables go, and come back filled from the orders
    # (0010 fills the daily tables, 0011 the monthly one)
    await hub.resources.engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0009_reports")
    assert not {"sales_daily", "sales_monthly_products"} & set(await table_names(hub))
    await hub.resources.engine.dispose()
    await asyncio.to_thread(upgrade, database_url)
    await hub.resources.engine.dispose()
    assert await rollup(hub) == expected


RANKING = """query($input: SalesReportInput!) {
  salesReport(input: $input) { points { periodStart orders units } topProducts(limit: 20) { sku units revenue { amount } } }
}"""


def ranked(orders: list[HistoricalOrder], start: datetime, end: datetime) -> list[tuple[str, int, Decimal]]:
    """The top products as the report should give them, from the orders in [start, end)."""
    sold: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        if start <= order.placed_at < end:
            for line in order.lines:
                sold[line.sku][0] += line.quantity
                sold[line.sku][1] += line.total_minor
    return [
        (sku, units, Decimal(revenue) / 100)
        for sku, (units, revenue) in sorted(sold.items(), key=lambda kv: (-kv[1][1], kv[0]))
    ]


async def test_imports_and_cancellations_move_a_report_of_whole_months(hub: Hub) -> None:
    # given: imported history of April and May 2026 (whole months of a report), on a 1st at midnight
    # and on a month's last microsecond, with orders just outside; S-0001 sold in one order only
    shop, rival, _, _ = await two_resellers(hub)
    service = await hub.user("CUSTOMER_SERVICE", email="care@hub.example")
    april, june = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    s0, s1 = shop_sku(0), shop_sku(1)
    orders = [
        imported("I-1", shop, april, [(s0, 2, 1_000)]),
        imported("I-2", rival, april + timedelta(days=9, hours=5), [(s0, 1, 1_000), (s1, 3, 700)]),
        imported("I-3", shop, datetime(2026, 4, 30, 23, 59, 59, 999_999, tzinfo=UTC), [(s0, 4, 1_000)]),
        imported("I-4", shop, datetime(2026, 5, 1, tzinfo=UTC), [(s0, 1, 1_200)]),
        imported("I-5", rival, june - timedelta(microseconds=1), [(s0, 5, 1_000)]),
        imported("I-6", shop, april - timedelta(microseconds=1), [(s1, 9, 9_000)]),
        imported("I-7", shop, june, [(s1, 9, 9_000)]),
    ]
    async with hub.resources.session_factory() as session, session.begin():
        await write_orders(session, orders)
    token = await hub.staff()
    variables = {"input": {"from": april.isoformat(), "to": june.isoformat(), "interval": "MONTH"}}

    async def report() -> tuple[list[int], list[tuple[str, int, Decimal]]]:
        answer = (await hub.query(RANKING, variables, token=token))["salesReport"]
        products = [(p["sku"], p["units"], Decimal(p["revenue"]["amount"])) for p in answer["topProducts"]]
        return [p["orders"] for p in answer["points"]], products

    # when / then: the imported months as the orders say
    assert await report() == ([3, 2], ranked(orders, april, june))
    assert [sku for sku, _, _ in ranked(orders, april, june)] == [s0, s1]
    # when: the only April order of S-0001 and the last May order are cancelled
    for number in ("I-2", "I-5"):
        answer = (await hub.query(CANCEL, {"n": number, "reason": "asked"}, token=service))["cancelOrder"]
        assert answer["userErrors"] == [], answer
    # then: S-0001 is gone from the whole months, and the rollup is still the orders' aggregation
    counted = [o for o in orders if o.number not in {"I-2", "I-5"}]
    assert await report() == ([2, 1], ranked(counted, april, june))
    assert [sku for sku, _, _ in ranked(counted, april, june)] == [s0]
    assert await rollup(hub) == await reference(hub)
