"""The access table, tested from the table itself: every operation, as every role and as an anonymous caller.

For each entry of resolvers.access.OPERATIONS (its document is in
tests/permission_cases.py) every caller runs the operation: where the table
allows it the field resolves without an auth error; where it refuses, the
answer is UNAUTHENTICATED (anonymous) or FORBIDDEN (signed in), the field's
value is not revealed, and no row of any table changed. Tokens that are
tampered, expired, signed with another key or name no user are refused.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import text

from datasources.models import metadata
from datasources.partners.models import User
from resolvers.access import OPERATIONS, allows, permissions_markdown
from resolvers.auth import TOKEN_ALGORITHM, TOKEN_ISSUER, hash_password, issue_token
from tests.harness import Hub, codes_of
from tests.partners_factory import partner_world
from tests.permission_cases import CASES, Caller

ROOT = Path(__file__).resolve().parents[1]
AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
PASSWORD_HASH = hash_password("callers-never-sign-in")

CALLERS = [
    Caller("anonymous", None),
    Caller("CUSTOMER", "CUSTOMER"),
    Caller("DISTRIBUTOR_REP", "DISTRIBUTOR_REP", distributor_code="D-ONE"),
    Caller(
        "RESELLER_ADMIN@suspended", "RESELLER_ADMIN", reseller_code="R-SUSPENDED", reseller_approved=False
    ),
    Caller("RESELLER_ADMIN", "RESELLER_ADMIN", reseller_code="R-APPROVED"),
    Caller("CUSTOMER_SERVICE", "CUSTOMER_SERVICE"),
    Caller("MARKETING_MANAGER", "MARKETING_MANAGER"),
    Caller("CATALOG_MANAGER", "CATALOG_MANAGER"),
    Caller("CHANNEL_MANAGER", "CHANNEL_MANAGER"),
    Caller("SITE_ADMIN", "SITE_ADMIN"),
]


async def snapshot(hub: Hub) -> dict[str, list[str]]:
    """Every row of every table, for comparing before and after a refused call."""
    async with hub.resources.engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in (await connection.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            )
            for table in metadata.sorted_tables
        }


async def tokens_for(hub: Hub, world: Any) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {}
    for caller in CALLERS:
        if caller.role is None:
            tokens[caller.key] = None
            continue
        async with hub.resources.session_factory() as session, session.begin():
            # One argon2 hash for every caller: these users never sign in with a password.
            user = User(
                email=f"{caller.key.lower().replace('@', '.')}@callers.example",
                password_hash=PASSWORD_HASH,
                roles=[caller.role],
                reseller_id=world.resellers[caller.reseller_code] if caller.reseller_code else None,
                distributor_id=world.distributors[caller.distributor_code]
                if caller.distributor_code
                else None,
            )
            session.add(user)
            await session.flush()
            tokens[caller.key] = hub.token_for(user.id)
    return tokens


def values_of(data: Any, key: str) -> list[Any]:
    """Every value the response holds under `key`, at any depth."""
    found: list[Any] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k == key:
                found.append(v)
            found.extend(values_of(v, key))
    elif isinstance(data, list):
        for item in data:
            found.extend(values_of(item, key))
    return found


def auth_errors_at(body: dict[str, Any], key: str) -> list[str]:
    return [
        e["extensions"]["code"]
        for e in body.get("errors") or []
        if e.get("extensions", {}).get("code") in AUTH_CODES and (e.get("path") or [None])[-1] == key
    ]


def expected_outcome(operation: str, caller: Caller) -> str:
    if allows(OPERATIONS[operation], caller.role, reseller_approved=caller.reseller_approved):
        return "allowed"
    return "UNAUTHENTICATED" if caller.role is None else "FORBIDDEN"


def test_every_operation_has_a_case() -> None:
    missing = sorted(set(OPERATIONS) - set(CASES))
    stale = sorted(set(CASES) - set(OPERATIONS))
    assert not missing, "add a case to tests/permission_cases.py for: " + ", ".join(missing)
    assert not stale, "these cases test no operation of OPERATIONS: " + ", ".join(stale)


def test_permissions_doc_is_up_to_date() -> None:
    assert (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8") == permissions_markdown(), (
        "docs/permissions.md is out of date: run `hub permissions-table -o docs/permissions.md`"
    )


def test_every_guarded_field_is_in_the_table_and_every_entry_is_guarded() -> None:
    from hub_graphql.permissions import Guard
    from hub_graphql.schema import build_schema

    schema = build_schema()
    guarded: set[str] = set()
    for type_name, graphql_type in schema._schema.type_map.items():
        definition = getattr(graphql_type, "extensions", {}).get("strawberry-definition")
        for field in getattr(definition, "fields", []) or []:
            for extension in field.extensions or []:
                if any(isinstance(p, Guard) for p in getattr(extension, "permissions", [])):
                    guarded.add(f"{type_name}.{schema.config.name_converter.get_graphql_name(field)}")
    assert guarded == set(OPERATIONS), {
        "guarded but not in OPERATIONS": sorted(guarded - set(OPERATIONS)),
        "in OPERATIONS but not guarded": sorted(set(OPERATIONS) - guarded),
    }


@pytest.mark.parametrize("operation", sorted(CASES))
async def test_operation_as_every_caller(hub: Hub, operation: str) -> None:
    # given: resellers in each state, distributors, links, and one user per caller
    if operation not in OPERATIONS:
        pytest.fail(f"{operation} has a case but no entry in OPERATIONS")
    case = CASES[operation]
    world = await partner_world(hub)
    if case.setup is not None:
        await case.setup(hub, world)
    tokens = await tokens_for(hub, world)
    for caller in CALLERS:
        expected = expected_outcome(operation, caller)
        before = await snapshot(hub)
        # when
        body = await hub.post(case.document, case.variables(caller), token=tokens[caller.key])
        # then
        where = f"{operation} as {caller.key}: {body}"
        if expected == "allowed":
            assert not auth_errors_at(body, case.field), where
            assert values_of(body.get("data"), case.field), f"the operation was never reached: {where}"
            if case.document.lstrip().startswith("mutation"):
                assert body["data"][case.field] is not None, where
        else:
            assert expected in codes_of(body), where
            assert set(codes_of(body)) & AUTH_CODES == {expected}, where
            assert all(v in (None, []) for v in values_of(body.get("data"), case.field)), where
            assert await snapshot(hub) == before, f"a refused call wrote: {where}"


# ---------------------------------------------------------------- tokens

APPROVE = 'mutation { approveReseller(code: "R-PENDING") { reseller { status } userErrors { code } } }'
VIEWER = "{ viewer { email } }"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


async def bad_tokens(hub: Hub) -> dict[str, str]:
    good = await hub.user("SITE_ADMIN")
    await hub.user("SITE_ADMIN")  # the user a tampered token would name
    user_id = int(jwt.decode(good, options={"verify_signature": False})["sub"])
    secret = hub.settings.secret_key.get_secret_value()
    unsigned = jwt.encode(
        {"sub": str(user_id), "iat": 1, "exp": 4_000_000_000, "iss": TOKEN_ISSUER}, key=None, algorithm="none"
    )
    return {
        "tampered": _tampered(good),
        "expired": issue_token(user_id, secret, timedelta(minutes=-1)),
        "other key": issue_token(user_id, "another-key-" + "x" * 40, timedelta(hours=1)),
        "unsigned": unsigned,
        "other issuer": jwt.encode(
            {"sub": str(user_id), "iat": 1, "exp": 4_000_000_000, "iss": "someone-else"},
            secret,
            algorithm=TOKEN_ALGORITHM,
        ),
        "unknown user": issue_token(999_999, secret, timedelta(hours=1)),
        "garbage": "not-a-token",
    }


async def test_bad_tokens_are_refused_and_write_nothing(hub: Hub) -> None:
    await partner_world(hub)
    for name, token in (await bad_tokens(hub)).items():
        before = await snapshot(hub)
        body = await hub.post(APPROVE, token=token)
        assert codes_of(body) == ["UNAUTHENTICATED"], (name, body)
        assert body["data"] is None, (name, body)
        assert await snapshot(hub) == before, name
        assert (await hub.query(VIEWER, token=token))["viewer"] is None, name


async def test_a_good_token_passes_where_the_bad_ones_failed(hub: Hub) -> None:
    # The refusals above are about the tokens: the same call with a good token works.
    await partner_world(hub)
    token = await hub.user("SITE_ADMIN")
    data = await hub.query(APPROVE, token=token)
    assert data["approveReseller"] == {"reseller": {"status": "APPROVED"}, "userErrors": []}


async def test_a_token_in_another_scheme_is_no_token(hub: Hub) -> None:
    token = await hub.user("SITE_ADMIN")
    response = await hub.client.post(
        "/graphql", json={"query": APPROVE}, headers={"Authorization": f"Basic {token}"}
    )
    assert codes_of(response.json()) == ["UNAUTHENTICATED"]
