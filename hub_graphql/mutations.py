"""How every mutation runs: one unit of work, nothing written on userErrors, loaders forgotten after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from sqlalchemy.exc import IntegrityError

from datasources.db import UnitOfWork
from hub_graphql.types.common import Info
from resolvers.errors import HubError, UserErrors

R = TypeVar("R")


class Checked(Protocol):
    errors: UserErrors


C = TypeVar("C", bound=Checked)


CONFLICT_MESSAGE = (
    "Another request wrote the same data at the same moment (a code, an e-mail, a row this one needs); "
    "nothing of this one was written. Try again: the answer will say what stands in the way."
)


async def run_mutation(info: Info, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
    """Run `work` in one transaction; it calls `unit.veto()` to write nothing (bad input).

    The checks a mutation makes before writing (a code is free, a row exists) can be overtaken by
    a concurrent request on PostgreSQL (SQLite's write transactions take turns): the database's
    constraint then refuses the write. That is a CONFLICT the client can retry, not an internal error.
    """
    try:
        async with info.context.db.unit_of_work() as unit:
            result = await work(unit)
    except IntegrityError:
        raise HubError(CONFLICT_MESSAGE, "CONFLICT") from None
    finally:
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
