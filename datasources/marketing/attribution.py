"""The touches attribution weighs: a visitor's events carrying a campaign, a recipient's clicks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.marketing.models import ActivityEvent, Campaign, CampaignInteraction, CampaignRecipient


async def last_event_touch(
    session: AsyncSession, store_id: int, visitor_id: str, start: datetime, end: datetime
) -> tuple[int, datetime] | None:
    """(campaign id, when) of the visitor's latest event in the store carrying one of its campaigns."""
    row = (
        await session.execute(
            select(ActivityEvent.campaign_id, ActivityEvent.at)
            .where(
                ActivityEvent.visitor_id == visitor_id,
                ActivityEvent.store_id == store_id,
                ActivityEvent.campaign_id.is_not(None),
                ActivityEvent.at >= start,
                ActivityEvent.at <= end,
            )
            .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc())
            .limit(1)
        )
    ).first()
    return (int(row[0]), row[1]) if row else None


async def last_click_touch(
    session: AsyncSession, store_id: int, email_key: str, start: datetime, end: datetime
) -> tuple[int, datetime] | None:
    """(campaign id, when) of the latest click, by a recipient with this e-mail, on a campaign of the store."""
    row = (
        await session.execute(
            select(CampaignInteraction.campaign_id, CampaignInteraction.at)
            .join(CampaignRecipient, CampaignRecipient.id == CampaignInteraction.recipient_id)
            .join(Campaign, Campaign.id == CampaignInteraction.campaign_id)
            .where(
                CampaignRecipient.email_key == email_key,
                Campaign.store_id == store_id,
                CampaignInteraction.kind == "CLICK",
                CampaignInteraction.at >= start,
                CampaignInteraction.at <= end,
            )
            .order_by(CampaignInteraction.at.desc(), CampaignInteraction.id.desc())
            .limit(1)
        )
    ).first()
    return (int(row[0]), row[1]) if row else None
