"""The outbox worker: claims due messages, hands each to the deliverer of its kind, records the outcome.

How several hub processes share the work without sending anything twice:

1. **Claim** (one short write transaction): the due PENDING messages
   (`next_attempt_at <= now`), oldest first, are locked — on PostgreSQL with
   `FOR UPDATE SKIP LOCKED`, so two processes claiming at once take different
   rows; on SQLite the claim is a write transaction (BEGIN IMMEDIATE), so
   claims take turns — and their `next_attempt_at` is pushed to the end of a
   *lease* (now + `HUB_OUTBOX_LEASE_SECONDS`). That new time is the claim's
   token: nobody else sees the message as due while it is being delivered,
   and a process that crashed mid-delivery gives it back when the lease ends.
2. **Deliver**, outside any transaction (an SMTP server or a distributor may be
   slow): the deliverer registered for the message's `kind` answers an
   `Outcome`.
3. **Record** (one short write transaction, only if the lease is still ours):
   DONE, or `attempts + 1` and the next try after an exponential backoff
   (`HUB_OUTBOX_RETRY_BASE_SECONDS`, doubling, capped at
   `HUB_OUTBOX_RETRY_MAX_SECONDS`, ±10 % jitter so retries of many messages
   spread out), or FAILED once a message with `max_attempts` used them all.
   The outcome's own writes (a purchase order CONFIRMED) commit with it.

Delivery is at least once: a process killed between delivering and recording
delivers again after the lease, so receivers see the idempotency key (a
purchase order's number, an e-mail's Message-ID) and treat a repeat as one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.db import WRITE_TRANSACTION
from datasources.outbox.models import OutboxMessage

log = logging.getLogger("hub.outbox")

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class ClaimedMessage:
    """A message as the deliverer sees it: a snapshot, detached from any session."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    """Tries before this one."""
    max_attempts: int | None
    lease_until: datetime


Record = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """What a delivery came to: `done`, or not (retried later, `error` says why).

    `record` writes the delivery's consequences (a purchase order answered, its
    attempts counted) in the transaction that records the outcome, so both
    commit together or not at all.
    """

    done: bool
    error: str | None = None
    record: Record | None = None

    @classmethod
    def delivered(cls, record: Record | None = None) -> Outcome:
        return cls(done=True, record=record)

    @classmethod
    def retry(cls, error: str, record: Record | None = None) -> Outcome:
        return cls(done=False, error=error, record=record)


Deliverer = Callable[[ClaimedMessage], Awaitable[Outcome]]


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    max_seconds: float = 300.0
    jitter: float = 0.1

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds until the next try after `attempts` failed ones: base, doubling, capped, jittered."""
        raw = min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds)
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return min(raw * (1 + spread), self.max_seconds)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; the hub writes them in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Doorbell:
    """Rung after a commit that enqueued something, so the worker starts at once instead of at its next poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            pass
        self._event.clear()


# ---------------------------------------------------------------- claim and record


async def _begin_write(session: AsyncSession) -> None:
    await session.connection(execution_options=WRITE_TRANSACTION)


def _due(now: datetime) -> Any:
    return (OutboxMessage.status == "PENDING") & (OutboxMessage.next_attempt_at <= now)


async def claim_due(
    session_factory: async_sessionmaker[AsyncSession], *, limit: int, lease_seconds: float
) -> list[ClaimedMessage]:
    """Take up to `limit` due messages for this process until the lease ends (see the module docstring)."""
    now = utcnow()
    async with session_factory() as session:
        # A plain read first: an idle outbox costs no write lock (SQLite has one for the whole file).
        if await session.scalar(select(OutboxMessage.id).where(_due(now)).limit(1)) is None:
            return []
        await session.commit()
        async with session.begin():
            await _begin_write(session)
            lease_until = utcnow() + timedelta(seconds=lease_seconds)
            statement = (
                select(OutboxMessage)
                .where(_due(now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
            if session.bind.dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            rows = (await session.scalars(statement)).all()
            if not rows:
                return []
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(next_attempt_at=lease_until)
            )
            return [
                ClaimedMessage(
                    id=r.id,
                    kind=r.kind,
                    idempotency_key=r.idempotency_key,
                    payload=dict(r.payload),
                    attempts=r.attempts,
                    max_attempts=r.max_attempts,
                    lease_until=lease_until,
                )
                for r in rows
            ]


async def record_outcome(
    session_factory: async_sessionmaker[AsyncSession],
    message: ClaimedMessage,
    outcome: Outcome,
    retry: RetryPolicy,
) -> str | None:
    """Write what the delivery came to; the new status, or None when the lease was lost meanwhile."""
    attempts = message.attempts + 1
    now = utcnow()
    if outcome.done:
        values: dict[str, Any] = {"status": "DONE", "done_at": now, "last_error": None}
    elif message.max_attempts is not None and attempts >= message.max_attempts:
        values = {"status": "FAILED", "done_at": now}
    else:
        values = {"next_attempt_at": now + timedelta(seconds=retry.delay(attempts))}
    values["attempts"] = attempts
    if outcome.error is not None:
        values["last_error"] = outcome.error[:MAX_ERROR_LENGTH]
    async with session_factory() as session, session.begin():
        await _begin_write(session)
        # The lease's end is the claim's token: if it changed, another process has the message now.
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.status == "PENDING",
                OutboxMessage.next_attempt_at == message.lease_until,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            log.warning("outbox message %s: lease lost before its outcome was recorded", message.id)
            await session.rollback()
            return None
        if outcome.record is not None:
            await outcome.record(session)
    return values.get("status", "PENDING")


# ---------------------------------------------------------------- what the metrics read


async def outbox_depth(session: AsyncSession, kind: str | None = None) -> int:
    """PENDING messages (due or waiting for a retry)."""
    statement = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "PENDING")
    if kind is not None:
        statement = statement.where(OutboxMessage.kind == kind)
    return int(await session.scalar(statement) or 0)


async def oldest_pending_age_seconds(session: AsyncSession, now: datetime | None = None) -> float:
    """How long the oldest PENDING message has waited; 0 when none waits."""
    created = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "PENDING")
    )
    if created is None:
        return 0.0
    return max(((now or utcnow()) - _as_utc(created)).total_seconds(), 0.0)


# ---------------------------------------------------------------- the worker


@dataclass
class WorkerStats:
    """Counters since start, for logs and metrics."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    lost_leases: int = 0


@dataclass
class OutboxWorker:
    """The background task that empties the outbox; `start()` in the app's lifespan, `stop()` at its end."""

    session_factory: async_sessionmaker[AsyncSession]
    deliverers: Mapping[str, Deliverer]
    doorbell: Doorbell = field(default_factory=Doorbell)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_seconds: float = 1.0
    lease_seconds: float = 120.0
    batch_size: int = 20
    stats: WorkerStats = field(default_factory=WorkerStats)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="hub-outbox-worker")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Finish the deliveries under way (for at most `grace_seconds`), then end; an unfinished one's
        lease brings it back to whichever process runs next."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self.doorbell.ring()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        except TimeoutError:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be briefly away (a restart): wait a poll and try again.
                log.exception("outbox worker: a round failed")
                busy = 0
            if self._stopping:
                break
            if busy < self.batch_size:
                await self.doorbell.wait(self.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; how many messages it held."""
        claimed = await claim_due(
            self.session_factory, limit=self.batch_size, lease_seconds=self.lease_seconds
        )
        if not claimed:
            return 0
        self.stats.claimed += len(claimed)
        await asyncio.gather(*(self._deliver(message) for message in claimed))
        return len(claimed)

    async def _deliver(self, message: ClaimedMessage) -> None:
        deliverer = self.deliverers.get(message.kind)
        if deliverer is None:
            outcome = Outcome.retry(f"no deliverer for kind {message.kind!r} in this process")
        else:
            try:
                outcome = await deliverer(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a deliverer's bug must not stop the worker
                log.exception("outbox message %s (%s): delivery raised", message.id, message.kind)
                outcome = Outcome.retry(f"delivery raised {type(error).__name__}")
        status = await record_outcome(self.session_factory, message, outcome, self.retry)
        if status is None:
            self.stats.lost_leases += 1
        elif status == "DONE":
            self.stats.delivered += 1
        elif status == "FAILED":
            self.stats.failed += 1
            log.warning("outbox message %s (%s) FAILED: %s", message.id, message.kind, outcome.error)
        else:
            self.stats.retried += 1
