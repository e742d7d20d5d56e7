"""SQLAlchemy models of purchase orders: what a submitted plaza cart becomes, one per distributor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

PURCHASE_ORDER_STATUSES = ("SUBMITTED", "CONFIRMED", "REJECTED")


class PurchaseOrder(Base):
    """A reseller's order to one distributor at the prices of its accepted quotes."""

    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    """Printable, not guessable; also the idempotency key of its delivery to the distributor."""
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    cart_id: Mapped[str | None] = mapped_column(String(40), index=True)
    quote_request_id: Mapped[int | None] = mapped_column(Integer)
    """The accepted quote's request, where every line came from one (sent to the distributor)."""
    status: Mapped[str] = mapped_column(String(16), default="SUBMITTED")
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(320))
    distributor_reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(String(320))
    """The DISTRIBUTOR_REP who answered in the proxy store; null when the distributor's service did."""
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_purchase_orders_reseller_id_id", "reseller_id", "id"),
        Index("ix_purchase_orders_distributor_id_id", "distributor_id", "id"),
        Index("ix_purchase_orders_status_id", "status", "id"),
    )


class PurchaseOrderLine(Base):
    """One line of a purchase order, at its accepted quote's unit price."""

    __tablename__ = "purchase_order_lines"

    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    quote_id: Mapped[int | None] = mapped_column(Integer)
