"""SQLAlchemy models of marketing: web activity, creatives, promotions, e-mail campaigns and their tracking."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from datasources.db import Base

ACTIVITY_TYPES = ("PAGE_VIEW", "PRODUCT_VIEW", "SEARCH", "ADD_TO_CART")
CAMPAIGN_STATUSES = ("DRAFT", "SENDING", "SENT")
"""SENT is never stored: a SENDING campaign reads SENT once none of its messages is PENDING."""
INTERACTION_KINDS = ("OPEN", "CLICK")
PERCENT_SCALE = 100
"""percentOff is stored in hundredths of a percent: 12.5 % is 1250, 100 % is 10,000."""

# SQLite makes an INTEGER PRIMARY KEY the rowid (auto-incremented); BIGINT would not be.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ActivityEvent(Base):
    """One storefront event (live web activity): append-only, written in one multi-row insert per call."""

    __tablename__ = "activity_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    reseller_id: Mapped[int] = mapped_column(Integer)
    """The store's reseller, kept on the event: the reseller's activity report filters by it."""
    type: Mapped[str] = mapped_column(String(16))
    sku: Mapped[str | None] = mapped_column(String(64))
    search_term: Mapped[str | None] = mapped_column(String(200))
    campaign_code: Mapped[str | None] = mapped_column(String(64))
    """As the storefront sent it (from `?campaign=`), known campaign or not."""
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    """The store's campaign of that code; null when the code names none of this store's campaigns."""
    path: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # resellerActivity: a reseller's events in a period.
        Index("ix_activity_events_reseller_id_at", "reseller_id", "at"),
        # Campaign.results' visits: distinct visitors of a campaign, from the index alone.
        Index("ix_activity_events_campaign_id_visitor_id", "campaign_id", "visitor_id"),
        # Attribution at checkout: a visitor's latest events.
        Index("ix_activity_events_visitor_id_at", "visitor_id", "at"),
    )


class Creative(Base):
    """Creative content for a named spot of the storefronts: one store's, or every store's (store_id null)."""

    __tablename__ = "creatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    spot: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    link_url: Mapped[str | None] = mapped_column(String(2000))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_creatives_spot_store_id", "spot", "store_id"),)


class Promotion(Base):
    """A discount, automatic or behind a coupon code; the rule that prices it is resolvers/marketing/pricing.py."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """Creation order: of two promotions taking as much off a cart, the lower id (made first) wins."""
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(64))
    """The category code, group code or SKU as given (null for ALL)."""
    target_id: Mapped[int | None] = mapped_column(Integer)
    """The category's or group's id (null for ALL and SKU)."""
    percent_off: Mapped[int | None] = mapped_column(Integer)
    """Hundredths of a percent (PERCENT_SCALE)."""
    amount_off_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    minimum_subtotal_minor: Mapped[int | None] = mapped_column(BigInteger)
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    coupon_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The coupon code in upper case: customers' codes compare case-insensitively, and one code is one promotion."""
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Campaign(Base):
    """An e-mail campaign to a store's customers who opted in."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    landing_path: Mapped[str] = mapped_column(String(500), default="/")
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str | None] = mapped_column(String(320))


class CampaignRecipient(Base):
    """One recipient of a sent campaign, and the outbox message that carries their e-mail."""

    __tablename__ = "campaign_recipients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """What the tracking tokens sign: no e-mail address is ever in a URL."""
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("uq_campaign_recipients_campaign_id_email_key", "campaign_id", "email_key", unique=True),
    )


class CampaignInteraction(Base):
    """A recipient opened the message (its pixel loaded) or clicked its tracked link."""

    __tablename__ = "campaign_interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("campaign_recipients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_campaign_interactions_campaign_id_kind_recipient_id", "campaign_id", "kind", "recipient_id"
        ),
        # Attribution by e-mail: a recipient's latest clicks.
        Index("ix_campaign_interactions_recipient_id_at", "recipient_id", "at"),
    )


class MarketingUnsubscribe(Base):
    """An e-mail that asked a store for no more campaigns (RFC 8058 one-click or the page's button)."""

    __tablename__ = "marketing_unsubscribes"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    email_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    """The campaign whose link was used."""


__all__ = [
    "ActivityEvent",
    "Campaign",
    "CampaignInteraction",
    "CampaignRecipient",
    "Creative",
    "MarketingUnsubscribe",
    "Promotion",
]
