"""The one way the hub makes a Redis client (`HUB_REDIS_URL`): every store that lives in Redis shares it.

The app makes one client in its resources (`Resources.redis`, hub_graphql/resources.py)
and hands it to the rate limit counters, the persisted query store and the
quote state; the lifespan closes it once. Its pool grows to the concurrency
the process needs, so the stores do not wait on each other.
"""

from __future__ import annotations

from redis.asyncio import Redis

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 2.0
"""A Redis that stopped answering costs a step at most this long; each store then lets the request through."""


def redis_client(url: str) -> Redis:
    """A client for the Redis at `url` (`redis://[:password@]host:6379/0`); it connects on first use."""
    return Redis.from_url(url, socket_timeout=READ_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S)
