"""SQLAlchemy models of users, resellers, distributors and hub policies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

ROLES = (
    "SITE_ADMIN",
    "CATALOG_MANAGER",
    "CHANNEL_MANAGER",
    "MARKETING_MANAGER",
    "CUSTOMER_SERVICE",
    "RESELLER_ADMIN",
    "DISTRIBUTOR_REP",
    "CUSTOMER",
)
STAFF_ROLES = frozenset(
    {"SITE_ADMIN", "CATALOG_MANAGER", "CHANNEL_MANAGER", "MARKETING_MANAGER", "CUSTOMER_SERVICE"}
)
PARTNER_STATUSES = ("PENDING", "APPROVED", "REJECTED", "SUSPENDED")
QUOTE_TRANSPORTS = ("GRAPHQL_SUBGRAPH", "REST_JSON", "MANUAL")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributors.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reseller(Base):
    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="PENDING", index=True)
    region: Mapped[str | None] = mapped_column(String(64))
    contact_email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ResellerStatusChange(Base):
    """Who moved a reseller from one status to another, when and why."""

    __tablename__ = "reseller_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_by_email: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Distributor(Base):
    __tablename__ = "distributors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="APPROVED", index=True)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    quote_transport: Mapped[str] = mapped_column(String(32))
    quote_endpoint: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DistributorCredential(Base):
    """The auth header value the hub sends with quote calls: write-only, kept apart from Distributor."""

    __tablename__ = "distributor_credentials"

    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributors.id", ondelete="CASCADE"), primary_key=True
    )
    header_name: Mapped[str] = mapped_column(String(100), default="Authorization")
    header_value: Mapped[str] = mapped_column(Text)


class ResellerDistributor(Base):
    """A reseller may ask this distributor for quotes."""

    __tablename__ = "reseller_distributors"

    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributors.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HubPolicy(Base):
    """The hub-wide policies: one row, id 1."""

    __tablename__ = "hub_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    reseller_approval: Mapped[str] = mapped_column(String(16), default="MANUAL")
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    currencies: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["USD", "EUR"])
    quote_validity_hours: Mapped[int] = mapped_column(Integer, default=72)
    live_quote_timeout_ms: Mapped[int] = mapped_column(Integer, default=1500)
    live_quote_cache_seconds: Mapped[int] = mapped_column(Integer, default=30)
    payment_methods: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["INVOICE", "CREDIT_CARD"])
    attribution_window_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    """Marketing: an order is credited to a campaign touched at most this many days before checkout."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
