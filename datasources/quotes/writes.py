"""Writes of quote requests and quotes, inside a mutation's unit of work (an AsyncSession).

Accepting is the one contended write: it is a conditional UPDATE whose row count
says who won, so two concurrent accepts on one request cannot both succeed on
either database (PostgreSQL re-checks the WHERE after the first commits; SQLite
serialises writers, and the UPDATE is the unit's first statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.quotes.contract import OfferedLine
from datasources.quotes.models import (
    OPEN_FOR_ACCEPTANCE,
    DistributorQuote,
    DistributorQuoteLine,
    QuoteRequest,
    QuoteRequestDistributor,
    QuoteRequestItem,
)


@dataclass(frozen=True)
class QuoteAnswer:
    """What to store as one distributor's quote."""

    distributor_id: int
    status: str
    source: str
    lines: Sequence[OfferedLine]
    valid_until: datetime | None
    failure: str | None


async def insert_request(
    session: AsyncSession,
    *,
    reseller_id: int,
    user_id: int | None,
    currency: str,
    items: Sequence[tuple[str, int]],
    distributor_ids: Sequence[int],
    now: datetime,
    expires_at: datetime,
) -> QuoteRequest:
    request = await insert_request_head(
        session, reseller_id=reseller_id, user_id=user_id, currency=currency, now=now, expires_at=expires_at
    )
    await insert_request_lines(session, request.id, items, distributor_ids)
    return request


async def insert_request_head(
    session: AsyncSession,
    *,
    reseller_id: int,
    user_id: int | None,
    currency: str,
    now: datetime,
    expires_at: datetime,
) -> QuoteRequest:
    """The request's own row, flushed: its id is known (insert_request_lines writes the rest)."""
    request = QuoteRequest(
        reseller_id=reseller_id,
        status="OPEN",
        currency=currency,
        created_by_user_id=user_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(request)
    await session.flush()
    return request


async def insert_request_lines(
    session: AsyncSession, request_id: int, items: Sequence[tuple[str, int]], distributor_ids: Sequence[int]
) -> None:
    """A request's items and the distributors it goes to."""
    # Core executemany on the tables: a request holds up to 500 lines, and the ORM's bulk insert would
    # split the batch wherever a None appears (it leaves None keys out), costing a statement per run.
    if items:
        await session.execute(
            insert(QuoteRequestItem.__table__),
            [
                {"request_id": request_id, "position": i, "sku": sku, "quantity": q}
                for i, (sku, q) in enumerate(items)
            ],
        )
    if distributor_ids:
        await session.execute(
            insert(QuoteRequestDistributor.__table__),
            [{"request_id": request_id, "distributor_id": d} for d in distributor_ids],
        )


def quote_total(lines: Sequence[OfferedLine]) -> int | None:
    """The sum over available, priced lines (None when no line is)."""
    priced = [
        line.unit_price_minor * line.quantity
        for line in lines
        if line.available and line.unit_price_minor is not None
    ]
    return sum(priced) if priced else None


async def store_answer(
    session: AsyncSession,
    request: QuoteRequest,
    answer: QuoteAnswer,
    now: datetime,
    *,
    replaceable: tuple[str, ...],
) -> DistributorQuote | None:
    """Store (or replace) a distributor's quote; None when its stored quote's status is not replaceable."""
    return (await store_answers(session, request, [answer], now, replaceable=replaceable))[0]


async def store_answers(
    session: AsyncSession,
    request: QuoteRequest,
    answers: Sequence[QuoteAnswer],
    now: datetime,
    *,
    replaceable: tuple[str, ...],
) -> list[DistributorQuote | None]:
    """`store_answer` for several distributors at once, in a fixed number of statements.

    A live request's five answers of 300 lines each cost ~18 ms stored one by one (a lookup, a
    flush and an insert per distributor); this stores them with one of each.
    """
    stored_quotes = {
        quote.distributor_id: quote
        for quote in await session.scalars(
            select(DistributorQuote).where(
                DistributorQuote.request_id == request.id,
                DistributorQuote.distributor_id.in_([a.distributor_id for a in answers]),
            )
        )
    }
    replaced = [quote.id for quote in stored_quotes.values() if quote.status in replaceable]
    if replaced:
        await session.execute(delete(DistributorQuoteLine).where(DistributorQuoteLine.quote_id.in_(replaced)))
    quotes: list[DistributorQuote | None] = []
    for answer in answers:
        quote = stored_quotes.get(answer.distributor_id)
        if quote is not None and quote.status not in replaceable:
            quotes.append(None)
            continue
        if quote is None:
            quote = DistributorQuote(request_id=request.id, distributor_id=answer.distributor_id)
            session.add(quote)
        quote.status = answer.status
        quote.source = answer.source
        quote.currency = request.currency
        quote.total_minor = quote_total(answer.lines) if answer.status == "OFFERED" else None
        quote.valid_until = answer.valid_until
        quote.failure = answer.failure
        quote.answered_at = now
        quotes.append(quote)
    await session.flush()
    lines = [
        {
            "quote_id": quote.id,
            "position": i,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
            "available": line.available,
            "available_quantity": line.available_quantity,
            "lead_time_days": line.lead_time_days,
        }
        for quote, answer in zip(quotes, answers, strict=True)
        if quote is not None
        for i, line in enumerate(answer.lines)
    ]
    if lines:
        await session.execute(insert(DistributorQuoteLine.__table__), lines)
    return quotes


async def mark_quoted(session: AsyncSession, request_id: int) -> None:
    """OPEN becomes QUOTED once one quote is OFFERED."""
    offered = select(DistributorQuote.id).where(
        DistributorQuote.request_id == request_id, DistributorQuote.status == "OFFERED"
    )
    await session.execute(
        update(QuoteRequest)
        .where(QuoteRequest.id == request_id, QuoteRequest.status == "OPEN", offered.exists())
        .values(status="QUOTED")
    )


async def claim_acceptance(session: AsyncSession, quote_id: int, now: datetime) -> bool:
    """Move the quote's request to ACCEPTED if it is still open for acceptance; True for the one winner."""
    request_of_quote = (
        select(DistributorQuote.request_id).where(DistributorQuote.id == quote_id).scalar_subquery()
    )
    result = await session.execute(
        update(QuoteRequest)
        .where(
            QuoteRequest.id == request_of_quote,
            QuoteRequest.status.in_(OPEN_FOR_ACCEPTANCE),
            or_(QuoteRequest.expires_at.is_(None), QuoteRequest.expires_at > now),
        )
        .values(status="ACCEPTED", accepted_quote_id=quote_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def accept_offered_quote(session: AsyncSession, quote_id: int, request_id: int, now: datetime) -> bool:
    """The quote becomes ACCEPTED (if OFFERED and unexpired) and the request's other quotes DECLINED."""
    result = await session.execute(
        update(DistributorQuote)
        .where(
            DistributorQuote.id == quote_id,
            DistributorQuote.status == "OFFERED",
            or_(DistributorQuote.valid_until.is_(None), DistributorQuote.valid_until > now),
        )
        .values(status="ACCEPTED")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    await session.execute(
        update(DistributorQuote)
        .where(DistributorQuote.request_id == request_id, DistributorQuote.id != quote_id)
        .values(status="DECLINED")
        .execution_options(synchronize_session=False)
    )
    return True


async def cancel_request(session: AsyncSession, request_id: int) -> bool:
    result = await session.execute(
        update(QuoteRequest)
        .where(QuoteRequest.id == request_id, QuoteRequest.status.in_(OPEN_FOR_ACCEPTANCE))
        .values(status="CANCELLED")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
