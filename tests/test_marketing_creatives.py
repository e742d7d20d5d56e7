"""Creative content: upsertCreative (who may, what is refused) and the public spot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from datasources.marketing.models import Creative
from tests.harness import Hub
from tests.marketing_factory import shop
from tests.stores_factory import add_store

UPSERT = """
mutation($input: CreativeInput!) {
  upsertCreative(input: $input) {
    creative { id code spot title body imageUrl linkUrl priority startsAt endsAt store { slug } }
    userErrors { field code message }
  }
}"""
SPOT = """
query($store: String!, $spot: String!) { spot(storeSlug: $store, spot: $spot) { code title body store { slug } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Creative { code } } }"


def creative(**fields: Any) -> dict[str, Any]:
    return {"code": "hero", "spot": "home-hero", "title": "Spring sale", **fields}


async def upsert(hub: Hub, token: str, **fields: Any) -> dict[str, Any]:
    return (await hub.query(UPSERT, {"input": creative(**fields)}, token=token))["upsertCreative"]


async def creatives_count(hub: Hub) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Creative)) or 0)


async def test_upsert_creates_then_updates_by_code_and_keeps_text_as_given(hub: Hub) -> None:
    await shop(hub)
    token = await hub.staff("MARKETING_MANAGER")
    text = '<script>alert("x")</script> & café'
    created = await upsert(hub, token, storeSlug="shop", body=text, linkUrl="https://shop.example/sale")
    assert created["userErrors"] == []
    assert created["creative"]["body"] == text
    assert created["creative"]["store"] == {"slug": "shop"}
    updated = await upsert(hub, token, title="Summer sale", priority=5)
    assert updated["creative"]["title"] == "Summer sale"
    assert updated["creative"]["store"] is None, "no storeSlug: hub-wide"
    assert updated["creative"]["id"] == created["creative"]["id"]
    assert await creatives_count(hub) == 1


async def test_bad_input_is_a_user_error_and_writes_nothing(hub: Hub) -> None:
    await shop(hub)
    token = await hub.staff("SITE_ADMIN")
    cases = [
        ({"code": "bad code!"}, ["input", "code"], "INVALID_CODE"),
        ({"spot": "Home Hero"}, ["input", "spot"], "INVALID_SPOT"),
        ({"title": "  "}, ["input", "title"], "REQUIRED"),
        ({"linkUrl": "javascript:alert(1)"}, ["input", "linkUrl"], "INVALID_URL"),
        ({"imageUrl": "data:image/png;base64,AAAA"}, ["input", "imageUrl"], "INVALID_URL"),
        ({"linkUrl": "/relative/path"}, ["input", "linkUrl"], "INVALID_URL"),
        ({"linkUrl": "https://x.example/a b"}, ["input", "linkUrl"], "INVALID_URL"),
        ({"storeSlug": "nowhere"}, ["input", "storeSlug"], "NOT_FOUND"),
        (
            {"startsAt": "2026-05-01T00:00:00Z", "endsAt": "2026-04-01T00:00:00Z"},
            ["input", "endsAt"],
            "INVALID_DATES",
        ),
    ]
    for fields, path, code in cases:
        payload = await upsert(hub, token, **fields)
        assert payload["creative"] is None, fields
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], fields
    assert await creatives_count(hub) == 0


async def test_a_reseller_manages_creatives_of_its_own_stores_only(hub: Hub) -> None:
    reseller_id, _ = await shop(hub)
    await shop(hub, "R-TWO", "other")
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    assert (await upsert(hub, own, storeSlug="shop"))["userErrors"] == []
    for fields in ({"code": "x1", "storeSlug": "other"}, {"code": "x2"}):
        payload = await upsert(hub, own, **fields)
        assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"], fields
    # a hub-wide creative made by staff is not the reseller's to change
    await upsert(hub, await hub.staff("MARKETING_MANAGER"), code="hub-wide")
    payload = await upsert(hub, own, code="hub-wide", storeSlug="shop")
    assert [e["code"] for e in payload["userErrors"]] == ["DUPLICATE"]
    assert await creatives_count(hub) == 2


async def test_spot_shows_live_creatives_of_an_open_store_by_priority(hub: Hub) -> None:
    # given creatives of the store, hub-wide ones, another store's, and ones out of their dates
    reseller_id, _ = await shop(hub)
    await add_store(hub, reseller_id, "second")
    await add_store(hub, reseller_id, "drafty", status="DRAFT")
    token = await hub.staff("MARKETING_MANAGER")
    now = datetime.now(UTC)
    for fields in (
        {"code": "own-low", "storeSlug": "shop", "priority": 1},
        {"code": "hub-top", "priority": 9},
        {"code": "own-tie", "storeSlug": "shop", "priority": 5},
        {"code": "hub-tie", "priority": 5},
        {"code": "a-hub-tie", "priority": 5},
        {"code": "second-only", "storeSlug": "second", "priority": 100},
        {"code": "other-spot", "spot": "sidebar", "priority": 100},
        {"code": "future", "priority": 100, "startsAt": (now + timedelta(days=1)).isoformat()},
        {"code": "past", "priority": 100, "endsAt": (now - timedelta(seconds=1)).isoformat()},
        {
            "code": "running",
            "priority": 0,
            "startsAt": (now - timedelta(days=1)).isoformat(),
            "endsAt": (now + timedelta(days=1)).isoformat(),
        },
    ):
        assert (await upsert(hub, token, **fields))["userErrors"] == []
    # when: anyone asks
    data = await hub.query(SPOT, {"store": "shop", "spot": "home-hero"})
    # then
    assert [c["code"] for c in data["spot"]] == [
        "hub-top",
        "own-tie",
        "a-hub-tie",
        "hub-tie",
        "own-low",
        "running",
    ]
    assert (await hub.query(SPOT, {"store": "drafty", "spot": "home-hero"}))["spot"] == []
    assert (await hub.query(SPOT, {"store": "nowhere", "spot": "home-hero"}))["spot"] == []


async def test_a_creative_by_id_is_public_only_while_live(hub: Hub) -> None:
    await shop(hub)
    token = await hub.staff("MARKETING_MANAGER")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    live = (await upsert(hub, token, code="live", storeSlug="shop"))["creative"]["id"]
    later = (await upsert(hub, token, code="later", startsAt=future))["creative"]["id"]
    assert (await hub.query(NODE, {"id": live}))["node"] == {"code": "live"}
    assert (await hub.query(NODE, {"id": later}))["node"] is None
    assert (await hub.query(NODE, {"id": later}, token=token))["node"] == {"code": "later"}
