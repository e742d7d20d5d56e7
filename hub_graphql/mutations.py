"""How every mutation runs: one unit of work, nothing written on userErrors, loaders forgotten after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from datasources.db import UnitOfWork
from hub_graphql.types.common import Info

R = TypeVar("R")


async def run_mutation(info: Info, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
    """Run `work` in one transaction; it calls `unit.veto()` to write nothing (bad input)."""
    async with info.context.db.unit_of_work() as unit:
        result = await work(unit)
    info.context.after_write()
    return result
