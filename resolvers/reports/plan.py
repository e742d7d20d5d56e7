"""Demand from the orders: one product's daily history and forecast, and a reseller's demand plan.

History: the units of the orders that count (not CANCELLED, any currency) per
day in UTC, over the last HISTORY_DAYS complete days (today, still running, is
left out), starting at the product's first sale in that window; days without
sales are zeros. The forecast starts today.

The plan (docs/reports.md): for every product the reseller's stores sold in
the last 90 days, F = the forecast units over the next `weeks`·7 days, and

    suggestedQuantity = ceil(F) + ceil(sd_week · √weeks)

where sd_week is the sample standard deviation of the product's weekly units
over the complete weeks of its history (7-day blocks ending yesterday); with
fewer than two such weeks, sd_day·√7 from its daily units; 0 with one day.
The safety stock covers one standard deviation of demand over the horizon,
weeks taken as independent.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from datasources.db import RequestDatabase
from datasources.reports import queries
from datasources.reports.periods import start_of
from resolvers.errors import bad_input
from resolvers.reports.forecast import Forecast, ForecastJob, check_days, forecast_many

HISTORY_DAYS = 365
PLAN_SOLD_WITHIN_DAYS = 90
MAX_PLAN_WEEKS = 12


def today() -> date:
    """The current day in UTC: history ends the day before, forecasts start on it."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class ProductDemand:
    sku: str
    first_day: date
    """The first day of `history` (the product's first sale in the window)."""
    history: tuple[float, ...]
    forecast: Forecast
    forecast_start: date


@dataclass(frozen=True)
class PlanLine:
    sku: str
    forecast_units: float
    suggested_quantity: int


def history_window(until: date) -> queries.SalesFilter:
    """The complete days before `until`, HISTORY_DAYS of them, in every currency."""
    return queries.SalesFilter(
        start=start_of(until - timedelta(days=HISTORY_DAYS)), end=start_of(until), currency=None
    )


def daily_series(
    rows: Sequence[queries.DailyUnits], until: date
) -> dict[str, tuple[date, tuple[float, ...]]]:
    """Per SKU: its first sale day and the units of every day from it to the day before `until`."""
    by_sku: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        by_sku[row.sku][row.day] = row.units
    series = {}
    for sku, days in by_sku.items():
        first = min(days)
        length = (until - first).days
        series[sku] = (first, tuple(float(days.get(first + timedelta(days=i), 0)) for i in range(length)))
    return series


async def demand_forecast(
    db: RequestDatabase, sku: str, reseller_id: int | None, days: int, until: date | None = None
) -> ProductDemand:
    """The daily history of one product (one reseller's stores, or all) and its forecast for `days` days."""
    check_days(days)
    until = until or today()
    window = history_window(until)
    sales = queries.SalesFilter(window.start, window.end, None, reseller_id=reseller_id)
    series = daily_series(await queries.daily_units(db, sales, [sku]), until)
    first, history = series.get(sku, (until, ()))
    (result,) = await forecast_many([ForecastJob(history, days)])
    return ProductDemand(sku, first, history, result, until)


def weekly_sigma(history: Sequence[float]) -> float:
    """The standard deviation of weekly units over the complete weeks (ending with the last day)."""
    weeks = [sum(history[end - 7 : end]) for end in range(len(history), 6, -7)]
    if len(weeks) >= 2:
        return statistics.stdev(weeks)
    if len(history) >= 2:
        return statistics.stdev(history) * math.sqrt(7)
    return 0.0


def suggested_quantity(forecast_units: float, sigma_week: float, weeks: int) -> int:
    """ceil(F) + ceil(sd_week·√weeks), with F and the safety stock rounded to 6 places first (float noise)."""
    safety = sigma_week * math.sqrt(weeks)
    return math.ceil(round(forecast_units, 6)) + math.ceil(round(safety, 6))


async def demand_plan(
    db: RequestDatabase, reseller_id: int, weeks: int, until: date | None = None
) -> list[PlanLine]:
    """The plan's lines, by SKU: one history statement for every product, one worker call for every forecast."""
    if not 1 <= weeks <= MAX_PLAN_WEEKS:
        raise bad_input(f"`weeks` is from 1 to {MAX_PLAN_WEEKS} (got {weeks}).")
    until = until or today()
    window = history_window(until)
    sales = queries.SalesFilter(window.start, window.end, None, reseller_id=reseller_id)
    rows = await queries.daily_units(
        db, sales, sold_since=start_of(until - timedelta(days=PLAN_SOLD_WITHIN_DAYS))
    )
    series = daily_series(rows, until)
    skus = sorted(series)
    jobs = [
        ForecastJob(series[sku][1], weeks * 7, with_interval=False, with_backtest=False, quick=True)
        for sku in skus
    ]
    results = await forecast_many(jobs)
    lines = []
    for sku, result in zip(skus, results, strict=True):
        units = sum(result.units)
        lines.append(PlanLine(sku, units, suggested_quantity(units, weekly_sigma(series[sku][1]), weeks)))
    return lines
