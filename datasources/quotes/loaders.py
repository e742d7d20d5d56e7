"""Per-request loaders of quotes: rows by key, and the live offers fan-out keyed by OfferKey."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from datasources.db import RequestDatabase
from datasources.loading import Loader, many_per_key, one_per_key
from datasources.partners.endpoints import EndpointPolicy
from datasources.partners.queries import hub_policy
from datasources.quotes.clients import Endpoint
from datasources.quotes.fanout import FanOutSettings, OfferKey, Outcome, fan_out
from datasources.quotes.models import (
    DistributorQuote,
    DistributorQuoteLine,
    QuoteRequest,
    QuoteRequestDistributor,
    QuoteRequestItem,
)
from datasources.quotes.queries import askable_distributors, live_endpoints
from datasources.quotes.state import QuoteState


@dataclass
class QuoteLoaders:
    request_by_id: Loader
    quote_by_id: Loader
    items_by_request_id: Loader
    quotes_by_request_id: Loader
    lines_by_quote_id: Loader
    distributor_ids_by_request_id: Loader
    askable_distributors_by_reseller_id: Loader
    """Key 0: the staff's view (every approved distributor)."""
    live_endpoints_by_distributor_id: Loader
    """The Endpoint of an APPROVED distributor with a live service, else None."""
    fan_out_settings: Loader
    """Key 0 (the one key): the deadline and cache time, from the hub policy."""
    offers: Loader
    """OfferKey -> Outcome: one quote call per distributor per batch."""
    calls: CallsOnTheirWay
    """The offers batches whose calls are not all on their way yet."""
    offers_at_once: Callable[..., Awaitable[list[Outcome]]]
    """The offers loader's batch, called directly (QuoteLoaders.ask_at_once)."""

    async def ask_at_once(
        self, keys: list[OfferKey], on_answered: Callable[[dict[OfferKey, Outcome]], None]
    ) -> list[Outcome]:
        """The offers of keys a request asks once, in key order: the loader's batch without the loader.

        A quote request's lines go out once, fresh, under the request's own id: nothing to share
        with another field of the operation. Through the loader each key cost a future and a cache
        entry, about 3 ms for the 1,500 keys of 300 lines to five distributors, all of it before
        the first call left. `on_answered`: as fan_out's, each distributor's outcomes as they come.
        """
        return await self.offers_at_once(keys, on_answered)

    async def ready_to_fan_out(self, distributor_ids: list[int]) -> None:
        """Load what a batch of offers from these distributors needs, so that its calls go out at once."""
        endpoints = self.live_endpoints_by_distributor_id.load_many(distributor_ids)
        settings = self.fan_out_settings.load(0)
        await endpoints
        await settings

    @classmethod
    def create(
        cls,
        db: RequestDatabase,
        http: httpx.AsyncClient,
        state: QuoteState,
        endpoint_policy: EndpointPolicy | None = None,
    ) -> QuoteLoaders:
        async def requests(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(QuoteRequest).where(QuoteRequest.id.in_(ids)))

        async def quotes(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(select(DistributorQuote).where(DistributorQuote.id.in_(ids)))

        async def items(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(QuoteRequestItem)
                .where(QuoteRequestItem.request_id.in_(ids))
                .order_by(QuoteRequestItem.request_id, QuoteRequestItem.position)
            )

        async def quotes_of(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(DistributorQuote)
                .where(DistributorQuote.request_id.in_(ids))
                .order_by(DistributorQuote.request_id, DistributorQuote.id)
            )

        async def lines_of(ids):  # type: ignore[no-untyped-def]
            return await db.scalars(
                select(DistributorQuoteLine)
                .where(DistributorQuoteLine.quote_id.in_(ids))
                .order_by(DistributorQuoteLine.quote_id, DistributorQuoteLine.position)
            )

        async def targets_of(ids):  # type: ignore[no-untyped-def]
            return await db.all(
                select(QuoteRequestDistributor.request_id, QuoteRequestDistributor.distributor_id).where(
                    QuoteRequestDistributor.request_id.in_(ids)
                )
            )

        async def askable(reseller_ids: list[int]) -> list[list]:
            found: dict[int, list] = {r: [] for r in reseller_ids}
            for reseller_id, distributor in await askable_distributors(db, reseller_ids):
                found[reseller_id].append(distributor)
            return [found[r] for r in reseller_ids]

        async def endpoints_of(ids: list[int]) -> list[Endpoint | None]:
            found = await live_endpoints(db, ids)
            return [found.get(i) for i in ids]

        async def settings_of(keys: list[int]) -> list[FanOutSettings]:
            policy = await hub_policy(db)
            settings = FanOutSettings(
                deadline_s=policy.live_quote_timeout_ms / 1000,
                cache_seconds=policy.live_quote_cache_seconds,
                endpoint_policy=endpoint_policy,
            )
            return [settings for _ in keys]

        endpoints_by_id = Loader(batch_load_fn=endpoints_of)
        fan_out_settings = Loader(batch_load_fn=settings_of)

        calls = CallsOnTheirWay()

        async def offers(
            keys: list[OfferKey], on_answered: Callable[[dict[OfferKey, Outcome]], None] | None = None
        ) -> list[Outcome]:
            on_its_way = calls.batch_begun()  # first, before any await: see CallsOnTheirWay.wait
            try:
                # Both loaded already when the caller got ready (QuoteLoaders.ready_to_fan_out).
                ids = sorted({k.distributor_id for k in keys})
                endpoints = endpoints_by_id.load_many(ids)
                settings = fan_out_settings.load(0)
                found = {i: e for i, e in zip(ids, await endpoints, strict=True) if e is not None}
                return await fan_out(
                    keys,
                    found,
                    http=http,
                    state=state,
                    settings=await settings,
                    on_its_way=on_its_way,
                    on_answered=on_answered,
                )
            finally:
                on_its_way()

        target_pairs = many_per_key(targets_of, lambda row: row[0])

        async def distributor_ids(ids: list[int]) -> list[list[int]]:
            return [[d for _, d in rows] for rows in await target_pairs.batch_load_fn(ids)]

        return cls(
            request_by_id=one_per_key(requests, lambda r: r.id),
            quote_by_id=one_per_key(quotes, lambda q: q.id),
            items_by_request_id=many_per_key(items, lambda i: i.request_id),
            quotes_by_request_id=many_per_key(quotes_of, lambda q: q.request_id),
            lines_by_quote_id=many_per_key(lines_of, lambda line: line.quote_id),
            distributor_ids_by_request_id=Loader(batch_load_fn=distributor_ids),
            askable_distributors_by_reseller_id=Loader(batch_load_fn=askable),
            live_endpoints_by_distributor_id=endpoints_by_id,
            fan_out_settings=fan_out_settings,
            offers=Loader(batch_load_fn=offers, max_batch_size=None),
            calls=calls,
            offers_at_once=offers,
        )


class CallsOnTheirWay:
    """A request's offers batches, and whether each one's calls are all on their way to the distributors."""

    def __init__(self) -> None:
        self._pending: list[asyncio.Event] = []

    def batch_begun(self) -> Callable[[], None]:
        """A batch begins; it calls what this returns once its calls wait on the network."""
        event = asyncio.Event()
        self._pending.append(event)
        return event.set

    async def wait(self, limit_s: float) -> None:
        """Until every batch begun so far, or dispatched just before, has its calls on their way.

        A batch dispatched (Loader.dispatch) takes its first step on the event loop's next turn,
        and registers itself there before any await of its own: hence the one turn given first.
        Never longer than `limit_s`: a call that cannot even start sending is the fan-out's to time out.
        """
        await asyncio.sleep(0)
        self._pending = [event for event in self._pending if not event.is_set()]
        if self._pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit_s):
                    for event in list(self._pending):
                        await event.wait()
