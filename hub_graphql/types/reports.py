"""GraphQL types and roots of business results: sales reports and their chart, demand forecasts, the demand plan."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import Enum

import strawberry

from datasources.reports.periods import start_of
from hub_graphql.permissions import guarded
from hub_graphql.types.catalog import Product
from hub_graphql.types.common import Info, Money, UserError
from hub_graphql.types.partners import Reseller
from hub_graphql.types.quotes import QuoteRequestPayload, request_quote_of
from resolvers.errors import UserErrors, forbidden
from resolvers.quotes import workflow
from resolvers.reports import chart, plan, sales
from resolvers.reports.scope import resolve_scope


@strawberry.enum
class ReportInterval(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@strawberry.input
class SalesReportInput:
    from_: datetime = strawberry.field(name="from", description="Inclusive.")
    to: datetime = strawberry.field(description="Exclusive.")
    interval: ReportInterval | None = ReportInterval.DAY
    reseller_code: str | None = None
    store_slug: str | None = None
    currency: str | None = strawberry.field(
        default=None,
        description="Orders in other currencies are left out; default: the hub's default currency.",
    )


@strawberry.type(description="One period of a sales report. Cancelled orders are left out.")
class SalesPoint:
    period_start: datetime = strawberry.field(
        description="The period's first instant (UTC); weeks start on Monday."
    )
    orders: int
    units: int
    revenue: Money
    discounts: Money

    @classmethod
    def of(cls, point: sales.SalesPoint, currency: str) -> SalesPoint:
        return cls(
            period_start=point.period_start,
            orders=point.orders,
            units=point.units,
            revenue=Money.of_minor(point.revenue_minor, currency),
            discounts=Money.of_minor(point.discounts_minor, currency),
        )


@strawberry.type
class ProductSales:
    sku: str
    name: str
    units: int
    revenue: Money


@strawberry.type
class ResellerSales:
    orders: int
    units: int
    revenue: Money
    reseller_id: strawberry.Private[int]

    @strawberry.field
    async def reseller(self, info: Info) -> Reseller:
        return Reseller.of(await info.context.loaders.partners.reseller_by_id.load(self.reseller_id))


@strawberry.type
class SalesReport:
    currency: str
    interval: ReportInterval
    report: strawberry.Private[sales.PreparedReport]
    periods: strawberry.Private[dict[str, asyncio.Future[list[sales.SalesPoint]]]]

    async def _points(self, info: Info) -> list[sales.SalesPoint]:
        # points, totals and chartSvg resolve concurrently and share one statement.
        if "points" not in self.periods:
            self.periods["points"] = asyncio.ensure_future(sales.points(info.context.db, self.report))
        return await self.periods["points"]

    @strawberry.field(description="Every period from `from` to `to`, empty ones included.")
    async def points(self, info: Info) -> list[SalesPoint]:
        return [SalesPoint.of(p, self.currency) for p in await self._points(info)]

    @strawberry.field
    async def totals(self, info: Info) -> SalesPoint:
        return SalesPoint.of(sales.totals(self.report, await self._points(info)), self.currency)

    @strawberry.field
    async def top_products(self, info: Info, limit: int | None = 10) -> list[ProductSales]:
        rows = await sales.top_products(info.context.db, self.report, 10 if limit is None else limit)
        return [
            ProductSales(
                sku=r.sku, name=r.name, units=r.units, revenue=Money.of_minor(r.revenue_minor, self.currency)
            )
            for r in rows
        ]

    @strawberry.field(description="Revenue by reseller, highest first.")
    async def by_reseller(self, info: Info) -> list[ResellerSales]:
        rows = await sales.by_reseller(info.context.db, self.report)
        return [
            ResellerSales(
                orders=r.orders,
                units=r.units,
                revenue=Money.of_minor(r.revenue_minor, self.currency),
                reseller_id=r.reseller_id,
            )
            for r in rows
        ]

    @strawberry.field(description="The revenue per period as an SVG line chart.")
    async def chart_svg(self, info: Info) -> str:
        points = await self._points(info)
        return chart.revenue_chart_svg(
            [(p.period_start, p.revenue_minor) for p in points],
            self.currency,
            self.report.interval,
            self.report.scope.title(),
        )


@strawberry.type
class DemandPoint:
    date: datetime = strawberry.field(description="A day (UTC).")
    units: float
    low: float | None = strawberry.field(description="The forecast's 80 % interval; null for history.")
    high: float | None


@strawberry.type(
    description="Daily demand for one product, from the orders of a reseller's stores (or of all stores), "
    "and its forecast."
)
class DemandForecast:
    sku: str
    method: str = strawberry.field(description="The model used, e.g. holt-winters-additive-weekly.")
    history: list[DemandPoint]
    forecast: list[DemandPoint]
    backtest_mase: float | None = strawberry.field(
        description="Mean absolute scaled error of the method on the last 28 days of history, fitted on the days before."
    )
    naive_mase: float | None = strawberry.field(
        description="The same for a seasonal-naive forecast (each day as the same weekday a week before), "
        "the bar to beat."
    )
    product_row: strawberry.Private[object]

    @strawberry.field
    def product(self) -> Product:
        return Product.of(self.product_row)  # type: ignore[arg-type]

    @classmethod
    def of(cls, demand: plan.ProductDemand, product_row: object) -> DemandForecast:
        result = demand.forecast
        history = [
            DemandPoint(date=start_of(demand.first_day + timedelta(days=i)), units=units, low=None, high=None)
            for i, units in enumerate(demand.history)
        ]
        forecast = [
            DemandPoint(
                date=start_of(demand.forecast_start + timedelta(days=i)),
                units=units,
                low=result.low[i] if result.low else None,
                high=result.high[i] if result.high else None,
            )
            for i, units in enumerate(result.units)
        ]
        return cls(
            sku=demand.sku,
            method=result.method,
            history=history,
            forecast=forecast,
            backtest_mase=result.backtest_mase,
            naive_mase=result.naive_mase,
            product_row=product_row,
        )


@strawberry.type
class DemandPlanLine:
    sku: str
    product: Product
    forecast_units: float = strawberry.field(description="Forecast units over the plan's horizon.")
    suggested_quantity: int = strawberry.field(
        description="Units to order: the forecast rounded up, plus the safety stock."
    )


@strawberry.type(
    description="A reseller's sales demand / forecasting plan: what to buy from distributors for the next weeks."
)
class DemandPlan:
    reseller: Reseller
    weeks: int
    lines: list[DemandPlanLine]


async def _plan_lines(info: Info, reseller_id: int, weeks: int) -> list[DemandPlanLine]:
    """The plan's lines whose product the catalog still has (Product is never null)."""
    lines = await plan.demand_plan(info.context.db, reseller_id, weeks)
    products = await info.context.loaders.catalog.product_by_sku.load_many([line.sku for line in lines])
    return [
        DemandPlanLine(
            sku=line.sku,
            product=Product.of(row),
            forecast_units=line.forecast_units,
            suggested_quantity=line.suggested_quantity,
        )
        for line, row in zip(lines, products, strict=True)
        if row is not None
    ]


@strawberry.type
class ReportsQuery:
    @strawberry.field(extensions=guarded())
    async def sales_report(self, info: Info, input: SalesReportInput) -> SalesReport:
        context = info.context
        viewer = await context.viewer()
        assert viewer is not None  # the guard lets no anonymous caller through
        scope = await resolve_scope(
            context.loaders.partners, context.loaders.stores, viewer, input.reseller_code, input.store_slug
        )
        interval = (input.interval or ReportInterval.DAY).value
        report = sales.prepare(
            sales.SalesReportRequest(
                start=input.from_, end=input.to, interval=interval, currency=input.currency
            ),
            scope,
            await context.policy(),
        )
        return SalesReport(
            currency=report.currency, interval=ReportInterval(interval), report=report, periods={}
        )

    @strawberry.field(extensions=guarded())
    async def demand_forecast(
        self, info: Info, sku: str, reseller_code: str | None = None, days: int | None = 28
    ) -> DemandForecast | None:
        context = info.context
        viewer = await context.viewer()
        assert viewer is not None
        scope = await resolve_scope(context.loaders.partners, context.loaders.stores, viewer, reseller_code)
        product = await context.loaders.catalog.product_by_sku.load(sku)
        if product is None:
            return None
        demand = await plan.demand_forecast(context.db, sku, scope.reseller_id, 28 if days is None else days)
        return DemandForecast.of(demand, product)

    @strawberry.field(extensions=guarded())
    async def demand_plan(self, info: Info, reseller_code: str, weeks: int | None = 4) -> DemandPlan:
        context = info.context
        viewer = await context.viewer()
        assert viewer is not None
        scope = await resolve_scope(context.loaders.partners, context.loaders.stores, viewer, reseller_code)
        assert scope.reseller is not None  # a code was given: resolve_scope found it or refused
        weeks = 4 if weeks is None else weeks
        return DemandPlan(
            reseller=Reseller.of(scope.reseller),
            weeks=weeks,
            lines=await _plan_lines(info, scope.reseller.id, weeks),
        )


@strawberry.type
class ReportsMutation:
    @strawberry.mutation(
        extensions=guarded(),
        description="The signed-in reseller's demand plan, as a quote request to its distributors "
        "(lines with a suggested quantity of at least 1).",
    )
    async def request_quote_from_demand_plan(
        self, info: Info, weeks: int | None = 4, distributor_codes: list[str] | None = None
    ) -> QuoteRequestPayload:
        viewer = await info.context.viewer()
        if viewer is None or viewer.reseller_id is None:
            raise forbidden("Only a reseller's users request quotes.")
        weeks = 4 if weeks is None else weeks
        if not 1 <= weeks <= plan.MAX_PLAN_WEEKS:
            errors = UserErrors()
            errors.add("OUT_OF_RANGE", f"`weeks` is from 1 to {plan.MAX_PLAN_WEEKS}.", "weeks")
            return QuoteRequestPayload(quote_request=None, user_errors=UserError.all(errors.errors))
        lines = await _plan_lines(info, viewer.reseller_id, weeks)
        # Products no longer ACTIVE cannot be quoted (requestQuote refuses them): the plan leaves them out.
        items = [
            workflow.QuoteItemData(quantity=line.suggested_quantity, sku=line.sku)
            for line in lines
            if line.suggested_quantity >= 1 and line.product.status.value == "ACTIVE"
        ]
        if not items:
            errors = UserErrors()
            errors.add(
                "EMPTY_PLAN",
                "The demand plan suggests nothing to order: no product sold in the last 90 days "
                "has a suggested quantity of at least 1.",
                "weeks",
            )
            return QuoteRequestPayload(quote_request=None, user_errors=UserError.all(errors.errors))
        return await request_quote_of(
            info, workflow.RequestQuoteData(items=items, distributor_codes=distributor_codes)
        )
