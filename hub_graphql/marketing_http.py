"""Marketing's plain HTTP routes: the activity beacon and the campaign tracking links (not GraphQL)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from datasources.db import standalone_database
from hub_graphql.client_address import client_address
from hub_graphql.resources import Resources
from resolvers.errors import HubError
from resolvers.marketing import activity, campaigns

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


RECORD_ACTIVITY = "Mutation.recordActivity"


async def rate_limited(request: Request, resources: Resources) -> Response | None:
    """The beacon counts against recordActivity's rate limit (resolvers/limits.py): one limit for both forms.

    None when the call may go on; a 429 with Retry-After when the address is over the limit.
    """
    limits = resources.rate_limits
    rule = limits.rule_for(RECORD_ACTIVITY)
    if rule is None:
        return None
    address = client_address(request, resources.settings.trusted_proxies)
    try:
        await limits.admit(RECORD_ACTIVITY, rule, address, {})
    except HubError as refusal:
        retry_after = (refusal.extensions or {}).get("retryAfter")
        headers = {"retry-after": str(retry_after)} if isinstance(retry_after, int) else None
        return PlainTextResponse(refusal.message, status_code=429, headers=headers)
    return None


def beacon_route(resources_of: ResourcesOf) -> Route:
    """`POST /activity`: the JSON of recordActivity's argument (`{"events": [...]}`), answered 204.

    For `navigator.sendBeacon`, which sends its body as text/plain and never reads the answer: any
    content type is taken here (this route is not a GraphQL endpoint and changes nothing of anyone's
    account, so the GraphQL endpoint's refusal of text/plain bodies has nothing to guard). Bad events
    are dropped as recordActivity drops them; a body that is not such JSON, or more than 100 events,
    is a 400, and a body over 128 KiB a 413. It counts against recordActivity's rate limit per client
    address (429 with Retry-After past it).
    """

    async def beacon(request: Request) -> Response:
        refused = await rate_limited(request, resources_of())
        if refused is not None:
            return refused
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


# A 1x1 transparent GIF: what an e-mail's open pixel loads.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}
NOT_FOUND = "This link is not valid."
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>{title}</h1>
{content}
</body></html>
"""


def _page(title: str, content: str) -> HTMLResponse:
    return HTMLResponse(
        PAGE.format(title=html.escape(title), content=content),
        headers={
            **NO_STORE,
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
    )


def tracking_routes(resources_of: ResourcesOf) -> list[Route]:
    """`/r/<token>` (click: recorded, 302 to the store), `/o/<token>` (open: recorded, a 1x1 GIF), and
    `/u/<token>`: GET a page with a button, POST unsubscribes (RFC 8058 one-click posts here too). A
    token that is not the hub's, or of another kind, is a 404 and nothing is recorded."""

    def secret() -> str:
        return resources_of().settings.secret_key.get_secret_value()

    async def click(request: Request) -> Response:
        resources = resources_of()
        async with standalone_database(resources.session_factory) as db, db.unit_of_work() as unit:
            target = await campaigns.follow_click(
                unit.session, secret(), resources.settings.public_url, request.path_params["token"]
            )
        if target is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        return RedirectResponse(target, status_code=302, headers=NO_STORE)

    async def opened(request: Request) -> Response:
        resources = resources_of()
        async with standalone_database(resources.session_factory) as db, db.unit_of_work() as unit:
            found = await campaigns.record_open(unit.session, secret(), request.path_params["token"])
        if not found:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    async def unsubscribe(request: Request) -> Response:
        resources = resources_of()
        token = request.path_params["token"]
        async with standalone_database(resources.session_factory) as db, db.unit_of_work() as unit:
            if request.method == "POST":
                store = await campaigns.unsubscribe(unit.session, secret(), token)
            else:
                # A mail scanner opens every link: GET only shows the button, it never unsubscribes.
                store = await campaigns.unsubscribe_store_name(unit.session, secret(), token)
                unit.veto()
        if store is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        if request.method == "POST":
            return _page(
                "You are unsubscribed", f"<p>{html.escape(store)} will send you no more news by e-mail.</p>"
            )
        action = html.escape(f"/u/{token}")
        return _page(
            "Unsubscribe",
            f"<p>No more news by e-mail from {html.escape(store)}?</p>"
            f'<form method="post" action="{action}"><button type="submit">Unsubscribe</button></form>',
        )

    return [
        Route("/r/{token}", click, methods=["GET"]),
        Route("/o/{token}", opened, methods=["GET"]),
        Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
    ]


def marketing_routes(resources_of: ResourcesOf) -> list[Route]:
    """Every route of marketing outside GraphQL."""
    return [beacon_route(resources_of), *tracking_routes(resources_of)]
