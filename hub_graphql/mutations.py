"""How every mutation runs: one unit of work, nothing written on userErrors, loaders forgotten after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from datasources.db import UnitOfWork
from hub_graphql.types.common import Info
from resolvers.errors import UserErrors

R = TypeVar("R")


class Checked(Protocol):
    errors: UserErrors


C = TypeVar("C", bound=Checked)


async def run_mutation(info: Info, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
    """Run `work` in one transaction; it calls `unit.veto()` to write nothing (bad input)."""
    async with info.context.db.unit_of_work() as unit:
        result = await work(unit)
    info.context.after_write()
    return result


async def run_checked(info: Info, action: Callable[[UnitOfWork], Awaitable[C]]) -> C:
    """Run `action` in one transaction that writes nothing when its result carries userErrors."""

    async def work(unit: UnitOfWork) -> C:
        result = await action(unit)
        if result.errors:
            unit.veto()
        return result

    return await run_mutation(info, work)
