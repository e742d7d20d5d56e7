"""Engine, declarative base and the per-request database handle.

Session concurrency, decided once for the whole hub: **one AsyncSession per
GraphQL request, behind an asyncio.Lock**. Sibling fields resolve
concurrently and dataloaders dispatch batches from several tasks, but one
AsyncSession must never be used by two tasks at a time, so every statement
goes through `RequestDatabase`, which holds the lock for the statement's
duration. A mutation is one unit of work: `unit_of_work()` holds the lock for
the whole mutation, commits when it ends cleanly and rolls back otherwise.
One session per request gives each request one consistent view and needs
one pooled connection per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import MetaData, event, make_url
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable

from datasources.catalog.search import SEARCH_WORDS_FUNCTION, search_words

T = TypeVar("T")

SQLITE_BEGIN_OPTION = "hub_sqlite_begin"
WRITE_TRANSACTION = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
"""Execution options of a unit of work's connection: SQLite takes its write lock at BEGIN."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False
) -> AsyncEngine:
    """An async engine for SQLite (WAL, foreign keys on) or PostgreSQL (pooled), its writes tracked for
    the public response cache (datasources/cache_versions.py)."""
    engine = _create_engine(url, pool_size=pool_size, max_overflow=max_overflow, echo=echo)
    # Imported here: cache_versions' model needs this module's Base.
    from datasources.cache_versions import track_writes

    track_writes(engine.sync_engine)
    return engine


def _create_engine(url: str, *, pool_size: int, max_overflow: int, echo: bool) -> AsyncEngine:
    if url.startswith("sqlite"):
        # hide_parameters: bound values (password hashes, distributor credentials) stay out of logs
        # and out of the text of database errors.
        engine = create_async_engine(url, echo=echo, hide_parameters=True, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver must not open transactions on its own: the "begin" hook below does, so that
            # a unit of work can take SQLite's write lock up front (BEGIN IMMEDIATE). A deferred
            # transaction that reads and then writes fails at once with "database is locked" when
            # another writer committed in between; an immediate one waits its turn (busy_timeout).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # The search index's triggers call it (datasources/catalog/search.py).
            dbapi_connection.create_function(SEARCH_WORDS_FUNCTION, 1, search_words, deterministic=True)

        @event.listens_for(engine.sync_engine, "handle_error")
        def _sqlite_interrupt_cancelled(context: Any) -> None:
            # A cancelled statement (the request's time limit) would run on to its end in aiosqlite's
            # thread, holding the connection and any write lock: interrupt it there (thread-safe).
            # And keep the connection: SQLAlchemy would close it as broken, but a connection closed
            # while its interrupted statement is still referenced stays open, write lock included,
            # where a rollback (the session's, next) ends the transaction cleanly.
            if isinstance(context.original_exception, asyncio.CancelledError) and context.connection:
                driver = context.connection.connection.driver_connection
                if isinstance(driver, aiosqlite.Connection):
                    driver._conn.interrupt()
                    context.is_disconnect = False

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"server_settings": PG_SERVER_SETTINGS},
    )


PG_SERVER_SETTINGS = {"jit": "off"}
"""Settings of every PostgreSQL connection of the hub.

JIT off: PostgreSQL compiles a statement to machine code when its estimated cost passes
`jit_above_cost` (100,000), and the store page's estimate passes it (its per-product subplans
are costed as if every product were read): compiling took 130 ms to 1.4 s a statement, far more
than running it (10 ms), and every new connection paid it on its first five executions, which
PostgreSQL plans one by one before it settles on a cached plan (docs/performance.md, "Cold
connections"). The hub's statements are short reads and writes, where JIT never pays back."""


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class RequestStopped(Exception):
    """A statement asked for after the request was stopped (its time limit passed)."""


class DatabaseUnavailable(Exception):
    """The database could not be reached, or cut the connection under a statement (a restart, a failover).

    Nothing of the request's transaction was committed, unless the connection was cut during
    COMMIT itself, when the outcome is unknown. The caller may retry shortly: the engine's pool
    checks each connection before lending it (`pool_pre_ping`) and opens new ones once the
    database is back.
    """


# SQLSTATE of a lost or refused connection: class 08 (connection exception), and the server
# shutting down, crashing or starting up (57P01, 57P02, 57P03).
_UNAVAILABLE_SQLSTATE_CLASS = "08"
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database is out of reach, rather than that a statement was wrong.

    SQLAlchemy marks the connections it found cut (`connection_invalidated`); the rest is read
    from the error's causes: a refused or reset socket (OSError, raised by asyncpg's connect), a
    SQLSTATE of a lost connection or a server going down, or asyncpg finding its connection
    closed or left mid-operation by a cut (its InterfaceError and InternalClientError).
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASS) or sqlstate in _UNAVAILABLE_SQLSTATES
        ):
            return True
        if type(cause).__module__.startswith("asyncpg") and type(cause).__name__ in {
            "InterfaceError",
            "InternalClientError",
        }:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class RequestDatabase:
    """The one session of a request, shared by resolvers and loaders under a lock.

    A request cut off by its time limit is cancelled: the statement it was running is
    stopped in the database (asyncpg sends PostgreSQL a cancel request; on SQLite the engine's
    `handle_error` hook interrupts it), its transaction is rolled back, and `stop()` also
    cancels a loader's batch still running in a task of its own and refuses any statement
    asked for afterwards.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._running: asyncio.Task[Any] | None = None
        self._stopped = False
        self._unavailable: DatabaseUnavailable | None = None

    @property
    def session(self) -> AsyncSession:
        if self._stopped:
            raise RequestStopped("the request was stopped: no more statements")
        if self._unavailable is not None:
            # The request's connection was cut: its other fields fail the same way, at once.
            raise DatabaseUnavailable(str(self._unavailable))
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _lost(self, error: Exception) -> DatabaseUnavailable:
        """Remember that the database was out of reach; the error to raise instead of the driver's."""
        self._unavailable = DatabaseUnavailable(f"the database is out of reach: {type(error).__name__}")
        return self._unavailable

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[AsyncSession]:
        """The session, held by the current task for one statement."""
        async with self._lock:
            session = self.session
            self._running = asyncio.current_task()
            try:
                yield session
            except Exception as error:
                if isinstance(error, DatabaseUnavailable) or not is_unavailable(error):
                    raise
                raise self._lost(error) from error
            finally:
                self._running = None

    @asynccontextmanager
    async def held(self) -> AsyncIterator[AsyncSession]:
        """The session, held by the current task for a few statements in a row (await no loader meanwhile)."""
        async with self._statement() as session:
            yield session

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        async with self._statement() as session:
            return await session.execute(statement, params)

    async def scalars(self, statement: Executable, params: Any = None) -> Sequence[Any]:
        async with self._statement() as session:
            return (await session.scalars(statement, params)).all()

    async def scalar(self, statement: Executable, params: Any = None) -> Any:
        async with self._statement() as session:
            return await session.scalar(statement, params)

    async def all(self, statement: Executable, params: Any = None) -> Sequence[Any]:
        async with self._statement() as session:
            return (await session.execute(statement, params)).all()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Hold the session for one mutation; commit on success, roll back on error, veto or cancellation."""
        async with self._lock:
            session = self.session
            self._running = asyncio.current_task()
            try:
                if session.in_transaction():
                    # Reads earlier in the request opened a transaction: end it (it wrote nothing, and a
                    # commit keeps loaded objects usable) so the mutation begins its own write transaction.
                    await session.commit()
                await session.connection(execution_options=WRITE_TRANSACTION)
                work = UnitOfWork(session)
                try:
                    yield work
                    if work.vetoed:
                        await session.rollback()
                    else:
                        await session.commit()
                except BaseException:
                    try:
                        await session.rollback()
                    except Exception as rollback_error:
                        # A cut connection may refuse the rollback too; the server rolled back already.
                        if not is_unavailable(rollback_error):
                            raise
                    raise
            except Exception as error:
                # The database went out of reach: opening the transaction, under a statement, or at COMMIT.
                if isinstance(error, DatabaseUnavailable) or not is_unavailable(error):
                    raise
                raise self._lost(error) from error
            finally:
                self._running = None

    async def stop(self) -> None:
        """The request's answer is gone (its time limit passed): stop its database work and roll it back."""
        self._stopped = True
        running = self._running
        if running is not None and running is not asyncio.current_task() and not running.done():
            # A loader's batch, dispatched in its own task, still holds the session.
            running.cancel()
        await self.close()

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                session, self._session = self._session, None
                try:
                    await session.close()
                except Exception as error:
                    # Its connection was cut: drop it rather than hand it back to the pool.
                    if not is_unavailable(error):
                        raise
                    await session.invalidate()


class UnitOfWork:
    """A mutation's session; `veto()` makes it roll back (bad input: nothing is written)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.vetoed = False

    def veto(self) -> None:
        self.vetoed = True


@asynccontextmanager
async def standalone_database(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[RequestDatabase]:
    """A RequestDatabase outside any HTTP request (CLI, background work)."""
    database = RequestDatabase(session_factory)
    try:
        yield database
    finally:
        await database.close()


async def pg_connect(url: str) -> Any:
    """A plain asyncpg connection (no engine, no pool) to the PostgreSQL database of a SQLAlchemy URL."""
    import asyncpg

    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port or 5432,
        database=parsed.database,
    )


async def pg_admin(url: str, statement: str) -> None:
    """Run one statement on a PostgreSQL server outside any transaction (CREATE or DROP DATABASE):
    for the tests' and the benchmarks' throwaway databases."""
    connection = await pg_connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
