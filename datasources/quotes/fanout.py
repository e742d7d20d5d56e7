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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from datasources.partners.endpoints import EndpointPolicy
from datasources.partners.outbound import ON_ITS_WAY
from datasources.quotes.clients import Endpoint, ask_distributor
from datasources.quotes.contract import AskedLine, OfferedLine, QuoteFailure
from datasources.quotes.state import CacheKey, Permit, QuoteState

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
    on_its_way: Callable[[], None] | None = None,
    on_answered: Callable[[dict[OfferKey, Outcome]], None] | None = None,
) -> list[Outcome]:
    """An Outcome per key, in key order; `endpoints` holds the askable (approved, live) distributors.

    `on_its_way` is called once every call of the batch waits on the network (or failed first),
    at once when there is none to make. `on_answered` is called with each call's outcomes (a
    distributor's keys of one currency, reseller and request) as soon as they are all in, so that
    a caller can store one distributor's answer while waiting for the others'.
    """
    results: dict[OfferKey, Outcome] = {}
    groups: dict[tuple[int, str, str | None, str | None, bool], list[OfferKey]] = defaultdict(list)
    for key in dict.fromkeys(keys):
        groups[(key.distributor_id, key.currency, key.reseller_code, key.request_ref, key.fresh)].append(key)
    report = _Answered(list(groups.values()), results, on_answered)
    asking: list[tuple[Endpoint, list[OfferKey]]] = []
    for (distributor_id, _currency, _reseller, _ref, _fresh), group in groups.items():
        endpoint = endpoints.get(distributor_id)
        if endpoint is None:
            for key in group:
                results[key] = Outcome(
                    distributor_id, failure="is not an approved distributor with a live service"
                )
            continue
        asking.append((endpoint, group))
    # The state is read a batch at a time (one step each in Redis): the cache for every key that may use
    # it, then the breakers of the distributors still to ask.
    if settings.cache_seconds > 0:
        asking = await _from_cache(asking, state, results)
    permits = await state.allow([endpoint.distributor_id for endpoint, _ in asking])
    calling: list[tuple[Endpoint, list[OfferKey], Permit]] = []
    for (endpoint, wanted), permit in zip(asking, permits, strict=True):
        if permit is Permit.REFUSED:
            state.record_refusal(endpoint.distributor_id, endpoint.code)
            for key in wanted:
                results[key] = Outcome(endpoint.distributor_id, failure=CIRCUIT_OPEN)
        else:
            calling.append((endpoint, wanted, permit))
    report.complete_ones()  # no endpoint, the circuit open, the cache: answered without a call
    waiting = _AllOnTheirWay(len(calling), on_its_way)
    await asyncio.gather(
        *(
            _ask(
                endpoint,
                wanted,
                permit,
                http=http,
                state=state,
                settings=settings,
                results=results,
                on_its_way=waiting.one() if on_its_way else None,
                on_done=report.complete_ones,
            )
            for endpoint, wanted, permit in calling
        )
    )
    return [results[key] for key in keys]


class _Answered:
    """Reports each group of keys to `callback` once all its outcomes are in, and only once."""

    def __init__(
        self,
        groups: list[list[OfferKey]],
        results: dict[OfferKey, Outcome],
        callback: Callable[[dict[OfferKey, Outcome]], None] | None,
    ) -> None:
        self._waiting = groups if callback is not None else []
        self._results = results
        self._callback = callback

    def complete_ones(self) -> None:
        if not self._waiting:
            return
        results, complete = self._results, []
        for group in self._waiting:
            if all(key in results for key in group):
                complete.append(group)
        if complete:
            done = {id(group) for group in complete}
            self._waiting = [group for group in self._waiting if id(group) not in done]
            assert self._callback is not None
            for group in complete:
                self._callback({key: results[key] for key in group})


class _AllOnTheirWay:
    """Calls `callback` once, when each of `count` calls has said it is on its way (at once for none)."""

    def __init__(self, count: int, callback: Callable[[], None] | None) -> None:
        self._left = count
        self._callback = callback
        if count == 0:
            self._done()

    def one(self) -> Callable[[], None]:
        said = False

        def on_its_way() -> None:
            nonlocal said
            if not said:
                said = True
                self._left -= 1
                if self._left == 0:
                    self._done()

        return on_its_way

    def _done(self) -> None:
        if self._callback is not None:
            callback, self._callback = self._callback, None
            callback()


def _cache_key(key: OfferKey) -> CacheKey:
    return CacheKey(key.distributor_id, key.sku, key.quantity, key.currency, key.reseller_code)


async def _from_cache(
    asking: list[tuple[Endpoint, list[OfferKey]]], state: QuoteState, results: dict[OfferKey, Outcome]
) -> list[tuple[Endpoint, list[OfferKey]]]:
    """Answer what the cache holds (one read for every group but the fresh ones); the keys left to ask."""
    cacheable = [_cache_key(key) for _, group in asking if not group[0].fresh for key in group]
    if not cacheable:
        return asking
    entries = await state.cache.get_many(cacheable)
    wall = datetime.now(UTC)
    left = []
    at = 0
    for endpoint, group in asking:
        if group[0].fresh:
            left.append((endpoint, group))
            continue
        missing = []
        for key, entry in zip(group, entries[at : at + len(group)], strict=True):
            if entry is not None and (entry.valid_until is None or entry.valid_until > wall):
                results[key] = Outcome(key.distributor_id, line=entry.line, valid_until=entry.valid_until)
            else:
                missing.append(key)
        at += len(group)
        if missing:
            left.append((endpoint, missing))
    return left


async def _ask(
    endpoint: Endpoint,
    keys: list[OfferKey],
    permit: Permit,
    *,
    http: httpx.AsyncClient,
    state: QuoteState,
    settings: FanOutSettings,
    results: dict[OfferKey, Outcome],
    on_its_way: Callable[[], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> None:
    first = keys[0]
    started = time.perf_counter()
    if on_its_way is not None:
        ON_ITS_WAY.set(on_its_way)  # this task's own context (asyncio.gather runs each call in a task)
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
        state.call_cancelled(endpoint.distributor_id, permit)  # a cancelled probe must not keep it shut
        raise
    except QuoteFailure as failure:
        state.record_call(
            endpoint.code,
            (time.perf_counter() - started) * 1000,
            ok=False,
            distributor_id=endpoint.distributor_id,
        )
        await state.call_failed(endpoint.distributor_id, endpoint.code)
        for key in keys:
            results[key] = Outcome(endpoint.distributor_id, failure=failure.reason)
        if on_done is not None:
            on_done()
        return
    finally:
        if on_its_way is not None:
            on_its_way()  # answered, or failed before anything was sent: nothing left to wait for
    state.record_call(
        endpoint.code, (time.perf_counter() - started) * 1000, ok=True, distributor_id=endpoint.distributor_id
    )
    await state.call_succeeded(endpoint.distributor_id, permit)
    lines = [answer.lines[AskedLine(key.sku, key.quantity)] for key in keys]
    for key, line in zip(keys, lines, strict=True):
        results[key] = Outcome(endpoint.distributor_id, line=line, valid_until=answer.valid_until)
    if on_done is not None:
        on_done()
    ttl = settings.cache_seconds
    if answer.valid_until is not None:
        ttl = min(ttl, (answer.valid_until - datetime.now(UTC)).total_seconds())
    if ttl > 0:
        kept = [(_cache_key(key), line) for key, line in zip(keys, lines, strict=True)]
        await state.cache.put_many(kept, answer.valid_until, ttl)
