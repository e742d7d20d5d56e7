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
from hub_graphql.settings import Settings


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
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
    try:
        yield Resources(
            settings=settings, engine=engine, session_factory=create_session_factory(engine), http=http
        )
    finally:
        await http.aclose()
        await engine.dispose()
