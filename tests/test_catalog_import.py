"""`hub catalog import`: CSV and JSON Lines, rejected lines with their numbers, all or nothing, --skip-invalid."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hub_graphql.cli import app
from resolvers.catalog_import import ReaderFailed, import_products
from tests.harness import Hub

UPSERT_CATEGORIES = """
mutation($input: [CategoryInput!]!) {
  upsertCategories(input: $input) { userErrors { field message } }
}"""
UPSERT_GROUPS = """
mutation($input: [ProductGroupInput!]!) {
  upsertProductGroups(input: $input) { userErrors { field message } }
}"""
PRODUCTS = """
query($first: Int, $after: String) {
  products(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      sku name description status category { code } groups { code }
      attributes { name value }
      usd: listPrice(currency: "USD") { amount } eur: listPrice(currency: "EUR") { amount }
    } }
  }
}"""

CSV_HEADER = "sku,name,description,status,categoryCode,groupCodes,attributes,price_USD,price_EUR\n"
CSV_GOOD = (
    CSV_HEADER
    + "DR-1,Cordless drill,18 V drill,ACTIVE,drills,promo|pro,brand=Atlas|color=red,129.00,119.50\n"
    + 'DR-2,"Hammer drill, heavy",,DRAFT,drills,,,89.90,\n'
    + "SAW-1,Jigsaw,,,tools,,weight_kg=2.1,59.00,55.00\n"
)
JSONL_GOOD = [
    {
        "sku": "DR-1",
        "name": "Cordless drill",
        "description": "18 V drill",
        "status": "ACTIVE",
        "categoryCode": "drills",
        "groupCodes": ["promo", "pro"],
        "listPrices": [{"currency": "USD", "amount": "129.00"}, {"currency": "EUR", "amount": 119.5}],
        "attributes": [{"name": "brand", "value": "Atlas"}, {"name": "color", "value": "red"}],
    },
    {
        "sku": "DR-2",
        "name": "Hammer drill, heavy",
        "status": "DRAFT",
        "categoryCode": "drills",
        "listPrices": [{"currency": "USD", "amount": "89.90"}],
    },
    {
        "sku": "SAW-1",
        "name": "Jigsaw",
        "categoryCode": "tools",
        "listPrices": [{"currency": "USD", "amount": "59"}, {"currency": "EUR", "amount": "55.00"}],
        "attributes": [{"name": "weight_kg", "value": 2.1}],
    },
]


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads the test's database from HUB_DATABASE_URL, away from any .env file."""
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.chdir("/")


async def hub_import(*args: str) -> Result:
    # The command runs its own event loop: run it in a thread, away from the test's loop.
    return await asyncio.to_thread(CliRunner().invoke, app, ["catalog", "import", *args])


async def prepare_catalog(hub: Hub) -> str:
    token = await hub.user("CATALOG_MANAGER")
    tree = [{"code": "tools", "name": "Tools"}, {"code": "drills", "name": "Drills", "parentCode": "tools"}]
    data = await hub.query(UPSERT_CATEGORIES, {"input": tree}, token=token)
    assert data["upsertCategories"]["userErrors"] == []
    groups = [{"code": "promo", "name": "Promotion"}, {"code": "pro", "name": "Pro line"}]
    data = await hub.query(UPSERT_GROUPS, {"input": groups}, token=token)
    assert data["upsertProductGroups"]["userErrors"] == []
    return token


async def all_products(hub: Hub, token: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = (await hub.query(PRODUCTS, {"first": 100, "after": after}, token=token))["products"]
        found.update({edge["node"]["sku"]: edge["node"] for edge in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def assert_the_three_products(products: dict[str, dict[str, Any]]) -> None:
    assert sorted(products) == ["DR-1", "DR-2", "SAW-1"]
    drill = products["DR-1"]
    assert drill["name"] == "Cordless drill" and drill["description"] == "18 V drill"
    assert drill["category"] == {"code": "drills"}
    assert sorted(g["code"] for g in drill["groups"]) == ["pro", "promo"]
    assert drill["attributes"] == [{"name": "brand", "value": "Atlas"}, {"name": "color", "value": "red"}]
    assert drill["usd"] == {"amount": "129.00"} and drill["eur"] == {"amount": "119.50"}
    hammer = products["DR-2"]
    assert hammer["name"] == "Hammer drill, heavy" and hammer["status"] == "DRAFT"
    assert hammer["usd"] == {"amount": "89.90"} and hammer["eur"] is None
    jigsaw = products["SAW-1"]
    assert jigsaw["status"] == "ACTIVE" and jigsaw["category"] == {"code": "tools"}
    assert jigsaw["attributes"] == [{"name": "weight_kg", "value": "2.1"}]
    assert jigsaw["usd"] == {"amount": "59.00"} and jigsaw["eur"] == {"amount": "55.00"}


@pytest.mark.usefixtures("cli_env")
async def test_a_csv_file_imports_products_with_prices_attributes_and_groups(
    hub: Hub, tmp_path: Path
) -> None:
    # given
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_text(CSV_GOOD, encoding="utf-8")
    # when
    result = await hub_import(str(file))
    # then
    assert result.exit_code == 0, result.output
    assert "imported 3 products, rejected 0 lines" in result.output
    assert_the_three_products(await all_products(hub, token))


@pytest.mark.usefixtures("cli_env")
async def test_a_json_lines_file_imports_the_same_products(hub: Hub, tmp_path: Path) -> None:
    token = await prepare_catalog(hub)
    file = write_jsonl(tmp_path / "products.jsonl", JSONL_GOOD)
    result = await hub_import(str(file))
    assert result.exit_code == 0, result.output
    assert "imported 3 products" in result.output
    assert_the_three_products(await all_products(hub, token))


@pytest.mark.usefixtures("cli_env")
async def test_rejected_lines_are_reported_by_number_and_nothing_is_written(hub: Hub, tmp_path: Path) -> None:
    # given: with batches of 2 the bad lines come after a batch of good ones
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_text(
        CSV_GOOD
        + "SAW-2,Mitre saw,,,no-such-category,,,99.00,\n"  # line 5
        + "SAW-3,Band saw,,,tools,,,-1.00,\n"  # line 6
        + "SAW-4,Circular saw,,,tools,,,12.00,\n",
        encoding="utf-8",
    )
    # when
    result = await hub_import(str(file), "--batch-size", "2")
    # then
    assert result.exit_code == 1
    assert "line 5" in result.output and "no-such-category" in result.output
    assert "line 6" in result.output and "zero or more" in result.output
    assert "line 2" not in result.output and "line 7" not in result.output
    assert "2 lines rejected; nothing was imported" in result.output
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_an_unreadable_json_line_is_reported_and_nothing_is_written(hub: Hub, tmp_path: Path) -> None:
    token = await prepare_catalog(hub)
    file = tmp_path / "products.jsonl"
    file.write_text(
        "".join(json.dumps(row) + "\n" for row in JSONL_GOOD[:2]) + "{not json\n", encoding="utf-8"
    )
    result = await hub_import(str(file))
    assert result.exit_code == 1
    assert "line 3" in result.output and "cannot read the line" in result.output
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_skip_invalid_writes_the_valid_lines(hub: Hub, tmp_path: Path) -> None:
    token = await prepare_catalog(hub)
    rows = [
        *JSONL_GOOD,
        {"sku": "", "name": "No SKU"},
        {"sku": "X-1", "name": "Yen", "listPrices": [{"currency": "JPY", "amount": 5}]},
    ]
    file = write_jsonl(tmp_path / "products.jsonl", rows)
    result = await hub_import(str(file), "--skip-invalid", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "line 4" in result.output and "line 5" in result.output and "JPY" in result.output
    assert "imported 3 products, rejected 2 lines" in result.output
    assert_the_three_products(await all_products(hub, token))


@pytest.mark.usefixtures("cli_env")
async def test_a_second_import_updates_by_sku_and_keeps_what_a_line_leaves_out(
    hub: Hub, tmp_path: Path
) -> None:
    # given
    token = await prepare_catalog(hub)
    first = tmp_path / "first.csv"
    first.write_text(CSV_GOOD, encoding="utf-8")
    assert (await hub_import(str(first))).exit_code == 0
    # when: DR-1 renamed with no groups, attributes or prices given; SAW-1 given a new price list
    second = tmp_path / "second.csv"
    second.write_text(
        CSV_HEADER
        + "DR-1,Cordless drill v2,18 V drill,ACTIVE,drills,,,,\n"
        + "SAW-1,Jigsaw,,DISCONTINUED,tools,,,61.00,\n",
        encoding="utf-8",
    )
    result = await hub_import(str(second))
    # then
    assert result.exit_code == 0, result.output
    products = await all_products(hub, token)
    assert sorted(products) == ["DR-1", "DR-2", "SAW-1"]
    drill = products["DR-1"]
    assert drill["name"] == "Cordless drill v2"
    assert sorted(g["code"] for g in drill["groups"]) == ["pro", "promo"]
    assert [a["name"] for a in drill["attributes"]] == ["brand", "color"]
    assert drill["usd"] == {"amount": "129.00"} and drill["eur"] == {"amount": "119.50"}
    jigsaw = products["SAW-1"]
    assert jigsaw["status"] == "DISCONTINUED"
    assert jigsaw["usd"] == {"amount": "61.00"} and jigsaw["eur"] is None
    assert jigsaw["attributes"] == [{"name": "weight_kg", "value": "2.1"}]


SEARCH = "query($term: String!) { products(first: 10, filter: { search: $term }) { edges { node { sku } } } }"


@pytest.mark.usefixtures("cli_env")
async def test_the_search_index_follows_imports_and_the_next_upsert(hub: Hub, tmp_path: Path) -> None:
    # given: an import, then a second one that renames a product (the bulk path indexes per batch)
    token = await prepare_catalog(hub)
    first = tmp_path / "first.csv"
    first.write_text(CSV_GOOD, encoding="utf-8")
    assert (await hub_import(str(first))).exit_code == 0
    second = tmp_path / "second.csv"
    second.write_text(CSV_HEADER + "DR-1,Rotary percussion tool,,ACTIVE,drills,,,,\n", encoding="utf-8")
    assert (await hub_import(str(second))).exit_code == 0

    async def found(term: str) -> list[str]:
        data = await hub.query(SEARCH, {"term": term}, token=token)
        return [edge["node"]["sku"] for edge in data["products"]["edges"]]

    # then: new text is found, the old text of the renamed product is not
    assert await found("percussion") == ["DR-1"]
    assert await found("cordless") == []
    assert await found("jigsaw") == ["SAW-1"]
    # and the row-by-row index is back for everything else that writes products
    await hub.query(
        'mutation { upsertProducts(input: [{sku: "SAW-1", name: "Scroll saw"}]) { userErrors { code } } }',
        token=token,
    )
    assert await found("jigsaw") == []
    assert await found("scroll") == ["SAW-1"]


@pytest.mark.usefixtures("cli_env")
async def test_a_sku_twice_in_one_file_is_rejected_even_in_different_batches(
    hub: Hub, tmp_path: Path
) -> None:
    # given: DR-1 on line 2 and again on line 5, two batches apart
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_text(CSV_GOOD + "DR-1,Cordless drill again,,,drills,,,1.00,\n", encoding="utf-8")
    # when
    result = await hub_import(str(file), "--batch-size", "1")
    # then
    assert result.exit_code == 1
    assert "line 5" in result.output and "DR-1 appears twice" in result.output
    assert "1 lines rejected; nothing was imported" in result.output
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_a_csv_file_that_is_not_utf8_is_refused_with_its_first_bad_line(
    hub: Hub, tmp_path: Path
) -> None:
    # given: a spreadsheet's Latin-1 export, the bad byte on line 3
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_bytes(
        (CSV_HEADER + "DR-1,Drill,,,drills,,,1.00,\nDR-2,Perceuse à main,,,drills,,,2.00,\n").encode(
            "latin-1"
        )
    )
    # when
    result = await hub_import(str(file))
    # then
    assert result.exit_code == 1
    assert "line 3 is not UTF-8 text" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_a_json_line_that_is_not_utf8_is_a_rejected_line(hub: Hub, tmp_path: Path) -> None:
    token = await prepare_catalog(hub)
    file = tmp_path / "products.jsonl"
    file.write_bytes(
        (json.dumps(JSONL_GOOD[0]) + "\n").encode()
        + '{"sku": "X", "name": "Perceuse à main"}\n'.encode("latin-1")
    )
    result = await hub_import(str(file))
    assert result.exit_code == 1
    assert "line 2" in result.output and "not UTF-8 text" in result.output
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_a_csv_field_over_the_size_limit_stops_the_import_with_its_line(
    hub: Hub, tmp_path: Path
) -> None:
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_text(CSV_GOOD + f"BIG-1,Big,{'x' * 200_000},,tools,,,1.00,\n", encoding="utf-8")
    result = await hub_import(str(file))
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "line 5 cannot be read as CSV" in said and "nothing was imported" in said
    assert "Traceback" not in said
    assert await all_products(hub, token) == {}


@pytest.mark.usefixtures("cli_env")
async def test_a_csv_file_that_starts_with_a_byte_order_mark_imports(hub: Hub, tmp_path: Path) -> None:
    # Spreadsheet programs write one before the header; it must not hide the sku column.
    token = await prepare_catalog(hub)
    file = tmp_path / "products.csv"
    file.write_text("\ufeff" + CSV_GOOD, encoding="utf-8")
    result = await hub_import(str(file))
    assert result.exit_code == 0, result.output
    assert_the_three_products(await all_products(hub, token))


async def test_a_reader_that_dies_fails_the_import_with_its_reason_and_writes_nothing(
    hub: Hub, tmp_path: Path
) -> None:
    # given: a file the reader process cannot open (the command checks this first; the function does not)
    token = await prepare_catalog(hub)
    # when / then
    with pytest.raises(ReaderFailed, match="No such file"):
        await import_products(hub.resources.session_factory, tmp_path / "gone.csv")
    assert await all_products(hub, token) == {}
    # and: the next import still works (the failed one left no lock or trigger behind)
    file = tmp_path / "products.csv"
    file.write_text(CSV_GOOD, encoding="utf-8")
    report = await import_products(hub.resources.session_factory, file)
    assert report.imported == 3 and report.written
    assert_the_three_products(await all_products(hub, token))
