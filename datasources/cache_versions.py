"""Version counters of the hub's public data: bumped in the transaction of every write that changes it.

The public response cache (hub_graphql/response_cache.py) keys each answer by
the current versions of the scopes it was read from, so a write shows at once
on the next read, in every process: the counters live in the database, beside
the data, and move in the same transaction as the write.

Which writes bump what is decided here, once, from the SQL itself: every
INSERT, UPDATE or DELETE the engine sends on a table of `SCOPE_OF_TABLE`
marks the scope on its connection (`before_cursor_execute`), and the root
transaction's COMMIT bumps the marked scopes just before it commits
(`commit`, the one place every write of the hub goes through: mutations,
`hub catalog import`, the sample loader, the CLI). A write path cannot forget
to bump, and a rolled-back transaction bumps nothing. SQL sent around
SQLAlchemy (asyncpg's COPY into a table of the list) must call `mark()` on the
transaction's connection itself. The hub's engine expects a database at the
head revision (`hub migrate`): committing a tracked write to one older than
0012_cache_versions fails, for want of the table.

The scopes are coarse on purpose: a store's write turns over every store's
cached pages, which is still exact (never stale) and costs a recomputation of
pages that are read far more often than stores change.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import BigInteger, String, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

CATALOG = "catalog"
"""The master catalog: products, their prices and attributes, categories, product groups."""
STORES = "stores"
"""Stores and their overlays (texts, assortment, price rules, product content), and the resellers'
status, which decides whether a store is shown."""
MARKETING = "marketing"
"""Creatives (the storefront's spots)."""
POLICIES = "policies"
"""The hub policies (currencies, default currency, payment methods)."""

SCOPES = (CATALOG, MARKETING, POLICIES, STORES)

SCOPE_OF_TABLE: Mapping[str, str] = {
    "categories": CATALOG,
    "products": CATALOG,
    "product_prices": CATALOG,
    "product_attributes": CATALOG,
    "product_groups": CATALOG,
    "product_group_members": CATALOG,
    "stores": STORES,
    "store_texts": STORES,
    "store_assortment_rules": STORES,
    "store_price_rules": STORES,
    "store_product_contents": STORES,
    "resellers": STORES,
    "creatives": MARKETING,
    "hub_policies": POLICIES,
}
"""The tables public pages are read from, by the scope a write to them bumps. Orders, carts, activity,
promotions (priced only in carts) and the rest are never part of a cached answer."""

_PENDING = "hub_cache_scopes"
"""Key, in the connection's info, of the scopes the open transaction wrote."""
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


class CacheVersion(Base):
    """How many committed transactions changed a scope's data (no row yet: version 0)."""

    __tablename__ = "cache_versions"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def scopes_written(statement: str) -> set[str]:
    """The scopes a statement writes (empty for a read)."""
    if statement[:6].upper() == "SELECT":
        return set()
    return {SCOPE_OF_TABLE[t] for t in _WRITE.findall(statement) if t in SCOPE_OF_TABLE}


def mark(connection: Connection, scopes: Iterable[str]) -> None:
    """Have the connection's open transaction bump these scopes when it commits."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown cache scopes: {sorted(unknown)}")
    connection.info.setdefault(_PENDING, set()).update(scopes)


def bump_statement(scopes: Iterable[str]) -> str:
    """One statement that adds 1 to each scope's version (sorted: concurrent writers lock rows in one order).

    Literal SQL without parameters, the same on SQLite and PostgreSQL; the scopes are the module's constants.
    """
    names = sorted(set(scopes))
    if not names or not set(names) <= set(SCOPES):
        raise ValueError(f"not cache scopes: {names}")
    rows = ", ".join(f"('{name}', 1)" for name in names)
    return (
        f"INSERT INTO cache_versions (scope, version) VALUES {rows} "
        "ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1"
    )


def versions_statement(scopes: Iterable[str]) -> str:
    """The statement reading the versions of these scopes (literal, like `bump_statement`)."""
    names = sorted(set(scopes))
    if not names or not set(names) <= set(SCOPES):
        raise ValueError(f"not cache scopes: {names}")
    listed = ", ".join(f"'{name}'" for name in names)
    return f"SELECT scope, version FROM cache_versions WHERE scope IN ({listed})"


def versions_of(rows: Iterable[tuple[str, int]], scopes: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """(scope, version) for each scope, sorted; a scope never written is version 0."""
    found = dict(rows)
    return tuple((scope, int(found.get(scope, 0))) for scope in sorted(set(scopes)))


class VersionReader:
    """Reads the current versions of scopes: one statement per call.

    On PostgreSQL, on a small asyncpg pool of its own, around SQLAlchemy: one round trip per read in
    autocommit, with no BEGIN and ROLLBACK around it and no ping before it (through the hub's pool,
    which pings each connection it lends, the read cost a cached answer three times the CPU of the
    rest of its request). A connection that was cut fails that read (the caller then executes the
    operation as if there were no cache) and is replaced by the pool. On SQLite, the hub's own engine
    (its "begin" hook keeps the transactions).
    """

    POOL_SIZE = 4

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgresql = engine.dialect.name == "postgresql"
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self.reads = 0
        """Reads so far (tests count them: on PostgreSQL no SQLAlchemy event sees them)."""

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def read(self, scopes: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """(scope, version) of each scope as committed now, sorted (0 for a scope never written)."""
        statement = versions_statement(scopes)
        self.reads += 1
        if self._postgresql:
            pool = self._pool or await self._open_pool()
            rows = [(r[0], r[1]) for r in await pool.fetch(statement)]
        else:
            async with self._engine.connect() as connection:
                rows = [(r[0], r[1]) for r in (await connection.exec_driver_sql(statement)).all()]
        return versions_of(rows, scopes)

    async def _open_pool(self) -> Any:
        import asyncpg

        async with self._opening:
            if self._pool is None:
                url = self._engine.url
                self._pool = await asyncpg.create_pool(
                    user=url.username,
                    password=url.password,
                    host=url.host,
                    port=url.port or 5432,
                    database=url.database,
                    min_size=1,
                    max_size=self.POOL_SIZE,
                    max_inactive_connection_lifetime=600,
                )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


def track_writes(engine: Engine) -> None:
    """Install the listeners that mark written scopes and bump them at COMMIT (once per engine)."""
    if event.contains(engine, "commit", _bump_on_commit):
        return
    event.listen(engine, "before_cursor_execute", _mark_statement)
    event.listen(engine, "begin", _forget)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "commit", _bump_on_commit)


def _mark_statement(
    connection: Connection, _cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    scopes = scopes_written(statement)
    if scopes:
        connection.info.setdefault(_PENDING, set()).update(scopes)


def _forget(connection: Connection) -> None:
    if connection.invalidated:
        return  # its DBAPI connection is gone, and the marks with it
    connection.info.pop(_PENDING, None)


def _bump_on_commit(connection: Connection) -> None:
    # Sent on the DBAPI cursor, inside the transaction that is about to commit: the bump and the
    # write commit together or not at all (and no SQLAlchemy event sees this statement again).
    scopes = connection.info.pop(_PENDING, None)
    if not scopes:
        return
    cursor = connection.connection.cursor()
    try:
        cursor.execute(bump_statement(scopes))
    finally:
        cursor.close()


__all__ = [
    "CATALOG",
    "MARKETING",
    "POLICIES",
    "SCOPES",
    "SCOPE_OF_TABLE",
    "STORES",
    "CacheVersion",
    "VersionReader",
    "bump_statement",
    "mark",
    "scopes_written",
    "track_writes",
    "versions_of",
    "versions_statement",
]
