"""Creative content for the storefronts' spots: upsertCreative and the public `spot`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.marketing import creatives as queries
from datasources.marketing.models import Creative
from datasources.partners.models import Reseller
from datasources.stores import writes as store_writes
from datasources.stores.models import Store
from resolvers.access import Viewer
from resolvers.errors import UserErrors
from resolvers.marketing.common import (
    CODE_PATTERN,
    as_utc,
    in_dates,
    is_marketing_staff,
    manages_reseller_marketing,
    utcnow,
)

SPOT_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
TITLE_MAX = 200
BODY_MAX = 20_000
URL_MAX = 2_000
PRIORITY_RANGE = (-1_000_000, 1_000_000)


@dataclass
class CreativeData:
    code: str
    spot: str
    title: str
    store_slug: str | None = None
    body: str | None = None
    image_url: str | None = None
    link_url: str | None = None
    priority: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass
class CreativeResult:
    errors: UserErrors = field(default_factory=UserErrors)
    creative: Creative | None = None


def check_url(value: str | None, name: str, errors: UserErrors) -> str | None:
    """An absolute http(s) URL (never `javascript:`, `data:` or a relative one), or a userError."""
    if value is None or value.strip() == "":
        return None
    url = value.strip()
    if len(url) > URL_MAX:
        errors.add("TOO_LONG", f"A URL has at most {URL_MAX} characters.", "input", name)
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in url)
    ):
        errors.add("INVALID_URL", "A URL is an absolute http:// or https:// address.", "input", name)
        return None
    return url


def check_dates(starts_at: datetime | None, ends_at: datetime | None, errors: UserErrors) -> None:
    starts, ends = as_utc(starts_at), as_utc(ends_at)
    if starts is not None and ends is not None and ends <= starts:
        errors.add("INVALID_DATES", "`endsAt` must be after `startsAt`.", "input", "endsAt")


async def marketing_store(
    session: AsyncSession, viewer: Viewer | None, slug: str | None, errors: UserErrors, what: str
) -> Store | None:
    """The store a marketing item names, checked: it exists, and the viewer manages its marketing.

    Marketing staff may name none (hub-wide) or any store; a RESELLER_ADMIN must name one of its
    own reseller's stores. Each refusal is a userError on `input.storeSlug`.
    """
    if slug is None:
        if not is_marketing_staff(viewer):
            errors.add("FORBIDDEN", f"A reseller's {what} names one of its own stores.", "input", "storeSlug")
        return None
    store = await store_writes.store_by_slug(session, slug)
    if store is None:
        errors.add("NOT_FOUND", f"No store has the slug {slug}.", "input", "storeSlug")
        return None
    if not manages_reseller_marketing(viewer, store.reseller_id):
        errors.add("FORBIDDEN", f"A reseller's {what} names one of its own stores.", "input", "storeSlug")
        return None
    return store


def may_change(viewer: Viewer | None, store_reseller_id: int | None) -> bool:
    """An existing hub-wide item (None) is marketing staff's; a store's, its managers'."""
    if store_reseller_id is None:
        return is_marketing_staff(viewer)
    return manages_reseller_marketing(viewer, store_reseller_id)


async def upsert_creative(session: AsyncSession, viewer: Viewer | None, data: CreativeData) -> CreativeResult:
    """Create or update a creative by code. Text is stored as given (pages escape it); URLs are http(s)."""
    result = CreativeResult()
    errors = result.errors
    code = data.code.strip()
    if not CODE_PATTERN.match(code):
        errors.add("INVALID_CODE", "A code is 1 to 64 letters, digits, `_`, `.` and `-`.", "input", "code")
    if not SPOT_PATTERN.match(data.spot):
        errors.add(
            "INVALID_SPOT", "A spot is 1 to 64 lower-case letters, digits and hyphens.", "input", "spot"
        )
    title = data.title.strip()
    if not title:
        errors.add("REQUIRED", "A creative needs a title.", "input", "title")
    elif len(title) > TITLE_MAX:
        errors.add("TOO_LONG", f"A title has at most {TITLE_MAX} characters.", "input", "title")
    if data.body is not None and len(data.body) > BODY_MAX:
        errors.add("TOO_LONG", f"A body has at most {BODY_MAX} characters.", "input", "body")
    image_url = check_url(data.image_url, "imageUrl", errors)
    link_url = check_url(data.link_url, "linkUrl", errors)
    if not PRIORITY_RANGE[0] <= data.priority <= PRIORITY_RANGE[1]:
        errors.add(
            "INVALID", f"A priority is from {PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]}.", "input", "priority"
        )
    check_dates(data.starts_at, data.ends_at, errors)
    store = await marketing_store(session, viewer, data.store_slug, errors, "creative")
    existing = await queries.creative_by_code(session, code) if CODE_PATTERN.match(code) else None
    if existing is not None:
        owner = None
        if existing.store_id is not None:
            owner_store = await session.get(Store, existing.store_id)
            owner = owner_store.reseller_id if owner_store else None
        if not may_change(viewer, owner):
            errors.add(
                "DUPLICATE", f"The code {code} belongs to a creative you may not change.", "input", "code"
            )
    if errors:
        return result
    creative = existing or Creative(code=code)
    creative.spot = data.spot
    creative.store_id = store.id if store else None
    creative.title = title
    creative.body = data.body
    creative.image_url = image_url
    creative.link_url = link_url
    creative.priority = data.priority
    creative.starts_at = as_utc(data.starts_at)
    creative.ends_at = as_utc(data.ends_at)
    creative.updated_at = utcnow()
    if existing is None:
        session.add(creative)
    await session.flush()
    result.creative = creative
    return result


async def spot_creatives(db: RequestDatabase, store_slug: str, spot: str) -> Sequence[Creative]:
    """The public `spot`: empty unless the store is OPEN (and its reseller APPROVED)."""
    row = await db.all(
        select(Store.id, Store.status, Reseller.status)
        .join(Reseller, Reseller.id == Store.reseller_id)
        .where(Store.slug == store_slug)
    )
    if not row or row[0][1] != "OPEN" or row[0][2] != "APPROVED":
        return []
    return await queries.active_creatives(db, row[0][0], spot, utcnow())


async def creative_row(db: RequestDatabase, code: str) -> Creative | None:
    return await db.scalar(select(Creative).where(Creative.code == code))


def creative_visible(
    creative: Creative, store: Store | None, reseller: Reseller | None, viewer: Viewer | None
) -> bool:
    """A creative by id (node): its managers always; anyone while it is live in an OPEN store or hub-wide."""
    if may_change(viewer, store.reseller_id if store else None):
        return True
    if not in_dates(creative.starts_at, creative.ends_at, utcnow()):
        return False
    if creative.store_id is None:
        return True
    return (
        store is not None
        and store.status == "OPEN"
        and reseller is not None
        and reseller.status == "APPROVED"
    )
