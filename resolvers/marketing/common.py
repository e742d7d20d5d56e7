"""What the marketing resolvers share: time in UTC, codes, and who manages marketing where."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from resolvers.access import Viewer

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Codes of promotions, creatives, campaigns and coupons: 1 to 64 letters, digits, `_`, `.` and `-`."""
MARKETING_STAFF = frozenset({"SITE_ADMIN", "MARKETING_MANAGER"})
"""Staff who manage marketing hub-wide and in every store (a RESELLER_ADMIN only in its own stores)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes, and a client may send one: the hub reads them as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_marketing_staff(viewer: Viewer | None) -> bool:
    return viewer is not None and viewer.has_any(MARKETING_STAFF)


def manages_reseller_marketing(viewer: Viewer | None, reseller_id: int) -> bool:
    """Marketing of one store: marketing staff, or the store's own approved RESELLER_ADMIN."""
    if viewer is None:
        return False
    if is_marketing_staff(viewer):
        return True
    return "RESELLER_ADMIN" in viewer.roles and viewer.reseller_id == reseller_id and viewer.reseller_approved


def in_dates(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    """Active from `starts_at` (inclusive) until `ends_at` (exclusive); a missing bound is open."""
    starts, ends = as_utc(starts_at), as_utc(ends_at)
    return (starts is None or starts <= now) and (ends is None or now < ends)
