"""Putting work on the outbox, inside the caller's transaction: it is sent only if the change commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from datasources.outbox.models import OutboxMessage

EMAIL = "email"
PURCHASE_ORDER = "purchase_order"

DOORBELL = "outbox_doorbell"
"""Key of the session factory's `info` holding the worker's doorbell (hub_graphql/resources.py puts it)."""
_ENQUEUED = "outbox_enqueued"

EMAIL_MAX_ATTEMPTS = 8
"""An e-mail that still fails after this many tries is FAILED (a campaign counts it as failed)."""


async def enqueue(
    session: AsyncSession,
    kind: str,
    idempotency_key: str,
    payload: dict[str, Any],
    *,
    max_attempts: int | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the session's transaction; the same key twice keeps the first.

    The key is the delivery's idempotency key (a purchase order's number, an e-mail's reason and
    recipient), so a caller that enqueues the same work again (a retried request) adds nothing.
    """
    existing = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    message = OutboxMessage(
        kind=kind,
        idempotency_key=idempotency_key,
        payload=payload,
        status="PENDING",
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=datetime.now(UTC),
    )
    session.add(message)
    session.info[_ENQUEUED] = True
    return message


def ring_after_commit(session: AsyncSession) -> None:
    """For a writer that adds outbox rows in bulk rather than through `enqueue` (a campaign's
    e-mails): the worker is woken after the transaction commits, as `enqueue` does."""
    session.info[_ENQUEUED] = True


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    # The worker wakes once the message is visible to it, i.e. after the commit, not at enqueue().
    if session.info.pop(_ENQUEUED, False):
        doorbell = session.info.get(DOORBELL)
        if doorbell is not None:
            doorbell.ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)


async def enqueue_email(
    session: AsyncSession,
    idempotency_key: str,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage:
    """An e-mail, rendered now (what the change says is what is sent), delivered by the mail worker."""
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text}
    if html is not None:
        payload["html"] = html
    if headers:
        payload["headers"] = headers
    return await enqueue(session, EMAIL, idempotency_key, payload, max_attempts=EMAIL_MAX_ATTEMPTS)
