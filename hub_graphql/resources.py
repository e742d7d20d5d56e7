"""What lives as long as the app: engine, session factory, the outbound HTTP client, the outbox worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from datasources.db import create_engine, create_session_factory
from datasources.mail.delivery import email_deliverer
from datasources.mail.transports import transport_of
from datasources.outbox.queue import DOORBELL, EMAIL, PURCHASE_ORDER
from datasources.outbox.worker import Deliverer, Doorbell, OutboxWorker, RetryPolicy
from datasources.partners.endpoints import EndpointPolicy
from datasources.plaza.delivery import purchase_order_deliverer
from hub_graphql.settings import Settings


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    shared: dict[str, Any] = field(default_factory=dict)
    """Process-wide state other domains attach at start-up (caches, circuit breakers)."""
    outbox: OutboxWorker | None = None
    """The outbox worker, when this process delivers (`HUB_OUTBOX_WORKER`)."""


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
    # Partners' URLs: no redirects followed (SSRF), pooled connections shared by every request.
    http = httpx.AsyncClient(
        follow_redirects=False,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        timeout=httpx.Timeout(10.0),
        trust_env=False,
    )
    session_factory = create_session_factory(engine)
    # Every session carries the doorbell: a commit that enqueued something rings it (outbox/queue.py).
    session_factory.configure(info={DOORBELL: Doorbell()})
    worker = outbox_worker(settings, http, session_factory) if deliver and settings.outbox_worker else None
    try:
        if worker is not None:
            worker.start()
        yield Resources(
            settings=settings, engine=engine, session_factory=session_factory, http=http, outbox=worker
        )
    finally:
        if worker is not None:
            await worker.stop()
        await http.aclose()
        await engine.dispose()
