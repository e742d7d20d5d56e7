"""Creating distributors: transports, the quote contract check against real services, SSRF guard, credentials."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from datasources.partners.models import Distributor, DistributorCredential
from hub_graphql.settings import Settings
from tests.distributor_servers import (
    Recorder,
    breaking_subgraph,
    conforming_plain_service,
    conforming_subgraph,
    guarded_subgraph,
    recording,
    redirecting,
)
from tests.harness import Hub, open_hub
from tests.servers import free_port, serve_asgi

CREATE = """
mutation($input: CreateDistributorInput!) {
  createDistributor(input: $input) {
    distributor { code name status regions quoteTransport quoteEndpoint }
    userErrors { field code message }
  }
}"""
DISTRIBUTOR_ENDPOINT = "query($code: String!) { distributor(code: $code) { code quoteEndpoint } }"
PRODUCTION_SECRET = "production-secret-" + "p" * 40


def subgraph_input(code: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Distributor {code}",
        "quoteTransport": "GRAPHQL_SUBGRAPH",
        "quoteEndpoint": endpoint,
        **extra,
    }


async def create(hub: Hub, token: str, **fields: Any) -> dict[str, Any]:
    return (await hub.query(CREATE, {"input": fields}, token=token))["createDistributor"]


async def distributor_count(hub: Hub) -> int:
    async with hub.resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Distributor)) or 0)


@pytest.fixture
def conforming_url() -> Any:
    with serve_asgi(conforming_subgraph()) as base:
        yield f"{base}/graphql"


async def test_a_conforming_subgraph_is_checked_and_created(hub: Hub, conforming_url: str) -> None:
    admin = await hub.staff("CHANNEL_MANAGER")
    payload = await create(hub, admin, **subgraph_input("north", conforming_url, regions=["EU", "UK"]))
    assert payload["userErrors"] == []
    assert payload["distributor"] == {
        "code": "north",
        "name": "Distributor north",
        "status": "APPROVED",
        "regions": ["EU", "UK"],
        "quoteTransport": "GRAPHQL_SUBGRAPH",
        "quoteEndpoint": None,  # a channel manager does not see endpoints
    }
    site_admin = await hub.staff("SITE_ADMIN")
    seen = await hub.query(DISTRIBUTOR_ENDPOINT, {"code": "north"}, token=site_admin)
    assert seen["distributor"]["quoteEndpoint"] == conforming_url


async def test_a_plain_graphql_service_is_checked_by_introspection(hub: Hub) -> None:
    recorder = Recorder()
    with serve_asgi(recording(conforming_plain_service(), recorder)) as base:
        payload = await create(hub, await hub.staff(), **subgraph_input("plain", f"{base}/graphql"))
    assert payload["userErrors"] == []
    assert len(recorder.requests) == 2  # `_service` first (not there), then introspection


async def test_a_broken_contract_is_a_user_error_naming_each_break(hub: Hub) -> None:
    with serve_asgi(breaking_subgraph()) as base:
        payload = await create(hub, await hub.staff(), **subgraph_input("broken", f"{base}/graphql"))
    assert payload["distributor"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "CONTRACT_MISMATCH"
    assert error["field"] == ["input", "quoteEndpoint"]
    for field in ("QuotedLine.unitPrice", "QuotedLine.quantity", "QuoteResult.validUntil"):
        assert field in error["message"], error["message"]
    assert await distributor_count(hub) == 0


async def test_an_unreachable_endpoint_is_a_user_error(hub: Hub) -> None:
    url = f"http://127.0.0.1:{free_port()}/graphql"  # nothing listens there
    payload = await create(hub, await hub.staff(), **subgraph_input("gone", url))
    assert payload["distributor"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["UNREACHABLE"]
    assert await distributor_count(hub) == 0


async def test_a_redirect_is_not_followed(hub: Hub, conforming_url: str) -> None:
    target, bouncer = Recorder(), Recorder()
    with serve_asgi(recording(conforming_subgraph(), target)) as target_base:
        with serve_asgi(redirecting(f"{target_base}/graphql", bouncer)) as base:
            payload = await create(hub, await hub.staff(), **subgraph_input("bouncy", f"{base}/graphql"))
    assert [e["code"] for e in payload["userErrors"]] == ["UNREACHABLE"]
    assert "307" in payload["userErrors"][0]["message"]
    assert len(bouncer.requests) == 1 and target.requests == []
    assert await distributor_count(hub) == 0


async def test_the_credential_is_sent_stored_apart_and_never_shown(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Bearer s3cret-distributor-key-0042"
    recorder = Recorder()
    # Everything the hub, httpx, strawberry and SQLAlchemy log at INFO (SQL echo included); the driver's
    # own DEBUG trace (aiosqlite) prints raw cursor calls and is never on in a deployment.
    caplog.set_level(logging.INFO)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    admin = await hub.staff()
    with serve_asgi(guarded_subgraph(secret, recorder)) as base:
        url = f"{base}/graphql"
        refused = await hub.post(
            CREATE, {"input": subgraph_input("keyed", url, quoteCredential="Bearer wrong")}, token=admin
        )
        accepted = await hub.post(
            CREATE, {"input": subgraph_input("keyed", url, quoteCredential=secret)}, token=admin
        )
    # without the right key the distributor's service refuses, and nothing is created
    assert [e["code"] for e in refused["data"]["createDistributor"]["userErrors"]] == ["UNREACHABLE"]
    assert accepted["data"]["createDistributor"]["userErrors"] == []
    assert secret in [r["authorization"] for r in recorder.requests]
    async with hub.resources.session_factory() as session:
        stored = (await session.scalars(select(DistributorCredential))).all()
    assert [(c.header_name, c.header_value) for c in stored] == [("Authorization", secret)]
    # never returned, never echoed in an error, never logged
    everything = await hub.post(
        "{ distributors { code name regions quoteEndpoint quoteTransport status resellers { code } } }",
        token=admin,
    )
    for body in (refused, accepted, everything):
        assert "s3cret" not in repr(body) and "wrong" not in repr(body)
    assert "s3cret" not in caplog.text


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"quoteTransport": "REST_JSON"}, "REQUIRED", "quoteEndpoint"),
        (
            {"quoteTransport": "REST_JSON", "quoteEndpoint": "ftp://127.0.0.1/quote"},
            "INVALID_ENDPOINT",
            "quoteEndpoint",
        ),
        (
            {"quoteTransport": "REST_JSON", "quoteEndpoint": "file:///etc/passwd"},
            "INVALID_ENDPOINT",
            "quoteEndpoint",
        ),
        (
            {"quoteTransport": "REST_JSON", "quoteEndpoint": "http://user:pw@127.0.0.1/q"},
            "INVALID_ENDPOINT",
            "quoteEndpoint",
        ),
        (
            {"quoteTransport": "REST_JSON", "quoteEndpoint": "http://169.254.169.254/latest/meta-data"},
            "ENDPOINT_NOT_ALLOWED",
            "quoteEndpoint",
        ),
        (
            {"quoteTransport": "MANUAL", "quoteEndpoint": "http://127.0.0.1/q"},
            "INVALID_ENDPOINT",
            "quoteEndpoint",
        ),
        ({"quoteTransport": "MANUAL", "quoteCredential": "x"}, "INVALID_CREDENTIAL", "quoteCredential"),
        ({"quoteTransport": "MANUAL", "code": "bad code!"}, "INVALID_CODE", "code"),
        ({"quoteTransport": "MANUAL", "name": " "}, "INVALID_NAME", "name"),
    ],
)
async def test_bad_input_is_a_user_error_and_writes_nothing(
    hub: Hub, fields: dict[str, Any], code: str, field: str
) -> None:
    payload = await create(hub, await hub.staff(), **{"code": "d1", "name": "D", **fields})
    assert payload["distributor"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, ["input", field])]
    assert await distributor_count(hub) == 0


async def test_rest_and_manual_distributors_need_no_live_check(hub: Hub) -> None:
    admin = await hub.staff()
    rest = await create(
        hub,
        admin,
        code="rest",
        name="R",
        quoteTransport="REST_JSON",
        quoteEndpoint="http://127.0.0.1:9/quote",
    )
    manual = await create(hub, admin, code="manual", name="M", quoteTransport="MANUAL")
    duplicate = await create(hub, admin, code="manual", name="M again", quoteTransport="MANUAL")
    assert rest["userErrors"] == [] and rest["distributor"]["quoteTransport"] == "REST_JSON"
    assert manual["userErrors"] == [] and manual["distributor"]["quoteEndpoint"] is None
    assert [e["code"] for e in duplicate["userErrors"]] == ["DUPLICATE"]
    assert await distributor_count(hub) == 2


@pytest.fixture
async def production_hub(database_url: str) -> AsyncIterator[Any]:
    async def opened(allowlist: list[str]) -> Any:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            env="production",
            secret_key=PRODUCTION_SECRET,
            quote_endpoint_allowlist=allowlist,
        )
        return open_hub(settings)

    yield opened


async def test_production_allows_only_the_allowlist(production_hub: Any, conforming_url: str) -> None:
    port = conforming_url.split(":")[2].split("/")[0]
    rest = {"name": "R", "quoteTransport": "REST_JSON"}
    async with await production_hub(["quotes.partner.example", "*.distri.example"]) as hub:
        token = await hub.staff()
        loopback = await create(hub, token, code="a", quoteEndpoint=f"http://127.0.0.1:{port}/q", **rest)
        by_name = await create(hub, token, code="b", quoteEndpoint=f"http://localhost:{port}/q", **rest)
        private = await create(hub, token, code="c", quoteEndpoint="http://10.1.2.3/q", **rest)
        unlisted = await create(hub, token, code="d", quoteEndpoint="https://1.1.1.1/q", **rest)
    for payload in (loopback, by_name, private, unlisted):
        assert [e["code"] for e in payload["userErrors"]] == ["ENDPOINT_NOT_ALLOWED"], payload
    async with await production_hub(["localhost", "127.0.0.0/8"]) as hub:
        token = await hub.staff()
        listed = await create(
            hub, token, **subgraph_input("e", conforming_url.replace("127.0.0.1", "localhost"))
        )
        still_private = await create(hub, token, code="f", quoteEndpoint="http://10.1.2.3/q", **rest)
    assert listed["userErrors"] == [], listed
    assert [e["code"] for e in still_private["userErrors"]] == ["ENDPOINT_NOT_ALLOWED"]
