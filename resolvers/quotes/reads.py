"""Reading quote requests and quotes: effective statuses, who sees what, and the keyset-paginated list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from datasources.db import RequestDatabase
from datasources.pagination import Page, cut_page
from datasources.quotes.loaders import QuoteLoaders
from datasources.quotes.models import OPEN_FOR_ACCEPTANCE, DistributorQuote, QuoteRequest
from datasources.quotes.queries import RequestScope, count_requests, request_page
from resolvers.access import Viewer, can_see_quote, can_see_quote_request
from resolvers.errors import check_cursor, check_page_size


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the hub only ever stores UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def request_status(request: QuoteRequest, now: datetime) -> str:
    """OPEN or QUOTED past `expires_at` reads as EXPIRED."""
    expires_at = as_utc(request.expires_at)
    if request.status in OPEN_FOR_ACCEPTANCE and expires_at is not None and expires_at <= now:
        return "EXPIRED"
    return request.status


def quote_status(quote: DistributorQuote, now: datetime) -> str:
    """An OFFERED quote past `valid_until` reads as EXPIRED."""
    valid_until = as_utc(quote.valid_until)
    if quote.status == "OFFERED" and valid_until is not None and valid_until <= now:
        return "EXPIRED"
    return quote.status


async def visible_request(
    loaders: QuoteLoaders, viewer: Viewer | None, request_id: int
) -> QuoteRequest | None:
    """The request, or None when it does not exist or the viewer may not see it."""
    request = await loaders.request_by_id.load(request_id)
    if request is None:
        return None
    targets = await loaders.distributor_ids_by_request_id.load(request.id)
    return request if can_see_quote_request(viewer, request.reseller_id, targets) else None


async def visible_quotes(
    loaders: QuoteLoaders, viewer: Viewer | None, request: QuoteRequest
) -> list[DistributorQuote]:
    quotes: Sequence[DistributorQuote] = await loaders.quotes_by_request_id.load(request.id)
    return [q for q in quotes if can_see_quote(viewer, request.reseller_id, q.distributor_id)]


async def visible_quote(
    loaders: QuoteLoaders, viewer: Viewer | None, quote_id: int
) -> DistributorQuote | None:
    quote = await loaders.quote_by_id.load(quote_id)
    if quote is None:
        return None
    request = await loaders.request_by_id.load(quote.request_id)
    if request is None or not can_see_quote(viewer, request.reseller_id, quote.distributor_id):
        return None
    return quote


def scope_of(viewer: Viewer) -> RequestScope:
    if viewer.is_staff:
        return RequestScope(everything=True)
    return RequestScope(reseller_id=viewer.reseller_id, distributor_id=viewer.distributor_id)


async def requests_page(
    db: RequestDatabase, viewer: Viewer, status: str | None, first: int | None, after: str | None
) -> tuple[Page[QuoteRequest], RequestScope]:
    """Newest first; a reseller its own, a distributor's reps those sent to it, staff all."""
    size = check_page_size(first)
    key = check_cursor(after, "quote-request")
    before_id = int(key[0]) if key and isinstance(key[0], int) else None
    scope = scope_of(viewer)
    rows = await request_page(db, scope, status, utcnow(), limit=size + 1, before_id=before_id)
    page = cut_page(rows, size, after_given=after is not None, kind="quote-request", key_of=lambda r: [r.id])
    return page, scope


async def requests_count(db: RequestDatabase, scope: RequestScope, status: str | None) -> int:
    return await count_requests(db, scope, status, utcnow())
