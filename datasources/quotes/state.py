"""Process-wide quote state: one circuit breaker per distributor and the short-lived offer cache.

It lives as long as the app (attached to Resources.shared at first use), is
touched only from the event loop's thread, and holds no secret.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datasources.quotes.contract import OfferedLine

SHARED_KEY = "quotes"


@dataclass
class CircuitBreaker:
    """Closed until `threshold` failures in a row; then open for `cool_down_s`; then one probe call.

    While open (and while the one probe is in flight) every call is refused at once.
    A probe that succeeds closes the circuit; one that fails opens it again.
    """

    threshold: int
    cool_down_s: float
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    def allow(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        if self.probing or now - self.opened_at < self.cool_down_s:
            return False
        self.probing = True
        return True

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self, now: float) -> None:
        self.failures += 1
        self.probing = False
        if self.failures >= self.threshold:
            self.opened_at = now

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


@dataclass(frozen=True)
class CacheKey:
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
    """time.monotonic() after which the entry is gone."""


class OfferCache:
    """Offers by (distributor, SKU, quantity, currency, reseller), bounded in size and in time."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: OrderedDict[CacheKey, CachedOffer] = OrderedDict()
        self.max_entries = max_entries

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
    cache: OfferCache = field(default_factory=OfferCache)
    breakers: dict[int, CircuitBreaker] = field(default_factory=dict)
    stats: dict[str, DistributorStats] = field(default_factory=dict)
    clock: Any = time.monotonic
    observer: Callable[[int, str, float | None, str], None] | None = None
    """Told of every call's end (distributor id, code, milliseconds or None, outcome): the app's metrics."""

    def breaker(self, distributor_id: int) -> CircuitBreaker:
        if distributor_id not in self.breakers:
            self.breakers[distributor_id] = CircuitBreaker(self.breaker_threshold, self.breaker_cool_down_s)
        return self.breakers[distributor_id]

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
    """The app's one QuoteState, made on first use."""
    state = shared.get(SHARED_KEY)
    if state is None:
        state = shared[SHARED_KEY] = QuoteState()
    return state
