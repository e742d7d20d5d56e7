"""The outbox's `purchase_order` deliverer: a purchase order to its distributor's live service.

GRAPHQL_SUBGRAPH services get the contract's `placeOrder` mutation, REST_JSON
ones a POST of the PurchaseOrderInput to their quote endpoint + `/orders`,
through the quote clients (datasources/quotes/clients.py) and so through the
same endpoint policy and credential. The answer makes the order CONFIRMED or
REJECTED. A service without `placeOrder`, a distributor that is no longer
live, or an order its rep answered meanwhile in the proxy store ends the
delivery (DONE) with the order left as it is. Anything else (network errors,
5xx, timeouts, answers that break the contract) is tried again with backoff,
for as long as it takes: purchase orders have no `max_attempts`.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.db import standalone_database
from datasources.outbox.worker import ClaimedMessage, Deliverer, Outcome, Record, utcnow
from datasources.partners.endpoints import EndpointPolicy
from datasources.plaza.models import PurchaseOrder
from datasources.quotes.clients import OrderNotTaken, place_order
from datasources.quotes.contract import QuoteFailure
from datasources.quotes.queries import live_endpoints


def _count_attempt(purchase_order_id: int) -> Record:
    async def record(session: AsyncSession) -> None:
        await session.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == purchase_order_id)
            .values(delivery_attempts=PurchaseOrder.delivery_attempts + 1)
        )

    return record


def _answer(purchase_order_id: int, result: dict[str, Any]) -> Record:
    count = _count_attempt(purchase_order_id)

    async def record(session: AsyncSession) -> None:
        await count(session)
        accepted = result["accepted"]
        await session.execute(
            update(PurchaseOrder)
            # A rep's answer in the proxy store, given while the service was unreachable, stands.
            .where(PurchaseOrder.id == purchase_order_id, PurchaseOrder.status == "SUBMITTED")
            .values(
                status="CONFIRMED" if accepted else "REJECTED",
                distributor_reference=(result.get("reference") or None) if accepted else None,
                reason=None
                if accepted
                else (result.get("reason") or "rejected by the distributor's service"),
                answered_at=utcnow(),
            )
        )

    return record


def purchase_order_payload(order: PurchaseOrder, order_input: dict[str, Any]) -> dict[str, Any]:
    """The outbox payload: which order, to whom, and the PurchaseOrderInput sent as it was on submission."""
    return {"purchaseOrderId": order.id, "distributorId": order.distributor_id, "order": order_input}


def purchase_order_deliverer(
    http: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    endpoint_policy: EndpointPolicy,
    *,
    timeout_s: float,
) -> Deliverer:
    """Deliver outbox messages of kind `purchase_order` (see the module docstring)."""

    async def deliver(message: ClaimedMessage) -> Outcome:
        payload = message.payload
        order_id, distributor_id = int(payload["purchaseOrderId"]), int(payload["distributorId"])
        async with standalone_database(session_factory) as db:
            status = await db.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == order_id))
            # Read now, not at submission: a changed endpoint or credential applies to the next try.
            endpoint = (await live_endpoints(db, [distributor_id])).get(distributor_id)
        if status != "SUBMITTED" or endpoint is None:
            return Outcome.delivered()  # answered already, or waits in the proxy store
        try:
            result = await place_order(
                http, endpoint, payload["order"], deadline_s=timeout_s, endpoint_policy=endpoint_policy
            )
        except OrderNotTaken as not_taken:
            return Outcome(
                done=True, error=f"{endpoint.code} {not_taken.reason}", record=_count_attempt(order_id)
            )
        except QuoteFailure as failure:
            return Outcome.retry(f"{endpoint.code} {failure.reason}", record=_count_attempt(order_id))
        return Outcome.delivered(record=_answer(order_id, result))

    return deliver
