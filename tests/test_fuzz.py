"""Fuzzing (issue 15, item 7): schemathesis over the whole schema against a real hub process, as every caller.

A hub process (`hub serve`) on the sample hub (SQLite, `hub seed --sample`)
answers operations schemathesis generates for every query and mutation, as an
anonymous caller and signed in as each role. No answer may be a 5xx, carry
"Unexpected error." or internal text (SQL, a stack), hold an execution error
without a code, or break the schema (schemathesis' response conformance
check). Refusals with a stable code (BAD_USER_INPUT, FORBIDDEN,
QUERY_TOO_COSTLY, TIMEOUT, …) are answers, not findings. A second, shorter run
fuzzes an empty hub on PostgreSQL. Both are bounded: HUB_FUZZ_SECONDS (60 by
default) shared by the callers on SQLite, HUB_FUZZ_PG_SECONDS (16) by those on
PostgreSQL. A finding becomes a regression test in the test file of its
domain, and a fix in the hub.
Docs: docs/operations.md, "Fuzzing".
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from datasources.db import pg_admin
from resolvers.samples.partners import STAFF
from tests.browser import sample_hub
from tests.conftest import PG_URL, skip_or_fail
from tests.federation.processes import clean_env, free_port, running
from tests.fuzzing import fuzz_operations, load_schema

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

FUZZ_SECONDS = float(os.environ.get("HUB_FUZZ_SECONDS", "60"))
# The run on PostgreSQL: an empty hub (no sample), anonymous and a site administrator. Text that only
# PostgreSQL refuses (a NUL) shows there; the SQLite run above covers the roles on the sample's data.
FUZZ_PG_SECONDS = float(os.environ.get("HUB_FUZZ_PG_SECONDS", "16"))
PG_CALLERS = ("anonymous", "SITE_ADMIN")

# Sign-ins of the sample hub (resolvers/samples/partners.py), and users the test adds for the other roles.
SAMPLE_SIGN_INS = {role: (email, password) for email, password, role in STAFF} | {
    "RESELLER_ADMIN": ("owner@brightbuild.example", "owner-brightbuild-pw"),
    "DISTRIBUTOR_REP": ("rep@northwind.example", "rep-northwind-pw"),
}
ADDED_ROLES = ("MARKETING_MANAGER", "CUSTOMER_SERVICE", "CUSTOMER")
CALLERS = ("anonymous", *SAMPLE_SIGN_INS, *ADDED_ROLES)
# An operation each role may run: the fuzz run must have got past the guard there (its token works).
REACHES = {
    "SITE_ADMIN": "Mutation.updateHubPolicies",
    "CATALOG_MANAGER": "Mutation.upsertProducts",
    "CHANNEL_MANAGER": "Mutation.approveReseller",
    "RESELLER_ADMIN": "Mutation.createStore",
    "DISTRIBUTOR_REP": "Mutation.respondToQuoteRequest",
    "MARKETING_MANAGER": "Query.resellers",
    "CUSTOMER_SERVICE": "Query.resellers",
}

# Limits that would turn most of the run into RATE_LIMITED answers: their own tests cover them.
FUZZ_SETTINGS = {
    "HUB_RATE_LIMITS": "registerReseller=off, createCart=off, checkout=off, recordActivity=off",
    "HUB_SIGN_IN_SLOW_AFTER": "0",
    "HUB_SIGN_IN_FAILURES_PER_EMAIL": "1000",
    "HUB_SIGN_IN_FAILURES_PER_ADDRESS": "100000",
}

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token userErrors { code } } }"
CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { userErrors { code message } }
}"""
VIEWER = "{ viewer { roles } }"


def _post(url: str, query: str, variables: dict[str, object], token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def _sign_in(url: str, email: str, password: str) -> str:
    login = _post(url, LOGIN, {"e": email, "p": password})["login"]
    assert login["token"], login
    return str(login["token"])


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str | None]]]:
    """The sample hub in a process of its own (the run writes to it), and a token for every caller."""
    with sample_hub(Path(tmp_path_factory.mktemp("fuzz-hub")), **FUZZ_SETTINGS) as base_url:
        url = f"{base_url}/graphql"
        tokens: dict[str, str | None] = {"anonymous": None}
        for role, (email, password) in SAMPLE_SIGN_INS.items():
            tokens[role] = _sign_in(url, email, password)
        for role in ADDED_ROLES:
            email, password = f"{role.lower().replace('_', '.')}@fuzz.example", "fuzz-sample-password"
            user = {"email": email, "password": password, "roles": [role]}
            created = _post(url, CREATE_USER, {"input": user}, tokens["SITE_ADMIN"])["createUser"]
            assert not created["userErrors"], created
            tokens[role] = _sign_in(url, email, password)
        for role, token in tokens.items():
            if token is not None:
                assert _post(url, VIEWER, {}, token)["viewer"]["roles"] == [role]
        yield url, tokens


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_hub: tuple[str, dict[str, str | None]]) -> object:
    return load_schema(fuzz_hub[0])


@pytest.mark.parametrize("caller", CALLERS)
def test_fuzzing_finds_no_unexpected_answer(
    fuzz_hub: tuple[str, dict[str, str | None]], fuzz_schema: object, caller: str
) -> None:
    # given: the sample hub, and this caller's token (none for the anonymous caller)
    url, tokens = fuzz_hub

    # when: schemathesis sends operations over the whole schema, within this caller's share of the time
    findings, tally = fuzz_operations(
        fuzz_schema, url, tokens[caller], budget_seconds=FUZZ_SECONDS / len(CALLERS)
    )

    # then: no answer was a 5xx, "Unexpected error.", internal text, a codeless error, or against the schema
    report = f"{caller}: {tally.requests} requests in {tally.seconds:.1f} s, error codes {tally.codes}"
    print(report)  # shown by `pytest -rP`: how far the run went
    assert not findings, report + "\n\n" + "\n\n".join(str(f) for f in findings)
    assert tally.requests > 0, report
    if caller in REACHES:
        assert REACHES[caller] in tally.operations_past_the_door, report


@pytest.fixture(scope="module")
def fuzz_hub_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str | None]]]:
    """`hub serve` on a database of its own on HUB_TEST_DATABASE_URL's server, with one site administrator."""
    if not PG_URL:
        skip_or_fail("HUB_TEST_DATABASE_URL is not set: the PostgreSQL fuzz run needs a server")
    name = f"hub_fuzz_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    database_url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tmp_path_factory.mktemp("fuzz-hub-pg"))
    env = clean_env(HUB_DATABASE_URL=database_url, HUB_SECRET_KEY="fuzz-tests-secret-key-0123456789abcdef")
    env.update(HUB_ENV="development", **FUZZ_SETTINGS)
    email, password = "admin@fuzz.example", "fuzz-admin-password"
    try:
        for step in (["db", "upgrade"], ["create-admin", email, "--password", password]):
            command = [sys.executable, "-m", "hub_graphql.cli", *step]
            done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"hub {step[0]}:\n{done.stdout}\n{done.stderr}"
        port = free_port()
        serve = [sys.executable, "-m", "hub_graphql.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        base_url = f"http://127.0.0.1:{port}"
        with running(serve, ready_url=f"{base_url}/health", log=workdir / "hub.log", cwd=workdir, env=env):
            url = f"{base_url}/graphql"
            yield url, {"anonymous": None, "SITE_ADMIN": _sign_in(url, email, password)}
    finally:
        asyncio.run(pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
@pytest.mark.parametrize("caller", PG_CALLERS)
def test_fuzzing_on_postgresql_finds_no_unexpected_answer(
    fuzz_hub_pg: tuple[str, dict[str, str | None]], caller: str
) -> None:
    # given: an empty hub on PostgreSQL, and this caller's token
    url, tokens = fuzz_hub_pg

    # when: schemathesis sends operations over the whole schema
    schema = load_schema(url)
    findings, tally = fuzz_operations(
        schema, url, tokens[caller], budget_seconds=FUZZ_PG_SECONDS / len(PG_CALLERS)
    )

    # then: the same checks as on SQLite
    report = (
        f"PostgreSQL, {caller}: {tally.requests} requests in {tally.seconds:.1f} s, error codes {tally.codes}"
    )
    print(report)
    assert not findings, report + "\n\n" + "\n\n".join(str(f) for f in findings)
    assert tally.requests > 0, report
