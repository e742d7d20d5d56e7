"""demandForecast: Holt-Winters on a known weekly pattern with a trend, the fallback, MASE, scope, cache, threads."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from resolvers.reports import forecast
from resolvers.reports.plan import today
from tests.harness import Hub, codes_of
from tests.reports_factory import LineSpec, OrderSpec, add_products, add_store, insert_orders
from tests.stores_factory import add_reseller

PATTERN = [10.0, 12.0, 14.0, 13.0, 18.0, 25.0, 8.0]
"""Units by day of the series (not by weekday: the model only sees positions)."""
TREND = 0.05

FORECAST = """
query($sku: String!, $reseller: String, $days: Int) {
  demandForecast(sku: $sku, resellerCode: $reseller, days: $days) {
    sku product { sku name } method backtestMase naiveMase
    history { date units low high }
    forecast { date units low high }
  }
}"""


def true_demand(t: int) -> float:
    return PATTERN[t % 7] + TREND * t


def noisy_history(days: int, seed: int = 1, noise: float = 1.5) -> list[float]:
    rng = random.Random(seed)
    return [float(max(0, round(true_demand(t) + rng.gauss(0, noise)))) for t in range(days)]


# ---------------------------------------------------------------- the method


def test_holt_winters_beats_seasonal_naive_and_follows_the_true_pattern() -> None:
    # given: 119 days of a weekly pattern with a trend and noise
    history = noisy_history(119)
    # when
    result = forecast.forecast(forecast.ForecastJob(tuple(history), 28))
    # then
    assert result.method == forecast.HOLT_WINTERS
    assert result.backtest_mase is not None and result.naive_mase is not None
    assert result.backtest_mase < result.naive_mase
    for h, units in enumerate(result.units):
        truth = true_demand(119 + h)
        assert abs(units - truth) <= 0.15 * truth, (h, units, truth)
    assert result.low is not None and result.high is not None
    assert all(lo <= u <= hi for lo, u, hi in zip(result.low, result.units, result.high, strict=True))
    # an 80 % interval: most of the true values fall inside, and it is not absurdly wide
    inside = sum(
        lo <= true_demand(119 + h) <= hi
        for h, (lo, hi) in enumerate(zip(result.low, result.high, strict=True))
    )
    assert inside >= 20
    assert max(hi - lo for lo, hi in zip(result.low, result.high, strict=True)) < 15


def test_the_plans_quick_fit_also_follows_the_true_pattern() -> None:
    # given: the same history; when: fitted the plan's way (heuristic start, no grid search)
    history = noisy_history(119)
    result = forecast.forecast(
        forecast.ForecastJob(tuple(history), 28, with_interval=False, with_backtest=False, quick=True)
    )
    # then: within 15 % of the true pattern every day, as the full fit
    assert result.method == forecast.HOLT_WINTERS
    for h, units in enumerate(result.units):
        truth = true_demand(119 + h)
        assert abs(units - truth) <= 0.15 * truth, (h, units, truth)


def test_fewer_than_28_days_fall_back_to_the_mean_of_the_last_week() -> None:
    history = (3.0, 0.0, 9.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.0, 4.0)
    result = forecast.forecast(forecast.ForecastJob(history, 5))
    assert result.method == forecast.FALLBACK_METHOD
    assert result.units == pytest.approx([36 / 7] * 5)
    assert result.backtest_mase is None and result.naive_mase is None
    assert result.low is not None and result.high is not None
    assert all(lo < u < hi for lo, u, hi in zip(result.low, result.units, result.high, strict=True))


def test_between_28_and_56_days_forecasts_without_a_backtest() -> None:
    result = forecast.forecast(forecast.ForecastJob(tuple(noisy_history(40)), 7))
    assert result.method == forecast.HOLT_WINTERS
    assert result.backtest_mase is None and result.naive_mase is None


def test_mase_scales_by_the_one_week_back_error() -> None:
    train = [1.0, 2, 3, 4, 5, 6, 7, 3, 2, 3, 4, 5, 6, 7]  # one-week-back errors: 2, 0, 0, 0, 0, 0, 0
    assert forecast.mase([4.0, 4.0], [3.0, 5.0], train) == pytest.approx(1 / (2 / 7))
    assert forecast.mase([1.0], [1.0], [5.0] * 14) is None


async def test_the_fit_runs_off_the_event_loop() -> None:
    # given: a history nothing has forecast yet
    forecast.clear_cache()
    history = tuple(noisy_history(200, seed=99))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    # when: the loop ticks while the fit runs
    running = asyncio.ensure_future(ticker())
    await forecast.forecast_many([forecast.ForecastJob(history, 28)])
    running.cancel()
    # then: the loop kept turning (a fit on the loop would have blocked every tick)
    assert ticks >= 3


# ---------------------------------------------------------------- through GraphQL, on both databases


async def demand_world(hub: Hub, days: int) -> tuple[date, list[float], dict[str, int]]:
    """F-1 sold every day for `days` days up to yesterday by R-FC's store (the pattern), and by R-ELSE's (3 a day)."""
    resellers = {code: await add_reseller(hub, code) for code in ("R-FC", "R-ELSE")}
    own = await add_store(hub, resellers["R-FC"], "fc-shop")
    other = await add_store(hub, resellers["R-ELSE"], "else-shop")
    await add_products(hub, ["F-1"])
    first = today() - timedelta(days=days)
    history = noisy_history(days, seed=5)
    orders = []
    for t, units in enumerate(history):
        noon = datetime(first.year, first.month, first.day, 12, tzinfo=UTC) + timedelta(days=t)
        if units:
            # in two orders, one of them in EUR: units count in every currency
            half = int(units) // 2
            orders.append(
                OrderSpec(own, resellers["R-FC"], noon, lines=[LineSpec("F-1", "F", int(units) - half, 100)])
            )
            if half:
                orders.append(
                    OrderSpec(
                        own,
                        resellers["R-FC"],
                        noon + timedelta(hours=1),
                        currency="EUR",
                        lines=[LineSpec("F-1", "F", half, 100)],
                    )
                )
        orders.append(OrderSpec(other, resellers["R-ELSE"], noon, lines=[LineSpec("F-1", "F", 3, 100)]))
        orders.append(
            OrderSpec(own, resellers["R-FC"], noon, status="CANCELLED", lines=[LineSpec("F-1", "F", 50, 1)])
        )
    await insert_orders(hub, orders)
    return first, history, resellers


async def test_a_forecast_of_a_resellers_demand(hub: Hub) -> None:
    # given: 84 days of history
    _, history, _ = await demand_world(hub, 84)
    token = await hub.staff("CHANNEL_MANAGER")
    # when
    data = await hub.query(FORECAST, {"sku": "F-1", "reseller": "R-FC", "days": 14}, token=token)
    result = data["demandForecast"]
    # then: the history is the reseller's own daily units, cancelled orders left out
    assert result["sku"] == "F-1" and result["product"]["sku"] == "F-1"
    assert result["method"] == "holt-winters-additive-weekly"
    assert [p["units"] for p in result["history"]] == history[history.index(next(u for u in history if u)) :]
    assert result["history"][-1]["date"][:10] == (today() - timedelta(days=1)).isoformat()
    assert all(p["low"] is None and p["high"] is None for p in result["history"])
    assert [p["date"][:10] for p in result["forecast"]] == [
        (today() + timedelta(days=i)).isoformat() for i in range(14)
    ]
    assert all(p["low"] <= p["units"] <= p["high"] for p in result["forecast"])
    assert result["backtestMase"] is not None and result["naiveMase"] is not None
    for h, point in enumerate(result["forecast"]):
        truth = true_demand(84 + h)
        assert abs(point["units"] - truth) <= 0.15 * truth, (h, point, truth)
    # and staff naming no reseller see every store's demand (R-ELSE's 3 a day on top)
    everyone = (await hub.query(FORECAST, {"sku": "F-1", "days": 7}, token=token))["demandForecast"]
    assert [p["units"] for p in everyone["history"]] == [u + 3 for u in history]


async def test_a_short_history_falls_back_and_says_so(hub: Hub) -> None:
    await demand_world(hub, 10)
    token = await hub.staff()
    result = (await hub.query(FORECAST, {"sku": "F-1", "reseller": "R-FC", "days": 3}, token=token))[
        "demandForecast"
    ]
    assert result["method"] == forecast.FALLBACK_METHOD
    assert "fewer than 28 days" in result["method"]
    assert result["backtestMase"] is None and result["naiveMase"] is None
    assert len(result["forecast"]) == 3


async def test_the_forecast_is_cached_until_new_orders_arrive(hub: Hub) -> None:
    # given: a forecast made once
    _, _, resellers = await demand_world(hub, 35)
    token = await hub.staff()
    variables = {"sku": "F-1", "reseller": "R-FC", "days": 7}
    first = await hub.query(FORECAST, variables, token=token)
    cached = len(forecast._cache)
    # when: asked again, nothing changed
    again = await hub.query(FORECAST, variables, token=token)
    # then: the same answer, from the cache
    assert again == first
    assert len(forecast._cache) == cached
    # when: an order arrives for the product
    async with hub.resources.session_factory() as session, session.begin():
        from sqlalchemy import select

        from datasources.stores.models import Store

        store = await session.scalar(select(Store.id).where(Store.slug == "fc-shop"))
    yesterday = today() - timedelta(days=1)
    await insert_orders(
        hub,
        [
            OrderSpec(
                store,
                resellers["R-FC"],
                datetime(yesterday.year, yesterday.month, yesterday.day, 18, tzinfo=UTC),
                lines=[LineSpec("F-1", "F", 40, 100)],
            )
        ],
    )
    after = await hub.query(FORECAST, variables, token=token)
    # then: a new forecast from the new history
    assert (
        after["demandForecast"]["history"][-1]["units"]
        == first["demandForecast"]["history"][-1]["units"] + 40
    )
    assert after["demandForecast"]["forecast"] != first["demandForecast"]["forecast"]


async def test_who_may_forecast_what(hub: Hub) -> None:
    _, history, resellers = await demand_world(hub, 30)
    admin = await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-FC"])
    own = (await hub.query(FORECAST, {"sku": "F-1", "days": 7}, token=admin))["demandForecast"]
    assert [p["units"] for p in own["history"]][-7:] == history[-7:]
    for reseller in ("R-ELSE", "R-NOWHERE"):
        body = await hub.post(FORECAST, {"sku": "F-1", "reseller": reseller}, token=admin)
        assert codes_of(body) == ["FORBIDDEN"], body
    for days in (0, 91):
        body = await hub.post(FORECAST, {"sku": "F-1", "days": days}, token=admin)
        assert codes_of(body) == ["BAD_USER_INPUT"], body
    assert (await hub.query(FORECAST, {"sku": "NO-SUCH"}, token=admin))["demandForecast"] is None
    customer_service = await hub.staff("CUSTOMER_SERVICE")
    assert codes_of(await hub.post(FORECAST, {"sku": "F-1"}, token=customer_service)) == ["FORBIDDEN"]
