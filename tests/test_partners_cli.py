"""The partner side of the `hub` command and of the sample: create-admin, permissions-table, the sample partners."""

from __future__ import annotations

import asyncio
import re

import pytest
from typer.testing import CliRunner

from hub_graphql.cli import app
from resolvers.access import permissions_markdown
from resolvers.samples import partners as partners_sample
from tests.harness import Hub

LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token viewer { roles reseller { status } distributor { quoteTransport } } }
}"""
SIGN_IN_LINE = re.compile(r"^\s+(\w+)\s+(\S+@\S+)\s+password (\S+)$")


def test_permissions_table_prints_the_doc() -> None:
    result = CliRunner().invoke(app, ["permissions-table"])
    assert result.exit_code == 0
    assert result.stdout == permissions_markdown()


async def test_create_admin_makes_a_site_admin_who_can_sign_in(
    hub: Hub, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.chdir("/")  # no .env file on the way
    runner = CliRunner()
    # The CLI runs its own event loop: run it in a thread, away from the test's loop.
    created = await asyncio.to_thread(
        runner.invoke, app, ["create-admin", "First@Hub.example", "--password", "first-admin-pw"]
    )
    assert created.exit_code == 0, created.output
    again = await asyncio.to_thread(
        runner.invoke, app, ["create-admin", "first@hub.example", "--password", "first-admin-pw"]
    )
    assert again.exit_code == 1 and "exists already" in again.output
    short = await asyncio.to_thread(
        runner.invoke, app, ["create-admin", "second@hub.example", "--password", "short"]
    )
    assert short.exit_code == 1
    login = (await hub.query(LOGIN, {"email": "first@hub.example", "password": "first-admin-pw"}))["login"]
    assert login["viewer"]["roles"] == ["SITE_ADMIN"]


async def test_the_sample_partners_and_their_printed_sign_ins(hub: Hub) -> None:
    printed: list[str] = []
    await partners_sample.seed(hub.resources.session_factory, printed.append)
    sign_ins = [m.groups() for m in map(SIGN_IN_LINE.match, printed) if m]
    roles = [role for role, _, _ in sign_ins]
    assert {"SITE_ADMIN", "CHANNEL_MANAGER", "CATALOG_MANAGER"} <= set(roles)
    assert roles.count("DISTRIBUTOR_REP") == 3 and roles.count("RESELLER_ADMIN") == 5
    transports, statuses = set(), []
    for role, email, password in sign_ins:
        viewer = (await hub.query(LOGIN, {"email": email, "password": password}))["login"]["viewer"]
        assert viewer["roles"] == [role], email
        if viewer["distributor"]:
            transports.add(viewer["distributor"]["quoteTransport"])
        if viewer["reseller"]:
            statuses.append(viewer["reseller"]["status"])
    assert transports == {"GRAPHQL_SUBGRAPH", "REST_JSON", "MANUAL"}
    assert sorted(set(statuses)) == ["APPROVED", "PENDING", "REJECTED", "SUSPENDED"]
