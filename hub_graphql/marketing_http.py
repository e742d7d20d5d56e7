"""Marketing's plain HTTP routes: the activity beacon and the campaign tracking links (not GraphQL)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from datasources.db import standalone_database
from hub_graphql.resources import Resources
from resolvers.errors import HubError
from resolvers.marketing import activity

BEACON_MAX_BYTES = 128 * 1024
"""100 events of the longest fields fit; a bigger body is refused (413) before it is parsed."""

ResourcesOf = Callable[[], Resources]


class BodyTooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused past `limit` bytes without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def beacon_route(resources_of: ResourcesOf) -> Route:
    """`POST /activity`: the JSON of recordActivity's argument (`{"events": [...]}`), answered 204.

    For `navigator.sendBeacon`, which sends its body as text/plain and never reads the answer: any
    content type is taken here (this route is not a GraphQL endpoint and changes nothing of anyone's
    account, so the GraphQL endpoint's refusal of text/plain bodies has nothing to guard). Bad events
    are dropped as recordActivity drops them; a body that is not such JSON, or more than 100 events,
    is a 400, and a body over 128 KiB a 413.
    """

    async def beacon(request: Request) -> Response:
        try:
            raw = await read_capped(request, BEACON_MAX_BYTES)
        except BodyTooLarge:
            return PlainTextResponse("The body is too large.", status_code=413)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return PlainTextResponse("The body is not JSON.", status_code=400)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return PlainTextResponse('The body is {"events": [...]}.', status_code=400)
        data = [activity.event_from_json(e) for e in events]
        if any(d is None for d in data):
            return PlainTextResponse("An event is not an ActivityInput.", status_code=400)
        try:
            activity.check_event_count(data)
        except HubError as error:
            return PlainTextResponse(error.message, status_code=400)
        resources = resources_of()
        async with standalone_database(resources.session_factory) as db, db.unit_of_work() as unit:
            await activity.record_activity(unit.session, [d for d in data if d is not None])
        return Response(status_code=204)

    return Route("/activity", beacon, methods=["POST"])


def marketing_routes(resources_of: ResourcesOf) -> list[Route]:
    """Every route of marketing outside GraphQL."""
    return [beacon_route(resources_of)]
