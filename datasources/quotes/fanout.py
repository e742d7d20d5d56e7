"""Fan-out: one `quote` call per distributor for every line a GraphQL operation needs, all concurrently.

`OfferKey` is what the per-request offers loader is keyed by. A batch is split
by (distributor, currency, reseller, request): each part becomes exactly one
call, every call runs at once under `asyncio.gather`, each bounded by the
deadline. A distributor's failure only touches its own keys.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from datasources.partners.endpoints import EndpointPolicy
from datasources.quotes.clients import Endpoint, ask_distributor
from datasources.quotes.contract import AskedLine, OfferedLine, QuoteFailure
from datasources.quotes.state import CachedOffer, CacheKey, QuoteState

CIRCUIT_OPEN = "circuit open: too many recent failures, the hub is not calling it for now"


@dataclass(frozen=True)
class OfferKey:
    distributor_id: int
    sku: str
    quantity: int
    currency: str
    reseller_code: str | None = None
    request_ref: str | None = None
    """The hub's quote request id, sent as requestId; None for a live lookup (one id per call)."""
    fresh: bool = False
    """Skip the cache (quote requests ask anew, and store what they got)."""


@dataclass(frozen=True)
class Outcome:
    """One key's answer: a line, or the reason its distributor gave none."""

    distributor_id: int
    line: OfferedLine | None = None
    valid_until: datetime | None = None
    failure: str | None = None


@dataclass(frozen=True)
class FanOutSettings:
    deadline_s: float
    cache_seconds: float
    endpoint_policy: EndpointPolicy | None = None


async def fan_out(
    keys: Sequence[OfferKey],
    endpoints: dict[int, Endpoint],
    *,
    http: httpx.AsyncClient,
    state: QuoteState,
    settings: FanOutSettings,
) -> list[Outcome]:
    """An Outcome per key, in key order; `endpoints` holds the askable (approved, live) distributors."""
    results: dict[OfferKey, Outcome] = {}
    groups: dict[tuple[int, str, str | None, str | None, bool], list[OfferKey]] = defaultdict(list)
    for key in dict.fromkeys(keys):
        groups[(key.distributor_id, key.currency, key.reseller_code, key.request_ref, key.fresh)].append(key)
    calls = []
    for (distributor_id, _currency, _reseller, _ref, fresh), group in groups.items():
        endpoint = endpoints.get(distributor_id)
        if endpoint is None:
            for key in group:
                results[key] = Outcome(
                    distributor_id, failure="is not an approved distributor with a live service"
                )
            continue
        wanted = group if fresh else _from_cache(group, state, results)
        if wanted:
            calls.append(_ask(endpoint, wanted, http=http, state=state, settings=settings, results=results))
    await asyncio.gather(*calls)
    return [results[key] for key in keys]


def _cache_key(key: OfferKey) -> CacheKey:
    return CacheKey(key.distributor_id, key.sku, key.quantity, key.currency, key.reseller_code)


def _from_cache(group: list[OfferKey], state: QuoteState, results: dict[OfferKey, Outcome]) -> list[OfferKey]:
    """Answer what the cache holds; the keys left to ask."""
    now = state.clock()
    wall = datetime.now(UTC)
    left = []
    for key in group:
        entry = state.cache.get(_cache_key(key), now)
        if entry is not None and (entry.valid_until is None or entry.valid_until > wall):
            results[key] = Outcome(key.distributor_id, line=entry.line, valid_until=entry.valid_until)
        else:
            left.append(key)
    return left


async def _ask(
    endpoint: Endpoint,
    keys: list[OfferKey],
    *,
    http: httpx.AsyncClient,
    state: QuoteState,
    settings: FanOutSettings,
    results: dict[OfferKey, Outcome],
) -> None:
    breaker = state.breaker(endpoint.distributor_id)
    if not breaker.allow(state.clock()):
        state.record_refusal(endpoint.distributor_id, endpoint.code)
        for key in keys:
            results[key] = Outcome(endpoint.distributor_id, failure=CIRCUIT_OPEN)
        return
    first = keys[0]
    started = time.perf_counter()
    try:
        answer = await ask_distributor(
            http,
            endpoint,
            request_id=first.request_ref or f"live-{uuid.uuid4().hex}",
            currency=first.currency,
            reseller_code=first.reseller_code,
            lines=[AskedLine(k.sku, k.quantity) for k in keys],
            deadline_s=settings.deadline_s,
            endpoint_policy=settings.endpoint_policy,
        )
    except asyncio.CancelledError:
        breaker.probing = False  # a cancelled probe must not keep the circuit shut for good
        raise
    except QuoteFailure as failure:
        breaker.failed(state.clock())
        state.record_call(
            endpoint.code,
            (time.perf_counter() - started) * 1000,
            ok=False,
            distributor_id=endpoint.distributor_id,
        )
        for key in keys:
            results[key] = Outcome(endpoint.distributor_id, failure=failure.reason)
        return
    breaker.succeeded()
    state.record_call(
        endpoint.code, (time.perf_counter() - started) * 1000, ok=True, distributor_id=endpoint.distributor_id
    )
    now = state.clock()
    wall = datetime.now(UTC)
    for key in keys:
        line = answer.lines[AskedLine(key.sku, key.quantity)]
        results[key] = Outcome(endpoint.distributor_id, line=line, valid_until=answer.valid_until)
        ttl = settings.cache_seconds
        if answer.valid_until is not None:
            ttl = min(ttl, (answer.valid_until - wall).total_seconds())
        if ttl > 0:
            state.cache.put(_cache_key(key), CachedOffer(line, answer.valid_until, now + ttl))
