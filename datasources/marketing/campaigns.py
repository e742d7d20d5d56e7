"""Campaigns in the database: the audience, recipients and their outbox messages, tracking rows, the results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, distinct, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.loading import chunks
from datasources.marketing.models import (
    ActivityEvent,
    Campaign,
    CampaignInteraction,
    CampaignRecipient,
    MarketingUnsubscribe,
)
from datasources.orders.models import Order
from datasources.outbox.models import OutboxMessage
from datasources.outbox.queue import EMAIL, EMAIL_MAX_ATTEMPTS, ring_after_commit

Database = AsyncSession | RequestDatabase


def idempotency_key(campaign_id: int, email_key: str) -> str:
    """One message per recipient and campaign, whatever happens: the outbox keeps the first of a key."""
    return f"campaign:{campaign_id}:{email_key}"


async def campaign_by_code(db: Database, code: str) -> Campaign | None:
    return await db.scalar(select(Campaign).where(Campaign.code == code))


def _audience(store_id: int) -> Any:
    """The distinct e-mails (by lower-cased key) of the store's orders placed with marketing opt-in,
    less those who unsubscribed from the store."""
    return (
        select(Order.customer_email_key, func.min(Order.customer_email))
        .where(
            Order.store_id == store_id,
            Order.marketing_opt_in.is_(True),
            ~exists().where(
                MarketingUnsubscribe.store_id == store_id,
                MarketingUnsubscribe.email_key == Order.customer_email_key,
            ),
        )
        .group_by(Order.customer_email_key)
    )


async def audience_counts(db: Database, store_ids: Sequence[int]) -> dict[int, int]:
    found = {}
    for store_id in sorted(set(store_ids)):
        found[store_id] = int(
            await db.scalar(select(func.count()).select_from(_audience(store_id).subquery())) or 0
        )
    return found


async def start_sending(session: AsyncSession, campaign_id: int, now: datetime, by: str | None) -> bool:
    """DRAFT -> SENDING; False when the campaign was not DRAFT (sent already, or by a concurrent call)."""
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "DRAFT")
        .values(status="SENDING", sent_at=now, sent_by=by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_recipients(session: AsyncSession, campaign: Campaign) -> list[tuple[int, str, str]]:
    """Write the campaign's recipients from its store's audience (one INSERT … SELECT): (id, e-mail, key)."""
    audience = _audience(campaign.store_id).subquery()
    await session.execute(
        insert(CampaignRecipient).from_select(
            ["campaign_id", "email_key", "email"],
            select(literal(campaign.id), audience.c[0], audience.c[1]),
        )
    )
    rows = await session.execute(
        select(CampaignRecipient.id, CampaignRecipient.email, CampaignRecipient.email_key)
        .where(CampaignRecipient.campaign_id == campaign.id)
        .order_by(CampaignRecipient.id)
    )
    return [(int(i), e, k) for i, e, k in rows]


async def enqueue_campaign_emails(
    session: AsyncSession, campaign_id: int, messages: Sequence[tuple[str, dict[str, Any]]], now: datetime
) -> None:
    """Put one e-mail per recipient on the outbox, in the caller's transaction, and link each to its recipient.

    `messages` are (recipient's e-mail key, e-mail payload as `enqueue_email` makes it). Written in
    bulk (1,000 rows a statement) rather than through `enqueue_email` one by one, which looks each key
    up first: for 10,000 recipients that is 10,000 round trips. The keys are new (the campaign just
    left DRAFT in this transaction), and unique in the table all the same.
    """
    for part in chunks(list(messages), 1000):
        await session.execute(
            insert(OutboxMessage.__table__),
            [
                {
                    "kind": EMAIL,
                    "idempotency_key": idempotency_key(campaign_id, key),
                    "payload": payload,
                    "status": "PENDING",
                    "attempts": 0,
                    "max_attempts": EMAIL_MAX_ATTEMPTS,
                    "next_attempt_at": now,
                }
                for key, payload in part
            ],
        )
    message_id = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.idempotency_key == bindparam("prefix", type_=String()) + CampaignRecipient.email_key
        )
        .scalar_subquery()
    )
    ring_after_commit(session)
    await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .values(outbox_message_id=message_id),
        {"prefix": f"campaign:{campaign_id}:"},
    )


async def recipient(session: AsyncSession, recipient_id: int) -> tuple[CampaignRecipient, Campaign] | None:
    row = (
        await session.execute(
            select(CampaignRecipient, Campaign)
            .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
            .where(CampaignRecipient.id == recipient_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def record_interaction(
    session: AsyncSession, campaign_id: int, recipient_id: int, kind: str, at: datetime
) -> None:
    await session.execute(
        insert(CampaignInteraction).values(
            campaign_id=campaign_id, recipient_id=recipient_id, kind=kind, at=at
        )
    )


async def unsubscribe(
    session: AsyncSession, store_id: int, email_key: str, campaign_id: int, at: datetime
) -> None:
    """Record the unsubscription once (a second click changes nothing)."""
    known = await session.scalar(
        select(MarketingUnsubscribe.email_key).where(
            MarketingUnsubscribe.store_id == store_id, MarketingUnsubscribe.email_key == email_key
        )
    )
    if known is None:
        session.add(
            MarketingUnsubscribe(store_id=store_id, email_key=email_key, at=at, campaign_id=campaign_id)
        )
        await session.flush()


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class CampaignFigures:
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    opened: int = 0
    clicked: int = 0
    visits: int = 0
    orders: int = 0
    revenue_minor: int = 0


async def campaign_figures(db: Database, campaign_ids: Sequence[int]) -> dict[int, CampaignFigures]:
    """Every figure of Campaign.results for these campaigns: five grouped statements, whatever their number.

    A DRAFT campaign's recipients are its store's audience today; a sent one's, those it was sent to.
    `sent` and `failed` are its outbox messages DONE and FAILED, `pending` the ones still PENDING.
    """
    ids = sorted(set(campaign_ids))
    figures: dict[int, dict[str, int]] = {i: {} for i in ids}
    campaigns = {c.id: c for c in await _scalars(db, select(Campaign).where(Campaign.id.in_(ids)))}
    drafts = {c.id: c.store_id for c in campaigns.values() if c.status == "DRAFT"}
    audiences = await audience_counts(db, list(drafts.values())) if drafts else {}
    for campaign_id, store_id in drafts.items():
        figures[campaign_id]["recipients"] = audiences.get(store_id, 0)
    deliveries = await db.execute(
        select(CampaignRecipient.campaign_id, OutboxMessage.status, func.count())
        .outerjoin(OutboxMessage, OutboxMessage.id == CampaignRecipient.outbox_message_id)
        .where(CampaignRecipient.campaign_id.in_(ids))
        .group_by(CampaignRecipient.campaign_id, OutboxMessage.status)
    )
    for campaign_id, status, count in deliveries:
        f = figures[campaign_id]
        f["recipients"] = f.get("recipients", 0) + int(count)
        name = {"DONE": "sent", "FAILED": "failed"}.get(status or "", "pending")
        f[name] = f.get(name, 0) + int(count)
    touches = await db.execute(
        select(
            CampaignInteraction.campaign_id,
            CampaignInteraction.kind,
            func.count(distinct(CampaignInteraction.recipient_id)),
        )
        .where(CampaignInteraction.campaign_id.in_(ids))
        .group_by(CampaignInteraction.campaign_id, CampaignInteraction.kind)
    )
    for campaign_id, kind, count in touches:
        figures[campaign_id]["opened" if kind == "OPEN" else "clicked"] = int(count)
    # DISTINCT over the (campaign_id, visitor_id) index, then a count: PostgreSQL reads the index in
    # order and keeps one row per visitor (a third of the time count(DISTINCT) takes, which sorts).
    visitors = (
        select(ActivityEvent.campaign_id, ActivityEvent.visitor_id)
        .where(ActivityEvent.campaign_id.in_(ids))
        .distinct()
        .subquery()
    )
    visits = await db.execute(select(visitors.c.campaign_id, func.count()).group_by(visitors.c.campaign_id))
    for campaign_id, count in visits:
        figures[campaign_id]["visits"] = int(count)
    orders = await db.execute(
        select(Order.campaign_id, func.count(), func.coalesce(func.sum(Order.total_minor), 0))
        .where(Order.campaign_id.in_(ids), Order.status != "CANCELLED")
        .group_by(Order.campaign_id)
    )
    for campaign_id, count, revenue in orders:
        figures[campaign_id]["orders"] = int(count)
        figures[campaign_id]["revenue_minor"] = int(revenue)
    return {i: CampaignFigures(**figures[i]) for i in ids}


async def _scalars(db: Database, statement: Any) -> Sequence[Any]:
    if isinstance(db, RequestDatabase):
        return await db.scalars(statement)
    return (await db.scalars(statement)).all()
