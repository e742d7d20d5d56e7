"""Counts of a store's products, kept per process until the data they were counted from changes.

A store's `totalCount` applies the overlay (assortment, price rules) to every product of the
catalog: 4 ms at 5,000 products, 0.8 to 6 s at 1,000,000 (docs/performance.md, "Reseller stores").
The public response cache spares anonymous visitors that, but not a signed-in customer, whose
every page would count again. So counts are kept here, keyed by the store, the filter and the
versions of the catalog and stores scopes (datasources/cache_versions.py): a write to either bumps
its version in its own transaction, and the next count is made anew, in every process.

The versions are read, on the request's own session, before the count: a count is therefore of
the data at those versions or newer, never older, and a key is never answered with a count of data
older than itself. Counts are made only outside a mutation's unit of work (fields are resolved
after it committed), so no count of uncommitted data is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from sqlalchemy import text

from datasources.cache_versions import CATALOG, STORES, versions_of, versions_statement
from datasources.db import RequestDatabase

SCOPES = (CATALOG, STORES)
"""What a store's count is made from: the master catalog, and the stores' overlays."""

_VERSIONS = text(versions_statement(SCOPES))


class StoreCounts:
    """At most `max_entries` counts, the least recently used dropped first; 0 keeps none."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._counts: OrderedDict[Hashable, int] = OrderedDict()

    async def count(self, db: RequestDatabase, key: Hashable, make: Callable[[], Awaitable[int]]) -> int:
        """The count for `key` (the store and its filter) at the data's current versions."""
        if self.max_entries <= 0:
            return await make()
        versions = versions_of(await db.all(_VERSIONS), SCOPES)
        versioned = (key, versions)
        found = self._counts.get(versioned)
        if found is not None:
            self._counts.move_to_end(versioned)
            return found
        counted = await make()
        self._counts[versioned] = counted
        while len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)
        return counted

    def __len__(self) -> int:
        return len(self._counts)
