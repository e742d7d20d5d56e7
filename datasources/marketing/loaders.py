"""Per-request loaders of marketing, one per relation a list can ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from datasources.db import RequestDatabase
from datasources.loading import Loader
from datasources.marketing import promotions


@dataclass
class MarketingLoaders:
    times_used_by_promotion_id: Loader
    """Orders placed with the promotion (cancelled ones left out)."""

    @classmethod
    def create(cls, db: RequestDatabase) -> MarketingLoaders:
        async def uses(ids: Sequence[int]) -> list[int]:
            found = await promotions.times_used(db, ids)
            return [found.get(i, 0) for i in ids]

        return cls(
            times_used_by_promotion_id=Loader(batch_load_fn=uses),
        )
