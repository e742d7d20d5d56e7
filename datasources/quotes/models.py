"""SQLAlchemy models of quote requests and the distributors' quotes that answer them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

REQUEST_STATUSES = ("OPEN", "QUOTED", "ACCEPTED", "CANCELLED")
"""Stored statuses; EXPIRED is read from `expires_at`, never stored."""
OPEN_FOR_ACCEPTANCE = ("OPEN", "QUOTED")
QUOTE_STATUSES = ("OFFERED", "UNAVAILABLE", "ACCEPTED", "DECLINED")
"""Stored statuses; an OFFERED quote past `valid_until` reads as EXPIRED."""
QUOTE_SOURCES = ("LIVE", "MANUAL")


class QuoteRequest(Base):
    """A reseller's request for quotes on a list of (SKU, quantity) items, in one currency."""

    __tablename__ = "quote_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="OPEN")
    currency: Mapped[str] = mapped_column(String(3))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_quote_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_quote_requests_status_id", "status", "id"),)


class QuoteRequestItem(Base):
    """One line of a quote request, after categories and groups were expanded into products."""

    __tablename__ = "quote_request_items"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("quote_requests.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)


class QuoteRequestDistributor(Base):
    """A distributor a quote request was sent to (live or manual)."""

    __tablename__ = "quote_request_distributors"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("quote_requests.id", ondelete="CASCADE"), primary_key=True
    )
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributors.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DistributorQuote(Base):
    """One distributor's answer to a quote request: at most one per (request, distributor)."""

    __tablename__ = "distributor_quotes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("quote_requests.id", ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("uq_distributor_quotes_request_distributor", "request_id", "distributor_id", unique=True),
    )


class DistributorQuoteLine(Base):
    """One line of a distributor's quote, exactly as the distributor gave it (price in minor units)."""

    __tablename__ = "distributor_quote_lines"

    quote_id: Mapped[int] = mapped_column(
        ForeignKey("distributor_quotes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    available: Mapped[bool] = mapped_column(Boolean)
    available_quantity: Mapped[int | None] = mapped_column(Integer)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
