"""Alembic environment: the URL from the hub's settings (or the caller), the metadata from the models."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from datasources.catalog.models import SEARCH_COLUMNS, SEARCH_INDEXES, SEARCH_SHADOW_TABLES
from datasources.db import create_engine
from datasources.models import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    from hub_graphql.settings import Settings

    return Settings().database_url


def _include_object_for(dialect: str) -> Any:
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # The search index (SQLite: an FTS5 table and its shadow tables; PostgreSQL: a generated
        # column and its GIN index) is made by raw DDL, not by the models.
        if type_ == "table" and name in SEARCH_SHADOW_TABLES:
            return False
        if type_ == "column" and name in SEARCH_COLUMNS:
            return False
        return not (type_ == "index" and name in SEARCH_INDEXES)

    return include


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include_object_for(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
