"""Reads and writes of partners and hub policies that are not simple loader lookups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.partners.models import (
    Distributor,
    HubPolicy,
    Reseller,
    ResellerDistributor,
    User,
)


def default_policy() -> HubPolicy:
    return HubPolicy(
        id=1,
        reseller_approval="MANUAL",
        default_currency="USD",
        currencies=["USD", "EUR"],
        quote_validity_hours=72,
        live_quote_timeout_ms=1500,
        live_quote_cache_seconds=30,
        payment_methods=["INVOICE", "CREDIT_CARD"],
        attribution_window_days=7,
    )


async def user_by_email(db: RequestDatabase, email: str) -> User | None:
    return await db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


async def hub_policy(db: RequestDatabase) -> HubPolicy:
    """The hub's policies; the defaults when none were ever stored."""
    return await db.scalar(select(HubPolicy).where(HubPolicy.id == 1)) or default_policy()


async def hub_policy_in(session: AsyncSession) -> HubPolicy:
    """The hub's policies inside a unit of work, without storing the defaults."""
    return await session.scalar(select(HubPolicy).where(HubPolicy.id == 1)) or default_policy()


async def hub_policy_for_update(session: AsyncSession) -> HubPolicy:
    """The stored policy row inside a unit of work, created with the defaults on first use."""
    policy = await session.scalar(select(HubPolicy).where(HubPolicy.id == 1))
    if policy is None:
        policy = default_policy()
        session.add(policy)
        await session.flush()
    return policy


async def reseller_page(
    db: RequestDatabase, status: str | None, *, limit: int, after_code: str | None
) -> Sequence[Reseller]:
    """Resellers in code order after `after_code` (keyset), at most `limit`."""
    query = select(Reseller).order_by(Reseller.code).limit(limit)
    if status is not None:
        query = query.where(Reseller.status == status)
    if after_code is not None:
        query = query.where(Reseller.code > after_code)
    return await db.scalars(query)


async def count_resellers(db: RequestDatabase, status: str | None) -> int:
    query = select(func.count()).select_from(Reseller)
    if status is not None:
        query = query.where(Reseller.status == status)
    return int(await db.scalar(query) or 0)


async def distributors_list(db: RequestDatabase, statuses: Sequence[str] | None) -> Sequence[Distributor]:
    """Distributors in code order, of the given statuses (None: all)."""
    query = select(Distributor).order_by(Distributor.code)
    if statuses is not None:
        query = query.where(Distributor.status.in_(statuses))
    return await db.scalars(query)


async def reseller_for_update(session: AsyncSession, code: str) -> Reseller | None:
    return await session.scalar(select(Reseller).where(Reseller.code == code).with_for_update())


async def reseller_by_code(session: AsyncSession, code: str) -> Reseller | None:
    return await session.scalar(select(Reseller).where(Reseller.code == code))


async def distributor_by_code(session: AsyncSession, code: str) -> Distributor | None:
    return await session.scalar(select(Distributor).where(Distributor.code == code))


async def is_connected(session: AsyncSession, reseller_id: int, distributor_id: int) -> bool:
    found = await session.scalar(
        select(ResellerDistributor.reseller_id).where(
            ResellerDistributor.reseller_id == reseller_id,
            ResellerDistributor.distributor_id == distributor_id,
        )
    )
    return found is not None


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (
        await session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
        is not None
    )


def select_distributor_id(code: str) -> Select[tuple[int]]:
    return select(Distributor.id).where(Distributor.code == code)


async def user_by_email_in(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
