"""The request-for-quote workflow: request, ask the live distributors, respond, accept, cancel, refresh.

A request is written in two units of work with the distributors asked in
between, so no transaction (and on SQLite no write lock) is held while the hub
waits on the network: the first stores the request, its items and the
distributors it goes to; the second stores each live distributor's answer. A
live distributor whose answer never got stored (a crash in between) has no
quote, and `refreshQuotes` asks it again like an UNAVAILABLE one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import Category, ProductGroup
from datasources.money import MAX_AMOUNT, to_minor
from datasources.partners.models import Distributor, HubPolicy, Reseller
from datasources.quotes import queries
from datasources.quotes.clients import LIVE_TRANSPORTS
from datasources.quotes.contract import OfferedLine
from datasources.quotes.fanout import OfferKey, Outcome
from datasources.quotes.loaders import QuoteLoaders
from datasources.quotes.models import (
    OPEN_FOR_ACCEPTANCE,
    DistributorQuote,
    QuoteRequest,
    QuoteRequestDistributor,
    QuoteRequestItem,
)
from datasources.quotes.writes import (
    QuoteAnswer,
    accept_offered_quote,
    cancel_request,
    claim_acceptance,
    insert_request_head,
    insert_request_lines,
    mark_quoted,
    store_answer,
    store_answers,
)
from resolvers.access import Viewer, can_act_for_reseller, can_refresh_quotes, can_see_quote
from resolvers.errors import UserErrors
from resolvers.quotes.reads import as_utc, quote_status, request_status

MAX_LINES = 500
"""Lines of a request after categories and groups are expanded."""
MAX_INPUT_ITEMS = 500
MAX_QUANTITY = 1_000_000


@dataclass
class QuoteItemData:
    quantity: int
    sku: str | None = None
    category_code: str | None = None
    group_code: str | None = None


@dataclass
class RequestQuoteData:
    items: list[QuoteItemData]
    currency: str | None = None
    distributor_codes: list[str] | None = None


@dataclass
class QuoteLineData:
    sku: str
    quantity: int
    available: bool
    unit_price: Decimal | None = None
    available_quantity: int | None = None
    lead_time_days: int | None = None


@dataclass
class LiveAsk:
    """What the second step needs: which live distributors to ask about which lines."""

    request_id: int
    currency: str
    reseller_code: str | None
    items: list[tuple[str, int]]
    distributor_ids: list[int]


@dataclass
class Result:
    errors: UserErrors = field(default_factory=UserErrors)
    request_id: int | None = None
    quote_id: int | None = None
    ask: LiveAsk | None = None


# ---------------------------------------------------------------- requestQuote


async def create_request(
    session: AsyncSession,
    viewer: Viewer,
    policy: HubPolicy,
    data: RequestQuoteData,
    now: datetime,
    start_asking: Callable[[LiveAsk], Awaitable[None]] | None = None,
) -> Result:
    """Validate and expand the items, store the request; the live distributors are asked after.

    `start_asking`, when given, is awaited with the LiveAsk once the input is valid and the request
    has its id, before its lines are written: the caller may start the calls to the distributors
    then (they need the id, nothing else of the stored request), so that writing a few hundred
    lines and committing happen while the distributors work. If the unit then fails, the caller
    cancels what it started; the distributors were asked about a request that never was, which
    costs them a quote and the hub nothing.
    """
    result = Result()
    errors = result.errors
    if viewer.reseller_id is None:
        errors.add("NOT_A_RESELLER", "Only a reseller's users request quotes.")
        return result
    currency = data.currency or policy.default_currency
    if currency not in policy.currencies:
        errors.add(
            "UNKNOWN_CURRENCY",
            f"{currency} is not one of the hub's currencies ({', '.join(policy.currencies)}).",
            "input",
            "currency",
        )
    distributors = await _chosen_distributors(session, viewer.reseller_id, data.distributor_codes, errors)
    items = await _expand_items(session, data.items, errors)
    if errors:
        return result
    request = await insert_request_head(
        session,
        reseller_id=viewer.reseller_id,
        user_id=viewer.user_id,
        currency=currency,
        now=now,
        expires_at=now + timedelta(hours=policy.quote_validity_hours),
    )
    result.request_id = request.id
    result.ask = LiveAsk(
        request_id=request.id,
        currency=currency,
        reseller_code=await _reseller_code(session, viewer.reseller_id),
        items=items,
        distributor_ids=[d.id for d in distributors if d.quote_transport in LIVE_TRANSPORTS],
    )
    if start_asking is not None:
        await start_asking(result.ask)
    await insert_request_lines(session, request.id, items, [d.id for d in distributors])
    return result


async def _reseller_code(session: AsyncSession, reseller_id: int) -> str | None:
    return await session.scalar(select(Reseller.code).where(Reseller.id == reseller_id))


async def _chosen_distributors(
    session: AsyncSession, reseller_id: int, codes: list[str] | None, errors: UserErrors
) -> list[Distributor]:
    connected = await queries.connected_distributors(session, reseller_id)
    if codes is None:
        if not connected:
            errors.add("NO_DISTRIBUTOR", "Your reseller is connected to no approved distributor.", "input")
        return connected
    by_code = {d.code: d for d in connected}
    chosen = []
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            errors.add("DUPLICATE", f"Distributor {code} is named twice.", "input", "distributorCodes", i)
        elif code not in by_code:
            errors.add(
                "NOT_FOUND",
                f"{code} is not an approved distributor connected to your reseller.",
                "input",
                "distributorCodes",
                i,
            )
        else:
            chosen.append(by_code[code])
        seen.add(code)
    if not codes:
        errors.add(
            "REQUIRED",
            "Name at least one distributor, or leave distributorCodes out.",
            "input",
            "distributorCodes",
        )
    return chosen


async def _expand_items(
    session: AsyncSession, items: Sequence[QuoteItemData], errors: UserErrors
) -> list[tuple[str, int]]:
    """(SKU, quantity) lines; a category or a group stands for each of its ACTIVE products.

    A SKU that comes again (named, and in a category too) keeps its first line.
    """
    if not items:
        errors.add("REQUIRED", "A quote request needs at least one item.", "input", "items")
        return []
    if len(items) > MAX_INPUT_ITEMS:
        errors.add("TOO_MANY", f"At most {MAX_INPUT_ITEMS} items per request.", "input", "items")
        return []
    named = [i.sku for i in items if i.sku]
    products = await queries.products_by_skus(session, named)
    categories = await queries.codes_present(
        session, Category, [i.category_code for i in items if i.category_code]
    )
    groups = await queries.codes_present(session, ProductGroup, [i.group_code for i in items if i.group_code])
    lines: dict[str, int] = {}
    for index, item in enumerate(items):
        given = [v for v in (item.sku, item.category_code, item.group_code) if v is not None]
        if len(given) != 1:
            errors.add(
                "INVALID_ITEM",
                "An item names exactly one of sku, categoryCode and groupCode.",
                "input",
                "items",
                index,
            )
            continue
        if not 1 <= item.quantity <= MAX_QUANTITY:
            errors.add(
                "INVALID_QUANTITY",
                f"A quantity is from 1 to {MAX_QUANTITY}.",
                "input",
                "items",
                index,
                "quantity",
            )
            continue
        skus = await _skus_of(session, item, index, products, categories, groups, errors)
        for sku in skus:
            lines.setdefault(sku, item.quantity)
        if len(lines) > MAX_LINES:
            errors.add(
                "TOO_MANY_LINES",
                f"The items expand into more than {MAX_LINES} products: split the request.",
                "input",
                "items",
            )
            return []
    return list(lines.items())


async def _skus_of(
    session: AsyncSession,
    item: QuoteItemData,
    index: int,
    products: dict,
    categories: set[str],
    groups: set[str],
    errors: UserErrors,
) -> list[str]:
    if item.sku is not None:
        product = products.get(item.sku)
        if product is None:
            errors.add("NOT_FOUND", f"No product has the SKU {item.sku}.", "input", "items", index, "sku")
            return []
        if product.status != "ACTIVE":
            errors.add("NOT_ACTIVE", f"{item.sku} is not an active product.", "input", "items", index, "sku")
            return []
        return [item.sku]
    if item.category_code is not None:
        if item.category_code not in categories:
            errors.add(
                "NOT_FOUND",
                f"No category has the code {item.category_code}.",
                "input",
                "items",
                index,
                "categoryCode",
            )
            return []
        skus = await queries.active_skus_of_category(session, item.category_code, MAX_LINES + 1)
        path = "categoryCode"
    else:
        assert item.group_code is not None
        if item.group_code not in groups:
            errors.add(
                "NOT_FOUND",
                f"No product group has the code {item.group_code}.",
                "input",
                "items",
                index,
                "groupCode",
            )
            return []
        skus = await queries.active_skus_of_group(session, item.group_code, MAX_LINES + 1)
        path = "groupCode"
    if not skus:
        errors.add("EMPTY", "This holds no active product.", "input", "items", index, path)
    return skus


# ---------------------------------------------------------------- asking live distributors


async def ask_live(
    loaders: QuoteLoaders, ask: LiveAsk, on_answered: Callable[[int, list[Outcome]], None]
) -> None:
    """One call per live distributor (all at once) for every line.

    `on_answered(distributor_id, outcomes)` is called for each distributor, its outcomes in item
    order, as soon as it has answered (or failed), before the others have.
    """
    keys_of = {
        d: [
            OfferKey(
                d, sku, quantity, ask.currency, ask.reseller_code, request_ref=str(ask.request_id), fresh=True
            )
            for sku, quantity in ask.items
        ]
        for d in ask.distributor_ids
    }

    def answered(outcomes: dict[OfferKey, Outcome]) -> None:
        distributor_id = next(iter(outcomes)).distributor_id
        on_answered(distributor_id, [outcomes[key] for key in keys_of[distributor_id]])

    keys = [key for d in ask.distributor_ids for key in keys_of[d]]
    if keys:
        await loaders.ask_at_once(keys, answered)


def live_answer(
    distributor_id: int, outcomes: list[Outcome], now: datetime, policy: HubPolicy
) -> QuoteAnswer:
    """A LIVE quote: OFFERED when some line is available, UNAVAILABLE (with why) otherwise."""
    failure = next((o.failure for o in outcomes if o.failure), None)
    if failure is not None or any(o.line is None for o in outcomes):
        return QuoteAnswer(distributor_id, "UNAVAILABLE", "LIVE", [], None, failure or "gave no answer")
    lines = [o.line for o in outcomes if o.line is not None]
    valid_until = next((o.valid_until for o in outcomes if o.valid_until), None)
    valid_until = valid_until or now + timedelta(hours=policy.quote_validity_hours)
    if not any(line.available for line in lines):
        return QuoteAnswer(
            distributor_id, "UNAVAILABLE", "LIVE", lines, valid_until, "has none of the lines available"
        )
    return QuoteAnswer(distributor_id, "OFFERED", "LIVE", lines, valid_until, None)


async def store_live_answers(
    session: AsyncSession, request_id: int, answers: Sequence[QuoteAnswer], now: datetime
) -> None:
    """Store what the live distributors said; never over a quote already OFFERED, ACCEPTED or DECLINED."""
    request = await session.get(QuoteRequest, request_id)
    if request is None or request.status not in OPEN_FOR_ACCEPTANCE:
        return  # cancelled or accepted while the distributors were asked
    await store_answers(session, request, answers, now, replaceable=("UNAVAILABLE",))
    await mark_quoted(session, request.id)


# ---------------------------------------------------------------- refreshQuotes


async def prepare_refresh(session: AsyncSession, viewer: Viewer, request_id: int, now: datetime) -> Result:
    """The live distributors to ask again: those whose quote is UNAVAILABLE, or that never answered."""
    result = Result(request_id=request_id)
    request = await session.get(QuoteRequest, request_id)
    if request is None or not can_refresh_quotes(viewer, request.reseller_id):
        result.errors.add("NOT_FOUND", "No quote request has this id.", "quoteRequestId")
        return result
    status = request_status(request, now)
    if status not in OPEN_FOR_ACCEPTANCE:
        result.errors.add(
            "INVALID_STATE", f"The quote request is {status}: nothing to refresh.", "quoteRequestId"
        )
        return result
    targets = list(
        await session.scalars(
            select(QuoteRequestDistributor.distributor_id).where(
                QuoteRequestDistributor.request_id == request_id
            )
        )
    )
    answered = {
        q.distributor_id: q.status
        for q in await session.scalars(
            select(DistributorQuote).where(DistributorQuote.request_id == request_id)
        )
    }
    live = set(
        await session.scalars(
            select(Distributor.id).where(
                Distributor.id.in_(targets),
                Distributor.status == "APPROVED",
                Distributor.quote_transport.in_(LIVE_TRANSPORTS),
            )
        )
    )
    items = list(
        await session.scalars(
            select(QuoteRequestItem)
            .where(QuoteRequestItem.request_id == request_id)
            .order_by(QuoteRequestItem.position)
        )
    )
    result.ask = LiveAsk(
        request_id=request_id,
        currency=request.currency,
        reseller_code=await _reseller_code(session, request.reseller_id),
        items=[(i.sku, i.quantity) for i in items],
        distributor_ids=sorted(d for d in live if answered.get(d, "UNAVAILABLE") == "UNAVAILABLE"),
    )
    return result


# ---------------------------------------------------------------- respondToQuoteRequest


async def respond(
    session: AsyncSession,
    viewer: Viewer,
    policy: HubPolicy,
    request_id: int | None,
    lines: Sequence[QuoteLineData],
    valid_until: datetime | None,
    now: datetime,
) -> Result:
    """A distributor's own answer, typed in the hub: stored as a MANUAL quote (over a live one if need be)."""
    result = Result(request_id=request_id)
    errors = result.errors
    distributor_id = viewer.distributor_id
    request = await session.get(QuoteRequest, request_id) if request_id is not None else None
    targets = (
        set(
            await session.scalars(
                select(QuoteRequestDistributor.distributor_id).where(
                    QuoteRequestDistributor.request_id == request.id
                )
            )
        )
        if request is not None
        else set()
    )
    if request is None or distributor_id is None or distributor_id not in targets:
        errors.add(
            "NOT_FOUND", "No quote request sent to your distributor has this id.", "input", "quoteRequestId"
        )
        return result
    status = request_status(request, now)
    if status not in OPEN_FOR_ACCEPTANCE:
        errors.add(
            "INVALID_STATE", f"The quote request is {status}: it takes no answer.", "input", "quoteRequestId"
        )
        return result
    items = {
        (i.sku, i.quantity)
        for i in await session.scalars(
            select(QuoteRequestItem).where(QuoteRequestItem.request_id == request.id)
        )
    }
    offered = _manual_lines(lines, items, request.currency, errors)
    until = (
        as_utc(valid_until) if valid_until is not None else now + timedelta(hours=policy.quote_validity_hours)
    )
    if until is not None and until <= now:
        errors.add("INVALID_DATE", "validUntil must be in the future.", "input", "validUntil")
    if errors:
        return result
    available = any(line.available for line in offered)
    answer = QuoteAnswer(
        distributor_id,
        "OFFERED" if available else "UNAVAILABLE",
        "MANUAL",
        offered,
        until,
        None if available else "has none of the lines available",
    )
    quote = await store_answer(session, request, answer, now, replaceable=("OFFERED", "UNAVAILABLE"))
    if quote is None:
        errors.add("INVALID_STATE", "Your quote was accepted or declined already.", "input", "quoteRequestId")
        return result
    await mark_quoted(session, request.id)
    result.quote_id = quote.id
    return result


def _manual_lines(
    lines: Sequence[QuoteLineData], items: set[tuple[str, int]], currency: str, errors: UserErrors
) -> list[OfferedLine]:
    if not lines:
        errors.add("REQUIRED", "An answer needs at least one line.", "input", "lines")
        return []
    if len(lines) > MAX_LINES:
        errors.add("TOO_MANY", f"At most {MAX_LINES} lines.", "input", "lines")
        return []
    seen: set[tuple[str, int]] = set()
    offered: list[OfferedLine] = []
    for index, line in enumerate(lines):
        path = ("input", "lines", index)
        key = (line.sku, line.quantity)
        if key not in items:
            errors.add("UNASKED_LINE", f"{line.sku} x {line.quantity} is not a line of this request.", *path)
            continue
        if key in seen:
            errors.add("DUPLICATE", f"{line.sku} x {line.quantity} is answered twice.", *path)
            continue
        seen.add(key)
        price = _price_minor(line, currency, errors, path)
        for name, value in (
            ("availableQuantity", line.available_quantity),
            ("leadTimeDays", line.lead_time_days),
        ):
            if value is not None and value < 0:
                errors.add("INVALID_NUMBER", f"{name} may not be negative.", *path, name)
        offered.append(
            OfferedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price_minor=price if line.available else None,
                available=line.available,
                available_quantity=line.available_quantity,
                lead_time_days=line.lead_time_days,
            )
        )
    return offered


def _price_minor(line: QuoteLineData, currency: str, errors: UserErrors, path: tuple) -> int | None:
    if line.unit_price is None:
        if line.available:
            errors.add("REQUIRED", "An available line needs a unitPrice.", *path, "unitPrice")
        return None
    amount = line.unit_price
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        errors.add("INVALID_AMOUNT", f"A unit price is from 0 to {MAX_AMOUNT}.", *path, "unitPrice")
        return None
    try:
        return to_minor(amount, currency)
    except ValueError as error:
        errors.add("INVALID_AMOUNT", str(error), *path, "unitPrice")
        return None


# ---------------------------------------------------------------- acceptQuote, cancelQuoteRequest


async def accept(session: AsyncSession, viewer: Viewer, quote_id: int | None, now: datetime) -> Result:
    """Accept one OFFERED, unexpired quote; exactly one of concurrent accepts on a request wins.

    The conditional UPDATE comes first (see datasources/quotes/writes.py); the
    caller vetoes the unit when this answers errors, so a loser writes nothing.
    """
    result = Result(quote_id=quote_id)
    errors = result.errors
    won = quote_id is not None and await claim_acceptance(session, quote_id, now)
    quote = await session.get(DistributorQuote, quote_id) if quote_id is not None else None
    request = await session.get(QuoteRequest, quote.request_id) if quote is not None else None
    if (
        quote is None
        or request is None
        or not can_see_quote(viewer, request.reseller_id, quote.distributor_id)
    ):
        errors.add("NOT_FOUND", "No quote has this id.", "id")
        return result
    result.request_id = request.id
    if not can_act_for_reseller(viewer, request.reseller_id):
        errors.add("NOT_FOUND", "No quote of your reseller has this id.", "id")
        return result
    if not won:
        await session.refresh(request)
        errors.add(
            "INVALID_STATE",
            f"The quote request is {request_status(request, now)}: it is no longer open for acceptance.",
            "id",
        )
        return result
    if not await accept_offered_quote(session, quote.id, request.id, now):
        status = quote_status(quote, now)
        code = "QUOTE_EXPIRED" if status == "EXPIRED" else "INVALID_STATE"
        errors.add(code, f"This quote is {status}: only an OFFERED, unexpired quote can be accepted.", "id")
    return result


async def cancel(session: AsyncSession, viewer: Viewer, request_id: int | None, now: datetime) -> Result:
    result = Result(request_id=request_id)
    request = await session.get(QuoteRequest, request_id) if request_id is not None else None
    if request is None or not can_act_for_reseller(viewer, request.reseller_id):
        result.errors.add("NOT_FOUND", "No quote request of your reseller has this id.", "id")
        return result
    status = request_status(request, now)
    if status not in OPEN_FOR_ACCEPTANCE or not await cancel_request(session, request.id):
        result.errors.add(
            "INVALID_STATE", f"The quote request is {status}: it can no longer be cancelled.", "id"
        )
    return result
