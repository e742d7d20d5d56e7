"""Response headers: a Content-Security-Policy on every HTML page, no sniffing and no framing anywhere,
and CORS only for the storefront origins HUB_CORS_ORIGINS lists."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from hub_graphql.security_headers import CONTENT_SECURITY_POLICY, SecurityHeaders
from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub

STOREFRONT = "https://shop.example"
ELSEWHERE = "https://evil.example"


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = _directives(CONTENT_SECURITY_POLICY)
    assert directives["script-src"] == "script-src 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"
    assert (
        "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    )


async def test_graphiql_gets_the_policy_and_the_other_headers(hub: Hub) -> None:
    response = await hub.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_every_answer_is_nosniff_and_unframeable_and_only_html_has_the_policy(hub: Hub) -> None:
    answers = [
        await hub.client.post("/graphql", json={"query": "{ __typename }"}),
        await hub.client.get("/health"),
        await hub.client.get("/nowhere"),
        await hub.client.post(
            "/graphql", content=b" " * 2_000_000, headers={"content-type": "application/json"}
        ),
        await hub.client.post("/graphql", content="{}", headers={"content-type": "text/plain"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 413, 400]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" not in answer.headers


async def test_any_html_page_gets_the_policy_without_doing_anything() -> None:
    # The middleware as a page added later would meet it (a storefront, a dashboard).
    async def page(_request: object) -> HTMLResponse:
        return HTMLResponse("<html><body>Store</body></html>")

    async def own_policy(_request: object) -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"content-security-policy": "default-src 'none'"})

    app = SecurityHeaders(Starlette(routes=[Route("/store", page), Route("/own", own_policy)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        store = await client.get("/store")
        own = await client.get("/own")
    assert store.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert store.headers["x-content-type-options"] == "nosniff"
    assert own.headers["content-security-policy"] == "default-src 'none'"


# ---------------------------------------------------------------- CORS


def _preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
    }


async def test_no_origin_is_allowed_by_default(hub: Hub) -> None:
    assert hub.settings.cors_origins == []
    preflight = await hub.client.options("/graphql", headers=_preflight(STOREFRONT))
    assert "access-control-allow-origin" not in preflight.headers
    answer = await hub.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": STOREFRONT}
    )
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


async def test_a_listed_storefront_origin_may_call_the_hub_and_no_other(database_url: str) -> None:
    settings = Settings(
        _env_file=None, database_url=database_url, cors_origins=f"{STOREFRONT}, https://other.example:8443/"
    )
    assert settings.cors_origins == [STOREFRONT, "https://other.example:8443"]
    async with open_hub(settings) as hub:
        # given a listed origin: the preflight allows the POST with its headers
        preflight = await hub.client.options("/graphql", headers=_preflight(STOREFRONT))
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == STOREFRONT
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in preflight.headers
        answer = await hub.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": STOREFRONT}
        )
        assert answer.headers["access-control-allow-origin"] == STOREFRONT
        assert answer.headers["x-content-type-options"] == "nosniff"

        # an origin not listed: refused, and never given an allow header
        refused = await hub.client.options("/graphql", headers=_preflight(ELSEWHERE))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        other = await hub.client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": ELSEWHERE}
        )
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("value", ["*", "shop.example", "https://shop.example/path", "ftp://shop.example"])
def test_an_allowlist_entry_must_be_an_origin(value: str) -> None:
    with pytest.raises(ValidationError, match="HUB_CORS_ORIGINS"):
        Settings(_env_file=None, cors_origins=value)
