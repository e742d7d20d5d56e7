"""What lives as long as the app: engine, session factory, the outbound HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from datasources.db import create_engine, create_session_factory
from datasources.partners.outbound import partner_http_client
from datasources.rate_limits import CounterStore, FailureRule, MemoryCounters, RedisCounters
from hub_graphql.settings import Settings
from resolvers.limits import RateLimits, SignInPolicy


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    rate_limits: RateLimits
    """The rate limit table on its counters (in the process, or in Redis with HUB_REDIS_URL)."""
    shared: dict[str, Any] = field(default_factory=dict)
    """Process-wide state other domains attach at start-up (caches, circuit breakers)."""


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        echo=settings.sql_echo,
    )
    # Partners' URLs: no redirects followed (SSRF), pooled connections shared by every request,
    # pinned to the address the endpoint policy checked (datasources/partners/outbound.py).
    http = partner_http_client()
    counters: CounterStore = (
        RedisCounters.from_url(settings.redis_url.get_secret_value(), settings.redis_key_prefix)
        if settings.redis_url
        else MemoryCounters()
    )
    try:
        yield Resources(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            http=http,
            rate_limits=rate_limits_of(settings, counters),
        )
    finally:
        await counters.close()
        await http.aclose()
        await engine.dispose()


def rate_limits_of(settings: Settings, counters: CounterStore) -> RateLimits:
    """The rate limit table with the settings' numbers, on these counters."""

    def failures(count: int, slow_after: int) -> FailureRule:
        return FailureRule(
            window_ms=settings.sign_in_window_seconds * 1000,
            lock_after=count,
            lock_ms=settings.sign_in_lock_seconds * 1000,
            lock_max_ms=max(settings.sign_in_lock_max_seconds, settings.sign_in_lock_seconds) * 1000,
            slow_after=slow_after,
            delay_ms=round(settings.sign_in_delay_seconds * 1000),
        )

    sign_in = SignInPolicy(
        per_email=failures(settings.sign_in_failures_per_email, settings.sign_in_slow_after),
        per_address=failures(settings.sign_in_failures_per_address, 0),
    )
    return RateLimits(counters, sign_in=sign_in, overrides=settings.rate_limits)
