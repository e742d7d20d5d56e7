"""demandPlan and requestQuoteFromDemandPlan: the products of the last 90 days, the formula, one batch, the quote."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from datasources.quotes.models import QuoteRequest
from resolvers.reports import forecast
from resolvers.reports.plan import today
from tests.harness import Hub, QueryCounter, codes_of
from tests.quote_data import make_distributor
from tests.reports_factory import LineSpec, OrderSpec, add_products, add_store, insert_orders
from tests.stores_factory import add_reseller

PLAN = """
query($r: String!, $weeks: Int) {
  demandPlan(resellerCode: $r, weeks: $weeks) {
    reseller { code } weeks
    lines { sku product { sku status } forecastUnits suggestedQuantity }
  }
}"""
FROM_PLAN = """
mutation($weeks: Int, $codes: [String!]) {
  requestQuoteFromDemandPlan(weeks: $weeks, distributorCodes: $codes) {
    quoteRequest { status currency reseller { code } items { sku quantity } quotes { distributor { code } } }
    userErrors { code field message }
  }
}"""


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def daily(pattern: list[int], days: int) -> list[int]:
    return [pattern[t % len(pattern)] + t // 14 for t in range(days)]


async def plan_world(hub: Hub, extra_products: int = 0) -> tuple[dict[str, int], dict[str, list[int]]]:
    """R-PLAN sells P-A daily for 70 days, P-B on a few recent days, P-OLD only long ago, P-DISC (discontinued),
    P-GONE (not in the catalog); R-ELSE sells P-ELSE. Answers reseller ids and the daily units by SKU."""
    resellers = {code: await add_reseller(hub, code) for code in ("R-PLAN", "R-ELSE")}
    store = await add_store(hub, resellers["R-PLAN"], "plan-shop")
    other = await add_store(hub, resellers["R-ELSE"], "else-shop")
    extra = [f"P-X{n:02d}" for n in range(extra_products)]
    await add_products(hub, ["P-A", "P-B", "P-OLD", "P-ELSE", *extra])
    await add_products(hub, ["P-DISC"], status="DISCONTINUED")
    end = today()
    units = {
        "P-A": daily([4, 5, 6, 5, 9, 12, 2], 70),
        "P-B": [0] * 13 + [2, 0, 3, 0, 0, 1, 4],
        "P-DISC": [1] * 30,
        "P-GONE": [2] * 30,
        **{sku: [1 + n % 3] * 40 for n, sku in enumerate(extra)},
    }
    orders = []
    for sku, series in units.items():
        first = end - timedelta(days=len(series))
        for t, count in enumerate(series):
            if count:
                orders.append(
                    OrderSpec(
                        store,
                        resellers["R-PLAN"],
                        noon(first + timedelta(days=t)),
                        lines=[LineSpec(sku, sku, count, 100)],
                    )
                )
    orders.append(
        OrderSpec(
            store,
            resellers["R-PLAN"],
            noon(end - timedelta(days=120)),
            lines=[LineSpec("P-OLD", "O", 9, 100)],
        )
    )
    orders.append(
        OrderSpec(
            other, resellers["R-ELSE"], noon(end - timedelta(days=3)), lines=[LineSpec("P-ELSE", "E", 9, 100)]
        )
    )
    await insert_orders(hub, orders)
    return resellers, units


def expected_line(series: list[int], weeks: int) -> tuple[float, int]:
    """The documented formula, from the daily units: ceil(F) + ceil(sd_week·√weeks), F from the plan's
    quick Holt-Winters fit (docs/reports.md)."""
    first = next(i for i, u in enumerate(series) if u)
    history = [float(u) for u in series[first:]]
    result = forecast.forecast(
        forecast.ForecastJob(tuple(history), weeks * 7, with_interval=False, with_backtest=False, quick=True)
    )
    total = sum(result.units)
    blocks = [sum(history[end - 7 : end]) for end in range(len(history), 6, -7)]
    sigma = statistics.stdev(blocks) if len(blocks) >= 2 else statistics.stdev(history) * math.sqrt(7)
    return total, math.ceil(round(total, 6)) + math.ceil(round(sigma * math.sqrt(weeks), 6))


async def test_the_plan_covers_the_last_90_days_with_the_documented_formula(hub: Hub) -> None:
    # given
    _, units = await plan_world(hub)
    token = await hub.staff("CHANNEL_MANAGER")
    # when
    data = await hub.query(PLAN, {"r": "R-PLAN", "weeks": 3}, token=token)
    plan = data["demandPlan"]
    # then: products sold in the last 90 days and still in the catalog, by SKU
    assert plan["reseller"]["code"] == "R-PLAN" and plan["weeks"] == 3
    assert [line["sku"] for line in plan["lines"]] == ["P-A", "P-B", "P-DISC"]
    for line in plan["lines"]:
        total, suggested = expected_line(units[line["sku"]], 3)
        assert abs(line["forecastUnits"] - total) < 1e-6, line
        assert line["suggestedQuantity"] == suggested, line
        assert line["suggestedQuantity"] >= math.ceil(line["forecastUnits"])
    # P-A sells about 6 a day and growing: three weeks is well over 100
    assert plan["lines"][0]["forecastUnits"] > 120


async def test_the_plan_sends_the_same_statements_whatever_the_number_of_products(
    hub: Hub, count_queries: QueryCounter
) -> None:
    await plan_world(hub, extra_products=6)
    token = await hub.staff()
    await hub.query(PLAN, {"r": "R-ELSE", "weeks": 2}, token=token)
    count_queries.reset()
    few = await hub.query(PLAN, {"r": "R-ELSE", "weeks": 2}, token=token)
    one_product = count_queries.count
    count_queries.reset()
    many = await hub.query(PLAN, {"r": "R-PLAN", "weeks": 2}, token=token)
    assert len(few["demandPlan"]["lines"]) == 1 and len(many["demandPlan"]["lines"]) == 9
    assert count_queries.count == one_product, count_queries.statements


async def test_who_may_see_which_plan(hub: Hub) -> None:
    resellers, _ = await plan_world(hub)
    admin = await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-PLAN"])
    assert (await hub.query(PLAN, {"r": "R-PLAN"}, token=admin))["demandPlan"]["weeks"] == 4
    for code in ("R-ELSE", "R-NOWHERE"):
        assert codes_of(await hub.post(PLAN, {"r": code}, token=admin)) == ["FORBIDDEN"]
    staff = await hub.staff("MARKETING_MANAGER")
    assert codes_of(await hub.post(PLAN, {"r": "R-NOWHERE"}, token=staff)) == ["BAD_USER_INPUT"]
    for weeks in (0, 13):
        assert codes_of(await hub.post(PLAN, {"r": "R-PLAN", "weeks": weeks}, token=staff)) == [
            "BAD_USER_INPUT"
        ]


async def test_the_plan_becomes_a_quote_request(hub: Hub) -> None:
    # given: a MANUAL distributor connected to the reseller
    resellers, _ = await plan_world(hub)
    await make_distributor(hub, "D-PLAN", None, transport="MANUAL", resellers=(resellers["R-PLAN"],))
    admin = await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-PLAN"])
    plan = (await hub.query(PLAN, {"r": "R-PLAN", "weeks": 2}, token=admin))["demandPlan"]
    # when
    data = await hub.query(FROM_PLAN, {"weeks": 2}, token=admin)
    # then: the plan's ACTIVE lines with a suggested quantity of at least 1, through the usual workflow
    payload = data["requestQuoteFromDemandPlan"]
    assert payload["userErrors"] == []
    request = payload["quoteRequest"]
    assert request["status"] == "OPEN" and request["currency"] == "USD"
    assert request["reseller"]["code"] == "R-PLAN"
    expected = [
        {"sku": line["sku"], "quantity": line["suggestedQuantity"]}
        for line in plan["lines"]
        if line["suggestedQuantity"] >= 1 and line["product"]["status"] == "ACTIVE"
    ]
    assert request["items"] == expected
    assert [i["sku"] for i in expected] == ["P-A", "P-B"]
    assert request["quotes"] == []  # a MANUAL distributor answers later, in its proxy store
    # and the usual checks of requestQuote apply: an unknown distributor is a userError, nothing written
    body = await hub.query(FROM_PLAN, {"codes": ["D-NOWHERE"]}, token=admin)
    assert [e["code"] for e in body["requestQuoteFromDemandPlan"]["userErrors"]] == ["NOT_FOUND"]
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(QuoteRequest)) == 1


async def test_an_empty_plan_is_a_user_error_and_writes_nothing(hub: Hub) -> None:
    reseller = await add_reseller(hub, "R-QUIET")
    await make_distributor(hub, "D-QUIET", None, transport="MANUAL", resellers=(reseller,))
    admin = await hub.user("RESELLER_ADMIN", reseller_id=reseller)
    payload = (await hub.query(FROM_PLAN, {}, token=admin))["requestQuoteFromDemandPlan"]
    assert payload["quoteRequest"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["EMPTY_PLAN"]
    payload = (await hub.query(FROM_PLAN, {"weeks": 0}, token=admin))["requestQuoteFromDemandPlan"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("OUT_OF_RANGE", ["weeks"])]
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(QuoteRequest)) == 0
