"""Reads and writes of users and hub policies that are not simple loader lookups."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.partners.models import HubPolicy, User


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
    )


async def user_by_email(db: RequestDatabase, email: str) -> User | None:
    return await db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


async def hub_policy(db: RequestDatabase) -> HubPolicy:
    """The hub's policies; the defaults when none were ever stored."""
    return await db.scalar(select(HubPolicy).where(HubPolicy.id == 1)) or default_policy()


async def hub_policy_for_update(session: AsyncSession) -> HubPolicy:
    """The stored policy row inside a unit of work, created with the defaults on first use."""
    policy = await session.scalar(select(HubPolicy).where(HubPolicy.id == 1))
    if policy is None:
        policy = default_policy()
        session.add(policy)
        await session.flush()
    return policy
