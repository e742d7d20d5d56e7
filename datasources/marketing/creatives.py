"""Creatives in the database: by code, and the active ones of a spot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.marketing.models import Creative


async def creative_by_code(session: AsyncSession, code: str) -> Creative | None:
    return await session.scalar(select(Creative).where(Creative.code == code))


async def active_creatives(
    db: RequestDatabase, store_id: int, spot: str, now: datetime
) -> Sequence[Creative]:
    """The spot's creatives in their dates, the store's own and the hub-wide ones.

    Highest priority first; on a tie the store's own before the hub-wide ones, then by code, so the
    order never depends on the database.
    """
    return await db.scalars(
        select(Creative)
        .where(
            Creative.spot == spot,
            or_(Creative.store_id == store_id, Creative.store_id.is_(None)),
            or_(Creative.starts_at.is_(None), Creative.starts_at <= now),
            or_(Creative.ends_at.is_(None), Creative.ends_at > now),
        )
        .order_by(
            Creative.priority.desc(),
            case((and_(Creative.store_id.is_not(None)), 0), else_=1),
            Creative.code,
        )
    )
