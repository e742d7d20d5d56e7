"""The depth and alias limits hold, and validation results are cached across requests (hub_graphql/schema.py)."""

from __future__ import annotations

from strawberry.extensions.validation_cache import _get_validate_cache

from tests.harness import Hub

DEEP = "{ categories { " + "children { " * 20 + "code" + " }" * 21 + " }"


async def test_too_deep_and_too_many_aliases_are_refused(hub: Hub) -> None:
    body = await hub.post(DEEP)
    assert body.get("data") is None and "exceeds maximum operation depth" in body["errors"][0]["message"]
    many = "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"
    body = await hub.post(many)
    assert body.get("data") is None and "aliases" in body["errors"][0]["message"]
    fine = "{ " + " ".join(f"a{n}: __typename" for n in range(30)) + " }"
    assert (await hub.query(fine))["a29"] == "Query"


async def test_the_same_operation_is_validated_once(hub: Hub) -> None:
    query = "query CachedValidation { __typename }"
    await hub.query(query)
    before = _get_validate_cache(512).cache_info()
    for _ in range(3):
        await hub.query(query)
    after = _get_validate_cache(512).cache_info()
    assert after.hits - before.hits == 3
    assert after.misses == before.misses
