"""SQLAlchemy models of carts (store and plaza), and of store orders with their lines, discounts and history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

CART_KINDS = ("STORE", "PLAZA")
CART_STATUSES = ("OPEN", "CHECKED_OUT", "SUBMITTED")
"""A STORE cart is CHECKED_OUT by its order; a PLAZA cart is SUBMITTED as purchase orders."""
ORDER_STATUSES = ("PLACED", "FULFILLED", "CANCELLED")


class Cart(Base):
    """A customer's cart in a store (reached by its unguessable id alone) or a reseller's plaza cart."""

    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """At least 128 random bits (secrets.token_urlsafe): the id is the customer's only key to the cart."""
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="OPEN")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # A reseller has one open plaza cart: made on first use, even by two requests at once.
        Index(
            "uq_carts_open_plaza_reseller",
            "reseller_id",
            unique=True,
            sqlite_where=text("kind = 'PLAZA' AND status = 'OPEN'"),
            postgresql_where=text("kind = 'PLAZA' AND status = 'OPEN'"),
        ),
    )


class CartLine(Base):
    """One line of a cart. Store lines are priced when read; plaza lines carry their accepted quote's price."""

    __tablename__ = "cart_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    # Plaza lines only: who sells it, the accepted quote that fixes the price, and until when it holds.
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("distributor_quotes.id", ondelete="CASCADE"))
    unit_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_cart_lines_cart_id_id", "cart_id", "id"),
        # A store cart holds a SKU once (adding it again adds to the quantity)…
        Index(
            "uq_cart_lines_store_sku",
            "cart_id",
            "sku",
            unique=True,
            sqlite_where=text("quote_id IS NULL"),
            postgresql_where=text("quote_id IS NULL"),
        ),
        # …a plaza cart a quote's SKU once (the same SKU may come from two distributors).
        Index(
            "uq_cart_lines_quote_sku",
            "cart_id",
            "quote_id",
            "sku",
            unique=True,
            sqlite_where=text("quote_id IS NOT NULL"),
            postgresql_where=text("quote_id IS NOT NULL"),
        ),
    )


class Order(Base):
    """A customer's order in a reseller's store: prices, names and discounts fixed when it was placed."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    # The store's reseller, kept on the order: reports and the reseller's own view filter by it.
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    cart_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    """The cart it was placed from: unique, so two concurrent checkouts of one cart make one order."""
    status: Mapped[str] = mapped_column(String(16), default="PLACED")
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_email_key: Mapped[str] = mapped_column(String(320))
    """The e-mail in lower case: e-mail addresses compare case-insensitively everywhere in the hub."""
    ship_name: Mapped[str] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_postal_code: Mapped[str] = mapped_column(String(32))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_country: Mapped[str] = mapped_column(String(2))
    payment_method: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    placed_by: Mapped[str | None] = mapped_column(String(320))
    """The e-mail of the staff user who placed it for the customer."""
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    """The campaign credited with the order (closed-loop marketing), once campaigns exist."""

    __table_args__ = (
        # Newest-first keyset pages, over all orders, a reseller's or a store's; reports by period.
        Index("ix_orders_placed_at_id", "placed_at", "id"),
        Index("ix_orders_reseller_id_placed_at_id", "reseller_id", "placed_at", "id"),
        Index("ix_orders_store_id_placed_at_id", "store_id", "placed_at", "id"),
        Index("ix_orders_customer_email_key", "customer_email_key"),
    )


class OrderLine(Base):
    """One line of an order as it was placed."""

    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)


class OrderDiscount(Base):
    """A promotion as it applied to an order (at most one per order today; a list in the contract)."""

    __tablename__ = "order_discounts"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int | None] = mapped_column(Integer, index=True)
    promotion_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class OrderEvent(Base):
    """A status an order reached: who moved it (null for the customer), when and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)


class OrderNote(Base):
    """A customer service note on an order."""

    __tablename__ = "order_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(320))
