"""Registered persisted queries by SHA-256: a bounded LRU in the process, and Redis behind it when configured.

A query text is registered once by a client (Apollo's automatic persisted
queries) and then asked for by its hash. The in-process LRU answers the common
case; with HUB_REDIS_URL every process also reads and writes Redis, so a query
registered through one process is known to all. A Redis that cannot be reached
is logged and treated as a miss: the client then sends the full text again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from redis.exceptions import RedisError

from datasources.redis_client import redis_client

log = logging.getLogger("hub.persisted_queries")

MAX_ENTRIES = 2_000
"""Queries kept in each process; the least recently used go first."""
REDIS_TTL_SECONDS = 30 * 24 * 3600
"""A registered query not asked for in this long leaves Redis (each hit renews it)."""


class QueryStore:
    """Query texts by their SHA-256 (lowercase hex)."""

    def __init__(
        self,
        redis: Any = None,
        prefix: str = "hub:",
        max_entries: int = MAX_ENTRIES,
        *,
        owns_client: bool = False,
    ) -> None:
        """`redis`: the app's shared client (`Resources.redis`, closed by the app), or None: this process only."""
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._redis = redis
        self._owns_client = owns_client
        self._prefix = prefix + "pq:"
        self.max_entries = max_entries

    @classmethod
    def from_url(cls, url: str | None, prefix: str) -> QueryStore:
        """In the process only when `url` is None; else backed by the Redis at `url`."""
        if url is None:
            return cls()
        return cls(redis_client(url), prefix, owns_client=True)

    async def get(self, digest: str) -> str | None:
        """The query registered under `digest`, or None."""
        query = self._entries.get(digest)
        if query is not None:
            self._entries.move_to_end(digest)
            return query
        if self._redis is None:
            return None
        try:
            raw = await self._redis.getex(self._prefix + digest, ex=REDIS_TTL_SECONDS)
        except (RedisError, OSError) as error:
            log.error("persisted query store unreachable, answered as a miss: %s", type(error).__name__)
            return None
        if raw is None:
            return None
        query = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        self._remember(digest, query)
        return query

    async def put(self, digest: str, query: str) -> None:
        """Register `query` under `digest` (the caller has checked that it is the query's SHA-256)."""
        known = digest in self._entries
        self._remember(digest, query)
        if self._redis is None or known:
            return
        try:
            await self._redis.set(self._prefix + digest, query.encode("utf-8"), ex=REDIS_TTL_SECONDS)
        except (RedisError, OSError) as error:
            log.error("persisted query store unreachable, kept in this process: %s", type(error).__name__)

    def _remember(self, digest: str, query: str) -> None:
        self._entries[digest] = query
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        if self._redis is not None and self._owns_client:
            await self._redis.aclose()
