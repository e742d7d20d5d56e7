"""What lives as long as the app: engine, session factory, the outbound HTTP client, the Redis client."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from datasources.db import create_engine, create_session_factory
from datasources.mail.delivery import email_deliverer
from datasources.mail.transports import transport_of
from datasources.outbox.queue import DOORBELL, EMAIL, PURCHASE_ORDER
from datasources.outbox.worker import Deliverer, Doorbell, OutboxWorker, RetryPolicy
from datasources.partners.endpoints import EndpointPolicy
from datasources.partners.outbound import partner_http_client
from datasources.plaza.delivery import purchase_order_deliverer
from datasources.quotes.shared_state import RedisBreakers, RedisOfferCache
from datasources.quotes.state import SHARED_KEY as QUOTES_KEY
from datasources.quotes.state import OfferCache, ProcessBreakers, QuoteState
from datasources.rate_limits import CounterStore, FailureRule, MemoryCounters, RedisCounters
from datasources.redis_client import redis_client
from datasources.stores.counts import StoreCounts
from datasources.warmup import warm_pool
from hub_graphql.settings import Settings
from resolvers.limits import RateLimits, SignInPolicy

log = logging.getLogger("hub")


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
    redis: Redis | None = None
    """The app's one Redis client (`shared_redis`), None without HUB_REDIS_URL. Every store that lives in
    Redis uses this one (rate limits, persisted queries, quote state); it is closed with the resources."""
    outbox: OutboxWorker | None = None
    """The outbox worker, when this process delivers (`HUB_OUTBOX_WORKER`)."""
    store_counts: StoreCounts = field(default_factory=lambda: StoreCounts(0))
    """Stores' product counts, kept until the catalog or the stores change (`HUB_STORE_COUNT_CACHE_ENTRIES`)."""


def outbox_deliverers(
    settings: Settings, http: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> dict[str, Deliverer]:
    """The registry of deliverers by outbox kind."""
    smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    return {
        EMAIL: email_deliverer(
            transport_of(smtp_url, settings.mail_dir, settings.smtp_timeout_seconds), settings.mail_from
        ),
        PURCHASE_ORDER: purchase_order_deliverer(
            http,
            session_factory,
            EndpointPolicy.of(settings.env, settings.quote_endpoint_allowlist),
            timeout_s=settings.order_delivery_timeout_seconds,
        ),
    }


def outbox_worker(
    settings: Settings, http: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> OutboxWorker:
    doorbell = session_factory.kw["info"][DOORBELL]
    return OutboxWorker(
        session_factory=session_factory,
        deliverers=outbox_deliverers(settings, http, session_factory),
        doorbell=doorbell,
        retry=RetryPolicy(settings.outbox_retry_base_seconds, settings.outbox_retry_max_seconds),
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        batch_size=settings.outbox_batch_size,
    )


@asynccontextmanager
async def open_resources(settings: Settings, *, deliver: bool = False) -> AsyncIterator[Resources]:
    """The app's resources; with `deliver` (the server's lifespan) and `HUB_OUTBOX_WORKER` on, the outbox
    worker runs too. CLI commands and benchmarks open them without: they deliver nothing."""
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        echo=settings.sql_echo,
    )
    # Partners' URLs: no redirects followed (SSRF), pooled connections shared by every request,
    # pinned to the address the endpoint policy checked (datasources/partners/outbound.py).
    http = partner_http_client()
    redis = shared_redis(settings)
    counters: CounterStore = (
        RedisCounters(redis, settings.redis_key_prefix) if redis is not None else MemoryCounters()
    )
    session_factory = create_session_factory(engine)
    # Every session carries the doorbell: a commit that enqueued something rings it (outbox/queue.py).
    session_factory.configure(info={DOORBELL: Doorbell()})
    worker = outbox_worker(settings, http, session_factory) if deliver and settings.outbox_worker else None
    try:
        if worker is not None:
            worker.start()
        yield Resources(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            http=http,
            rate_limits=rate_limits_of(settings, counters),
            shared={QUOTES_KEY: quote_state_of(settings, redis)},
            redis=redis,
            store_counts=StoreCounts(settings.store_count_cache_entries),
            outbox=worker,
        )
    finally:
        if worker is not None:
            await worker.stop()
        await counters.close()
        if redis is not None:
            await redis.aclose()
        await http.aclose()
        await engine.dispose()


def shared_redis(settings: Settings) -> Redis | None:
    """The app's one Redis client for HUB_REDIS_URL (None when unset): made here only, kept in
    `Resources.redis`, and handed to every store that lives in Redis."""
    return redis_client(settings.redis_url.get_secret_value()) if settings.redis_url else None


def quote_state_of(settings: Settings, redis: Redis | None) -> QuoteState:
    """The live quotes' offer cache and circuit breakers: in Redis when there is one, else in the process."""
    if redis is None:
        cache, breakers = OfferCache(), ProcessBreakers()
    else:
        cache, breakers = (
            RedisOfferCache(redis, settings.redis_key_prefix),
            RedisBreakers(redis, settings.redis_key_prefix),
        )
    return QuoteState(
        breaker_threshold=settings.quote_breaker_failures,
        breaker_cool_down_s=settings.quote_breaker_cool_down_seconds,
        cache=cache,
        breakers=breakers,
    )


WARM_UP_LIMIT_S = 30.0
"""A database that does not answer at start-up holds the start-up this long at most."""


async def warm_database(resources: Resources) -> int:
    """Warm the PostgreSQL pool (datasources/warmup.py); answers how many connections it warmed.

    Never stops the start-up: with the database down or slow, the hub starts anyway and its pool
    opens connections on demand, as it would have without the warm-up. Nothing to do on SQLite.
    """
    settings = resources.settings
    if not settings.db_warm_up or resources.engine.dialect.name != "postgresql":
        return 0
    started = time.perf_counter()
    try:
        async with asyncio.timeout(WARM_UP_LIMIT_S):
            warmed = await warm_pool(resources.session_factory, settings.db_pool_size)
    except Exception as error:  # the database out of reach, or a statement refused: start anyway
        log.warning("database warm-up failed, starting without it: %s", type(error).__name__)
        return 0
    log.info("database warm-up: %d connections in %.0f ms", warmed, (time.perf_counter() - started) * 1000)
    return warmed


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
