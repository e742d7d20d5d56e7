"""Per-request loaders of users, resellers, distributors, their links and reseller status histories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import KEYS, Loader, many_per_key, one_per_key, rows_by_keys
from datasources.partners.models import (
    Distributor,
    Reseller,
    ResellerDistributor,
    ResellerStatusChange,
    User,
)


@dataclass
class PartnerLoaders:
    user_by_id: Loader
    reseller_by_id: Loader
    reseller_by_code: Loader
    distributor_by_id: Loader
    distributor_by_code: Loader
    distributors_by_reseller_id: Loader
    resellers_by_distributor_id: Loader
    status_changes_by_reseller_id: Loader

    @classmethod
    def create(cls, db: RequestDatabase) -> PartnerLoaders:
        async def users(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(rows_by_keys(User.id), {KEYS: list(ids)})

        async def resellers_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(rows_by_keys(Reseller.id), {KEYS: list(ids)})

        async def resellers_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Reseller).where(Reseller.code.in_(codes)))

        async def distributors_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Distributor).where(Distributor.id.in_(ids)))

        async def distributors_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Distributor).where(Distributor.code.in_(codes)))

        async def distributors_of(reseller_ids):  # type: ignore[no-untyped-def]
            return await db.all(
                select(ResellerDistributor.reseller_id, Distributor)
                .join(Distributor, Distributor.id == ResellerDistributor.distributor_id)
                .where(ResellerDistributor.reseller_id.in_(reseller_ids))
                .order_by(Distributor.code)
            )

        async def resellers_of(distributor_ids):  # type: ignore[no-untyped-def]
            return await db.all(
                select(ResellerDistributor.distributor_id, Reseller)
                .join(Reseller, Reseller.id == ResellerDistributor.reseller_id)
                .where(ResellerDistributor.distributor_id.in_(distributor_ids))
                .order_by(Reseller.code)
            )

        async def status_changes_of(reseller_ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(ResellerStatusChange)
                .where(ResellerStatusChange.reseller_id.in_(reseller_ids))
                .order_by(ResellerStatusChange.reseller_id, ResellerStatusChange.id)
            )

        return cls(
            user_by_id=one_per_key(users, lambda u: u.id),
            reseller_by_id=one_per_key(resellers_by_ids, lambda r: r.id),
            reseller_by_code=one_per_key(resellers_by_codes, lambda r: r.code),
            distributor_by_id=one_per_key(distributors_by_ids, lambda d: d.id),
            distributor_by_code=one_per_key(distributors_by_codes, lambda d: d.code),
            distributors_by_reseller_id=_pairs_loader(distributors_of),
            resellers_by_distributor_id=_pairs_loader(resellers_of),
            status_changes_by_reseller_id=many_per_key(status_changes_of, lambda c: c.reseller_id),
        )


def _pairs_loader(fetch):  # type: ignore[no-untyped-def]
    """A many-per-key loader over (key, row) pairs, answering the rows only."""
    pairs = many_per_key(fetch, lambda pair: pair[0])

    async def batch(keys: list[int]) -> list[list[object]]:
        return [[row for _, row in found] for found in await pairs.batch_load_fn(keys)]

    return Loader(batch_load_fn=batch)
