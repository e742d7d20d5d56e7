"""Quote state that outlives a request: one circuit breaker per distributor and the short-lived offer cache.

It lives as long as the app (attached to Resources.shared), is touched only
from the event loop's thread, and holds no secret. By default both live in the
process (here); with HUB_REDIS_URL both live in Redis and every process of a
deployment shares them (datasources/quotes/shared_state.py, made in
hub_graphql/resources.py). The fan-out reads and writes them a batch at a
time, so either store costs the same few steps per operation, never one per SKU.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, NamedTuple, Protocol

from datasources.quotes.contract import OfferedLine

SHARED_KEY = "quotes"


class Permit(IntEnum):
    """A breaker's answer to "may this distributor be called now?", and what its call's end must record."""

    REFUSED = 0
    """Open (or its one probe is in flight): no call."""
    CLEAN = 1
    """Closed, no failure on record: a success has nothing to write."""
    FAILING = 2
    """Closed, with failures on record: a success clears them."""
    PROBE = 3
    """The one call let through after the cool-down: its success closes the circuit, its failure reopens it."""


@dataclass
class CircuitBreaker:
    """Closed until `threshold` failures in a row; then open for `cool_down_s`; then one probe call.

    While open (and while the one probe is in flight) every call is refused at once.
    A probe that succeeds closes the circuit; one that fails opens it again.
    """

    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    def allow(self, now: float, cool_down_s: float) -> Permit:
        if self.opened_at is None:
            return Permit.FAILING if self.failures else Permit.CLEAN
        if self.probing or now - self.opened_at < cool_down_s:
            return Permit.REFUSED
        self.probing = True
        return Permit.PROBE

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self, now: float, threshold: int) -> None:
        self.failures += 1
        self.probing = False
        if self.failures >= threshold:
            self.opened_at = now

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


@dataclass(frozen=True)
class BreakerReading:
    """One breaker as the metrics show it."""

    distributor_id: int
    code: str | None
    is_open: bool


class BreakerStore(Protocol):
    """The breakers of every distributor: in this process, or in Redis (datasources/quotes/shared_state.py)."""

    async def allow(self, distributor_ids: list[int], cool_down_s: float) -> list[Permit]:
        """A permit per call about to be made, in order, all in one step (one round trip in Redis).

        A distributor named twice (two calls of one fan-out) gets the half-open circuit's probe once.
        """
        ...

    async def succeeded(self, distributor_id: int, permit: Permit) -> None: ...

    async def failed(self, distributor_id: int, code: str, threshold: int) -> None: ...

    def cancelled(self, distributor_id: int, permit: Permit) -> None:
        """A call cancelled with its request: a probe gives its place back (synchronous: the task is ending)."""
        ...

    async def readings(self) -> list[BreakerReading]:
        """The breakers known (for /metrics); may raise when their store cannot be read."""
        ...


class ProcessBreakers:
    """The breakers of this process (the default): each process learns a distributor's health on its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.breakers: dict[int, CircuitBreaker] = {}
        self.clock = clock

    def of(self, distributor_id: int) -> CircuitBreaker:
        breaker = self.breakers.get(distributor_id)
        if breaker is None:
            breaker = self.breakers[distributor_id] = CircuitBreaker()
        return breaker

    async def allow(self, distributor_ids: list[int], cool_down_s: float) -> list[Permit]:
        now = self.clock()
        return [self.of(d).allow(now, cool_down_s) for d in distributor_ids]

    async def succeeded(self, distributor_id: int, permit: Permit) -> None:
        self.of(distributor_id).succeeded()

    async def failed(self, distributor_id: int, code: str, threshold: int) -> None:
        self.of(distributor_id).failed(self.clock(), threshold)

    def cancelled(self, distributor_id: int, permit: Permit) -> None:
        if permit is Permit.PROBE:  # a cancelled probe must not keep the circuit shut for good
            self.of(distributor_id).probing = False

    async def readings(self) -> list[BreakerReading]:
        return [BreakerReading(d, None, breaker.is_open) for d, breaker in self.breakers.items()]

    def clear(self) -> None:
        self.breakers.clear()


class CacheKey(NamedTuple):
    """A tuple, not a dataclass: hashed and compared in C, and a page's read looks up hundreds of them."""

    distributor_id: int
    sku: str
    quantity: int
    currency: str
    reseller_code: str | None


@dataclass(frozen=True)
class CachedOffer:
    line: OfferedLine
    valid_until: datetime | None
    expires: float
    """The in-process cache's clock (time.monotonic()) after which the entry is gone; Redis keeps its own TTL."""


class OfferStore(Protocol):
    """Offers by CacheKey for a short time: in this process, or in Redis (datasources/quotes/shared_state.py).

    Read and written a batch at a time (one round trip per batch in Redis), never a key at a time.
    """

    async def get_many(self, keys: list[CacheKey]) -> list[CachedOffer | None]: ...

    async def put_many(
        self, lines: list[tuple[CacheKey, OfferedLine]], valid_until: datetime | None, ttl_s: float
    ) -> None: ...


class OfferCache:
    """Offers by (distributor, SKU, quantity, currency, reseller) in this process, bounded in size and in time."""

    def __init__(self, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[CacheKey, CachedOffer] = OrderedDict()
        self.max_entries = max_entries
        self.clock = clock

    async def get_many(self, keys: list[CacheKey]) -> list[CachedOffer | None]:
        # `get` inlined: this loop runs for every offer of every page read, and a call per key shows.
        now = self.clock()
        entries = self._entries
        found: list[CachedOffer | None] = []
        for key in keys:
            entry = entries.get(key)
            if entry is not None and entry.expires <= now:
                del entries[key]
                entry = None
            found.append(entry)
        return found

    async def put_many(
        self, lines: list[tuple[CacheKey, OfferedLine]], valid_until: datetime | None, ttl_s: float
    ) -> None:
        expires = self.clock() + ttl_s
        for key, line in lines:
            self.put(key, CachedOffer(line, valid_until, expires))

    def get(self, key: CacheKey, now: float) -> CachedOffer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= now:
            del self._entries[key]
            return None
        return entry

    def put(self, key: CacheKey, entry: CachedOffer) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class DistributorStats:
    calls: int = 0
    failures: int = 0
    last_ms: float | None = None
    slowest_ms: float = 0.0


@dataclass
class QuoteState:
    breaker_threshold: int = 3
    breaker_cool_down_s: float = 30.0
    cache: OfferStore = field(default_factory=OfferCache)
    breakers: BreakerStore = field(default_factory=ProcessBreakers)
    stats: dict[str, DistributorStats] = field(default_factory=dict)
    """This process's own call statistics (never shared: they describe what this process saw)."""
    observer: Callable[[int, str, float | None, str], None] | None = None
    """Told of every call's end (distributor id, code, milliseconds or None, outcome): the app's metrics."""

    async def allow(self, distributor_ids: list[int]) -> list[Permit]:
        """Which of these calls may be made now: a permit each, in one step."""
        return await self.breakers.allow(distributor_ids, self.breaker_cool_down_s)

    async def call_succeeded(self, distributor_id: int, permit: Permit) -> None:
        await self.breakers.succeeded(distributor_id, permit)

    async def call_failed(self, distributor_id: int, code: str) -> None:
        await self.breakers.failed(distributor_id, code, self.breaker_threshold)

    def call_cancelled(self, distributor_id: int, permit: Permit) -> None:
        self.breakers.cancelled(distributor_id, permit)

    def record_call(self, code: str, elapsed_ms: float, ok: bool, distributor_id: int | None = None) -> None:
        stats = self.stats.setdefault(code, DistributorStats())
        stats.calls += 1
        stats.failures += 0 if ok else 1
        stats.last_ms = elapsed_ms
        stats.slowest_ms = max(stats.slowest_ms, elapsed_ms)
        if self.observer is not None and distributor_id is not None:
            self.observer(distributor_id, code, elapsed_ms, "ok" if ok else "failed")

    def record_refusal(self, distributor_id: int, code: str) -> None:
        """A call not made because the distributor's circuit is open."""
        if self.observer is not None:
            self.observer(distributor_id, code, None, "circuit_open")


def quote_state(shared: dict[str, Any]) -> QuoteState:
    """The app's one QuoteState: the one its resources made (hub_graphql/resources.py), else one in the process."""
    state = shared.get(SHARED_KEY)
    if state is None:
        state = shared[SHARED_KEY] = QuoteState()
    return state
