"""Every GraphQL operation of the storefront and the dashboard (their operations.js) is valid against the hub's schema.

Node loads each operations.js as the browser does (an ES module whose exports are complete documents),
so what is checked is exactly what the pages send; the persisted-query manifest is built the same way.

The pages are written against the public contract (tests/contract/hub.graphql), and every operation
must be valid against it. Against the hub's own schema, an operation is checked in full once every
field and type it uses is built; until then, each one it uses must be built or be one of the
contract's open breaks on tests/contract_pending.txt (which tests/test_schema.py keeps exact, so a
field leaves that list the moment it is built, and the full check applies from then on).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    NamedTypeNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    validate,
    visit,
)

from hub_graphql.schema import build_schema as build_hub_schema
from hub_graphql.web_pages import WEB_DIR
from resolvers.access import OPERATIONS, TABLE_ROLES, allows
from tests.conftest import skip_or_fail

APPS = ["shop", "admin"]
ROOT = WEB_DIR.parents[2]
CONTRACT = ROOT / "tests" / "contract" / "hub.graphql"
PENDING = ROOT / "tests" / "contract_pending.txt"
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


@cache
def contract_schema() -> GraphQLSchema:
    return build_schema(CONTRACT.read_text(encoding="utf-8"))


@cache
def pending() -> frozenset[str]:
    """Fields (`Type.field`) and types of the contract the hub has not built yet."""
    found: set[str] = set()
    for line in PENDING.read_text(encoding="utf-8").splitlines():
        field = re.match(r"FIELD_REMOVED: Field (\w+\.\w+) was removed\.", line)
        kind = re.match(r"TYPE_REMOVED: (\w+) was removed\.", line)
        if field or kind:
            found.add((field or kind).group(1))  # type: ignore[union-attr]
    return frozenset(found)


def coordinates_used(document: DocumentNode) -> set[str]:
    """Every field (`Type.field`) and named type the document uses, read with the contract's types."""
    type_info = TypeInfo(contract_schema())
    found: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add(f"{get_named_type(parent).name}.{node.name.value}")

        def enter_named_type(self, node: NamedTypeNode, *_: Any) -> None:
            found.add(node.name.value)

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return found


def built(coordinate: str) -> bool:
    type_name, _, field = coordinate.partition(".")
    kind = hub_schema().get_type(type_name)
    if kind is None:
        return False
    return not field or field in getattr(kind, "fields", {})


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def all_operations() -> list[tuple[str, str]]:
    return [(app, name) for app in APPS for name in operations_of(app)]


@pytest.mark.parametrize("app", APPS)
def test_each_export_is_one_named_operation_that_keeps_to_the_public_contract(app: str) -> None:
    # The contract is what a reseller's own front end may rely on; the sample pages use nothing else.
    exports = operations_of(app)

    assert len(exports) >= 8
    for name, text in exports.items():
        assert isinstance(text, str), f"{app} {name} is not a document"
        document = parse(text)
        found = operations(document)
        assert len(found) == 1 and found[0].name is not None, f"{app} {name}: one named operation"
        assert validate(contract_schema(), document) == [], f"{app} {name}"


@pytest.mark.parametrize("app", APPS)
def test_each_operation_is_valid_against_the_hubs_schema(app: str) -> None:
    for name, text in operations_of(app).items():
        document = parse(text)
        missing = sorted(c for c in coordinates_used(document) if not built(c))

        unexplained = [c for c in missing if c not in pending() and c.partition(".")[0] not in pending()]
        assert unexplained == [], f"{app} {name} uses what the hub lacks"
        if not missing:
            assert validate(hub_schema(), document) == [], f"{app} {name}"


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
        operation = part["operation"]
        if operation not in OPERATIONS:
            assert operation in pending(), f"{name}: {operation} is neither in the access table nor pending"
            continue
        allowed = sorted(role for role in TABLE_ROLES if allows(OPERATIONS[operation], role))
        assert sorted(part["roles"]) == allowed, f"{name} ({operation})"
