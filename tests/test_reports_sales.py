"""salesReport: checked against a plain Python computation over generated orders, on SQLite and PostgreSQL.

Also: who may see which reseller or store, the input checks, the statements a
report sends (constant in the number of orders), and the chart as XML.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from datasources.money import from_minor
from tests.harness import Hub, QueryCounter, codes_of
from tests.reports_factory import (
    LineSpec,
    OrderSpec,
    add_products,
    add_store,
    insert_orders,
    random_orders,
)
from tests.stores_factory import add_reseller

REPORT = """
query($input: SalesReportInput!, $limit: Int) {
  salesReport(input: $input) {
    currency interval
    points { periodStart orders units revenue { amount currency } discounts { amount } }
    totals { periodStart orders units revenue { amount } discounts { amount } }
    topProducts(limit: $limit) { sku name units revenue { amount } }
    byReseller { reseller { code } orders units revenue { amount } }
    chartSvg
  }
}"""
CHART = "query($input: SalesReportInput!) { salesReport(input: $input) { chartSvg } }"
POINTS = "query($input: SalesReportInput!) { salesReport(input: $input) { points { periodStart orders } } }"

START = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday afternoon: mid-day, mid-week, mid-month
END = datetime(2026, 6, 17, 9, 0, tzinfo=UTC)
SKUS = [f"REP-{n:02d}" for n in range(8)]


# ---------------------------------------------------------------- the reference computation


def ref_period(day: date, interval: str) -> date:
    if interval == "DAY":
        return day
    if interval == "WEEK":
        return day - timedelta(days=day.weekday())
    return date(day.year, day.month, 1)


def ref_periods(start: datetime, end: datetime, interval: str) -> list[date]:
    days = []
    day = start.date()
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
        period = ref_period(day, interval)
        if not days or days[-1] != period:
            days.append(period)
        day += timedelta(days=1)
    return days


def reference(
    orders: list[OrderSpec],
    start: datetime,
    end: datetime,
    interval: str,
    currency: str,
    reseller_id: int | None = None,
    store_id: int | None = None,
) -> dict[str, Any]:
    counted = [
        o
        for o in orders
        if start <= o.placed_at < end
        and o.status != "CANCELLED"
        and o.currency == currency
        and reseller_id in (None, o.reseller_id)
        and store_id in (None, o.store_id)
    ]
    points: dict[date, list[int]] = {d: [0, 0, 0, 0] for d in ref_periods(start, end, interval)}
    products: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    resellers: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for order in counted:
        units = sum(line.quantity for line in order.lines)
        point = points[ref_period(order.placed_at.astimezone(UTC).date(), interval)]
        point[0] += 1
        point[1] += units
        point[2] += order.total_minor
        point[3] += order.discount_minor
        resellers[order.reseller_id][0] += 1
        resellers[order.reseller_id][1] += units
        resellers[order.reseller_id][2] += order.total_minor
        for line in order.lines:
            products[line.sku][0] += line.quantity
            products[line.sku][1] += line.total_minor
    return {"points": points, "products": products, "resellers": resellers}


def money(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def check_report(
    data: dict[str, Any], expected: dict[str, Any], currency: str, codes: dict[int, str], top: int = 5
) -> None:
    report = data["salesReport"]
    assert report["currency"] == currency
    points = expected["points"]
    assert [p["periodStart"] for p in report["points"]] == [iso(d) for d in points]
    for point, (orders, units, revenue, discounts) in zip(report["points"], points.values(), strict=True):
        assert (point["orders"], point["units"]) == (orders, units), point
        assert Decimal(point["revenue"]["amount"]) == Decimal(money(revenue, currency)), point
        assert Decimal(point["discounts"]["amount"]) == Decimal(money(discounts, currency)), point
        assert point["revenue"]["currency"] == currency
    totals = report["totals"]
    assert totals["orders"] == sum(v[0] for v in points.values())
    assert totals["units"] == sum(v[1] for v in points.values())
    assert Decimal(totals["revenue"]["amount"]) == Decimal(
        money(sum(v[2] for v in points.values()), currency)
    )
    assert Decimal(totals["discounts"]["amount"]) == Decimal(
        money(sum(v[3] for v in points.values()), currency)
    )
    ranked = sorted(expected["products"].items(), key=lambda kv: (-kv[1][1], kv[0]))[:top]
    assert [(p["sku"], p["units"], Decimal(p["revenue"]["amount"])) for p in report["topProducts"]] == [
        (sku, units, Decimal(money(revenue, currency))) for sku, (units, revenue) in ranked
    ]
    assert all(p["name"] == f"Line name {p['sku']}" for p in report["topProducts"])
    by_reseller = sorted(expected["resellers"].items(), key=lambda kv: (-kv[1][2], codes[kv[0]]))
    assert [
        (r["reseller"]["code"], r["orders"], r["units"], Decimal(r["revenue"]["amount"]))
        for r in report["byReseller"]
    ] == [(codes[rid], o, u, Decimal(money(rev, currency))) for rid, (o, u, rev) in by_reseller]


async def sales_world(
    hub: Hub, seed: int, count: int
) -> tuple[list[OrderSpec], dict[str, int], dict[int, str]]:
    resellers = {code: await add_reseller(hub, code) for code in ("R-NORTH", "R-SOUTH")}
    stores = {
        "north-a": (await add_store(hub, resellers["R-NORTH"], "north-a"), resellers["R-NORTH"]),
        "north-b": (await add_store(hub, resellers["R-NORTH"], "north-b"), resellers["R-NORTH"]),
        "south-a": (await add_store(hub, resellers["R-SOUTH"], "south-a"), resellers["R-SOUTH"]),
    }
    rng = random.Random(seed)
    orders = random_orders(
        rng, count, list(stores.values()), SKUS, START - timedelta(days=10), END + timedelta(days=10)
    )
    # On the edges: at `from` (counts), just before it and at `to` (do not), at midnight on a Monday and a 1st.
    store_id, reseller_id = stores["north-a"]
    for instant in (
        START,
        START - timedelta(microseconds=1),
        END,
        END - timedelta(microseconds=1),
        datetime(2026, 4, 6, tzinfo=UTC),
        datetime(2026, 5, 1, tzinfo=UTC),
        datetime(2026, 5, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ):
        orders.append(
            OrderSpec(
                store_id, reseller_id, instant, lines=[LineSpec("REP-00", "Line name REP-00", 2, 1_000)]
            )
        )
    # Ties in line revenue: two SKUs with the same revenue come by SKU.
    orders.append(
        OrderSpec(
            store_id,
            reseller_id,
            START + timedelta(days=3),
            lines=[
                LineSpec("TIE-B", "Line name TIE-B", 1, 77_777),
                LineSpec("TIE-A", "Line name TIE-A", 1, 77_777),
            ],
        )
    )
    await insert_orders(hub, orders)
    slugs = {slug: store_id for slug, (store_id, _) in stores.items()}
    return orders, slugs, {rid: code for code, rid in resellers.items()}


@pytest.mark.parametrize("interval", ["DAY", "WEEK", "MONTH"])
async def test_reports_equal_the_reference_computation(hub: Hub, interval: str) -> None:
    # given: 400 generated orders over three stores of two resellers, some cancelled, some in EUR
    orders, slugs, codes = await sales_world(
        hub, seed={"DAY": 11, "WEEK": 12, "MONTH": 13}[interval], count=400
    )
    resellers = {code: rid for rid, code in codes.items()}
    token = await hub.staff("CHANNEL_MANAGER")
    span = {"from": START.isoformat(), "to": END.isoformat(), "interval": interval}
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {}),
        ({"currency": "EUR"}, {"currency": "EUR"}),
        ({"resellerCode": "R-NORTH"}, {"reseller_id": resellers["R-NORTH"]}),
        ({"storeSlug": "north-b"}, {"store_id": slugs["north-b"]}),
        ({"resellerCode": "R-SOUTH", "storeSlug": "south-a"}, {"store_id": slugs["south-a"]}),
    ]
    for given, filters in cases:
        currency = filters.pop("currency", "USD")
        # when
        data = await hub.query(REPORT, {"input": {**span, **given}, "limit": 5}, token=token)
        # then
        expected = reference(orders, START, END, interval, currency, **filters)
        check_report(data, expected, currency, codes)
        assert data["salesReport"]["interval"] == interval


MONTH_EDGE_RANGES = [
    # (from, to): mid-month to mid-month at midnight (partial months both sides, whole months between)
    ("2026-03-04T00:00:00+00:00", "2026-06-17T00:00:00+00:00"),
    # exactly whole months, and exactly one
    ("2026-04-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00"),
    ("2026-05-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00"),
    # a single day: the 1st, and a month's last day (an order at 23:59:59.999999)
    ("2026-05-01T00:00:00+00:00", "2026-05-02T00:00:00+00:00"),
    ("2026-05-31T00:00:00+00:00", "2026-06-01T00:00:00+00:00"),
    # part of a month's last day, then a whole month, then part of a 1st
    ("2026-03-31T22:00:00+00:00", "2026-05-01T06:00:00+00:00"),
    # a month's first instant plus 1 µs: the 1st is an edge, its month is not whole
    ("2026-04-01T00:00:00.000001+00:00", "2026-06-01T00:00:00+00:00"),
    # a whole month, then days and part of a day of the next
    ("2026-04-01T00:00:00+00:00", "2026-05-20T12:00:00+00:00"),
    # inside one month, and days up to a month's end
    ("2026-04-03T05:00:00+00:00", "2026-04-27T00:00:00+00:00"),
    ("2026-03-15T08:00:00+00:00", "2026-04-01T00:00:00+00:00"),
    # a year that is not a calendar year: whole months across the new year
    ("2025-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),
]


async def test_reports_across_month_edges_equal_the_reference_computation(hub: Hub) -> None:
    # given: orders from late February to late June 2026 (some on a 1st at midnight, one on 31 May at
    # 23:59:59.999999, some cancelled, some in EUR), over two resellers' three stores
    orders, slugs, codes = await sales_world(hub, seed=21, count=300)
    resellers = {code: rid for rid, code in codes.items()}
    token = await hub.staff("SITE_ADMIN")
    scopes: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {}),
        ({"currency": "EUR"}, {"currency": "EUR"}),
        ({"resellerCode": "R-NORTH"}, {"reseller_id": resellers["R-NORTH"]}),
        ({"storeSlug": "south-a"}, {"store_id": slugs["south-a"]}),
    ]
    for start_text, end_text in MONTH_EDGE_RANGES:
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
        interval = "DAY" if (end - start).days < 400 else "MONTH"
        for given, filters in scopes:
            filters = dict(filters)
            currency = filters.pop("currency", "USD")
            # when: every product ranked (20 > the SKUs sold), so none can hide below the limit
            data = await hub.query(
                REPORT,
                {"input": {"from": start_text, "to": end_text, "interval": interval, **given}, "limit": 20},
                token=token,
            )
            # then
            expected = reference(orders, start, end, interval, currency, **filters)
            assert expected["products"] or given, (start_text, end_text)
            check_report(data, expected, currency, codes, top=20)


async def test_whole_months_of_products_come_from_the_monthly_rollup(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given
    await sales_world(hub, seed=5, count=40)
    token = await hub.staff()
    ranking = "query($input: SalesReportInput!) { salesReport(input: $input) { topProducts { sku } } }"

    async def tables_read(start: str, end: str, **scope: str) -> set[str]:
        count_queries.reset()
        await hub.query(ranking, {"input": {"from": start, "to": end, **scope}}, token=token)
        text = " ".join(count_queries.statements)
        # (every ranking names order_lines, for the names the catalog lacks: the orders' range is the mark)
        return {
            t for t in ("sales_monthly_products", "sales_daily_products", "orders.placed_at") if t in text
        }

    # when / then: whole months alone read the hub's monthly rows; partial months add their days; part
    # of a day adds the order lines; a range inside one month, or a reseller's or a store's report,
    # never reads the monthly rows (they are the whole hub's)
    assert await tables_read("2026-04-01T00:00:00Z", "2026-06-01T00:00:00Z") == {"sales_monthly_products"}
    assert await tables_read("2026-03-20T00:00:00Z", "2026-06-01T00:00:00Z") == {
        "sales_monthly_products",
        "sales_daily_products",
    }
    assert await tables_read("2026-03-20T12:00:00Z", "2026-06-01T00:00:00Z") == {
        "sales_monthly_products",
        "sales_daily_products",
        "orders.placed_at",
    }
    assert await tables_read("2026-04-02T00:00:00Z", "2026-04-30T00:00:00Z") == {"sales_daily_products"}
    for scope in ({"resellerCode": "R-NORTH"}, {"storeSlug": "south-a"}):
        assert await tables_read("2026-04-01T00:00:00Z", "2026-06-01T00:00:00Z", **scope) == {
            "sales_daily_products"
        }


async def test_a_report_sends_the_same_statements_whatever_the_number_of_orders(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given
    orders, _, _ = await sales_world(hub, seed=7, count=20)
    token = await hub.staff("MARKETING_MANAGER")
    variables = {"input": {"from": START.isoformat(), "to": END.isoformat()}, "limit": 5}
    await hub.query(REPORT, variables, token=token)
    count_queries.reset()
    await hub.query(REPORT, variables, token=token)
    few = list(count_queries.statements)
    # when: twenty times the orders
    rng = random.Random(8)
    await insert_orders(
        hub, random_orders(rng, 400, [(o.store_id, o.reseller_id) for o in orders[:3]], SKUS, START, END)
    )
    count_queries.reset()
    await hub.query(REPORT, variables, token=token)
    # then: viewer, policy, the points, the top products, the resellers and their names; no more
    assert count_queries.count == len(few), count_queries.statements
    assert count_queries.count <= 8, count_queries.statements


async def test_every_period_is_there_and_a_mid_period_from_counts_from_itself(hub: Hub) -> None:
    # given: an order on the Monday before `from` (a Wednesday), one on `from`'s Thursday
    reseller = await add_reseller(hub, "R-EDGE")
    store = await add_store(hub, reseller, "edge")
    line = [LineSpec("E-1", "E", 1, 500)]
    await insert_orders(
        hub,
        [
            OrderSpec(store, reseller, datetime(2026, 3, 2, 12, tzinfo=UTC), lines=line),
            OrderSpec(store, reseller, datetime(2026, 3, 5, 12, tzinfo=UTC), lines=line),
        ],
    )
    token = await hub.staff()
    # when
    data = await hub.query(
        POINTS,
        {"input": {"from": START.isoformat(), "to": "2026-03-30T00:00:00Z", "interval": "WEEK"}},
        token=token,
    )
    # then: the weeks of 2 to 29 March (the first starts before `from`), only the Thursday's order counts
    points = data["salesReport"]["points"]
    assert [p["periodStart"][:10] for p in points] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    assert [p["orders"] for p in points] == [1, 0, 0, 0]


async def test_a_reseller_admin_sees_only_its_own(hub: Hub) -> None:
    # given
    orders, slugs, codes = await sales_world(hub, seed=3, count=60)
    resellers = {code: rid for rid, code in codes.items()}
    admin = await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-NORTH"])
    span = {"from": START.isoformat(), "to": END.isoformat(), "interval": "MONTH"}
    # when: naming none, its own code, its own store
    own = await hub.query(REPORT, {"input": span, "limit": 5}, token=admin)
    named = await hub.query(REPORT, {"input": {**span, "resellerCode": "R-NORTH"}, "limit": 5}, token=admin)
    store = await hub.query(REPORT, {"input": {**span, "storeSlug": "north-a"}, "limit": 5}, token=admin)
    # then
    expected = reference(orders, START, END, "MONTH", "USD", reseller_id=resellers["R-NORTH"])
    check_report(own, expected, "USD", codes)
    assert own == named
    check_report(
        store, reference(orders, START, END, "MONTH", "USD", store_id=slugs["north-a"]), "USD", codes
    )
    # and another reseller, its store, or a code that does not exist are refused
    for given in ({"resellerCode": "R-SOUTH"}, {"storeSlug": "south-a"}, {"resellerCode": "R-NOWHERE"}):
        body = await hub.post(REPORT, {"input": {**span, **given}}, token=admin)
        assert codes_of(body) == ["FORBIDDEN"], (given, body)
        assert body["data"] is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"to": START.isoformat()}, "after"),
        ({"to": (START - timedelta(days=1)).isoformat()}, "after"),
        ({"to": (START + timedelta(days=400)).isoformat()}, "at most 400"),
        ({"interval": "WEEK", "to": (START + timedelta(weeks=401)).isoformat()}, "at most 400"),
        ({"currency": "XYZ"}, "currencies"),
        ({"resellerCode": "R-NOWHERE"}, "No reseller"),
        ({"storeSlug": "nowhere"}, "No store"),
        ({"resellerCode": "R-SOUTH", "storeSlug": "north-a"}, "not a store of"),
    ],
)
async def test_bad_input_is_a_clear_error(hub: Hub, given: dict[str, Any], message: str) -> None:
    await sales_world(hub, seed=1, count=0)
    token = await hub.staff()
    body = await hub.post(
        REPORT, {"input": {"from": START.isoformat(), "to": END.isoformat(), **given}}, token=token
    )
    assert codes_of(body) == ["BAD_USER_INPUT"], body
    assert message in body["errors"][0]["message"]


async def test_four_hundred_days_is_the_most(hub: Hub) -> None:
    token = await hub.staff()
    variables = {"input": {"from": "2025-01-01T00:00:00Z", "to": "2026-02-05T00:00:00Z"}}
    data = await hub.query(POINTS, variables, token=token)
    assert len(data["salesReport"]["points"]) == 400
    body = await hub.post(REPORT, {"input": variables["input"], "limit": 0}, token=token)
    assert codes_of(body) == ["BAD_USER_INPUT"]


async def test_the_chart_is_clean_self_contained_svg_with_escaped_text(hub: Hub) -> None:
    # given: a store whose name has markup in it
    reseller = await add_reseller(hub, "R-CHART")
    store = await add_store(
        hub, reseller, "chart-shop", name='Tools <&> "More" </text><script>alert(1)</script>'
    )
    await insert_orders(
        hub,
        [
            OrderSpec(store, reseller, START + timedelta(days=d), lines=[LineSpec("C-1", "C", d + 1, 12_345)])
            for d in range(0, 20, 3)
        ],
    )
    token = await hub.staff()
    # when
    data = await hub.query(
        CHART,
        {
            "input": {
                "from": START.isoformat(),
                "to": (START + timedelta(days=21)).isoformat(),
                "storeSlug": "chart-shop",
            }
        },
        token=token,
    )
    svg = data["salesReport"]["chartSvg"]
    # then: well-formed XML, an svg root, no script, no reference outside itself
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    elements = list(root.iter())
    assert not [
        e
        for e in elements
        if e.tag.split("}")[-1].lower() in {"script", "foreignobject", "image", "use", "a", "style"}
    ]
    for element in elements:
        for name, value in element.attrib.items():
            assert "href" not in name.lower(), (name, value)
            assert "url(" not in value and "javascript:" not in value.lower(), (name, value)
            assert not name.lower().startswith("on"), name
    assert "<script" not in svg
    assert "&lt;&amp;&gt;" in svg
    texts = [e.text or "" for e in elements if e.tag.endswith("}text") or e.tag.endswith("}title")]
    assert any('Tools <&> "More" </text><script>alert(1)</script>' in t for t in texts)
    # the axes: dates, amounts and the currency
    assert any(t == (START + timedelta(days=0)).strftime("%Y-%m-%d") for t in texts)
    assert "USD" in texts
    assert any(t.replace(",", "").replace(".", "").isdigit() and t != "0" for t in texts)
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 1


async def test_top_products_take_the_catalogs_name_and_the_lines_without_it(hub: Hub) -> None:
    # given: one SKU the catalog has (named "Product C-1"), one it does not
    reseller = await add_reseller(hub, "R-NAMES")
    store = await add_store(hub, reseller, "names")
    await add_products(hub, ["C-1"])
    await insert_orders(
        hub,
        [
            OrderSpec(
                store,
                reseller,
                START + timedelta(hours=1),
                lines=[LineSpec("C-1", "Old name", 1, 900), LineSpec("C-2", "Gone product", 1, 800)],
            )
        ],
    )
    token = await hub.staff()
    # when
    data = await hub.query(
        REPORT, {"input": {"from": START.isoformat(), "to": END.isoformat()}, "limit": 2}, token=token
    )
    # then
    assert [(p["sku"], p["name"]) for p in data["salesReport"]["topProducts"]] == [
        ("C-1", "Product C-1"),
        ("C-2", "Gone product"),
    ]
