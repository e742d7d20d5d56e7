"""The quote state in Redis (`HUB_REDIS_URL`): offer cache and circuit breakers shared by every hub process.

Keys, under the deployment's prefix (`HUB_REDIS_KEY_PREFIX`), namespaced by distributor:

- `quotes:offer:<distributor id>:<currency>:<quantity>:<reseller code, escaped, or *>:<sku>`:
  one offered line as a JSON array (`encode_offer`), kept with a Redis TTL (the
  policy's cache seconds, or less when the distributor's answer is valid for
  less). A fan-out reads every key it may use with one MGET and writes each
  distributor's answer with one pipeline of `SET … PX`.
- `quotes:breaker:<distributor id>`: a hash (failures, opened_at, probe_until,
  code), changed only by the Lua scripts below, so each transition is atomic
  across processes: after the cool-down exactly one process gets the probe.
  It exists only while a distributor has failures on record (a success deletes
  it) and is forgotten `BREAKER_MEMORY_MS` after its last failure.
- `quotes:breakers`: the set of distributor ids with a breaker hash, so that
  `/metrics` can show breakers another process opened.

Times are milliseconds of the caller's wall clock (as the rate limits': keep
the hosts' clocks in sync). A probe holds its place for at most
`PROBE_LEASE_MS`, so a process that dies mid-probe cannot keep a circuit
shut. When Redis cannot be reached (or takes longer than `STEP_BUDGET_S`),
each step falls back safely and logs (`hub.quotes`): a breaker check lets the
call through, a cache read misses, a write is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from redis.exceptions import RedisError

from datasources.quotes.contract import OfferedLine
from datasources.quotes.state import BreakerReading, CachedOffer, CacheKey, Permit

log = logging.getLogger("hub.quotes")

STEP_BUDGET_S = 1.0
"""A step Redis has not answered in this long falls back: a hung Redis must not hold a live quote past its
deadline (1.5 s by default) for the client's own timeouts (2 s to connect, 2 s to read)."""
PROBE_LEASE_MS = 60_000
"""Longer than any call's deadline: a probe still "in flight" after this was lost with its process."""
BREAKER_MEMORY_MS = 24 * 3600 * 1000
"""A breaker's failures are forgotten this long after the last one (only to free the key)."""

T = TypeVar("T")


async def _step(what: str, fallback: T, step: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis step within the budget; on any failure to reach Redis, log and answer `fallback`."""
    try:
        async with asyncio.timeout(STEP_BUDGET_S):
            return await step()
    except (RedisError, OSError, TimeoutError) as error:
        log.error("quote state in Redis unreachable, %s: %s", what, type(error).__name__)
        return fallback


# ---------------------------------------------------------------- offers


def encode_offer(line: OfferedLine, valid_until: datetime | None) -> str:
    """An offered line as a JSON array (compact, and quicker to read back than an object), fields in
    `OFFER_FIELDS` order; the price as a string of minor units, so no float ever touches money."""
    return json.dumps(
        [
            line.sku,
            line.quantity,
            None if line.unit_price_minor is None else str(line.unit_price_minor),
            line.available,
            line.available_quantity,
            line.lead_time_days,
            None if valid_until is None else valid_until.isoformat(),
        ],
        separators=(",", ":"),
    )


OFFER_FIELDS = (
    "sku",
    "quantity",
    "unit_price_minor",
    "available",
    "available_quantity",
    "lead_time_days",
    "valid_until",
)


def decode_offer(raw: bytes | str, dates: dict[str, datetime] | None = None) -> CachedOffer:
    """The inverse of `encode_offer`; raises ValueError, TypeError on anything else.

    `dates`: validUntil strings already parsed (the lines of one answer share theirs).
    """
    sku, quantity, price, available, available_quantity, lead_time_days, until = json.loads(raw)
    valid_until = None
    if until is not None:
        valid_until = dates.get(until) if dates is not None else None
        if valid_until is None:
            valid_until = datetime.fromisoformat(until)
            if dates is not None:
                dates[until] = valid_until
    line = OfferedLine(
        sku=sku,
        quantity=quantity,
        unit_price_minor=None if price is None else int(price),
        available=available,
        available_quantity=available_quantity,
        lead_time_days=lead_time_days,
    )
    # Redis expires the key itself: the entry's in-process deadline does not apply.
    return CachedOffer(line, valid_until, math.inf)


class RedisOfferCache:
    """Offers in Redis, one key each, read with MGET and written with one pipeline per answer."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}quotes:offer:"
        self._heads: dict[tuple[int, str, int, str | None], str] = {}
        """Keys but their SKU, by (distributor, currency, quantity, reseller): a page's keys share a few."""

    def key(self, key: CacheKey) -> str:
        group = (key.distributor_id, key.currency, key.quantity, key.reseller_code)
        head = self._heads.get(group)
        if head is None:
            if len(self._heads) >= 10_000:
                self._heads.clear()
            # The SKU last, the only free text before it escaped: no two keys can spell the same string.
            reseller = "*" if key.reseller_code is None else quote(key.reseller_code, safe="")
            head = self._heads[group] = f"{self._prefix}{group[0]}:{group[1]}:{group[2]}:{reseller}:"
        return head + key.sku

    async def get_many(self, keys: list[CacheKey]) -> list[CachedOffer | None]:
        if not keys:
            return []
        names = [self.key(k) for k in keys]
        raws: list[Any] = await _step(
            "offers asked of the distributors", [None] * len(keys), lambda: self._client.mget(names)
        )
        dates: dict[str, datetime] = {}
        return [None if raw is None else self._decoded(raw, dates) for raw in raws]

    async def put_many(
        self, lines: list[tuple[CacheKey, OfferedLine]], valid_until: datetime | None, ttl_s: float
    ) -> None:
        if not lines:
            return
        ttl_ms = max(1, int(ttl_s * 1000))
        pipe = self._client.pipeline(transaction=False)
        for key, line in lines:
            pipe.set(self.key(key), encode_offer(line, valid_until), px=ttl_ms)
        await _step("offers not cached", None, pipe.execute)

    @staticmethod
    def _decoded(raw: bytes | str, dates: dict[str, datetime]) -> CachedOffer | None:
        try:
            return decode_offer(raw, dates)
        except (ValueError, TypeError):
            # Another release's format, or a damaged value: a miss, and the distributor is asked again.
            log.warning("cached offer unreadable, asked again")
            return None


# ---------------------------------------------------------------- breakers

# Per key, in order (a distributor named twice gets at most one probe): 0 refused, 1 closed and clean,
# 2 closed with failures on record, 3 the probe. HMGET gives false for a missing field.
_ALLOW = """
local now, cool, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local answers = {}
for i, key in ipairs(KEYS) do
  local s = redis.call('HMGET', key, 'failures', 'opened_at', 'probe_until')
  local opened = tonumber(s[2] or '0')
  if opened == 0 then
    if tonumber(s[1] or '0') == 0 then answers[i] = 1 else answers[i] = 2 end
  elseif now - opened < cool or now < tonumber(s[3] or '0') then
    answers[i] = 0
  else
    redis.call('HSET', key, 'probe_until', now + lease)
    answers[i] = 3
  end
end
return answers
"""

_FAILED = """
local now, threshold = tonumber(ARGV[1]), tonumber(ARGV[2])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'probe_until', 0, 'code', ARGV[4])
if failures >= threshold then
  redis.call('HSET', KEYS[1], 'opened_at', now)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('SADD', KEYS[2], ARGV[3])
return failures
"""

_SUCCEEDED = """
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 0
"""

_RELEASED = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'probe_until', 0)
end
return 0
"""


class RedisBreakers:
    """Circuit breakers in Redis, one hash per distributor, each transition one Lua script (atomic).

    The algorithm is ProcessBreakers' (datasources/quotes/state.py). One difference, to save a round
    trip on every healthy call: a success writes nothing when the check found no failure on record, so a
    failure another process records between this call's check and its success is not cleared by it.
    """

    def __init__(self, client: Any, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._prefix = f"{prefix}quotes:breaker:"
        self._index = f"{prefix}quotes:breakers"
        self._client = client
        self._allow = client.register_script(_ALLOW)
        self._failed = client.register_script(_FAILED)
        self._succeeded = client.register_script(_SUCCEEDED)
        self._released = client.register_script(_RELEASED)
        self.clock = clock
        self._asked: set[int] = set()
        """Distributors this process has checked: shown by /metrics even while closed (no key)."""
        self._releases: set[asyncio.Task[Any]] = set()

    def key(self, distributor_id: int) -> str:
        return f"{self._prefix}{distributor_id}"

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def allow(self, distributor_ids: list[int], cool_down_s: float) -> list[Permit]:
        if not distributor_ids:
            return []
        self._asked.update(distributor_ids)
        keys = [self.key(d) for d in distributor_ids]
        args = [self._now_ms(), int(cool_down_s * 1000), PROBE_LEASE_MS]
        answers = await _step("calls let through", None, lambda: self._allow(keys=keys, args=args))
        if answers is None:
            return [Permit.CLEAN] * len(distributor_ids)
        return [Permit(int(answer)) for answer in answers]

    async def succeeded(self, distributor_id: int, permit: Permit) -> None:
        if permit is Permit.CLEAN:
            return
        keys, args = [self.key(distributor_id), self._index], [distributor_id]
        await _step("success not recorded", None, lambda: self._succeeded(keys=keys, args=args))

    async def failed(self, distributor_id: int, code: str, threshold: int) -> None:
        keys = [self.key(distributor_id), self._index]
        args = [self._now_ms(), threshold, distributor_id, code, BREAKER_MEMORY_MS]
        await _step("failure not recorded", None, lambda: self._failed(keys=keys, args=args))

    def cancelled(self, distributor_id: int, permit: Permit) -> None:
        if permit is not Permit.PROBE:
            return
        # The cancelled task cannot wait for Redis: the release runs on its own (the lease is the backstop).
        keys = [self.key(distributor_id)]
        task = asyncio.get_running_loop().create_task(
            _step("probe not released (its lease will)", None, lambda: self._released(keys=keys))
        )
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def readings(self) -> list[BreakerReading]:
        """Every breaker with failures on record (from any process) and those this process checked."""
        async with asyncio.timeout(STEP_BUDGET_S):
            members = await self._client.smembers(self._index)
            ids = sorted(self._asked | {int(m) for m in members})
            if not ids:
                return []
            pipe = self._client.pipeline(transaction=False)
            for distributor_id in ids:
                pipe.hmget(self.key(distributor_id), "opened_at", "code")
            rows = await pipe.execute()
        readings = []
        for distributor_id, (opened_at, code) in zip(ids, rows, strict=True):
            readings.append(
                BreakerReading(
                    distributor_id,
                    code.decode() if isinstance(code, bytes) else code,
                    opened_at is not None and int(opened_at) > 0,
                )
            )
        return readings
