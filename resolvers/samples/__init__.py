"""`hub seed --sample`: a deterministic, realistic sample hub, one seeder per domain, run in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Category
from resolvers.samples import catalog as catalog_sample
from resolvers.samples import orders as orders_sample
from resolvers.samples import partners as partners_sample
from resolvers.samples import quotes as quotes_sample
from resolvers.samples import stores as stores_sample

Report = Callable[[str], None]
Seeder = Callable[[async_sessionmaker[AsyncSession], Report], Awaitable[None]]

# Each domain appends its seeder here, after the domains it builds on.
SEEDERS: list[tuple[str, Seeder]] = [
    ("catalog", catalog_sample.seed),
    ("partners", partners_sample.seed),
    ("stores", stores_sample.seed),
    ("quotes", quotes_sample.seed),
    ("orders", orders_sample.seed),
]


async def seed_sample(session_factory: async_sessionmaker[AsyncSession], report: Report = print) -> bool:
    """Load the sample hub into an empty database; answers False (and writes nothing) when it holds data."""
    async with session_factory() as session:
        if await session.scalar(select(Category.id).limit(1)) is not None:
            report("the database holds a catalog already: the sample was not loaded")
            return False
    for _name, seeder in SEEDERS:
        await seeder(session_factory, report)
    return True
