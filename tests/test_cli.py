"""The `hub` command: every command's --help says what it does, the deterministic sample, export-schema."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import func, select
from typer.core import TyperGroup
from typer.testing import CliRunner

from datasources.catalog.models import Category, Product, ProductGroup, ProductPrice
from hub_graphql.cli import app
from hub_graphql.schema import export_sdl
from resolvers.samples.catalog import sample_products
from tests.harness import Hub

# What each command's help must say (the README's command table says the same).
HELP_SAYS = {
    (): "The demand chain hub.",
    ("serve",): "Serve the hub with GraphiQL",
    ("db",): "database",
    ("db", "upgrade"): "Create or migrate the database",
    ("seed",): "sample data",
    ("catalog",): "master catalog",
    ("catalog", "import"): "Import products from CSV or JSON Lines",
    ("orders",): "Store orders",
    ("orders", "import"): "Import past store orders",
    ("export-schema",): "GraphQL SDL",
    ("create-admin",): "Create a SITE_ADMIN user",
}


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))


ALL_COMMANDS = sorted(commands(typer.main.get_command(app)), key=lambda c: c[0])


def flat(text: str) -> str:
    """Help text as one line: no box drawing, one space between words (rich wraps it to the terminal)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize(
    ("path", "command"), ALL_COMMANDS, ids=[" ".join(p) or "hub" for p, _ in ALL_COMMANDS]
)
def test_every_command_help_says_what_it_does(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    summary = flat(command.help or "")
    assert len(summary.split()) >= 3, f"`hub {' '.join(path)}` has no description"
    assert summary in flat(result.output)


def test_the_documented_commands_exist_and_say_what_they_do() -> None:
    helps = {path: flat(command.help or "") for path, command in ALL_COMMANDS}
    for path, phrase in HELP_SAYS.items():
        assert path in helps, f"`hub {' '.join(path)}` is missing"
        assert phrase in helps[path], f"`hub {' '.join(path)} --help` should say {phrase!r}: {helps[path]!r}"


def test_export_schema_writes_the_sdl_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = CliRunner().invoke(app, ["export-schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert target.read_text(encoding="utf-8") == export_sdl()
    assert "type Query" in export_sdl() and "type Product" in export_sdl()


def test_the_sample_catalog_is_the_same_on_every_run() -> None:
    first, second = sample_products(), sample_products()
    assert first == second
    assert len({p.sku for p in first}) == len(first)


async def test_seed_sample_loads_the_deterministic_sample_catalog(
    hub: Hub, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no .env file on the way; the sample's price lists go to ./sample-data
    runner = CliRunner()
    # when: the CLI runs its own event loop, so it runs in a thread, away from the test's loop
    result = await asyncio.to_thread(runner.invoke, app, ["seed", "--sample"])
    # then
    assert result.exit_code == 0, result.output
    assert "sample data loaded" in result.output
    async with hub.resources.session_factory() as session:
        categories = (await session.scalars(select(Category))).all()
        products = (await session.scalars(select(Product).order_by(Product.sku))).all()
        groups = await session.scalar(select(func.count()).select_from(ProductGroup))
        prices = (await session.execute(select(ProductPrice.product_id, ProductPrice.currency))).all()
        usd = dict(
            (
                await session.execute(
                    select(Product.sku, ProductPrice.amount_minor)
                    .join(ProductPrice)
                    .where(ProductPrice.currency == "USD")
                )
            ).all()
        )
    # about 5,000 products in a three-level tree, every product in a leaf
    assert 4500 <= len(products) <= 5500
    depth_count = Counter(c.depth for c in categories)
    assert sorted(depth_count) == [0, 1, 2] and depth_count[0] >= 3
    depth_of = {c.id: c.depth for c in categories}
    assert {depth_of[p.category_id] for p in products} == {2}
    # a dozen groups; a list price in USD and in EUR for every product
    assert groups == 12
    currencies_of = Counter(currency for _, currency in prices)
    assert currencies_of == {"USD": len(products), "EUR": len(products)}
    # deterministic: exactly the generated sample, names and prices included
    expected = sorted(sample_products(), key=lambda p: p.sku)
    assert [(p.sku, p.name, p.status) for p in products] == [(e.sku, e.name, e.status) for e in expected]
    assert usd == {e.sku: int(dict(e.list_prices or [])["USD"] * 100) for e in expected}

    # and a second run leaves a database that holds a catalog alone
    again = await asyncio.to_thread(runner.invoke, app, ["seed", "--sample"])
    assert again.exit_code == 0, again.output
    assert "was not loaded" in again.output
    async with hub.resources.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == len(products)


def test_seed_without_sample_does_nothing() -> None:
    result = CliRunner().invoke(app, ["seed"])
    assert result.exit_code == 1
    assert "--sample" in result.output
