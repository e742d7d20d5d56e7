"""Per-request loaders of marketing, one per relation a list can ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import Loader, one_per_key
from datasources.marketing import campaigns, promotions
from datasources.marketing.models import Campaign


@dataclass
class MarketingLoaders:
    times_used_by_promotion_id: Loader
    """Orders placed with the promotion (cancelled ones left out)."""
    campaign_figures_by_id: Loader
    campaign_by_id: Loader
    """For `Order.campaign` (the orders' GraphQL type): the credited campaign's row, or None."""
    """A campaign's delivery, tracking and order figures (datasources/marketing/campaigns.py)."""

    @classmethod
    def create(cls, db: RequestDatabase) -> MarketingLoaders:
        async def uses(ids: Sequence[int]) -> list[int]:
            found = await promotions.times_used(db, ids)
            return [found.get(i, 0) for i in ids]

        async def figures(ids: Sequence[int]) -> list[campaigns.CampaignFigures]:
            found = await campaigns.campaign_figures(db, ids)
            return [found[i] for i in ids]

        async def campaigns_by_ids(ids: Sequence[int]) -> Sequence[Campaign]:
            return await db.scalars(select(Campaign).where(Campaign.id.in_(ids)))

        return cls(
            times_used_by_promotion_id=Loader(batch_load_fn=uses),
            campaign_figures_by_id=Loader(batch_load_fn=figures),
            campaign_by_id=one_per_key(campaigns_by_ids, lambda c: c.id),
        )
