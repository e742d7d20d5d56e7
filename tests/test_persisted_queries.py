"""Persisted queries: Apollo's automatic persisted queries (POST and GET), the manifest safelist, the build command."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datasources.persisted_queries import QueryStore
from hub_graphql.cli import app as cli
from hub_graphql.persisted_queries import MANIFEST_FORMAT, ManifestError, documents_in_script, load_manifest
from hub_graphql.settings import Settings
from tests.conftest import skip_or_fail
from tests.harness import Hub, open_hub

ROOTS = "query Roots { categories { code } }"
OTHER = "query Other { productGroups { code } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


async def send(hub: Hub, **body: Any) -> dict[str, Any]:
    response = await hub.client.post("/graphql", json=body)
    return response.json()


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"].get("code") if errors else None


async def test_a_miss_asks_for_the_text_then_the_hash_alone_runs(hub: Hub) -> None:
    miss = await send(hub, extensions=persisted(ROOTS))
    register = await send(hub, query=ROOTS, extensions=persisted(ROOTS))
    hit = await send(hub, extensions=persisted(ROOTS))

    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert register == {"data": {"categories": []}}
    assert hit == {"data": {"categories": []}}


async def test_a_hash_that_is_not_the_query_s_is_refused_and_not_registered(hub: Hub) -> None:
    wrong = await send(hub, query=OTHER, extensions=persisted(ROOTS))
    after = await send(hub, extensions=persisted(ROOTS))
    malformed = await send(
        hub, query=ROOTS, extensions={"persistedQuery": {"version": 1, "sha256Hash": "abc"}}
    )
    version = await send(
        hub, query=ROOTS, extensions={"persistedQuery": {"version": 2, "sha256Hash": sha(ROOTS)}}
    )

    assert code_of(wrong) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert code_of(after) == "PERSISTED_QUERY_NOT_FOUND"
    assert code_of(malformed) == "PERSISTED_QUERY_INVALID"
    assert code_of(version) == "PERSISTED_QUERY_INVALID"


async def test_get_with_extensions_in_the_url_so_caches_work(hub: Hub) -> None:
    await send(hub, query=ROOTS, extensions=persisted(ROOTS))
    response = await hub.client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(ROOTS)), "operationName": "Roots"},
        headers={"accept": "*/*"},
    )
    miss = await hub.client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(OTHER))},
        headers={"accept": "application/json"},
    )
    mutation = 'mutation M { createCart(input: {storeCode: "S"}) { userErrors { code } } }'
    await send(hub, query=mutation, extensions=persisted(mutation))
    get_mutation = await hub.client.get("/graphql", params={"extensions": json.dumps(persisted(mutation))})

    assert response.status_code == 200
    assert response.json() == {"data": {"categories": []}}
    assert code_of(miss.json()) == "PERSISTED_QUERY_NOT_FOUND"
    assert get_mutation.status_code == 405  # a registered mutation is still never run by GET


async def test_off_refuses_the_extension_and_runs_plain_queries(settings: Settings) -> None:
    async with open_hub(settings.model_copy(update={"persisted_queries": "off"})) as hub:
        refused = await send(hub, query=ROOTS, extensions=persisted(ROOTS))
        plain = await send(hub, query=ROOTS)
    assert code_of(refused) == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert plain == {"data": {"categories": []}}


def write_manifest(path: Path, *bodies: str) -> Path:
    operations = [
        {"id": sha(body), "name": body.split()[1], "type": body.split()[0], "body": body} for body in bodies
    ]
    path.write_text(json.dumps({"format": MANIFEST_FORMAT, "version": 1, "operations": operations}))
    return path


async def test_required_runs_only_the_manifest_s_operations(settings: Settings, tmp_path: Path) -> None:
    listed = "query Roots {\n  categories {\n    code\n  }\n}"
    manifest = write_manifest(tmp_path / "manifest.json", listed)
    required = {"persisted_queries": "required", "persisted_queries_manifest": manifest}
    async with open_hub(settings.model_copy(update=required)) as hub:
        by_hash = await send(hub, extensions=persisted(listed))
        by_text = await send(hub, query=listed)
        reformatted = await send(hub, query="query Roots{categories{code}}")
        unlisted_text = await send(hub, query=OTHER)
        unlisted_hash = await send(hub, extensions=persisted(OTHER))
        registering = await send(hub, query=OTHER, extensions=persisted(OTHER))
        anonymous = await send(hub, query="{ categories { code } }")

    assert by_hash == by_text == reformatted == {"data": {"categories": []}}
    for refused in (unlisted_text, unlisted_hash, registering, anonymous):
        assert code_of(refused) == "PERSISTED_QUERY_NOT_ALLOWED"
        assert "data" not in refused or refused["data"] is None


async def test_auto_knows_the_manifest_s_operations_from_the_start(
    settings: Settings, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path / "manifest.json", ROOTS)
    async with open_hub(settings.model_copy(update={"persisted_queries_manifest": manifest})) as hub:
        hit = await send(hub, extensions=persisted(ROOTS))
        other = await send(hub, query=OTHER)
    assert hit == {"data": {"categories": []}}
    assert other == {"data": {"productGroups": []}}


def test_required_without_a_manifest_does_not_start() -> None:
    with pytest.raises(ValueError, match="HUB_PERSISTED_QUERIES_MANIFEST"):
        Settings(_env_file=None, persisted_queries="required")


def test_a_manifest_whose_id_is_not_its_body_s_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    operation = {"id": sha("other"), "name": "Roots", "type": "query", "body": ROOTS}
    path.write_text(json.dumps({"format": MANIFEST_FORMAT, "version": 1, "operations": [operation]}))
    with pytest.raises(ManifestError, match="SHA-256"):
        load_manifest(path)


async def test_registered_queries_are_shared_through_redis() -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    url = __import__("os").environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"hub-test-{uuid.uuid4().hex[:12]}:"
    probe = Redis.from_url(url)
    try:
        await probe.ping()
    except (RedisError, OSError):
        await probe.aclose()
        skip_or_fail(f"Redis is not reachable at {url}")
    one, two = QueryStore.from_url(url, prefix), QueryStore.from_url(url, prefix)
    try:
        await one.put(sha(ROOTS), ROOTS)
        assert await two.get(sha(ROOTS)) == ROOTS
        assert await two.get(sha(OTHER)) is None
    finally:
        await one.close()
        await two.close()
        keys = [key async for key in probe.scan_iter(match=f"{prefix}*")]
        if keys:
            await probe.delete(*keys)
        await probe.aclose()


def test_the_in_process_store_is_bounded() -> None:
    import asyncio

    store = QueryStore(max_entries=2)
    for text in ("a", "b", "c"):
        asyncio.run(store.put(sha(text), text))
    assert len(store) == 2
    assert asyncio.run(store.get(sha("a"))) is None


def test_build_writes_a_manifest_from_the_examples_and_extra_files(tmp_path: Path) -> None:
    shop = tmp_path / "operations.js"
    shop.write_text(
        "export const CART = gql`\n  query Cart($id: ID!) { node(id: $id) { id ...Bits } }\n"
        "  fragment Bits on Node { id }\n`;\n"
        "const PAGE = /* GraphQL */ `query ShopPage { categories { code } }`;\n"
        "const notGraphql = `query NotMe { x }`;\n"
    )
    admin = tmp_path / "admin.graphql"
    admin.write_text("mutation Approve($id: ID!) { approveReseller(id: $id) { userErrors { code } } }")
    output = tmp_path / "manifest.json"

    result = CliRunner().invoke(
        cli, ["persisted-queries", "build", "-o", str(output), "--from", str(shop), "--from", str(admin)]
    )

    assert result.exit_code == 0, result.output
    manifest = load_manifest(output)
    names = {operation.name: operation for operation in manifest.values()}
    assert {"Cart", "ShopPage", "Approve", "CatalogRoots"} <= set(names)
    assert "NotMe" not in names
    assert names["Approve"].type == "mutation"
    assert "fragment Bits on Node" in names["Cart"].body


def test_build_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    interpolated = tmp_path / "ops.ts"
    interpolated.write_text("const Q = gql`query Q { ...${F} }`;")
    anonymous = tmp_path / "anon.graphql"
    anonymous.write_text("{ categories { code } }")
    for source in (interpolated, anonymous):
        result = CliRunner().invoke(cli, ["persisted-queries", "build", "--from", str(source)])
        assert result.exit_code == 1
    with pytest.raises(ManifestError, match="cannot be read statically"):
        documents_in_script(interpolated.read_text(), "ops.ts")
