"""The reference distributor quote service: the contract as a strawberry federation v2 subgraph and as REST_JSON.

`hub sample-distributor --code CODE --port P --price-list FILE.csv` serves
`/graphql` (the GRAPHQL_SUBGRAPH transport) and `/quote` (REST_JSON), priced
from a CSV with the columns

    sku,currency,unit_price,stock,lead_time_days,breaks

where `breaks` is optional, e.g. `10:9.50;50:9.00` (from 10 pieces 9.50 each,
from 50 9.00). A SKU may have one row per currency; a line asked in a currency
the list has no row for comes back unavailable. `--latency-ms`, `--jitter-ms`
and `--fail-rate` make it a slow or flaky partner; `/stats` counts the calls.
It is small on purpose: a distributor may start from it (docs/distributors.md).
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

VALIDITY = timedelta(hours=24)


@dataclass(frozen=True)
class PriceRow:
    sku: str
    currency: str
    unit_price: Decimal
    stock: int
    lead_time_days: int
    breaks: tuple[tuple[int, Decimal], ...] = ()

    def price_for(self, quantity: int) -> Decimal:
        """The best break the quantity reaches, else the unit price."""
        price = self.unit_price
        for minimum, break_price in self.breaks:
            if quantity >= minimum and break_price < price:
                price = break_price
        return price


@dataclass
class PriceList:
    rows: dict[tuple[str, str], PriceRow] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> PriceList:
        with path.open(newline="", encoding="utf-8") as handle:
            return cls.of_rows(csv.DictReader(handle))

    @classmethod
    def of_rows(cls, rows: Any) -> PriceList:
        price_list = cls()
        for number, raw in enumerate(rows, start=2):
            try:
                row = PriceRow(
                    sku=raw["sku"].strip(),
                    currency=raw["currency"].strip().upper(),
                    unit_price=Decimal(raw["unit_price"]),
                    stock=int(raw.get("stock") or 0),
                    lead_time_days=int(raw.get("lead_time_days") or 0),
                    breaks=_breaks(raw.get("breaks") or ""),
                )
            except (KeyError, ValueError, InvalidOperation) as error:
                raise ValueError(f"price list line {number}: {error}") from None
            price_list.rows[(row.sku, row.currency)] = row
        return price_list


def _breaks(text: str) -> tuple[tuple[int, Decimal], ...]:
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        minimum, _, price = part.partition(":")
        pairs.append((int(minimum), Decimal(price)))
    return tuple(sorted(pairs))


def quote_result(
    price_list: PriceList, request: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """A QuoteResult (as JSON) for a QuoteInput (as JSON): every asked line once, in the asked order."""
    currency = request["currency"]
    lines = []
    for asked in request["lines"]:
        sku, quantity = asked["sku"], int(asked["quantity"])
        row = price_list.rows.get((sku, currency))
        if row is None:
            lines.append(
                {
                    "sku": sku,
                    "quantity": quantity,
                    "unitPrice": None,
                    "available": False,
                    "availableQuantity": None,
                    "leadTimeDays": None,
                }
            )
            continue
        lines.append(
            {
                "sku": sku,
                "quantity": quantity,
                "unitPrice": str(row.price_for(quantity)),
                "available": row.stock > 0,
                "availableQuantity": row.stock,
                "leadTimeDays": row.lead_time_days,
            }
        )
    valid_until = (now or datetime.now(UTC)) + VALIDITY
    return {
        "requestId": request["requestId"],
        "currency": currency,
        "validUntil": valid_until.isoformat(),
        "lines": lines,
    }


@dataclass
class Behaviour:
    latency_ms: int = 0
    jitter_ms: int = 0
    fail_rate: float = 0.0
    auth_header: str | None = None
    auth_value: str | None = None
    random: random.Random = field(default_factory=random.Random)


@dataclass
class Stats:
    calls: int = 0
    lines: int = 0
    failed: int = 0
    graphql: int = 0
    rest: int = 0


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# ---------------------------------------------------------------- the contract as a strawberry subgraph


@strawberry.input
class QuoteLineInput:
    sku: str
    quantity: int


@strawberry.input
class QuoteInput:
    request_id: strawberry.ID = strawberry.field(
        description="The hub's id for this request; the same id may come again on a retry."
    )
    currency: str
    lines: list[QuoteLineInput]
    reseller_code: str | None = strawberry.field(
        default=None, description="The reseller asking, where the hub knows one."
    )


@strawberry.type
class QuotedLine:
    sku: str
    quantity: int
    unit_price: Decimal | None
    available: bool
    available_quantity: int | None
    lead_time_days: int | None


@strawberry.type
class QuoteResult:
    request_id: strawberry.ID
    currency: str
    valid_until: datetime | None
    lines: list[QuotedLine]


def _as_input(request: QuoteInput) -> dict[str, Any]:
    return {
        "requestId": str(request.request_id),
        "currency": request.currency,
        "resellerCode": request.reseller_code,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in request.lines],
    }


def _as_result(raw: dict[str, Any]) -> QuoteResult:
    return QuoteResult(
        request_id=strawberry.ID(raw["requestId"]),
        currency=raw["currency"],
        valid_until=datetime.fromisoformat(raw["validUntil"]),
        lines=[
            QuotedLine(
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unitPrice"]) if line["unitPrice"] is not None else None,
                available=line["available"],
                available_quantity=line["availableQuantity"],
                lead_time_days=line["leadTimeDays"],
            )
            for line in raw["lines"]
        ],
    )


@strawberry.type
class Query:
    @strawberry.field
    async def quote(self, info: strawberry.Info, request: QuoteInput) -> QuoteResult:
        service: DistributorService = info.context["service"]
        return _as_result(service.answer(_as_input(request)))


schema = strawberry.federation.Schema(query=Query, federation_version="2.9")


# ---------------------------------------------------------------- the service


@dataclass
class DistributorService:
    code: str
    price_list: PriceList
    behaviour: Behaviour = field(default_factory=Behaviour)
    stats: Stats = field(default_factory=Stats)

    async def admit(self, http_request: Request, transport: str) -> None:
        """Count the call, check the credential, wait the latency, maybe fail (raises Refused)."""
        self.stats.calls += 1
        setattr(self.stats, transport, getattr(self.stats, transport) + 1)
        behaviour = self.behaviour
        if behaviour.auth_header and http_request.headers.get(behaviour.auth_header) != behaviour.auth_value:
            self.stats.failed += 1
            raise Refused(401)
        delay = behaviour.latency_ms + behaviour.random.uniform(-behaviour.jitter_ms, behaviour.jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if behaviour.fail_rate and behaviour.random.random() < behaviour.fail_rate:
            self.stats.failed += 1
            raise Refused(503)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.stats.lines += len(request.get("lines") or [])
        return quote_result(self.price_list, request)


class _SubgraphApp(GraphQL):
    def __init__(self, service: DistributorService) -> None:
        super().__init__(schema, graphql_ide=None)
        self._service = service

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"service": self._service, "request": request, "response": response}


def create_app(service: DistributorService) -> Starlette:
    """The reference distributor as an ASGI app: /graphql, /quote, /stats, /health."""
    subgraph = _SubgraphApp(service)

    async def graphql(request: Request) -> Response:
        if request.method == "POST":
            try:
                await service.admit(request, "graphql")
            except Refused as refused:
                return JSONResponse({"error": "refused"}, status_code=refused.status)
        return await subgraph.run(request)  # type: ignore[return-value]

    async def quote(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
                return JSONResponse({"error": "the body is a QuoteInput object"}, status_code=400)
            await service.admit(request, "rest")
            return JSONResponse(service.answer(body))
        except Refused as refused:
            return JSONResponse({"error": "refused"}, status_code=refused.status)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "the body is a QuoteInput object"}, status_code=400)

    async def stats(_request: Request) -> Response:
        return JSONResponse({"code": service.code, **service.stats.__dict__})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "code": service.code})

    return Starlette(
        routes=[
            Route("/quote", quote, methods=["POST"]),
            Route("/stats", stats),
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ]
    )
