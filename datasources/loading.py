"""Building blocks for per-request dataloaders: one `WHERE key IN (…)` query per batch, answers in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from aiodataloader import DataLoader, dispatch_queue
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

# Stays below every database's bound-parameter limit, and keeps plans cheap.
IN_CHUNK = 900


class Loader(DataLoader):
    """aiodataloader's DataLoader with a cheaper `load_many`, and a batch that can be sent at once.

    Its own `load_many` wraps every key's future in `asyncio.gather`: for the 1,500 keys of a
    300-line quote request to five distributors that took 5 to 7 ms, awaiting the futures one
    after the other 1 to 2 ms. The keys are still queued at once, in the same batch.
    """

    def __init__(self, batch_load_fn: Callable[[list[Any]], Awaitable[Any]], **options: Any) -> None:
        async def batch(keys: list[Any]) -> Any:
            # The batch aiodataloader schedules for the loop's next turn finds no keys when
            # `dispatch` sent them already.
            return await batch_load_fn(keys) if keys else []

        super().__init__(batch_load_fn=batch, **options)

    def load_many(self, keys: Iterable[Any]) -> Any:  # type: ignore[override]
        futures = [self.load(key) for key in keys]
        return _results_of(futures)

    def dispatch(self) -> None:
        """Start the batch of the keys queued so far now, rather than on the event loop's next turn.

        For a caller about to hand the loop much other work (graphql-core walking a page of
        products): the batch's first step then comes before that work, not after it.
        """
        if self._queue:
            dispatch_queue(self)


async def _results_of(futures: list[Awaitable[T]]) -> list[T]:
    # After the first, the futures are done: awaiting them does not go back to the event loop.
    return [await future for future in futures]


KEYS = "keys"
"""The parameter of `rows_by_keys` statements: `{KEYS: list_of_keys}`."""


@cache
def rows_by_keys(column: InstrumentedAttribute[Any]) -> Select[Any]:
    """`SELECT <the column's model> WHERE column IN (:keys)`, built once.

    SQLAlchemy walks a statement to make the key of its compiled form, and remembers the key on
    the statement object: a statement built anew per batch paid the walk every request.
    """
    return select(column.class_).where(column.in_(bindparam(KEYS, expanding=True)))


def chunks(keys: Sequence[K], size: int = IN_CHUNK) -> Iterable[Sequence[K]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def one_per_key(
    fetch: Callable[[Sequence[Any]], Awaitable[Sequence[T]]], key_of: Callable[[T], Any]
) -> DataLoader:
    """A loader answering one row (or None) per key."""

    async def batch(keys: list[Any]) -> list[T | None]:
        found: dict[Any, T] = {}
        for part in chunks(keys):
            for row in await fetch(part):
                found[key_of(row)] = row
        return [found.get(key) for key in keys]

    return Loader(batch_load_fn=batch)


def many_per_key(
    fetch: Callable[[Sequence[Any]], Awaitable[Sequence[T]]], key_of: Callable[[T], Any]
) -> DataLoader:
    """A loader answering a list of rows per key (empty when none), in the order the query gave."""

    async def batch(keys: list[Any]) -> list[list[T]]:
        found: dict[Any, list[T]] = defaultdict(list)
        for part in chunks(keys):
            for row in await fetch(part):
                found[key_of(row)].append(row)
        return [found.get(key, []) for key in keys]

    return Loader(batch_load_fn=batch)
