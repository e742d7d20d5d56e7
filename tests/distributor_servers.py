"""Minimal distributor quote services for tests: one that keeps the contract, one that breaks it, and friends.

They only need a schema (the hub checks it when a distributor is registered);
the quote they give is fixed. Serve them with tests.servers.serve_asgi.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL


@strawberry.input
class QuoteLineInput:
    sku: str
    quantity: int


@strawberry.input
class QuoteInput:
    request_id: strawberry.ID
    currency: str
    reseller_code: str | None = None
    lines: list[QuoteLineInput]


@strawberry.type
class QuotedLine:
    sku: str
    quantity: int
    unit_price: Decimal | None
    available: bool
    available_quantity: int | None = None
    lead_time_days: int | None = None


@strawberry.type
class QuoteResult:
    request_id: strawberry.ID
    currency: str
    valid_until: datetime | None
    lines: list[QuotedLine]


@strawberry.type
class Query:
    @strawberry.field
    def quote(self, request: QuoteInput) -> QuoteResult:
        return QuoteResult(
            request_id=request.request_id,
            currency=request.currency,
            valid_until=None,
            lines=[
                QuotedLine(sku=line.sku, quantity=line.quantity, unit_price=Decimal("9.50"), available=True)
                for line in request.lines
            ],
        )

    @strawberry.field(description="An addition: the contract allows them.")
    def warehouses(self) -> list[str]:
        return ["north"]


@strawberry.type(name="QuotedLine")
class BrokenQuotedLine:
    sku: str
    quantity: str  # the contract says Int!
    available: bool  # unitPrice, availableQuantity and leadTimeDays are gone


@strawberry.type(name="QuoteResult")
class BrokenQuoteResult:
    request_id: strawberry.ID
    currency: str
    lines: list[BrokenQuotedLine]


@strawberry.type(name="Query")
class BrokenQuery:
    @strawberry.field
    def quote(self, request: QuoteInput) -> BrokenQuoteResult:
        return BrokenQuoteResult(request_id=request.request_id, currency=request.currency, lines=[])


def conforming_subgraph() -> GraphQL:
    """A federation subgraph (answers `_service { sdl }`) that keeps the distributor quote contract."""
    return GraphQL(strawberry.federation.Schema(query=Query), graphql_ide=None)


def conforming_plain_service() -> GraphQL:
    """A plain GraphQL service (no `_service`): the hub reads it by introspection."""
    return GraphQL(strawberry.Schema(query=Query), graphql_ide=None)


def breaking_subgraph() -> GraphQL:
    return GraphQL(strawberry.federation.Schema(query=BrokenQuery), graphql_ide=None)


class Recorder:
    """Remembers the requests an app saw (to prove a redirect was not followed, a header was sent)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []


def guarded_subgraph(secret: str, recorder: Recorder) -> Any:
    """The conforming subgraph behind an Authorization check: 401 without the right header value."""
    inner = conforming_subgraph()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        recorder.requests.append({"authorization": headers.get("authorization")})
        if headers.get("authorization") != secret:
            await JSONResponse({"errors": [{"message": "unauthorised"}]}, status_code=401)(
                scope, receive, send
            )
            return
        await inner(scope, receive, send)

    return app


def redirecting(target: str, recorder: Recorder) -> Starlette:
    async def endpoint(request: Request) -> Response:
        recorder.requests.append({"path": request.url.path})
        return RedirectResponse(target, status_code=307)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def recording(app: Any, recorder: Recorder) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            recorder.requests.append({"path": scope["path"]})
        await app(scope, receive, send)

    return wrapped
