"""SQLAlchemy models of reseller stores and of their overlays on the master catalog.

A store never copies the master catalog: it holds only its overlay (assortment
rules, price rules, content overrides), and every read computes what the store
shows from the master catalog and the overlay (datasources/stores/queries.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

STORE_STATUSES = ("DRAFT", "OPEN", "CLOSED")
ASSORTMENT_MODES = ("INCLUDE", "EXCLUDE")
ASSORTMENT_SCOPES = ("CATEGORY", "GROUP", "SKU")
PRICE_RULE_SCOPES = ("ALL", "CATEGORY", "GROUP", "SKU")
MARKUP_SCALE = 10_000
"""Markups are stored in hundredths of a percent (basis points): 12.5 % is 1250."""


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class StoreText(Base):
    """Text on the store pages (welcome text, terms, …), keyed."""

    __tablename__ = "store_texts"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StoreAssortmentRule(Base):
    """One include or exclude of a category (and everything below it), a product group or a product."""

    __tablename__ = "store_assortment_rules"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The id of a category, a product group or a product, by scope.
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class StorePriceRule(Base):
    """A price for the products in a scope: a fixed price (minor units) or a markup (basis points)."""

    __tablename__ = "store_price_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(16))
    # Null for ALL; else the id of a category, a product group or a product, by scope.
    target_id: Mapped[int | None] = mapped_column(Integer)
    markup_bp: Mapped[int | None] = mapped_column(Integer)
    fixed_minor: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_store_price_rules_store_scope_target", "store_id", "scope", "target_id"),)


class StoreProductContent(Base):
    """A store's own name or description for a product; null falls back to the master's."""

    __tablename__ = "store_product_contents"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)


__all__ = [
    "Store",
    "StoreAssortmentRule",
    "StorePriceRule",
    "StoreProductContent",
    "StoreText",
]
