"""Test data for the marketing tests: stores, orders and campaigns written straight to the database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from datasources.marketing.models import ActivityEvent, Campaign
from datasources.orders.models import Order, OrderDiscount
from tests.harness import Hub
from tests.stores_factory import add_reseller, add_store

_numbers = itertools.count(1)


async def shop(hub: Hub, reseller: str = "R-ONE", slug: str = "shop", **kwargs: Any) -> tuple[int, int]:
    """(reseller id, store id) of a new APPROVED reseller with an OPEN store."""
    reseller_id = await add_reseller(hub, reseller)
    return reseller_id, await add_store(hub, reseller_id, slug, **kwargs)


async def add_order(
    hub: Hub,
    store_id: int,
    reseller_id: int,
    *,
    email: str = "buyer@example.com",
    placed_at: datetime | None = None,
    status: str = "PLACED",
    opt_in: bool = False,
    total_minor: int = 1000,
    currency: str = "USD",
    campaign_id: int | None = None,
    visitor_id: str | None = None,
    promotion_id: int | None = None,
) -> int:
    """An order row (and its discount row when a promotion is named), as checkout would leave it."""
    async with hub.resources.session_factory() as session, session.begin():
        order = Order(
            number=f"ORD-T{next(_numbers):06d}",
            store_id=store_id,
            reseller_id=reseller_id,
            status=status,
            customer_email=email,
            customer_email_key=email.lower(),
            ship_name="Buyer",
            ship_line1="1 Road",
            ship_city="Town",
            ship_postal_code="1000",
            ship_country="US",
            payment_method="INVOICE",
            currency=currency,
            subtotal_minor=total_minor,
            discount_minor=0,
            total_minor=total_minor,
            placed_at=placed_at or datetime.now(UTC),
            marketing_opt_in=opt_in,
            visitor_id=visitor_id,
            campaign_id=campaign_id,
        )
        session.add(order)
        await session.flush()
        if promotion_id is not None:
            session.add(
                OrderDiscount(
                    order_id=order.id,
                    position=0,
                    promotion_id=promotion_id,
                    promotion_code="P",
                    name="P",
                    amount_minor=100,
                )
            )
        return order.id


async def add_campaign(hub: Hub, store_id: int, code: str = "SPRING", **kwargs: Any) -> int:
    async with hub.resources.session_factory() as session, session.begin():
        campaign = Campaign(
            code=code,
            name=kwargs.get("name", f"Campaign {code}"),
            store_id=store_id,
            subject=kwargs.get("subject", "Hello"),
            body=kwargs.get("body", "Come and see {{link}}"),
            landing_path=kwargs.get("landing_path", "/"),
            status=kwargs.get("status", "DRAFT"),
        )
        session.add(campaign)
        await session.flush()
        return campaign.id


async def add_events(hub: Hub, rows: list[dict[str, Any]]) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(insert(ActivityEvent), rows)


async def events(hub: Hub) -> list[ActivityEvent]:
    async with hub.resources.session_factory() as session:
        return list((await session.scalars(select(ActivityEvent).order_by(ActivityEvent.id))).all())


async def permission_campaign(hub: Hub, world: Any) -> None:
    """For tests/permission_cases.py: the permission store, a DRAFT campaign PERM in it, one opted-in customer."""
    from datasources.stores.models import Store
    from tests.stores_factory import permission_store

    await permission_store(hub, world)
    async with hub.resources.session_factory() as session:
        store = await session.scalar(select(Store).where(Store.slug == "perm-shop"))
    assert store is not None
    await add_campaign(hub, store.id, "PERM")
    await add_order(hub, store.id, store.reseller_id, email="fan@example.com", opt_in=True)
