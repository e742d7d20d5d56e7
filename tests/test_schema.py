"""The exported schema, the contract ratchet and the migrations stay true to the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_ast_schema, find_breaking_changes, parse

from datasources.migrate import check
from hub_graphql.schema import export_sdl
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
SHARED_CONTRACTS = ROOT.parent / "shared" / "contract"
# The project's copy of the public contract, so a clone anywhere can run the ratchet; where the
# workplace's shared/contract/ stands beside the clone (CI), the copy must be the same file.
CONTRACT = ROOT / "tests" / "contract" / "hub.graphql"
DISTRIBUTOR_CONTRACT = ROOT / "datasources" / "partners" / "distributor-quote.graphql"
PENDING = ROOT / "tests" / "contract_pending.txt"


def _breaks(schema_sdl: str, contract_sdl: str) -> set[str]:
    schema = build_ast_schema(parse(schema_sdl), assume_valid_sdl=True)
    contract = build_ast_schema(parse(contract_sdl), assume_valid_sdl=True)
    return {
        f"{b.type.name}: {b.description}"
        for b in find_breaking_changes(contract, schema)
        if b.type.name != "DIRECTIVE_REMOVED"
    }


def test_schema_file_is_what_export_schema_prints() -> None:
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql is out of date: run `hub export-schema -o schema.graphql`"
    )


def test_export_schema_command_prints_the_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hub_graphql.cli", "export-schema"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout == export_sdl()


def test_contract_ratchet_only_shrinks() -> None:
    breaks = _breaks(
        (ROOT / "schema.graphql").read_text(encoding="utf-8"), CONTRACT.read_text(encoding="utf-8")
    )
    pending = {line for line in PENDING.read_text(encoding="utf-8").splitlines() if line.strip()}
    new = sorted(breaks - pending)
    closed = sorted(pending - breaks)
    assert not new, "schema.graphql breaks the contract where it did not before:\n" + "\n".join(new)
    assert not closed, (
        "these contract breaks are closed; take them off tests/contract_pending.txt:\n" + "\n".join(closed)
    )


def test_migrations_make_every_model_change(database_url: str) -> None:
    # `database_url` is migrated to head by the harness; `alembic check` finds any model change left over.
    check(database_url)


@pytest.mark.parametrize(
    ("copy", "name"), [(CONTRACT, "hub.graphql"), (DISTRIBUTOR_CONTRACT, "distributor-quote.graphql")]
)
def test_the_project_copies_of_the_contracts_are_current(copy: Path, name: str) -> None:
    shared = SHARED_CONTRACTS / name
    if not shared.exists():
        skip_or_fail(f"{shared} is not beside this clone: the copy in the project cannot be compared")
    assert copy.read_text(encoding="utf-8") == shared.read_text(encoding="utf-8"), (
        f"{copy.relative_to(ROOT)} differs from {shared}: copy the new contract in"
    )


def test_the_graphiql_examples_are_valid_operations() -> None:
    from graphql import validate

    from hub_graphql.graphiql import EXAMPLES_FILE
    from hub_graphql.schema import build_schema

    document = parse(EXAMPLES_FILE.read_text(encoding="utf-8"))
    assert len(document.definitions) >= 8
    assert validate(build_schema()._schema, document) == []
