"""Demand forecasts: daily units of a product, Holt-Winters with weekly seasonality, its interval and backtest.

The method (docs/reports.md says more):
- 28 days of history or more: statsmodels' `ExponentialSmoothing(y, trend="add",
  seasonal="add", seasonal_periods=7)`, fitted by maximum likelihood; the 80 %
  interval is the 10th and 90th percentile of 500 simulated futures of the
  fitted model, its errors drawn from a normal law with the in-sample
  residuals' standard deviation (seeded: one history, one answer).
- Fewer (FALLBACK_METHOD): each future day is the mean of the last 7 days (or
  of all of them, when fewer), the interval that mean ± 1.2816 standard
  deviations of those days.
- Demand is never negative: forecasts and bounds are clipped at 0.
- `backtest_mase`/`naive_mase`: with at least 28 + 28 days, the method is fitted
  on all days but the last 28 and forecasts them; so does seasonal-naive (the
  last week before the cut, repeated). Each mean absolute error is scaled by
  the in-sample mean absolute error of the one-week-back forecast on the
  fitted days (Hyndman's MASE with a seasonal scale); below 1 beats that.

Fitting is CPU work (tens of milliseconds to a second): `forecast_many` runs it
in a worker thread with `asyncio.to_thread`, so the event loop keeps serving
other requests. A thread rather than a process pool: the inputs and results
are small, statsmodels needs no pickling or warm-up per worker, and on a
machine of two cores a pool would not buy more throughput; the fit releases
the GIL in numpy and scipy and the interpreter switches threads every 5 ms
otherwise, so other requests are delayed by milliseconds, not by the fit. At
most WORKERS fits run at once (a semaphore in the threads), so a burst of
forecasts cannot take every core.

Results are cached per process (CACHE_SIZE entries, least recently used out)
by the history itself and the horizon: a forecast is a pure function of
those, so it is reused exactly until a new (or cancelled) order changes that
product's history, and never served stale.
"""

from __future__ import annotations

import asyncio
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.errors import bad_input

MAX_DAYS = 90
MIN_HISTORY_DAYS = 28
BACKTEST_DAYS = 28
SEASON = 7
HOLT_WINTERS = "holt-winters-additive-weekly"
FALLBACK_METHOD = "mean-of-last-7-days (fewer than 28 days of history)"
NO_HISTORY = "no-sales (no history: zero demand)"
Z_80 = 1.2815515655446004
"""The standard normal's 90th percentile: mean ± Z_80·sd holds 80 %."""
SIMULATIONS = 500
SEED = 20_261_129
WORKERS = 2
CACHE_SIZE = 512

_worker_slots = threading.BoundedSemaphore(WORKERS)
_cache: OrderedDict[tuple[object, ...], Forecast] = OrderedDict()


@dataclass(frozen=True)
class Forecast:
    method: str
    units: tuple[float, ...]
    low: tuple[float, ...] | None
    high: tuple[float, ...] | None
    backtest_mase: float | None
    naive_mase: float | None


@dataclass(frozen=True)
class ForecastJob:
    history: tuple[float, ...]
    """Units per day, oldest first, ending with the last complete day."""
    days: int
    with_interval: bool = True
    with_backtest: bool = True
    quick: bool = False
    """Start the fit from heuristic values instead of searching for them (see `_fit`): for plans, which
    fit one model per product in one request."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.history, self.days, self.with_interval, self.with_backtest, self.quick)


def check_days(days: int) -> None:
    """BAD_USER_INPUT unless the horizon is 1 to MAX_DAYS days."""
    if not 1 <= days <= MAX_DAYS:
        raise bad_input(f"`days` is from 1 to {MAX_DAYS} (got {days}).")


async def forecast_many(jobs: Sequence[ForecastJob]) -> list[Forecast]:
    """Forecast every job, the ones not cached in one worker-thread call; answers in the jobs' order."""
    missing = [job for job in dict.fromkeys(jobs) if job.key not in _cache]
    if missing:
        computed = await asyncio.to_thread(_compute_all, missing)
        for job, result in zip(missing, computed, strict=True):
            _cache[job.key] = result
    results = []
    for job in jobs:
        _cache.move_to_end(job.key)
        results.append(_cache[job.key])
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return results


def _compute_all(jobs: Sequence[ForecastJob]) -> list[Forecast]:
    with _worker_slots:
        return [forecast(job) for job in jobs]


def forecast(job: ForecastJob) -> Forecast:
    """The forecast of one history (CPU work: call it off the event loop)."""
    history = [float(v) for v in job.history]
    if not history:
        zeros = tuple(0.0 for _ in range(job.days))
        return Forecast(
            NO_HISTORY,
            zeros,
            zeros if job.with_interval else None,
            zeros if job.with_interval else None,
            None,
            None,
        )
    if len(history) < MIN_HISTORY_DAYS:
        units, low, high = _fallback(history, job.days)
        return Forecast(
            FALLBACK_METHOD,
            units,
            low if job.with_interval else None,
            high if job.with_interval else None,
            None,
            None,
        )
    units, low, high = holt_winters(history, job.days, with_interval=job.with_interval, quick=job.quick)
    backtest = naive = None
    if job.with_backtest and len(history) >= MIN_HISTORY_DAYS + BACKTEST_DAYS:
        backtest, naive = backtest_mase(history)
    return Forecast(HOLT_WINTERS, units, low, high, backtest, naive)


def _fallback(
    history: list[float], days: int
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    recent = history[-SEASON:]
    mean = sum(recent) / len(recent)
    sigma = math.sqrt(sum((v - mean) ** 2 for v in recent) / (len(recent) - 1)) if len(recent) > 1 else 0.0
    return (
        tuple(mean for _ in range(days)),
        tuple(max(0.0, mean - Z_80 * sigma) for _ in range(days)),
        tuple(mean + Z_80 * sigma for _ in range(days)),
    )


def holt_winters(
    history: Sequence[float], days: int, *, with_interval: bool = True, quick: bool = False
) -> tuple[tuple[float, ...], tuple[float, ...] | None, tuple[float, ...] | None]:
    """Holt-Winters (additive trend and weekly season) forecast of `days` days, with its 80 % interval."""
    import numpy as np

    y = np.asarray(history, dtype=float)
    if float(y.max() - y.min()) == 0.0:
        # A flat history (a product that sold the same every day) has nothing to fit: it stays flat.
        flat = tuple(float(y[0]) for _ in range(days))
        return flat, flat if with_interval else None, flat if with_interval else None
    fitted = _fit(y, quick=quick)
    mean = np.clip(fitted.forecast(days), 0.0, None)
    if not with_interval:
        return tuple(float(v) for v in mean), None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = fitted.simulate(days, repetitions=SIMULATIONS, error="add", anchor="end", random_state=SEED)
    paths = np.asarray(paths, dtype=float).reshape(days, SIMULATIONS)
    low = np.clip(np.percentile(paths, 10, axis=1), 0.0, None)
    high = np.clip(np.percentile(paths, 90, axis=1), 0.0, None)
    return (
        tuple(float(v) for v in mean),
        tuple(float(min(lo, m)) for lo, m in zip(low, mean, strict=True)),
        tuple(float(max(hi, m)) for hi, m in zip(high, mean, strict=True)),
    )


def _fit(y, *, quick: bool = False):  # type: ignore[no-untyped-def]
    """The fitted model. `quick`: the initial level, trend and season from the first weeks (heuristic)
    and no brute-force grid for the optimiser's start: about 7 times faster (60 against 420 ms for a
    year of history on this machine, loaded), with forecasts within a few percent of the full search.
    A plan fits one model per product in one request, where the full search took tens of seconds."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    # statsmodels warns when the optimiser stops early or the start values are rough; the fit is still the
    # best it found, and the backtest shows its quality, so the warnings are not the caller's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            y,
            trend="add",
            seasonal="add",
            seasonal_periods=SEASON,
            initialization_method="heuristic" if quick else "estimated",
        )
        return model.fit(use_brute=not quick)


def seasonal_naive(train: Sequence[float], days: int) -> list[float]:
    """Each day as the same weekday in the last week of `train`."""
    last_week = list(train[-SEASON:])
    return [last_week[i % SEASON] for i in range(days)]


def mase(actual: Sequence[float], predicted: Sequence[float], train: Sequence[float]) -> float | None:
    """Mean absolute error scaled by the in-sample error of the one-week-back forecast; None when that is 0."""
    scale_terms = [abs(train[i] - train[i - SEASON]) for i in range(SEASON, len(train))]
    scale = sum(scale_terms) / len(scale_terms) if scale_terms else 0.0
    if scale == 0.0:
        return None
    error = sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)
    return error / scale


def backtest_mase(history: Sequence[float]) -> tuple[float | None, float | None]:
    """MASE of Holt-Winters and of seasonal-naive on the last BACKTEST_DAYS days, fitted on the days before."""
    train, test = list(history[:-BACKTEST_DAYS]), list(history[-BACKTEST_DAYS:])
    predicted, _, _ = holt_winters(train, BACKTEST_DAYS, with_interval=False)
    return mase(test, predicted, train), mase(test, seasonal_naive(train, BACKTEST_DAYS), train)


def clear_cache() -> None:
    """Forget every cached forecast (tests that count fits)."""
    _cache.clear()
