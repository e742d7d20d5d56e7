"""Live web activity: storefront events (recordActivity and the beacon) and a reseller's activity report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.marketing import activity as queries
from datasources.marketing.models import ACTIVITY_TYPES
from datasources.partners.models import Reseller
from resolvers.access import Viewer
from resolvers.errors import HubError, UserErrors, bad_input, forbidden
from resolvers.marketing.common import as_utc, utcnow

MAX_EVENTS = 100
"""Events in one call; more is a BAD_USER_INPUT error (the whole call: a storefront batching wrongly)."""
VISITOR_ID_MAX = 64
SKU_MAX = 64
SEARCH_TERM_MAX = 200
CAMPAIGN_CODE_MAX = 64
PATH_MAX = 500
NEEDS = {"PRODUCT_VIEW": "sku", "ADD_TO_CART": "sku", "SEARCH": "searchTerm"}
"""What an event of each type must carry."""


@dataclass
class ActivityData:
    """One storefront event as the storefront sent it."""

    visitor_id: str
    store_slug: str
    type: str
    sku: str | None = None
    search_term: str | None = None
    campaign_code: str | None = None
    path: str | None = None


@dataclass
class ActivityResult:
    accepted: int = 0
    errors: UserErrors = field(default_factory=UserErrors)


def _printable(value: str) -> bool:
    return value.isprintable()


def _check_text(value: str | None, name: str, maximum: int, index: int, errors: UserErrors) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > maximum:
        errors.add("TOO_LONG", f"`{name}` has at most {maximum} characters.", "events", index, name)
        return None
    if not _printable(value):
        errors.add("INVALID", f"`{name}` may not hold control characters.", "events", index, name)
        return None
    return value


def check_event_count(events: Sequence[object]) -> None:
    if len(events) > MAX_EVENTS:
        raise bad_input(f"At most {MAX_EVENTS} events in one call (got {len(events)}).")


async def record_activity(
    session: AsyncSession, events: Sequence[ActivityData], now: datetime | None = None
) -> ActivityResult:
    """Keep the good events (one multi-row insert) and answer a userError for each bad one.

    An event needs an OPEN store (of an APPROVED reseller), a visitor id, and for its type a SKU
    (PRODUCT_VIEW, ADD_TO_CART) or a search term (SEARCH). Its time is the hub's clock, not the
    browser's. A campaign code that names none of the store's campaigns is kept as given, unlinked.
    """
    check_event_count(events)
    result = ActivityResult()
    errors = result.errors
    at = now or utcnow()
    stores = await queries.event_stores(session, [e.store_slug for e in events])
    codes = [e.campaign_code for e in events if e.campaign_code]
    campaigns = await queries.campaign_ids(session, codes)
    rows: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        before = len(errors.errors)
        visitor = event.visitor_id.strip()
        if not visitor:
            errors.add("REQUIRED", "An event needs a visitorId.", "events", index, "visitorId")
        elif len(visitor) > VISITOR_ID_MAX or not _printable(visitor):
            errors.add(
                "INVALID",
                f"A visitorId is at most {VISITOR_ID_MAX} printable characters.",
                "events",
                index,
                "visitorId",
            )
        store = stores.get(event.store_slug)
        if store is None or not store.is_open:
            errors.add(
                "NOT_FOUND", f"No OPEN store has the slug {event.store_slug}.", "events", index, "storeSlug"
            )
        if event.type not in ACTIVITY_TYPES:
            errors.add("INVALID", f"Unknown event type {event.type}.", "events", index, "type")
        sku = _check_text(event.sku, "sku", SKU_MAX, index, errors)
        term = _check_text(event.search_term, "searchTerm", SEARCH_TERM_MAX, index, errors)
        code = _check_text(event.campaign_code, "campaignCode", CAMPAIGN_CODE_MAX, index, errors)
        path = _check_text(event.path, "path", PATH_MAX, index, errors)
        needed = NEEDS.get(event.type)
        if needed == "sku" and not (event.sku or "").strip():
            errors.add("REQUIRED", f"A {event.type} event needs a sku.", "events", index, "sku")
        if needed == "searchTerm" and not (event.search_term or "").strip():
            errors.add("REQUIRED", "A SEARCH event needs a searchTerm.", "events", index, "searchTerm")
        if len(errors.errors) > before or store is None:
            continue
        campaign = campaigns.get(code) if code else None
        rows.append(
            {
                "visitor_id": visitor,
                "store_id": store.id,
                "reseller_id": store.reseller_id,
                "type": event.type,
                "sku": sku,
                "search_term": term,
                "campaign_code": code,
                # A campaign leads to its own store: another store's code credits nothing here.
                "campaign_id": campaign[0] if campaign and campaign[1] == store.id else None,
                "path": path,
                "at": at,
            }
        )
    await queries.insert_events(session, rows)
    result.accepted = len(rows)
    return result


def event_from_json(value: Any) -> ActivityData | None:
    """An event of the beacon's JSON body (the GraphQL input's field names), or None when it is no event."""
    if not isinstance(value, dict):
        return None
    strings = ("visitorId", "storeSlug", "type", "sku", "searchTerm", "campaignCode", "path")
    if any(value.get(k) is not None and not isinstance(value.get(k), str) for k in strings):
        return None
    if not all(isinstance(value.get(k), str) for k in ("visitorId", "storeSlug", "type")):
        return None
    return ActivityData(
        visitor_id=value["visitorId"],
        store_slug=value["storeSlug"],
        type=value["type"],
        sku=value.get("sku"),
        search_term=value.get("searchTerm"),
        campaign_code=value.get("campaignCode"),
        path=value.get("path"),
    )


# ---------------------------------------------------------------- resellerActivity

ACTIVITY_STAFF = frozenset({"SITE_ADMIN", "CHANNEL_MANAGER", "MARKETING_MANAGER"})


@dataclass(frozen=True)
class ResellerActivityData:
    visitors: int
    page_views: int
    product_views: int
    add_to_carts: int
    orders: int
    conversion_rate: float


async def reseller_activity(
    db: RequestDatabase, viewer: Viewer | None, reseller_code: str, start: datetime, end: datetime
) -> ResellerActivityData:
    """Distinct visitors, page and product views, add-to-carts and orders of one reseller's stores.

    Staff (SITE_ADMIN, CHANNEL_MANAGER, MARKETING_MANAGER) ask about any reseller; a RESELLER_ADMIN
    about its own (another's, or an unknown code, is FORBIDDEN: codes are not revealed). The range is
    [from, to); orders count by `placedAt`, cancelled ones left out; conversion = orders / visitors.
    """
    start_utc, end_utc = as_utc(start), as_utc(end)
    assert start_utc is not None and end_utc is not None
    if end_utc <= start_utc:
        raise bad_input("`to` must be after `from`.")
    staff = viewer is not None and viewer.has_any(ACTIVITY_STAFF)
    reseller_id = await db.scalar(select(Reseller.id).where(Reseller.code == reseller_code))
    if not staff:
        if viewer is None or reseller_id is None or viewer.reseller_id != reseller_id:
            raise forbidden("A reseller sees the activity of its own stores only.")
    elif reseller_id is None:
        raise HubError(f"No reseller has the code {reseller_code}.", "BAD_USER_INPUT")
    counts = await queries.reseller_activity_counts(db, reseller_id, start_utc, end_utc)
    return ResellerActivityData(
        visitors=counts.visitors,
        page_views=counts.page_views,
        product_views=counts.product_views,
        add_to_carts=counts.add_to_carts,
        orders=counts.orders,
        conversion_rate=counts.orders / counts.visitors if counts.visitors else 0.0,
    )
