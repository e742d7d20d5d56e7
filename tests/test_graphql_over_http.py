"""GraphQL over HTTP: content negotiation, the spec's status codes for each kind of error, and the graphql-http audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from hub_graphql.http import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from tests.federation.processes import hub_server, node_or_skip, run_node
from tests.harness import Hub

GRAPHQL_RESPONSE = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
PLAIN_JSON = f"{JSON}; charset=utf-8"

TYPENAME = "{ __typename }"
PARSE_ERROR = "{"
VALIDATION_ERROR = "{ noSuchField }"
COERCION_ERROR = "query($sku: String!) { product(sku: $sku) { sku } }"
TOO_MANY_PRODUCTS = "{ products(first: 1000) { totalCount } }"
GUARDED_MUTATION = """
mutation { upsertCategories(input: [{ code: "c", name: "C" }]) { categories { code } userErrors { code } } }"""
TOO_DEEP = "{ categories { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { code } } } } } } } } } } } } } }"
MUTATION = "mutation { __typename }"


async def post(
    hub: Hub,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    accept: str | None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await hub.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


# ---------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", JSON),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};charset=utf-8, {JSON};charset=utf-8", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};charset=iso-8859-1, {JSON}", JSON),
        ("text/html, */*;q=0.8", JSON),
        ("text/plain", None),
        (f"{JSON};q=0", None),
    ],
)
def test_the_answer_is_in_the_media_type_the_client_prefers(accept: str | None, answer: str | None) -> None:
    assert negotiate(accept) == answer


# ---------------------------------------------------------------- status codes


@pytest.mark.parametrize(
    ("query", "variables"),
    [(PARSE_ERROR, None), (VALIDATION_ERROR, None), (TOO_DEEP, None), (COERCION_ERROR, {"sku": 42})],
    ids=["parse", "validation", "depth-limit", "variable-coercion"],
)
async def test_a_request_error_answers_400_without_data_in_graphql_response_json(
    hub: Hub, query: str, variables: dict[str, Any] | None
) -> None:
    response = await post(hub, query, variables, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert body["errors"] and all("message" in e for e in body["errors"])


@pytest.mark.parametrize("accept", [None, "*/*", JSON])
async def test_a_request_error_answers_200_with_null_data_in_application_json(
    hub: Hub, accept: str | None
) -> None:
    response = await post(hub, VALIDATION_ERROR, accept=accept)

    assert response.status_code == 200
    assert response.headers["content-type"] == PLAIN_JSON
    body = response.json()
    assert body["data"] is None and body["errors"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
async def test_the_hubs_execution_errors_answer_200_with_data_and_their_codes(hub: Hub, accept: str) -> None:
    bad_input = await post(hub, TOO_MANY_PRODUCTS, accept=accept)
    unauthenticated = await post(hub, GUARDED_MUTATION, accept=accept)
    forbidden = await post(hub, GUARDED_MUTATION, accept=accept, token=await hub.user("RESELLER_ADMIN"))

    for response, code in (
        (bad_input, "BAD_USER_INPUT"),
        (unauthenticated, "UNAUTHENTICATED"),
        (forbidden, "FORBIDDEN"),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
        body = response.json()
        assert "data" in body, body
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_a_successful_operation_answers_in_the_negotiated_type(hub: Hub) -> None:
    for accept, content_type in ((GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE), (None, PLAIN_JSON)):
        response = await post(hub, TYPENAME, accept=accept)
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_an_accept_header_naming_neither_type_answers_406(hub: Hub) -> None:
    response = await post(hub, TYPENAME, accept="text/plain")

    assert response.status_code == 406
    assert GRAPHQL_RESPONSE_JSON in response.headers["accept"]
    assert response.json()["errors"]


async def test_a_mutation_over_get_answers_405(hub: Hub) -> None:
    response = await hub.client.get(
        "/graphql", params={"query": MUTATION}, headers={"accept": GRAPHQL_RESPONSE_JSON}
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()


async def test_a_body_that_is_not_json_answers_400_with_a_json_error(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql",
        content=b"{not json",
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["errors"][0]["message"]


async def test_a_browser_still_gets_graphiql(hub: Hub) -> None:
    response = await hub.client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------- the audit suite


@pytest.mark.node
# One backend: the audits exercise the HTTP layer with `{ __typename }`-sized operations, no table is read.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_hub_passes_every_graphql_over_http_audit(
    database_url: str, settings: Any, tmp_path: Path
) -> None:
    node = node_or_skip()
    with hub_server(database_url, settings.secret_key.get_secret_value(), tmp_path) as url:
        code, report, stderr = run_node(node, "audit.mjs", url)

    assert code == 0, stderr
    # graphql-http 1.23.1 (pinned in tests/federation/package-lock.json) has 61 audits, MUST and SHOULD.
    assert report["total"] >= 61, report
    assert report["failures"] == [], report["failures"]
    assert report["ok"] == report["total"]
