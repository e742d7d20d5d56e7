"""Every GraphQL operation of the storefront and the dashboard (their operations.js) is valid against the hub's schema.

Node loads each operations.js as the browser does (an ES module whose exports are complete documents),
so what is checked is exactly what the pages send; the persisted-query manifest is built the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate

from hub_graphql.schema import build_schema as build_hub_schema
from hub_graphql.web_pages import WEB_DIR
from resolvers.access import OPERATIONS, TABLE_ROLES, allows
from tests.conftest import skip_or_fail

APPS = ["shop", "admin"]
CONTRACT = WEB_DIR.parents[2] / "tests" / "contract" / "hub.graphql"
EXPORTS_JS = "const m = await import(process.argv.at(-1)); process.stdout.write(JSON.stringify(m));"


@cache
def exports_of(path: str) -> dict[str, Any]:
    """The exports of a module under hub_graphql/static/web/, as Node evaluates them (JSON values only)."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed: the pages' modules are read by evaluating them")
    module = (WEB_DIR / path).as_uri()
    done = subprocess.run(
        [node, "--input-type=module", "-e", EXPORTS_JS, module],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def operations_of(app: str) -> dict[str, str]:
    """The documents of hub_graphql/static/web/<app>/operations.js."""
    return exports_of(f"{app}/operations.js")


@cache
def hub_schema() -> GraphQLSchema:
    return build_hub_schema()._schema


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@pytest.mark.parametrize("app", APPS)
def test_each_export_is_one_named_operation_valid_against_the_hubs_schema(app: str) -> None:
    exports = operations_of(app)

    assert len(exports) >= 8
    for name, text in exports.items():
        assert isinstance(text, str), f"{app} {name} is not a document"
        document = parse(text)
        found = operations(document)
        assert len(found) == 1 and found[0].name is not None, f"{app} {name}: one named operation"
        assert validate(hub_schema(), document) == [], f"{app} {name}"


@pytest.mark.parametrize("app", APPS)
def test_each_operation_keeps_to_the_public_contract(app: str) -> None:
    # The contract is what a reseller's own front end may rely on; the sample pages use nothing else.
    contract = build_schema(CONTRACT.read_text(encoding="utf-8"))

    for name, text in operations_of(app).items():
        assert validate(contract, parse(text)) == [], f"{app} {name}"


def test_operation_names_are_unique_across_the_pages() -> None:
    # A persisted-query manifest keys the documents by operation name.
    names = [
        operations(parse(text))[0].name.value  # type: ignore[union-attr]
        for app in APPS
        for text in operations_of(app).values()
    ]

    assert len(names) == len(set(names))


def test_the_dashboard_offers_each_part_to_the_roles_the_access_table_allows() -> None:
    # admin/access.js decides what the dashboard shows; the hub's table decides what it does.
    parts = exports_of("admin/access.js")["PARTS"]

    for name, part in parts.items():
        rule = OPERATIONS[part["operation"]]
        allowed = sorted(role for role in TABLE_ROLES if allows(rule, role))
        assert sorted(part["roles"]) == allowed, f"{name} ({part['operation']})"
