"""Sales reports: the checked request, the points of every period (empty ones included) and the totals.

The figures come from datasources/reports/queries.py, one GROUP BY statement
each; this module checks the input, fills in the periods without orders and
adds the periods up into the totals (aggregates of aggregates: no order is
ever loaded here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from datasources.db import RequestDatabase
from datasources.partners.models import HubPolicy
from datasources.reports import queries
from datasources.reports.periods import Interval, as_utc, period_days, start_of
from resolvers.errors import bad_input
from resolvers.reports.scope import Scope

MAX_POINTS = 400
MAX_TOP_PRODUCTS = 100


@dataclass(frozen=True)
class SalesReportRequest:
    start: datetime
    end: datetime
    interval: Interval
    currency: str | None


@dataclass(frozen=True)
class PreparedReport:
    """A checked report: which orders count, and the first day of every period it shows."""

    sales: queries.SalesFilter
    interval: Interval
    currency: str
    period_days: list[date]
    scope: Scope


@dataclass(frozen=True)
class SalesPoint:
    period_start: datetime
    orders: int
    units: int
    revenue_minor: int
    discounts_minor: int


def prepare(request: SalesReportRequest, scope: Scope, policy: HubPolicy) -> PreparedReport:
    """Check the range and currency (BAD_USER_INPUT) and list the report's periods."""
    start, end = as_utc(request.start), as_utc(request.end)
    if end <= start:
        raise bad_input("`to` must be after `from`.")
    currency = request.currency or policy.default_currency
    if currency not in policy.currencies:
        raise bad_input(f"{currency} is not one of the hub's currencies ({', '.join(policy.currencies)}).")
    days = period_days(start, end, request.interval, MAX_POINTS)
    if days is None:
        raise bad_input(
            f"A report holds at most {MAX_POINTS} periods: shorten the range or choose a longer interval."
        )
    return PreparedReport(
        sales=queries.SalesFilter(
            start=start, end=end, currency=currency, reseller_id=scope.reseller_id, store_id=scope.store_id
        ),
        interval=request.interval,
        currency=currency,
        period_days=days,
        scope=scope,
    )


async def points(db: RequestDatabase, report: PreparedReport) -> list[SalesPoint]:
    """One point per period of the report, in order; a period without orders is all zeros."""
    by_day = {row.day: row for row in await queries.sales_by_period(db, report.sales, report.interval)}
    result = []
    for day in report.period_days:
        row = by_day.get(day)
        result.append(
            SalesPoint(
                period_start=start_of(day),
                orders=row.orders if row else 0,
                units=row.units if row else 0,
                revenue_minor=row.revenue_minor if row else 0,
                discounts_minor=row.discounts_minor if row else 0,
            )
        )
    return result


def totals(report: PreparedReport, periods: list[SalesPoint]) -> SalesPoint:
    """The whole range: the sum of its periods, starting at `from`."""
    return SalesPoint(
        period_start=report.sales.start,
        orders=sum(p.orders for p in periods),
        units=sum(p.units for p in periods),
        revenue_minor=sum(p.revenue_minor for p in periods),
        discounts_minor=sum(p.discounts_minor for p in periods),
    )


async def top_products(db: RequestDatabase, report: PreparedReport, limit: int) -> list[queries.ProductRow]:
    """The best-selling products by revenue (order lines after discounts), ties by SKU."""
    if not 1 <= limit <= MAX_TOP_PRODUCTS:
        raise bad_input(f"`limit` is from 1 to {MAX_TOP_PRODUCTS} (got {limit}).")
    return await queries.top_products(db, report.sales, limit)


async def by_reseller(db: RequestDatabase, report: PreparedReport) -> list[queries.ResellerRow]:
    """Orders, units and revenue per reseller, highest revenue first."""
    return await queries.sales_by_reseller(db, report.sales)
