"""GraphQL over HTTP: the media type a client asked for, and the status code the spec gives each outcome.

The hub answers in `application/graphql-response+json` when the client's
Accept header prefers it, and in `application/json` otherwise (no Accept
header, `*/*`, `application/json`), as the GraphQL-over-HTTP spec says during
its transition. The two differ only for requests that never reach execution:

- `application/graphql-response+json`: a parse, validation or variable
  coercion error answers 400 with no `data` entry;
- `application/json`: every well-formed request answers 200, `data: null`.

Execution errors (a resolver's BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN…)
answer 200 with `data` under both. Requests the hub cannot take (a body that is
not JSON, no query, a mutation over GET, an Accept header naming neither type)
answer with a 4xx status and a JSON `errors` body in the negotiated type.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
ACCEPTED = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8, {JSON}; charset=utf-8"

_UTF8 = {"utf-8", "utf8"}


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in for this Accept header, or None when it names neither the hub speaks.

    Media ranges are taken by quality (`q`), then in the order given; `*/*` and
    `application/*` mean `application/json`, the spec's legacy default.
    """
    if accept is None or not accept.strip():
        return JSON
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        acceptable = True
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"').lower()
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    acceptable = False
            elif name == "charset" and value not in _UTF8:
                acceptable = False
        if acceptable and quality > 0:
            ranges.append((-quality, position, media_type.lower()))
    for _, _, media_type in sorted(ranges):
        if media_type == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media_type in (JSON, "application/*", "*/*"):
            return JSON
    return None


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation never executed: errors, no data, and no error located in the result.

    Parse and validation errors (the depth and alias limits among them) and
    variable coercion errors have no path; every error a resolver raises has one.
    """
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


def error_body(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message}]}


def media_type_of(request: Request) -> str:
    """The media type negotiated for this request (application/json before negotiation)."""
    return getattr(request.state, "graphql_media_type", None) or JSON


def json_response(
    body: Any, status_code: int, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    response = JSONResponse(body, status_code=status_code, headers=headers)
    response.headers["content-type"] = f"{media_type}; charset=utf-8"
    return response


class GraphQLOverHTTP:
    """Mixed into the hub's strawberry view (before strawberry's GraphQL): content negotiation and status codes."""

    async def run(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        # None when the Accept header names neither type: GraphiQL's page may still be served, an operation not.
        request.state.graphql_media_type = negotiate(request.headers.get("accept"))
        try:
            response: Response = await super().run(request, *args, **kwargs)  # type: ignore[misc]
        except HTTPException as error:
            headers = {"accept": ACCEPTED} if error.status_code == 406 else None
            if error.status_code == 405:
                headers = {"allow": "POST"}
            return json_response(
                error_body(error.reason), error.status_code, media_type_of(request), headers=headers
            )
        media_type = getattr(request.state, "graphql_media_type", None)
        if media_type is not None and response.media_type == JSON:
            response.headers["content-type"] = f"{media_type}; charset=utf-8"
            status_code = getattr(request.state, "graphql_status", None)
            if status_code is not None:
                response.status_code = status_code
        return response

    async def parse_http_body(self, request: Any) -> Any:
        # Reached only for operations (GraphiQL's page is served before it).
        if negotiate(request.headers.get("accept")) is None:
            raise HTTPException(406, f"Not acceptable: the hub answers in {GRAPHQL_RESPONSE_JSON} or {JSON}.")
        return await super().parse_http_body(request)  # type: ignore[misc]

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)  # type: ignore[misc]
        except HTTPException as error:
            # A mutation sent with GET: the spec's answer is 405 Method Not Allowed, not 400.
            adapter = kwargs.get("request_adapter")
            if isinstance(error.__cause__, InvalidOperationTypeError) and adapter and adapter.method == "GET":
                raise HTTPException(405, error.reason) from error
            raise

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed: GraphQLHTTPResponse = await super().process_result(request, result)  # type: ignore[misc]
        if media_type_of(request) == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            processed.pop("data", None)
            request.state.graphql_status = 400
        return processed


__all__ = ["ACCEPTED", "GRAPHQL_RESPONSE_JSON", "JSON", "GraphQLOverHTTP", "is_request_error", "negotiate"]
