"""Where the public response cache keeps its answers: a bounded LRU in the process, or Redis.

An entry is the body of an answer (JSON bytes) under a key that already holds
the versions of the data it shows (hub_graphql/response_cache.py), so an entry
is never updated in place: a write changes the versions, readers compute new
keys, and the old entries age out (LRU here, TTL in Redis). Without Redis
each process has its own entries (and invalidation stays exact, the versions
being in the database); with HUB_REDIS_URL every process shares them. A Redis
that cannot be reached is logged and answered as a miss: the request is
executed as if there were no cache.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("hub.response_cache")


class AnswerStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, body: bytes, ttl_seconds: float) -> None: ...

    async def close(self) -> None: ...


class MemoryAnswers:
    """Answers in this process: at most `max_entries` and `max_bytes`, each for at most its TTL."""

    def __init__(self, max_entries: int, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if expires <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return body

    async def put(self, key: str, body: bytes, ttl_seconds: float) -> None:
        if len(body) > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._clock() + ttl_seconds, body)
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def _drop(self, key: str) -> None:
        _, body = self._entries.pop(key)
        self._bytes -= len(body)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0


class RedisAnswers:
    """Answers in Redis (`HUB_REDIS_URL`) under `<prefix>rc:<key>`, shared by every process, each with its TTL."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client  # the app's one client (Resources.redis): its lifespan closes it
        self._prefix = prefix + "rc:"

    async def get(self, key: str) -> bytes | None:
        try:
            body = await self._client.get(self._prefix + key)
        except (RedisError, OSError) as error:
            log.error("response cache unreachable, answered as a miss: %s", type(error).__name__)
            return None
        return body if isinstance(body, bytes) or body is None else str(body).encode("utf-8")

    async def put(self, key: str, body: bytes, ttl_seconds: float) -> None:
        try:
            await self._client.set(self._prefix + key, body, px=max(1, round(ttl_seconds * 1000)))
        except (RedisError, OSError) as error:
            log.error("response cache unreachable, answer not kept: %s", type(error).__name__)

    async def close(self) -> None:
        pass


def answer_store(
    redis: Redis | None, prefix: str, *, max_entries: int, max_bytes: int
) -> MemoryAnswers | RedisAnswers:
    """Redis when the app has a client, else this process's LRU."""
    if redis is not None:
        return RedisAnswers(redis, prefix)
    return MemoryAnswers(max_entries, max_bytes)
