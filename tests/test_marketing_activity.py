"""Live web activity: recordActivity, the beacon, and the reseller's activity report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hub_graphql.settings import Settings
from tests.harness import Hub, QueryCounter, codes_of
from tests.marketing_factory import add_campaign, add_events, add_order, events, shop
from tests.stores_factory import add_store

RECORD = """
mutation($events: [ActivityInput!]!) {
  recordActivity(events: $events) { accepted userErrors { field code message } }
}"""
ACTIVITY = """
query($reseller: String!, $from: DateTime!, $to: DateTime!) {
  resellerActivity(resellerCode: $reseller, from: $from, to: $to) {
    visitors pageViews productViews addToCarts orders conversionRate
  }
}"""


def event(**fields: object) -> dict[str, object]:
    return {"visitorId": "v-1", "storeSlug": "shop", "type": "PAGE_VIEW", "path": "/", **fields}


async def test_good_events_are_kept_and_bad_ones_answered_by_index(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given an OPEN store, a DRAFT one, and a campaign of the open store
    reseller_id, store_id = await shop(hub)
    await add_store(hub, reseller_id, "draft-shop", status="DRAFT")
    campaign_id = await add_campaign(hub, store_id, "SPRING")
    batch = [
        event(),
        event(type="PRODUCT_VIEW", sku="SKU-1", campaignCode="SPRING"),
        event(storeSlug="draft-shop"),
        event(storeSlug="nowhere"),
        event(type="ADD_TO_CART"),
        event(type="SEARCH", searchTerm="drill", campaignCode="UNKNOWN"),
        event(visitorId=" "),
        event(type="SEARCH"),
        event(visitorId="v" * 65),
    ]
    # when
    count_queries.reset()
    body = await hub.post(RECORD, {"events": batch})
    # then
    payload = body["data"]["recordActivity"]
    assert payload["accepted"] == 3
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["events", "2", "storeSlug"], "NOT_FOUND"),
        (["events", "3", "storeSlug"], "NOT_FOUND"),
        (["events", "4", "sku"], "REQUIRED"),
        (["events", "6", "visitorId"], "REQUIRED"),
        (["events", "7", "searchTerm"], "REQUIRED"),
        (["events", "8", "visitorId"], "INVALID"),
    ]
    inserts = [s for s in count_queries.statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1, "one multi-row insert per call"
    rows = await events(hub)
    assert [(r.type, r.sku, r.search_term, r.campaign_code, r.campaign_id) for r in rows] == [
        ("PAGE_VIEW", None, None, None, None),
        ("PRODUCT_VIEW", "SKU-1", None, "SPRING", campaign_id),
        ("SEARCH", None, "drill", "UNKNOWN", None),
    ]
    assert {(r.store_id, r.reseller_id, r.visitor_id) for r in rows} == {(store_id, reseller_id, "v-1")}


async def test_another_stores_campaign_code_is_kept_but_credits_nothing(hub: Hub) -> None:
    _, store_id = await shop(hub)
    _, other_store = await shop(hub, "R-TWO", "other")
    await add_campaign(hub, other_store, "THEIRS")
    body = await hub.post(RECORD, {"events": [event(campaignCode="THEIRS")]})
    assert body["data"]["recordActivity"]["accepted"] == 1
    [row] = await events(hub)
    assert (row.store_id, row.campaign_code, row.campaign_id) == (store_id, "THEIRS", None)


async def test_more_than_100_events_is_bad_input_and_nothing_is_kept(hub: Hub) -> None:
    await shop(hub)
    body = await hub.post(RECORD, {"events": [event()] * 101})
    assert codes_of(body) == ["BAD_USER_INPUT"]
    assert await events(hub) == []
    body = await hub.post(RECORD, {"events": [event()] * 100})
    assert body["data"]["recordActivity"] == {"accepted": 100, "userErrors": []}


async def test_a_store_of_a_suspended_reseller_takes_no_events(hub: Hub) -> None:
    from tests.stores_factory import set_reseller_status

    reseller_id, _ = await shop(hub)
    await set_reseller_status(hub, reseller_id, "SUSPENDED")
    body = await hub.post(RECORD, {"events": [event()]})
    assert body["data"]["recordActivity"]["accepted"] == 0
    assert body["data"]["recordActivity"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_the_beacon_takes_text_plain_and_answers_204(hub: Hub) -> None:
    await shop(hub)
    body = json.dumps({"events": [event(), event(storeSlug="nowhere"), event(type="PRODUCT_VIEW", sku="S")]})
    response = await hub.client.post(
        "/activity", content=body, headers={"content-type": "text/plain;charset=UTF-8"}
    )
    assert response.status_code == 204
    assert [r.type for r in await events(hub)] == ["PAGE_VIEW", "PRODUCT_VIEW"]


async def test_the_beacon_refuses_what_is_not_its_json(hub: Hub) -> None:
    await shop(hub)
    cases = [
        (b"not json", 400),
        (b'{"events": 3}', 400),
        (b"[1, 2]", 400),
        (json.dumps({"events": [{"visitorId": 1, "storeSlug": "shop", "type": "PAGE_VIEW"}]}).encode(), 400),
        (json.dumps({"events": [event()] * 101}).encode(), 400),
        (json.dumps({"events": [event(path="x" * 2000)] * 70}).encode(), 413),
    ]
    for content, status in cases:
        response = await hub.client.post("/activity", content=content, headers={"content-type": "text/plain"})
        assert response.status_code == status, content[:40]
    assert await events(hub) == []
    assert (await hub.client.get("/activity")).status_code == 405


async def test_reseller_activity_counts_events_and_orders_in_range(hub: Hub) -> None:
    # given events and orders of two resellers, some out of range, one order cancelled
    reseller_id, store_id = await shop(hub)
    other_reseller, other_store = await shop(hub, "R-TWO", "other")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    inside = start + timedelta(days=2)

    def row(
        visitor: str, kind: str, at: datetime, store: int = store_id, reseller: int = reseller_id
    ) -> dict:
        return {"visitor_id": visitor, "store_id": store, "reseller_id": reseller, "type": kind, "at": at}

    await add_events(
        hub,
        [
            row("a", "PAGE_VIEW", inside),
            row("a", "PAGE_VIEW", inside),
            row("a", "PRODUCT_VIEW", inside),
            row("b", "PAGE_VIEW", inside),
            row("b", "ADD_TO_CART", inside),
            row("c", "SEARCH", inside),
            row("d", "PAGE_VIEW", start - timedelta(seconds=1)),
            row("e", "PAGE_VIEW", start + timedelta(days=7)),
            row("x", "PAGE_VIEW", inside, other_store, other_reseller),
        ],
    )
    await add_order(hub, store_id, reseller_id, placed_at=inside)
    await add_order(hub, store_id, reseller_id, placed_at=inside, status="CANCELLED")
    await add_order(hub, store_id, reseller_id, placed_at=start - timedelta(days=1))
    await add_order(hub, other_store, other_reseller, placed_at=inside)
    variables = {
        "reseller": "R-ONE",
        "from": start.isoformat(),
        "to": (start + timedelta(days=7)).isoformat(),
    }
    # when
    data = await hub.query(ACTIVITY, variables, token=await hub.staff("MARKETING_MANAGER"))
    # then
    assert data["resellerActivity"] == {
        "visitors": 3,
        "pageViews": 3,
        "productViews": 1,
        "addToCarts": 1,
        "orders": 1,
        "conversionRate": 1 / 3,
    }


async def test_reseller_activity_with_no_visitors_has_conversion_zero(hub: Hub) -> None:
    reseller_id, store_id = await shop(hub)
    await add_order(hub, store_id, reseller_id, placed_at=datetime(2026, 3, 2, tzinfo=UTC))
    variables = {"reseller": "R-ONE", "from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
    data = await hub.query(ACTIVITY, variables, token=await hub.staff("CHANNEL_MANAGER"))
    assert data["resellerActivity"]["orders"] == 1
    assert data["resellerActivity"]["conversionRate"] == 0.0


async def test_a_reseller_sees_its_own_activity_only(hub: Hub) -> None:
    reseller_id, _ = await shop(hub)
    await shop(hub, "R-TWO", "other")
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    variables = {"reseller": "R-ONE", "from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
    assert (await hub.query(ACTIVITY, variables, token=own))["resellerActivity"]["visitors"] == 0
    for code in ("R-TWO", "R-NONE"):
        body = await hub.post(ACTIVITY, {**variables, "reseller": code}, token=own)
        assert codes_of(body) == ["FORBIDDEN"], code


async def test_reseller_activity_refuses_an_empty_range_and_an_unknown_reseller(hub: Hub) -> None:
    await shop(hub)
    token = await hub.staff()
    body = await hub.post(
        ACTIVITY,
        {"reseller": "R-ONE", "from": "2026-03-08T00:00:00Z", "to": "2026-03-08T00:00:00Z"},
        token=token,
    )
    assert codes_of(body) == ["BAD_USER_INPUT"]
    body = await hub.post(
        ACTIVITY,
        {"reseller": "R-NONE", "from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"},
        token=token,
    )
    assert codes_of(body) == ["BAD_USER_INPUT"]


async def test_the_beacon_and_record_activity_share_one_rate_limit(settings: Settings) -> None:
    from tests.harness import open_hub

    limited = settings.model_copy(update={"rate_limits": ["recordActivity=3/60"]})
    async with open_hub(limited) as hub:
        await shop(hub)
        body = json.dumps({"events": [event()]})
        assert (await hub.post(RECORD, {"events": [event()]}))["data"]["recordActivity"]["accepted"] == 1
        assert (await hub.client.post("/activity", content=body)).status_code == 204
        assert (await hub.post(RECORD, {"events": [event()]}))["data"]["recordActivity"]["accepted"] == 1
        refused = await hub.client.post("/activity", content=body)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert codes_of(await hub.post(RECORD, {"events": [event()]})) == ["RATE_LIMITED"]
        assert len(await events(hub)) == 3
