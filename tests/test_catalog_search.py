"""Search: what `products(filter: {search})` answers equals a plain substring test, on both databases.

SQLite narrows a search with its index of word suffixes (datasources/catalog/search.py) and checks
the whole term after; PostgreSQL uses pg_trgm. Hypothesis generates SKUs, names and descriptions
from an alphabet chosen to trip an index up (LIKE's wildcards, FTS5's quote and star, case,
non-ASCII letters, a zero-width space, tabs) and terms that are pieces of them or not, and compares
the answer with `term.strip().lower() in text`, the rule the docs state. Also: the migration that
moved SQLite from the trigram index to this one, both ways, on a catalog that already has products.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from datasources.catalog.rows import search_text_of
from datasources.catalog.search import SUFFIX_MAX, index_query, search_words
from datasources.db import pg_admin
from datasources.migrate import alembic_config, upgrade
from hub_graphql.settings import Settings
from tests.conftest import PG_URL, skip_or_fail
from tests.harness import open_hub
from tests.stores_factory import clear_catalog_and_stores

ALPHABET = 'ab1-%_"* ßéA\u200b\t'
UPSERT = """
mutation($input: [ProductInput!]!) { upsertProducts(input: $input) { userErrors { field message } } }"""
SEARCH = """
query($term: String!) { products(first: 100, filter: {search: $term}) { edges { node { sku } } } }"""

Product = tuple[str, str, str | None]


@st.composite
def catalogs_and_terms(draw: st.DrawFn) -> tuple[list[Product], list[str]]:
    words = st.text(ALPHABET, min_size=1, max_size=12)
    products: list[Product] = []
    for number in range(draw(st.integers(1, 6))):
        name = draw(words).strip() or "x"
        description = draw(st.none() | st.text(ALPHABET, max_size=24))
        products.append((f"S{number}-{draw(st.text('ab-', max_size=3))}", name, description))
    texts = [search_text_of(*product) for product in products]
    terms = []
    for _ in range(draw(st.integers(1, 6))):
        text = draw(st.sampled_from(texts))
        start = draw(st.integers(0, len(text)))
        piece = text[start : start + draw(st.integers(1, 9))]
        # two words of a text the other way round: each is in the index, the term is not in the text
        swapped = " ".join(reversed(draw(st.permutations(text.split()))[:2]))
        # a piece of a text, as a user might type it (other case, spaces around), or anything at all
        terms.append(draw(st.sampled_from([piece, piece.upper(), f" {piece} ", swapped, draw(words)])))
    return products, [term for term in terms if term.strip()]


async def check_search(settings_: Settings, products: list[Product], terms: list[str]) -> None:
    async with open_hub(settings_) as hub:
        await clear_catalog_and_stores(hub)
        token = await hub.staff()
        rows = [{"sku": sku, "name": name, "description": description} for sku, name, description in products]
        data = await hub.query(UPSERT, {"input": rows}, token=token)
        assert data["upsertProducts"]["userErrors"] == []
        texts = {sku: search_text_of(sku, name, description) for sku, name, description in products}
        for term in terms:
            data = await hub.query(SEARCH, {"term": term}, token=token)
            found = [edge["node"]["sku"] for edge in data["products"]["edges"]]
            needle = term.strip().lower()
            assert found == sorted(sku for sku, text in texts.items() if needle in text), (term, texts)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=catalogs_and_terms())
def test_search_finds_exactly_the_products_whose_text_contains_the_term(
    settings: Settings, case: tuple[list[Product], list[str]]
) -> None:
    asyncio.run(check_search(settings, *case))


def test_the_index_holds_every_suffix_of_three_or_more_characters_of_each_distinct_word() -> None:
    assert search_words("dr-100 drill dr-100 ab") == ("dr-100 r-100 -100 100 drill rill ill ab")
    # each word of the term must be the start of one of them; short words are left to LIKE
    assert index_query("ill dr-1 a") == '"ill"* AND "dr-1"*'
    assert index_query('3" x') is None
    assert index_query('ab"c') == '"ab""c"*'
    assert index_query("ab") is None
    assert index_query("a\u200bbc") is None  # the tokenizer would split it: scan instead


def test_long_words_are_indexed_in_room_proportional_to_their_length() -> None:
    # a 20,000-character "word" (a pasted blob in a description) must not cost its length squared
    assert len(search_words("y" * 20_000)) < 20_000 * (SUFFIX_MAX + 1)
    word = "abcdefghijklmnopqrstuvwxyz0123456789"  # 36 characters
    held = search_words(word).split()
    assert held[0] == word[:SUFFIX_MAX] and held[-1] == "789" and len(held) == len(word) - 2
    # a term's word longer than the cut looks up its first SUFFIX_MAX characters
    assert index_query(word) == f'"{word[:SUFFIX_MAX]}"*'


async def test_a_term_inside_a_long_word_is_found_and_checked_whole(settings: Settings) -> None:
    blob = "".join(f"{n:03d}" for n in range(40))  # 120 characters, no space
    async with open_hub(settings) as hub:
        await clear_catalog_and_stores(hub)
        token = await hub.staff()
        rows = [{"sku": "LONG-1", "name": "Blob", "description": f"data {blob} end"}]
        assert (await hub.query(UPSERT, {"input": rows}, token=token))["upsertProducts"]["userErrors"] == []

        async def found(term: str) -> list[str]:
            data = await hub.query(SEARCH, {"term": term}, token=token)
            return [edge["node"]["sku"] for edge in data["products"]["edges"]]

        assert await found(blob[30:100]) == ["LONG-1"]  # 70 characters from the middle
        assert await found(blob) == ["LONG-1"]
        assert await found(blob[30:100] + "x") == []  # the same first 32 characters, then not in the text
        assert await found(f"{blob} end") == ["LONG-1"]


def test_the_migration_moves_an_existing_catalog_between_the_two_indexes(tmp_path: Path) -> None:
    # given: a catalog written under the trigram index (revision 0004)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    upgrade(url, "0004_quotes")
    raw = sqlite3.connect(tmp_path / "hub.db")
    for number, name in enumerate(["Cordless drill line00021", "Hammer line00012"]):
        sku = f"P-{number}-{uuid.uuid4().hex[:4]}"
        raw.execute(
            "INSERT INTO products (sku, name, status, search_text) VALUES (?, ?, 'ACTIVE', ?)",
            (sku, name, search_text_of(sku, name, None)),
        )
    raw.commit()
    raw.create_function("hub_search_words", 1, search_words, deterministic=True)

    def suffix_matches(query: str) -> list[int]:
        return [
            r[0]
            for r in raw.execute("SELECT rowid FROM product_search WHERE product_search MATCH ?", (query,))
        ]

    # when: upgraded, the suffix index holds the products already there
    upgrade(url)
    assert suffix_matches('"ine00021"*') == [1]
    assert suffix_matches('"line000"*') == [1, 2]
    # and a product written afterwards is indexed by the trigger
    raw.execute(
        "INSERT INTO products (sku, name, status, search_text) VALUES ('Q', 'Saw', 'ACTIVE', 'q saw')"
    )
    raw.commit()
    assert suffix_matches('"saw"*') == [3]
    # when: downgraded, the trigram index is back, with every product
    command.downgrade(alembic_config(url), "0004_quotes")
    trigram = [
        r[0] for r in raw.execute("SELECT rowid FROM product_search WHERE product_search MATCH '\"line000\"'")
    ]
    assert trigram == [1, 2]
    assert [
        r[0] for r in raw.execute("SELECT rowid FROM product_search WHERE product_search MATCH 'saw'")
    ] == [3]


def test_the_postgresql_migration_moves_an_existing_catalog_between_the_two_indexes() -> None:
    if not PG_URL:
        skip_or_fail("HUB_TEST_DATABASE_URL is not set: PostgreSQL tests need a server")
    name = f"hub_test_search_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    async def rows(statement: str) -> list[tuple[Any, ...]]:
        # A plain engine: the hub's own (datasources.db.create_engine) bumps the response cache's
        # versions when it commits a write to products, and revision 0005 has no such table yet.
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.exec_driver_sql(statement)
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'products'"
    try:
        # given: products written under the trigram index (revision 0005)
        upgrade(url, "0005_search_words")
        asyncio.run(
            rows(
                "INSERT INTO products (sku, name, status, search_text) "
                "VALUES ('P-1', 'Drill line00021', 'ACTIVE', 'p-1 drill line00021'), "
                "('P-2', 'Hammer line00012', 'ACTIVE', 'p-2 hammer line00012')"
            )
        )
        # when: upgraded, the generated column holds their words and the index finds them
        upgrade(url)
        prefix_query = (
            "SELECT sku FROM products WHERE search_words @@ CAST($$'ine000':*$$ AS tsquery) ORDER BY sku"
        )
        assert asyncio.run(rows(prefix_query)) == [("P-1",), ("P-2",)]
        assert {r[0] for r in asyncio.run(rows(indexes))} >= {"ix_products_search_words"}
        assert "ix_products_search_trgm" not in {r[0] for r in asyncio.run(rows(indexes))}
        # when: downgraded, the trigram index is back and the column gone
        command.downgrade(alembic_config(url), "0005_search_words")
        columns = asyncio.run(
            rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'products'")
        )
        assert ("search_words",) not in columns
        assert "ix_products_search_trgm" in {r[0] for r in asyncio.run(rows(indexes))}
    finally:
        asyncio.run(pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Texts for the two PostgreSQL search-word functions: whitespace of every kind PostgreSQL's \s
# matches (and a no-break space, which it may not), words of one to 40 characters, repeats.
SEARCH_WORDS_TEXTS = st.lists(
    st.text("ab1-%é ßA\t\n\r\u00a0\u200b", max_size=60)
    | st.text("ab", min_size=30, max_size=45)
    | st.sampled_from(["", " ", "  lead", "trail  ", "ab", "a", "abc abc abc", "x" * 46]),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=SEARCH_WORDS_TEXTS)
def test_postgresql_search_words_in_plpgsql_index_what_the_sql_function_did(
    postgres_database: str, texts: list[str]
) -> None:
    # Migration 0013 replaced 0006's SQL function by a PL/pgSQL loop (under half the cost a
    # product): the generated column keeps its stored values only if each text's tsvector is the same.
    sql_function = _migration("0013_pg_search_words_plpgsql").SQL_SEARCH_WORDS_FUNCTION.replace(
        "FUNCTION hub_search_words(", "FUNCTION pg_temp.hub_search_words_sql("
    )
    url = make_url(postgres_database)

    async def differing() -> list[tuple[str, str, str]]:
        connection = await asyncpg.connect(
            user=url.username, host=url.host, port=url.port, database=url.database
        )
        try:
            language = await connection.fetchval(
                "SELECT lanname FROM pg_proc JOIN pg_language ON pg_language.oid = prolang "
                "WHERE proname = 'hub_search_words'"
            )
            assert language == "plpgsql"
            await connection.execute(sql_function)
            rows = await connection.fetch(
                "SELECT t, array_to_tsvector(hub_search_words(t))::text AS now, "
                "array_to_tsvector(pg_temp.hub_search_words_sql(t))::text AS before "
                "FROM unnest($1::text[]) AS t",
                texts,
            )
            assert len(rows) == len(texts)
            return [(r["t"], r["now"], r["before"]) for r in rows if r["now"] != r["before"]]
        finally:
            await connection.close()

    assert asyncio.run(differing()) == []


def _migration(name: str) -> Any:
    """A module of migrations/versions (their file names start with digits: no plain import)."""
    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
