"""The counters behind the rate limits: in the process by default, in Redis when several processes share them.

Two kinds of counter, each an atomic step on one key:

- a fixed window (`hit`): at most `allowed` hits per window; a refused hit
  does not count, and the answer says when the window ends;
- a failure counter with slowing down and a lock (`attempt`, `settle`), for
  sign-ins: each attempt reserves a failure before the password is checked
  (so concurrent guesses cannot all pass a check that reads the count), and
  `settle` gives it back or clears the key when the attempt succeeded.

Times are milliseconds from the caller's clock (wall time, shared by every
process and host), passed into every step, so tests move a clock instead of
sleeping and the Redis and in-process counters follow one clock. Redis keys
still expire by Redis's own clock, generously after the last step, only to
free the memory. The in-process store forgets expired keys as it goes and
holds at most `MAX_KEYS` (a flood of new addresses or e-mails drops the
keys nearest their end first).

When Redis cannot be reached, a step lets the request through and logs the
error: an outage of the counters does not take sign-in down with it.

Both stores run the same algorithm: Python here, Lua for Redis (one script
per step: atomic, one round trip). The tests run the same cases on both.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from datasources.redis_client import redis_client

log = logging.getLogger("hub.rate_limits")

MAX_KEYS = 100_000


@dataclass(frozen=True)
class FailureRule:
    """Failures of one key (an e-mail, an address) before slowing down and before a lock."""

    window_ms: int
    lock_after: int
    """Failures within the window; the next attempt locks the key."""
    lock_ms: int
    """The first lock; each further lock (before the key is forgotten) doubles it."""
    lock_max_ms: int
    slow_after: int = 0
    """Failures after which each further attempt waits `delay_ms`, doubling; 0: never slowed down."""
    delay_ms: int = 0

    def as_arguments(self) -> list[int]:
        return [
            self.window_ms,
            self.lock_after,
            self.lock_ms,
            self.lock_max_ms,
            self.slow_after,
            self.delay_ms,
        ]


class CounterStore(Protocol):
    async def hit(self, key: str, allowed: int, window_ms: int, now_ms: int) -> int:
        """0 when the hit counts within the limit; else the milliseconds until the window ends."""
        ...

    async def attempt(self, key: str, rule: FailureRule, now_ms: int) -> int:
        """0 when an attempt may go ahead (a failure is reserved); else the milliseconds to wait."""
        ...

    async def settle(self, key: str, *, clear: bool) -> None:
        """An attempt succeeded: give its reserved failure back, or forget the key's failures (`clear`)."""
        ...

    async def close(self) -> None: ...


@dataclass
class _Window:
    count: int
    ends: int


@dataclass
class _Failures:
    failures: int = 0
    window_ends: int = 0
    last_failure: int = 0
    locked_until: int = 0
    locks: int = 0
    forget_at: int = 0


def _lock_length(rule: FailureRule, locks: int) -> int:
    return min(rule.lock_ms * 2 ** min(locks, 30), rule.lock_max_ms)


class MemoryCounters:
    """The counters of one process (the default; each process of a deployment counts on its own)."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._failures: dict[str, _Failures] = {}
        self._steps = 0

    async def hit(self, key: str, allowed: int, window_ms: int, now_ms: int) -> int:
        self._tidy(now_ms)
        window = self._windows.get(key)
        if window is None or now_ms >= window.ends:
            window = self._windows[key] = _Window(0, now_ms + window_ms)
        if window.count >= allowed:
            return window.ends - now_ms
        window.count += 1
        return 0

    async def attempt(self, key: str, rule: FailureRule, now_ms: int) -> int:
        self._tidy(now_ms)
        state = self._failures.get(key)
        if state is None or now_ms >= state.forget_at:  # quiet for a window after its last failure or lock
            state = self._failures[key] = _Failures()
        if now_ms < state.locked_until:
            return state.locked_until - now_ms
        if now_ms >= state.window_ends:
            state.failures = 0
            state.window_ends = now_ms + rule.window_ms
        if state.failures >= rule.lock_after:
            length = _lock_length(rule, state.locks)
            state.locks += 1
            state.locked_until = now_ms + length
            state.failures = 0
            state.window_ends = 0
            state.forget_at = state.locked_until + rule.window_ms
            return length
        if rule.slow_after and state.failures >= rule.slow_after:
            wait_until = state.last_failure + rule.delay_ms * 2 ** min(state.failures - rule.slow_after, 30)
            if now_ms < wait_until:
                return wait_until - now_ms
        state.failures += 1
        state.last_failure = now_ms
        state.forget_at = max(state.window_ends, state.locked_until) + rule.window_ms
        return 0

    async def settle(self, key: str, *, clear: bool) -> None:
        state = self._failures.get(key)
        if state is None:
            return
        if clear:
            del self._failures[key]
        elif state.failures > 0:
            state.failures -= 1

    async def close(self) -> None:
        self._windows.clear()
        self._failures.clear()

    def _tidy(self, now_ms: int) -> None:
        """Forget ended windows and quiet keys now and then; past MAX_KEYS, the keys nearest their end."""
        self._steps += 1
        if self._steps % 1000 == 0:
            self._windows = {k: w for k, w in self._windows.items() if w.ends > now_ms}
            self._failures = {k: f for k, f in self._failures.items() if f.forget_at > now_ms}
        # Trimmed to 90 %, so that a flood of new keys sorts once per 10,000 of them, not each time.
        if len(self._windows) > MAX_KEYS:
            kept = sorted(self._windows.items(), key=lambda item: item[1].ends)[-MAX_KEYS * 9 // 10 :]
            self._windows = dict(kept)
        if len(self._failures) > MAX_KEYS:
            kept_failures = sorted(self._failures.items(), key=lambda item: item[1].forget_at)
            self._failures = dict(kept_failures[-MAX_KEYS * 9 // 10 :])


# The same steps in Lua. Numbers cross as strings; tonumber() on a missing field gives nil → 0.
_HIT = """
local now, allowed, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends') or '0')
if now >= ends then
  count = 0
  ends = now + window
end
if count >= allowed then
  return ends - now
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'ends', ends)
redis.call('PEXPIRE', KEYS[1], math.max(ends - now, 0) + 1000)
return 0
"""

_ATTEMPT = """
local now = tonumber(ARGV[1])
local window, lock_after, lock_ms, lock_max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local slow_after, delay = tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'failures', 'window_ends', 'last_failure', 'locked_until', 'locks', 'forget_at')
local failures, window_ends = tonumber(s[1] or '0'), tonumber(s[2] or '0')
local last_failure, locked_until, locks = tonumber(s[3] or '0'), tonumber(s[4] or '0'), tonumber(s[5] or '0')
if now >= tonumber(s[6] or '0') then
  failures, window_ends, last_failure, locked_until, locks = 0, 0, 0, 0, 0
end
if now < locked_until then
  return locked_until - now
end
if now >= window_ends then
  failures = 0
  window_ends = now + window
end
local answer = 0
if failures >= lock_after then
  answer = math.min(lock_ms * 2 ^ math.min(locks, 30), lock_max)
  locks = locks + 1
  locked_until = now + answer
  failures = 0
  window_ends = 0
elseif slow_after > 0 and failures >= slow_after then
  local wait_until = last_failure + delay * 2 ^ math.min(failures - slow_after, 30)
  if now < wait_until then
    return wait_until - now
  end
end
if answer == 0 then
  failures = failures + 1
  last_failure = now
end
local forget_at = math.max(window_ends, locked_until) + window
redis.call('HSET', KEYS[1], 'failures', failures, 'window_ends', window_ends, 'last_failure', last_failure,
  'locked_until', locked_until, 'locks', locks, 'forget_at', forget_at)
redis.call('PEXPIRE', KEYS[1], forget_at - now + 1000)
return answer
"""

_SETTLE = """
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
elseif tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'failures', -1)
end
return 0
"""


class RedisCounters:
    """The counters in Redis (`HUB_REDIS_URL`): every process of a deployment shares them.

    On the app's shared client (`Resources.redis`), which the app closes; one made by `from_url` is its own.
    """

    def __init__(self, client: Any, prefix: str, *, owns_client: bool = False) -> None:
        self._client = client
        self._prefix = prefix
        self._owns_client = owns_client
        self._hit = client.register_script(_HIT)
        self._attempt = client.register_script(_ATTEMPT)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisCounters:
        return cls(redis_client(url), prefix, owns_client=True)

    async def hit(self, key: str, allowed: int, window_ms: int, now_ms: int) -> int:
        return await self._safely(self._hit(keys=[self._prefix + key], args=[now_ms, allowed, window_ms]))

    async def attempt(self, key: str, rule: FailureRule, now_ms: int) -> int:
        return await self._safely(
            self._attempt(keys=[self._prefix + key], args=[now_ms, *rule.as_arguments()])
        )

    async def settle(self, key: str, *, clear: bool) -> None:
        await self._safely(self._settle(keys=[self._prefix + key], args=["1" if clear else "0"]))

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _safely(self, step: Awaitable[Any]) -> int:
        try:
            return math.ceil(float(await step))
        except (RedisError, OSError) as error:
            log.error("rate limit counters unreachable, request let through: %s", type(error).__name__)
            return 0
