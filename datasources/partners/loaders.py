"""Per-request loaders of users, resellers and distributors."""

from __future__ import annotations

from dataclasses import dataclass

from aiodataloader import DataLoader
from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import one_per_key
from datasources.partners.models import Distributor, Reseller, User


@dataclass
class PartnerLoaders:
    user_by_id: DataLoader
    reseller_by_id: DataLoader
    reseller_by_code: DataLoader
    distributor_by_id: DataLoader
    distributor_by_code: DataLoader

    @classmethod
    def create(cls, db: RequestDatabase) -> PartnerLoaders:
        async def users(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(User).where(User.id.in_(ids)))

        async def resellers_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Reseller).where(Reseller.id.in_(ids)))

        async def resellers_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Reseller).where(Reseller.code.in_(codes)))

        async def distributors_by_ids(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Distributor).where(Distributor.id.in_(ids)))

        async def distributors_by_codes(codes):  # type: ignore[no-untyped-def]
            return await db.scalars(select(Distributor).where(Distributor.code.in_(codes)))

        return cls(
            user_by_id=one_per_key(users, lambda u: u.id),
            reseller_by_id=one_per_key(resellers_by_ids, lambda r: r.id),
            reseller_by_code=one_per_key(resellers_by_codes, lambda r: r.code),
            distributor_by_id=one_per_key(distributors_by_ids, lambda d: d.id),
            distributor_by_code=one_per_key(distributors_by_codes, lambda d: d.code),
        )
