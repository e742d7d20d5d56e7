"""The reference distributor quote service: the contract as a strawberry federation v2 subgraph and as REST_JSON.

`hub sample-distributor --code CODE --port P --price-list FILE.csv` serves
`/graphql` (the GRAPHQL_SUBGRAPH transport) and `/quote` (REST_JSON), priced
from a CSV with the columns

    sku,currency,unit_price,stock,lead_time_days,breaks

where `breaks` is optional, e.g. `10:9.50;50:9.00` (from 10 pieces 9.50 each,
from 50 9.00). A SKU may have one row per currency; a line asked in a currency
the list has no row for comes back unavailable. `--latency-ms`, `--jitter-ms`
and `--fail-rate` make it a slow or flaky partner; `/stats` counts the calls.

Purchase orders (contract version 2): the `placeOrder` mutation on /graphql and
POST /quote/orders take a PurchaseOrderInput. An order is accepted when every
line's SKU is on the price list in its currency, rejected (with the reason)
otherwise, and each number is answered once: the same number again gets its
first answer, so the hub's retries never make a second order. `--fail-orders N`
answers the first N order deliveries HTTP 503 (a brief outage), and
`--no-orders` serves the quote part alone (a distributor that answers its
orders in the hub's proxy store). `/orders` lists the orders taken.
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
    fail_orders: int = 0
    """The first this many order deliveries are answered HTTP 503."""
    takes_orders: bool = True
    random: random.Random = field(default_factory=random.Random)


@dataclass
class Stats:
    calls: int = 0
    lines: int = 0
    failed: int = 0
    graphql: int = 0
    rest: int = 0
    order_calls: int = 0
    """Every order delivery that reached the service, refused ones included."""
    orders: int = 0
    """Distinct purchase order numbers answered."""


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


@strawberry.input
class PurchaseOrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal


@strawberry.input
class PurchaseOrderInput:
    number: str = strawberry.field(description="The hub's purchase order number; the idempotency key.")
    reseller_code: str
    currency: str
    lines: list[PurchaseOrderLineInput]
    quote_request_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The hub's id of the accepted quote's request, where the lines came from one.",
    )


@strawberry.type
class PurchaseOrderResult:
    number: str
    accepted: bool
    reference: str | None = strawberry.field(
        description="The distributor's own reference for an accepted order."
    )
    reason: str | None = strawberry.field(description="Why it was not accepted.")


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def place_order(self, info: strawberry.Info, order: PurchaseOrderInput) -> PurchaseOrderResult:
        service: DistributorService = info.context["service"]
        answer = service.place_order(
            {
                "number": order.number,
                "resellerCode": order.reseller_code,
                "currency": order.currency,
                "lines": [
                    {"sku": line.sku, "quantity": line.quantity, "unitPrice": str(line.unit_price)}
                    for line in order.lines
                ],
                "quoteRequestId": str(order.quote_request_id) if order.quote_request_id else None,
            }
        )
        return PurchaseOrderResult(**answer)


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, federation_version="2.9")
quote_only_schema = strawberry.federation.Schema(query=Query, federation_version="2.9")
"""Contract version 1 alone: a distributor whose orders wait in the hub's proxy store."""


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

    order_book: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every number answered, with its first answer and the order as it came."""

    def admit_order(self) -> None:
        """Count an order delivery; the first `fail_orders` are refused (raises Refused(503))."""
        self.stats.order_calls += 1
        if self.stats.order_calls <= self.behaviour.fail_orders:
            raise Refused(503)

    def place_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """A PurchaseOrderResult for a PurchaseOrderInput; a number seen before gets its first answer."""
        number = order["number"]
        known = self.order_book.get(number)
        if known is not None:
            return known["answer"]
        unknown = [
            line["sku"]
            for line in order["lines"]
            if (line["sku"], str(order["currency"]).upper()) not in self.price_list.rows
        ]
        if unknown:
            answer = {
                "number": number,
                "accepted": False,
                "reference": None,
                "reason": f"not on our price list in {order['currency']}: {', '.join(unknown)}",
            }
        else:
            answer = {
                "number": number,
                "accepted": True,
                "reference": f"{self.code}-SO-{len(self.order_book) + 1:05d}",
                "reason": None,
            }
        self.order_book[number] = {"answer": answer, "order": order}
        self.stats.orders = len(self.order_book)
        return answer


class _SubgraphApp(GraphQL):
    def __init__(self, service: DistributorService) -> None:
        super().__init__(schema if service.behaviour.takes_orders else quote_only_schema, graphql_ide=None)
        self._service = service

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"service": self._service, "request": request, "response": response}


def create_app(service: DistributorService) -> Starlette:
    """The reference distributor as an ASGI app: /graphql, /quote, /quote/orders, /orders, /stats, /health."""
    subgraph = _SubgraphApp(service)

    async def graphql(request: Request) -> Response:
        if request.method == "POST":
            try:
                await service.admit(request, "graphql")
                if service.behaviour.takes_orders and _is_place_order(await request.body()):
                    service.admit_order()
            except Refused as refused:
                return JSONResponse({"error": "refused"}, status_code=refused.status)
        return await subgraph.run(request)  # type: ignore[return-value]

    async def orders(request: Request) -> Response:
        if not service.behaviour.takes_orders:
            return JSONResponse({"error": "not found"}, status_code=404)
        try:
            body = json.loads(await request.body())
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("number"), str)
                or not isinstance(body.get("lines"), list)
            ):
                return JSONResponse({"error": "the body is a PurchaseOrderInput object"}, status_code=400)
            await service.admit(request, "rest")
            service.admit_order()
            return JSONResponse(service.place_order(body))
        except Refused as refused:
            return JSONResponse({"error": "refused"}, status_code=refused.status)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "the body is a PurchaseOrderInput object"}, status_code=400)

    async def order_list(_request: Request) -> Response:
        return JSONResponse(
            [{"order": entry["order"], "answer": entry["answer"]} for entry in service.order_book.values()]
        )

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
            Route("/quote/orders", orders, methods=["POST"]),
            Route("/orders", order_list),
            Route("/stats", stats),
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ]
    )


def _is_place_order(body: bytes) -> bool:
    """Whether a GraphQL request is an order delivery (so `--fail-orders` refuses only those)."""
    try:
        request = json.loads(body)
    except ValueError:
        return False
    return isinstance(request, dict) and "placeOrder" in str(request.get("query", ""))
