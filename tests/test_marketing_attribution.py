"""Attribution (resolvers/marketing/attribution.py campaign_for_order), called directly as the checkout will."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from datasources.marketing.models import CampaignInteraction, CampaignRecipient
from datasources.partners.models import HubPolicy
from datasources.partners.queries import default_policy
from resolvers.marketing.attribution import campaign_for_order
from tests.harness import Hub
from tests.marketing_factory import add_campaign, add_events, shop

PLACED = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


async def world(hub: Hub) -> dict[str, int]:
    reseller_id, store_id = await shop(hub)
    other_reseller, other_store = await shop(hub, "R-TWO", "other")
    return {
        "reseller": reseller_id,
        "store": store_id,
        "other_reseller": other_reseller,
        "other_store": other_store,
        "spring": await add_campaign(hub, store_id, "SPRING", status="SENDING"),
        "summer": await add_campaign(hub, store_id, "SUMMER", status="SENDING"),
        "theirs": await add_campaign(hub, other_store, "THEIRS", status="SENDING"),
    }


async def visit(
    hub: Hub, w: dict[str, int], visitor: str, campaign: str | None, at: datetime, store: str = "store"
) -> None:
    reseller = w["reseller"] if store == "store" else w["other_reseller"]
    await add_events(
        hub,
        [
            {
                "visitor_id": visitor,
                "store_id": w[store],
                "reseller_id": reseller,
                "type": "PAGE_VIEW",
                "campaign_id": w[campaign] if campaign else None,
                "campaign_code": campaign.upper() if campaign else None,
                "at": at,
            }
        ],
    )


async def click(hub: Hub, campaign_id: int, email: str, at: datetime) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        recipient_id = (
            await session.execute(
                insert(CampaignRecipient)
                .values(campaign_id=campaign_id, email=email, email_key=email.lower())
                .returning(CampaignRecipient.id)
            )
        ).scalar_one()
        await session.execute(
            insert(CampaignInteraction).values(
                campaign_id=campaign_id, recipient_id=recipient_id, kind="CLICK", at=at
            )
        )


async def credited(
    hub: Hub, w: dict[str, int], visitor: str | None, email: str | None, **kwargs: object
) -> int | None:
    async with hub.resources.session_factory() as session:
        return await campaign_for_order(
            session, w["store"], visitor, email, kwargs.pop("placed_at", PLACED), **kwargs
        )  # type: ignore[arg-type]


async def test_a_visitors_event_carrying_a_campaign_credits_it(hub: Hub) -> None:
    w = await world(hub)
    await visit(hub, w, "v1", "spring", PLACED - timedelta(days=2))
    await visit(hub, w, "v1", None, PLACED - timedelta(hours=1))  # a later visit without a campaign
    assert await credited(hub, w, "v1", None) == w["spring"]
    assert await credited(hub, w, "v2", None) is None


async def test_the_last_touch_wins(hub: Hub) -> None:
    w = await world(hub)
    await visit(hub, w, "v1", "spring", PLACED - timedelta(days=3))
    await visit(hub, w, "v1", "summer", PLACED - timedelta(days=1))
    assert await credited(hub, w, "v1", None) == w["summer"]
    await click(hub, w["spring"], "Ann@Example.com", PLACED - timedelta(hours=2))
    assert await credited(hub, w, "v1", "ann@example.com") == w["spring"], "the click came last"
    assert await credited(hub, w, "v1", "bo@example.com") == w["summer"]


async def test_an_order_by_e_mail_alone_is_credited_to_the_clicked_campaign(hub: Hub) -> None:
    w = await world(hub)
    await click(hub, w["spring"], "Ann@Example.com", PLACED - timedelta(days=6))
    assert await credited(hub, w, None, "ANN@example.com") == w["spring"]
    assert await credited(hub, w, "someone-else", "ann@example.com") == w["spring"]


async def test_touches_outside_the_window_or_in_another_store_credit_nothing(hub: Hub) -> None:
    w = await world(hub)
    await visit(hub, w, "v1", "spring", PLACED - timedelta(days=7, seconds=1))
    await visit(hub, w, "v1", "theirs", PLACED - timedelta(hours=1), store="other_store")
    await visit(hub, w, "v1", "summer", PLACED + timedelta(seconds=1))  # after the order
    await click(hub, w["theirs"], "ann@example.com", PLACED - timedelta(hours=1))
    assert await credited(hub, w, "v1", "ann@example.com") is None
    # exactly seven days before is still inside; a window of 10 days reaches the older touch
    await visit(hub, w, "v2", "spring", PLACED - timedelta(days=7))
    assert await credited(hub, w, "v2", None) == w["spring"]
    assert await credited(hub, w, "v1", None, window_days=10) == w["spring"]


async def test_the_window_is_the_hub_policy(hub: Hub) -> None:
    w = await world(hub)
    await visit(hub, w, "v1", "spring", PLACED - timedelta(days=3))
    assert default_policy().attribution_window_days == 7
    async with hub.resources.session_factory() as session, session.begin():
        session.add(default_policy())
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(HubPolicy).values(attribution_window_days=2))
    assert await credited(hub, w, "v1", None) is None
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(HubPolicy).values(attribution_window_days=3))
    assert await credited(hub, w, "v1", None) == w["spring"]
