"""The outbox table: one row per piece of work that leaves the hub, written with the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

OUTBOX_STATUSES = ("PENDING", "DONE", "FAILED")
"""PENDING until delivered (retried with backoff), DONE once delivered, FAILED when a message with a
`max_attempts` ran out of them (e-mail); purchase orders have none and stay PENDING until answered."""


class OutboxMessage(Base):
    """Work to deliver at least once: an e-mail, a purchase order to a distributor's service."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    """Which deliverer takes it: `email`, `purchase_order`, …"""
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    """Unique: enqueuing the same work twice keeps one message; the receiver sees it on every retry."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The worker's one question: what is due now?
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )
