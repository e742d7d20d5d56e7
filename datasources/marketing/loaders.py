"""Per-request loaders of marketing, one per relation a list can ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from datasources.db import RequestDatabase
from datasources.loading import Loader
from datasources.marketing import campaigns, promotions


@dataclass
class MarketingLoaders:
    times_used_by_promotion_id: Loader
    """Orders placed with the promotion (cancelled ones left out)."""
    campaign_figures_by_id: Loader
    """A campaign's delivery, tracking and order figures (datasources/marketing/campaigns.py)."""

    @classmethod
    def create(cls, db: RequestDatabase) -> MarketingLoaders:
        async def uses(ids: Sequence[int]) -> list[int]:
            found = await promotions.times_used(db, ids)
            return [found.get(i, 0) for i in ids]

        async def figures(ids: Sequence[int]) -> list[campaigns.CampaignFigures]:
            found = await campaigns.campaign_figures(db, ids)
            return [found[i] for i in ids]

        return cls(
            times_used_by_promotion_id=Loader(batch_load_fn=uses),
            campaign_figures_by_id=Loader(batch_load_fn=figures),
        )
