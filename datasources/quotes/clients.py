"""One quote client per transport (GRAPHQL_SUBGRAPH, REST_JSON) on the app's shared httpx.AsyncClient.

Each call is bounded by the deadline the caller gives (the hub policy
`liveQuoteTimeoutMs`), both by httpx's timeouts and by `asyncio.timeout`.
Failure reasons never hold the endpoint or a credential: httpx's own messages
may carry the URL, so they are replaced by the hub's own words. Every call
resolves the endpoint's host once, checks the addresses against the endpoint
policy and connects to the checked address (datasources/partners/outbound.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from datasources.partners.endpoints import EndpointPolicy, EndpointProblem, PinnedEndpoint, pin_endpoint
from datasources.partners.outbound import pinned_stream
from datasources.quotes.contract import (
    QUOTE_QUERY,
    AskedLine,
    ContractBreach,
    DistributorAnswer,
    QuoteFailure,
    parse_answer,
    quote_input,
)

LIVE_TRANSPORTS = ("GRAPHQL_SUBGRAPH", "REST_JSON")
MAX_ANSWER_BYTES = 5_000_000
"""500 lines take about 100 kB: anything near this is not an answer, and is not read further."""
DEFAULT_POLICY = EndpointPolicy.of("development", [])
"""For callers that give no policy: loopback and private addresses allowed, link-local never."""


class HTTPStatusFailure(QuoteFailure):
    """The service answered with an HTTP status other than 200 (a purchase order's 404 means "not implemented")."""

    def __init__(self, status: int) -> None:
        super().__init__(f"answered HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one distributor; `headers` hold its credential: never log them."""

    distributor_id: int
    code: str
    transport: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # keeps the credential and the URL out of any log or traceback
        return f"Endpoint({self.code}, {self.transport})"


async def ask_distributor(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    *,
    request_id: str,
    currency: str,
    reseller_code: str | None,
    lines: list[AskedLine],
    deadline_s: float,
    endpoint_policy: EndpointPolicy | None = None,
) -> DistributorAnswer:
    """One `quote` call; raises QuoteFailure with a reason safe to show.

    The URL's host is resolved right before the call and checked against the
    endpoint policy (the development policy when none is given), and the call
    connects to the address checked: a name that now points somewhere
    forbidden is not called, nor can it change its answer after the check.
    """
    send = TRANSPORTS.get(endpoint.transport)
    if send is None:
        raise QuoteFailure(f"has no live quote service ({endpoint.transport})")
    payload = quote_input(request_id, currency, reseller_code, lines)
    try:
        async with asyncio.timeout(deadline_s):
            pinned = await pin_endpoint(endpoint.url, endpoint_policy or DEFAULT_POLICY)
            if isinstance(pinned, EndpointProblem):
                if pinned.code == "UNREACHABLE":
                    raise QuoteFailure("could not be reached")
                raise QuoteFailure("has a quote endpoint the hub's policy does not allow")
            raw = await send(http, endpoint, pinned, payload, deadline_s)
    except TimeoutError:
        raise QuoteFailure(f"gave no answer within {round(deadline_s * 1000)} ms") from None
    return parse_answer(raw, currency, lines)


async def _post_json(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    pinned: PinnedEndpoint,
    body: dict[str, Any],
    deadline_s: float,
) -> Any:
    headers = {"Content-Type": "application/json", "Accept": "application/json", **dict(endpoint.headers)}
    try:
        async with pinned_stream(
            http,
            "POST",
            pinned,
            content=json.dumps(body),
            headers=headers,
            http_timeout=httpx.Timeout(deadline_s),
        ) as response:
            if response.status_code != 200:
                raise HTTPStatusFailure(response.status_code)
            content = bytearray()
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > MAX_ANSWER_BYTES:
                    raise ContractBreach(f"answered more than {MAX_ANSWER_BYTES // 1_000_000} MB")
    except httpx.TimeoutException:
        raise QuoteFailure(f"gave no answer within {round(deadline_s * 1000)} ms") from None
    except httpx.HTTPError:
        raise QuoteFailure("could not be reached") from None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise ContractBreach("answered malformed JSON") from None


async def _graphql(
    http: httpx.AsyncClient, endpoint: Endpoint, pinned: PinnedEndpoint, payload: dict, deadline_s: float
) -> Any:
    body = await _post_json(
        http,
        endpoint,
        pinned,
        {"query": QUOTE_QUERY, "operationName": "Quote", "variables": {"request": payload}},
        deadline_s,
    )
    if not isinstance(body, dict):
        raise ContractBreach("wrong shape: the answer is not a GraphQL response")
    data = body.get("data")
    if body.get("errors") or not isinstance(data, dict):
        raise QuoteFailure("answered with GraphQL errors")
    return data.get("quote")


async def _rest_json(
    http: httpx.AsyncClient, endpoint: Endpoint, pinned: PinnedEndpoint, payload: dict, deadline_s: float
) -> Any:
    return await _post_json(http, endpoint, pinned, payload, deadline_s)


TRANSPORTS: dict[
    str, Callable[[httpx.AsyncClient, Endpoint, PinnedEndpoint, dict, float], Awaitable[Any]]
] = {
    "GRAPHQL_SUBGRAPH": _graphql,
    "REST_JSON": _rest_json,
}


# ---------------------------------------------------------------- purchase orders (contract version 2, optional)

PLACE_ORDER_MUTATION = """
mutation PlaceOrder($order: PurchaseOrderInput!) {
  placeOrder(order: $order) { number accepted reference reason }
}
"""


class OrderNotTaken(QuoteFailure):
    """The service does not implement `placeOrder` (a GraphQL validation error, an HTTP 404 or 405)."""


async def place_order(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    order: dict[str, Any],
    *,
    deadline_s: float,
    endpoint_policy: EndpointPolicy | None = None,
) -> dict[str, Any]:
    """Send one PurchaseOrderInput; answers the PurchaseOrderResult as JSON.

    Raises OrderNotTaken when the service has no `placeOrder`, QuoteFailure (or
    ContractBreach) for anything worth another try later. The endpoint is checked
    against the policy right before the call, as for quotes.
    """
    if endpoint.transport not in TRANSPORTS:
        raise OrderNotTaken(f"has no live service ({endpoint.transport})")
    url = endpoint.url.rstrip("/") + "/orders" if endpoint.transport == "REST_JSON" else endpoint.url
    try:
        async with asyncio.timeout(deadline_s):
            # Resolved, checked and connected to the checked address, as for quotes (DNS rebinding).
            pinned = await pin_endpoint(url, endpoint_policy or DEFAULT_POLICY)
            if isinstance(pinned, EndpointProblem):
                if pinned.code == "UNREACHABLE":
                    raise QuoteFailure("could not be reached")
                raise QuoteFailure("has an endpoint the hub's policy does not allow")
            if endpoint.transport == "REST_JSON":
                try:
                    answer = await _post_json(http, endpoint, pinned, order, deadline_s)
                except HTTPStatusFailure as failure:
                    if failure.status in (404, 405):
                        raise OrderNotTaken(f"does not take purchase orders ({failure.reason})") from None
                    raise
            else:
                answer = await _place_order_graphql(http, endpoint, pinned, order, deadline_s)
    except TimeoutError:
        raise QuoteFailure(f"gave no answer within {round(deadline_s * 1000)} ms") from None
    return _order_result(answer, order["number"])


async def _place_order_graphql(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    pinned: PinnedEndpoint,
    order: dict[str, Any],
    deadline_s: float,
) -> Any:
    request = {"query": PLACE_ORDER_MUTATION, "operationName": "PlaceOrder", "variables": {"order": order}}
    try:
        body = await _post_json(http, endpoint, pinned, request, deadline_s)
    except HTTPStatusFailure as failure:
        # A GraphQL server answers a document it cannot validate with 400 (GraphQL over HTTP):
        # our document is fixed, so that means the service has no placeOrder.
        if failure.status in (400, 404, 405):
            raise OrderNotTaken(f"does not take purchase orders ({failure.reason})") from None
        raise
    if not isinstance(body, dict):
        raise ContractBreach("wrong shape: the answer is not a GraphQL response")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and not any(isinstance(e, dict) and e.get("path") for e in errors):
        # Validation errors (no such mutation) have no `path`; an error while placing the order has one.
        raise OrderNotTaken("does not take purchase orders (the mutation did not validate)")
    data = body.get("data")
    if body.get("errors") or not isinstance(data, dict):
        raise QuoteFailure("answered with GraphQL errors")
    return data.get("placeOrder")


def _order_result(answer: Any, number: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("accepted"), bool):
        raise ContractBreach("wrong shape: the answer is not a PurchaseOrderResult")
    if answer.get("number") != number:
        raise ContractBreach("answered for another purchase order number")
    for name in ("reference", "reason"):
        if answer.get(name) is not None and not isinstance(answer[name], str):
            raise ContractBreach(f"wrong shape: {name} is not a string")
    return answer
