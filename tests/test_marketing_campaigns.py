"""E-mail campaigns: createCampaign's checks, sendCampaign's outbox messages, the tracking links and the results."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select, update

from datasources.marketing.models import Campaign, CampaignInteraction, MarketingUnsubscribe
from datasources.outbox.models import OutboxMessage
from resolvers.marketing.tracking import make_token, read_token
from tests.harness import Hub, QueryCounter, codes_of
from tests.marketing_factory import add_campaign, add_order, shop

CREATE = """
mutation($input: CampaignInput!) {
  createCampaign(input: $input) {
    campaign { id code name subject body landingPath status store { slug } results { recipients } }
    userErrors { field code message }
  }
}"""
SEND = """
mutation($code: String!) {
  sendCampaign(code: $code) { campaign { code status results { recipients sent failed } } userErrors { field code } }
}"""
RESULTS = """
query($code: String!) {
  campaign(code: $code) {
    status
    results { recipients sent failed opened clicked visits orders revenue { amount currency } conversionRate }
  }
}"""
LIST = "{ campaigns { code status results { recipients sent opened clicked visits orders conversionRate } } }"
RECORD = "mutation($events: [ActivityInput!]!) { recordActivity(events: $events) { accepted userErrors { code } } }"


def campaign(**fields: Any) -> dict[str, Any]:
    return {
        "code": "SPRING",
        "name": "Spring",
        "storeSlug": "shop",
        "subject": "Spring is here",
        "body": "Hello!\n\nOur <b>spring</b> range: {{link}}",
        "landingPath": "/product/DRILL-1",
        **fields,
    }


async def create(hub: Hub, token: str, **fields: Any) -> dict[str, Any]:
    return (await hub.query(CREATE, {"input": campaign(**fields)}, token=token))["createCampaign"]


async def outbox(hub: Hub) -> list[OutboxMessage]:
    async with hub.resources.session_factory() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def count(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def customers(hub: Hub, reseller_id: int, store_id: int) -> None:
    """Opted in: ann (twice, in two spellings), bo (once, cancelled), cy; not opted in: dee."""
    await add_order(hub, store_id, reseller_id, email="Ann@Example.com", opt_in=True)
    await add_order(hub, store_id, reseller_id, email="ann@example.com", opt_in=True)
    await add_order(hub, store_id, reseller_id, email="bo@example.com", opt_in=True, status="CANCELLED")
    await add_order(hub, store_id, reseller_id, email="cy@example.com", opt_in=True)
    await add_order(hub, store_id, reseller_id, email="dee@example.com", opt_in=False)


def link_in(text: str, kind: str) -> str:
    found = re.search(rf"http://127\.0\.0\.1:8000/{kind}/[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0).removeprefix("http://127.0.0.1:8000")


async def test_create_campaign_checks_its_input_and_writes_nothing_on_bad_input(hub: Hub) -> None:
    reseller_id, _ = await shop(hub)
    await shop(hub, "R-TWO", "other")
    token = await hub.staff("MARKETING_MANAGER")
    created = await create(hub, token)
    assert created["userErrors"] == []
    assert created["campaign"]["status"] == "DRAFT"
    assert created["campaign"]["landingPath"] == "/product/DRILL-1"
    cases = [
        ({"code": "SPRING"}, ["input", "code"], "DUPLICATE"),
        ({"landingPath": "https://evil.example/"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"landingPath": "//evil.example/x"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"landingPath": "/\\evil.example"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"landingPath": "javascript:alert(1)"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"landingPath": "product"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"landingPath": "/a b"}, ["input", "landingPath"], "INVALID_PATH"),
        ({"subject": "Hi\r\nBcc: all@x.example"}, ["input", "subject"], "INVALID"),
        ({"body": "No link here"}, ["input", "body"], "MISSING_LINK"),
        ({"storeSlug": "nowhere"}, ["input", "storeSlug"], "NOT_FOUND"),
    ]
    for fields, path, code in cases:
        payload = await create(hub, token, **{"code": "OTHER", **fields})
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], fields
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    payload = await create(hub, own, code="THEIRS", storeSlug="other")
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert (await create(hub, own, code="MINE"))["userErrors"] == []
    assert await count(hub, Campaign) == 2


async def test_send_campaign_queues_one_message_per_opted_in_customer(hub: Hub) -> None:
    # given
    reseller_id, store_id = await shop(hub)
    await customers(hub, reseller_id, store_id)
    token = await hub.staff("MARKETING_MANAGER")
    campaign_id = (await create(hub, token))["campaign"]["id"]
    assert (await hub.query(RESULTS, {"code": "SPRING"}, token=token))["campaign"]["results"][
        "recipients"
    ] == 3
    # when
    sent = (await hub.query(SEND, {"code": "SPRING"}, token=token))["sendCampaign"]
    # then
    assert sent == {
        "campaign": {
            "code": "SPRING",
            "status": "SENDING",
            "results": {"recipients": 3, "sent": 0, "failed": 0},
        },
        "userErrors": [],
    }
    messages = await outbox(hub)
    assert sorted(m.payload["to"] for m in messages) == [
        "Ann@Example.com",
        "bo@example.com",
        "cy@example.com",
    ]
    async with hub.resources.session_factory() as session:
        stored_id = await session.scalar(select(Campaign.id).where(Campaign.code == "SPRING"))
    assert sorted(m.idempotency_key for m in messages) == [
        f"campaign:{stored_id}:{key}" for key in ("ann@example.com", "bo@example.com", "cy@example.com")
    ]
    assert campaign_id
    for message in messages:
        payload = message.payload
        assert (message.kind, message.status, message.max_attempts) == ("email", "PENDING", 8)
        assert payload["subject"] == "Spring is here"
        assert "Our <b>spring</b> range: http://127.0.0.1:8000/r/" in payload["text"]
        assert "{{link}}" not in payload["text"] and "{{link}}" not in payload["html"]
        assert "Unsubscribe: http://127.0.0.1:8000/u/" in payload["text"]
        assert 'Our &lt;b&gt;spring&lt;/b&gt; range: <a href="http://127.0.0.1:8000/r/' in payload["html"]
        assert '<img src="http://127.0.0.1:8000/o/' in payload["html"]
        unsubscribe = link_in(payload["text"], "u")
        assert payload["headers"] == {
            "List-Unsubscribe": f"<http://127.0.0.1:8000{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        assert "@" not in link_in(payload["text"], "r") and "example" not in link_in(payload["text"], "r")
    # sending again changes nothing
    again = (await hub.query(SEND, {"code": "SPRING"}, token=token))["sendCampaign"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]
    assert len(await outbox(hub)) == 3


async def test_a_campaign_without_recipients_is_not_sent(hub: Hub) -> None:
    reseller_id, store_id = await shop(hub)
    await add_order(hub, store_id, reseller_id, email="dee@example.com", opt_in=False)
    token = await hub.staff("SITE_ADMIN")
    await create(hub, token)
    sent = (await hub.query(SEND, {"code": "SPRING"}, token=token))["sendCampaign"]
    assert [e["code"] for e in sent["userErrors"]] == ["NO_RECIPIENTS"]
    assert (await hub.query(RESULTS, {"code": "SPRING"}, token=token))["campaign"]["status"] == "DRAFT"
    assert await outbox(hub) == []


async def test_a_reseller_sends_and_sees_only_its_own_campaigns(hub: Hub) -> None:
    reseller_id, store_id = await shop(hub)
    _, other_store = await shop(hub, "R-TWO", "other")
    await customers(hub, reseller_id, store_id)
    await add_campaign(hub, other_store, "THEIRS")
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    await create(hub, own)
    assert [c["code"] for c in (await hub.query(LIST, token=own))["campaigns"]] == ["SPRING"]
    assert (await hub.query(RESULTS, {"code": "THEIRS"}, token=own))["campaign"] is None
    refused = (await hub.query(SEND, {"code": "THEIRS"}, token=own))["sendCampaign"]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    assert (await hub.query(SEND, {"code": "SPRING"}, token=own))["sendCampaign"]["userErrors"] == []
    staff = await hub.staff("MARKETING_MANAGER")
    assert [c["code"] for c in (await hub.query(LIST, token=staff))["campaigns"]] == ["SPRING", "THEIRS"]


async def test_tracking_links_record_and_redirect_to_the_hubs_own_storefront(hub: Hub) -> None:
    # given a sent campaign
    reseller_id, store_id = await shop(hub)
    await customers(hub, reseller_id, store_id)
    token = await hub.staff("MARKETING_MANAGER")
    await create(hub, token)
    await hub.query(SEND, {"code": "SPRING"}, token=token)
    messages = {m.payload["to"]: m.payload for m in await outbox(hub)}
    ann = messages["Ann@Example.com"]
    click, pixel, unsubscribe = (
        link_in(ann["text"], "r"),
        link_in(ann["html"], "o"),
        link_in(ann["text"], "u"),
    )
    # when: ann clicks twice (from another host name too: the target never comes from the request), opens
    for host in ("http://hub.test", "http://evil.example"):
        response = await hub.client.get(f"{host}{click}")
        assert response.status_code == 302
        assert (
            response.headers["location"] == "http://127.0.0.1:8000/shop/shop/product/DRILL-1?campaign=SPRING"
        )
    response = await hub.client.get(pixel)
    assert (response.status_code, response.headers["content-type"]) == (200, "image/gif")
    assert response.content.startswith(b"GIF89a")
    await hub.client.get(link_in(messages["cy@example.com"]["html"], "o"))
    # and tampered or misused tokens record nothing
    before = await count(hub, CampaignInteraction)
    tampered = click[:-3] + ("AAA" if not click.endswith("AAA") else "BBB")
    for path in (
        tampered,
        "/r/nonsense",
        "/o/" + click.removeprefix("/r/"),
        "/u/" + click.removeprefix("/r/"),
    ):
        assert (await hub.client.get(path)).status_code == 404, path
    assert (await hub.client.post("/u/" + click.removeprefix("/r/"))).status_code == 404
    assert await count(hub, CampaignInteraction) == before
    # then
    results = (await hub.query(RESULTS, {"code": "SPRING"}, token=token))["campaign"]["results"]
    assert (results["opened"], results["clicked"]) == (2, 1)
    # unsubscribing: GET shows a button and changes nothing; POST unsubscribes
    page = await hub.client.get(unsubscribe)
    assert page.status_code == 200 and '<form method="post"' in page.text and "Store shop" in page.text
    assert await count(hub, MarketingUnsubscribe) == 0
    done = await hub.client.post(unsubscribe, content="List-Unsubscribe=One-Click")
    assert done.status_code == 200
    assert (await hub.client.post(unsubscribe)).status_code == 200
    assert await count(hub, MarketingUnsubscribe) == 1
    await create(hub, token, code="SUMMER")
    summer = (await hub.query(RESULTS, {"code": "SUMMER"}, token=token))["campaign"]["results"]
    assert summer["recipients"] == 2, "ann unsubscribed"


async def test_results_count_visits_orders_revenue_and_the_status_follows_the_outbox(
    hub: Hub, count_queries: QueryCounter
) -> None:
    reseller_id, store_id = await shop(hub)
    await customers(hub, reseller_id, store_id)
    token = await hub.staff("MARKETING_MANAGER")
    await create(hub, token)
    await hub.query(SEND, {"code": "SPRING"}, token=token)
    async with hub.resources.session_factory() as session:
        campaign_id = await session.scalar(select(Campaign.id).where(Campaign.code == "SPRING"))
    events = [
        {"visitorId": visitor, "storeSlug": "shop", "type": "PAGE_VIEW", "campaignCode": "SPRING"}
        for visitor in ("v1", "v1", "v2")
    ] + [{"visitorId": "v3", "storeSlug": "shop", "type": "PAGE_VIEW"}]
    assert (await hub.query(RECORD, {"events": events}))["recordActivity"]["accepted"] == 4
    await add_order(hub, store_id, reseller_id, campaign_id=campaign_id, total_minor=2500)
    await add_order(hub, store_id, reseller_id, campaign_id=campaign_id, total_minor=1000, status="CANCELLED")
    async with hub.resources.session_factory() as session, session.begin():
        ids = list((await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))).all())
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(status="DONE"))
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[1]).values(status="FAILED"))
    data = (await hub.query(RESULTS, {"code": "SPRING"}, token=token))["campaign"]
    assert data["status"] == "SENDING"
    assert data["results"] == {
        "recipients": 3,
        "sent": 1,
        "failed": 1,
        "opened": 0,
        "clicked": 0,
        "visits": 2,
        "orders": 1,
        "revenue": {"amount": "25.00", "currency": "USD"},
        "conversionRate": 1 / 3,
    }
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[2]).values(status="DONE"))
    assert (await hub.query(RESULTS, {"code": "SPRING"}, token=token))["campaign"]["status"] == "SENT"
    # the list's statements do not grow with its campaigns
    count_queries.reset()
    await hub.query(LIST, token=token)
    one = count_queries.count
    for code in ("A2", "A3", "A4"):
        await create(hub, token, code=code)
    count_queries.reset()
    data = await hub.query(LIST, token=token)
    assert len(data["campaigns"]) == 4
    assert count_queries.count <= one + 1, count_queries.statements  # + the drafts' audience (one store)


def test_tokens_are_signed_and_of_one_kind() -> None:
    token = make_token("secret-one", "click", 42)
    assert read_token("secret-one", "click", token) == 42
    assert read_token("secret-two", "click", token) is None
    assert read_token("secret-one", "open", token) is None
    assert read_token("secret-one", "click", make_token("secret-one", "click", 43)[:-2] + token[-2:]) is None
    assert "42" not in token


async def test_send_refuses_unknown_codes(hub: Hub) -> None:
    token = await hub.staff("MARKETING_MANAGER")
    body = await hub.post(SEND, {"code": "NONE"}, token=token)
    assert codes_of(body) == []
    assert [e["code"] for e in body["data"]["sendCampaign"]["userErrors"]] == ["NOT_FOUND"]


async def test_the_campaign_loader_for_orders_answers_rows_in_key_order(hub: Hub) -> None:
    from hub_graphql.context import build_context

    _, store_id = await shop(hub)
    first = await add_campaign(hub, store_id, "ONE")
    second = await add_campaign(hub, store_id, "TWO")
    context = build_context(hub.resources)
    try:
        rows = await context.loaders.marketing.campaign_by_id.load_many([second, 999, first])
        assert [r.code if r else None for r in rows] == ["TWO", None, "ONE"]
    finally:
        await context.close()
