"""The public response cache: what it keeps, what turns it over, and what it never shares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from datasources.cache_versions import CATALOG, MARKETING, POLICIES, STORES, scopes_written
from hub_graphql.response_cache import ResponseCache, judge
from hub_graphql.settings import Settings
from resolvers.catalog_import import import_products
from tests.harness import Hub, QueryCounter, open_hub
from tests.stores_factory import CatalogSpec, ProductSpec, add_reseller, add_store, load_catalog

SLUG = "north-shop"
STORE_PAGE = """
query StorePage($slug: String!, $first: Int) {
  store(slug: $slug) {
    name
    texts { key value }
    categories { code name }
    products(first: $first) {
      totalCount
      edges { node { sku name description price { amount currency } listPrice { amount } category { name } } }
    }
  }
}"""
CATALOG_PAGE = (
    "query Catalog { products(first: 10) { edges { node { sku name listPrice { amount currency } } } } }"
)
SPOT = 'query Hero($slug: String!) { spot(storeSlug: $slug, spot: "home-hero") { code title } }'
POLICIES_PAGE = "query Pay { hubPolicies { paymentMethods defaultCurrency } }"
PRICE_RULES = "query Rules($slug: String!) { store(slug: $slug) { name priceRules { scope markupPercent } } }"
CART = "query Cart($id: ID!) { cart(id: $id) { id } }"


def catalog() -> CatalogSpec:
    return CatalogSpec(
        products=[
            ProductSpec("A-1", prices={"USD": 1000}, description="first"),
            ProductSpec("A-2", prices={"USD": 2000}),
            ProductSpec("A-3", prices={"USD": 3000}),
        ]
    )


@dataclass
class Shop:
    hub: Hub
    admin: str
    reseller_id: int

    async def read(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> tuple[Any, str]:
        """An anonymous POST: (data, the x-hub-cache header or "")."""
        response = await self.hub.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        assert not body.get("errors"), body
        return body["data"], response.headers.get("x-hub-cache", "")

    async def write(self, query: str, variables: dict[str, Any], *, token: str | None = None) -> None:
        data = await self.hub.query(query, variables, token=token or self.admin)
        payload = next(iter(data.values()))
        assert not payload["userErrors"], payload


async def open_shop(hub: Hub) -> Shop:
    await load_catalog(hub, catalog())
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, SLUG)
    return Shop(hub, await hub.staff(), reseller_id)


@pytest.fixture
async def shop(hub: Hub) -> Shop:
    return await open_shop(hub)


# ---------------------------------------------------------------- what is cached


async def test_a_second_anonymous_read_is_answered_from_the_cache_with_one_statement(
    shop: Shop, count_queries: QueryCounter
) -> None:
    # given: the page read once
    first, outcome = await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    assert outcome == "miss"
    assert [e["node"]["sku"] for e in first["store"]["products"]["edges"]] == ["A-1", "A-2", "A-3"]
    reader = shop.hub.app.state.response_cache.versions
    reads = reader.reads
    count_queries.reset()
    # when: read again
    again, outcome = await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    # then: the same answer, and the only statement was the version read
    assert outcome == "hit"
    assert again == first
    assert reader.reads == reads + 1
    if shop.hub.settings.is_sqlite:
        assert count_queries.statements == [
            "SELECT scope, version FROM cache_versions WHERE scope IN ('catalog', 'policies', 'stores')"
        ]
    else:
        # On PostgreSQL the versions are read on an asyncpg pool of their own (no SQLAlchemy event).
        assert count_queries.statements == []


async def test_the_key_is_the_normalised_document_and_the_variables(shop: Shop) -> None:
    await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    # Other white space and another order of variables: the same operation.
    spaced = STORE_PAGE.replace("\n", "\n\n   ").replace("{ ", "{\t")
    _, outcome = await shop.read(spaced, {"first": 50, "slug": SLUG})
    assert outcome == "hit"
    # Other variables: another answer.
    other, outcome = await shop.read(STORE_PAGE, {"slug": SLUG, "first": 1})
    assert outcome == "miss"
    assert len(other["store"]["products"]["edges"]) == 1


async def test_an_automatic_persisted_query_by_hash_is_answered_from_the_cache(shop: Shop) -> None:
    digest = hashlib.sha256(CATALOG_PAGE.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    # The text once with its hash (registering it, executed), then the hash alone: from the cache.
    registered = await shop.hub.client.post(
        "/graphql", json={"query": CATALOG_PAGE, "extensions": extensions}
    )
    assert not registered.json().get("errors")
    assert registered.headers.get("x-hub-cache") == "miss"
    by_hash = [await shop.hub.client.post("/graphql", json={"extensions": extensions}) for _ in range(2)]
    assert [r.headers.get("x-hub-cache") for r in by_hash] == ["hit", "hit"]
    assert by_hash[1].json() == registered.json()
    params = {"extensions": json.dumps(extensions)}
    by_get = await shop.hub.client.get("/graphql", params=params)
    assert by_get.headers.get("x-hub-cache") == "hit"
    assert by_get.json() == registered.json()


# ---------------------------------------------------------------- what turns it over


UPSERT_PRODUCTS = """mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku } userErrors { code message } } }"""
UPSERT_CATEGORIES = """mutation($input: [CategoryInput!]!) {
  upsertCategories(input: $input) { categories { code } userErrors { code message } } }"""
UPSERT_GROUPS = """mutation($input: [ProductGroupInput!]!) {
  upsertProductGroups(input: $input) { productGroups { code } userErrors { code message } } }"""
UPDATE_STORE = """mutation($slug: String!, $input: UpdateStoreInput!) {
  updateStore(slug: $slug, input: $input) { store { slug } userErrors { code message } } }"""
SET_ASSORTMENT = """mutation($slug: String!, $input: AssortmentInput!) {
  setStoreAssortment(slug: $slug, input: $input) { store { slug } userErrors { code message } } }"""
SET_PRICE_RULES = """mutation($slug: String!, $rules: [PriceRuleInput!]!) {
  setStorePriceRules(slug: $slug, rules: $rules) { store { slug } userErrors { code message } } }"""
SET_CONTENT = """mutation($slug: String!, $sku: String!, $input: ProductContentInput!) {
  setStoreProductContent(slug: $slug, sku: $sku, input: $input) { store { slug } userErrors { code message } } }"""
SUSPEND_RESELLER = """mutation($code: String!) {
  suspendReseller(code: $code) { reseller { code } userErrors { code message } } }"""
UPSERT_CREATIVE = """mutation($input: CreativeInput!) {
  upsertCreative(input: $input) { creative { code } userErrors { code message } } }"""
UPDATE_POLICIES = """mutation($input: HubPoliciesInput!) {
  updateHubPolicies(input: $input) { hubPolicies { paymentMethods } userErrors { code message } } }"""


async def _import_file(shop: Shop, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text("sku,name,price_USD\nA-2,Imported name,20.00\n", encoding="utf-8")
    report = await import_products(shop.hub.resources.session_factory, path)
    assert report.written and report.imported == 1, report


async def _delete_product(shop: Shop, _tmp_path: Path) -> None:
    # No mutation deletes products: a direct write (as an operator's SQL would) is tracked all the same.
    async with shop.hub.resources.session_factory() as session, session.begin():
        await session.execute(
            text("DELETE FROM product_prices WHERE product_id = (SELECT id FROM products WHERE sku = 'A-3')")
        )
        await session.execute(text("DELETE FROM products WHERE sku = 'A-3'"))


def _via_api(query: str, variables: dict[str, Any]) -> Callable[[Shop, Path], Awaitable[None]]:
    async def write(shop: Shop, _tmp_path: Path) -> None:
        await shop.write(query, variables)

    return write


def _products(data: Any) -> list[dict[str, Any]]:
    return [e["node"] for e in data["store"]["products"]["edges"]]


WRITES: list[
    tuple[str, Callable[[Shop, Path], Awaitable[None]], str, dict[str, Any], Callable[[Any], Any]]
] = [
    # (write, how, page read, its variables, what the page shows that the write changes)
    (
        "upsertProducts renames a product",
        _via_api(
            UPSERT_PRODUCTS,
            {
                "input": [
                    {"sku": "A-1", "name": "Renamed", "listPrices": [{"currency": "USD", "amount": "10.00"}]}
                ]
            },
        ),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: _products(d)[0]["name"],
    ),
    (
        "upsertProducts changes a list price",
        _via_api(
            UPSERT_PRODUCTS,
            {
                "input": [
                    {
                        "sku": "A-1",
                        "name": "Product A-1",
                        "listPrices": [{"currency": "USD", "amount": "12.34"}],
                    }
                ]
            },
        ),
        CATALOG_PAGE,
        {},
        lambda d: d["products"]["edges"][0]["node"]["listPrice"],
    ),
    (
        "catalog import",
        _import_file,
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: _products(d)[1]["name"],
    ),
    (
        "a product deleted",
        _delete_product,
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: len(_products(d)),
    ),
    (
        "upsertCategories moves a product's category name",
        _via_api(UPSERT_CATEGORIES, {"input": [{"code": "tools", "name": "Tools"}]}),
        "query { categories { code name } }",
        {},
        lambda d: d["categories"],
    ),
    (
        "upsertProductGroups",
        _via_api(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "Promo", "skus": ["A-1"]}]}),
        "query { productGroups { code name products { totalCount } } }",
        {},
        lambda d: d["productGroups"],
    ),
    (
        "updateStore texts",
        _via_api(UPDATE_STORE, {"slug": SLUG, "input": {"texts": [{"key": "welcome", "value": "Hello"}]}}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: d["store"]["texts"],
    ),
    (
        "updateStore name",
        _via_api(UPDATE_STORE, {"slug": SLUG, "input": {"name": "North Shop"}}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: d["store"]["name"],
    ),
    (
        "updateStore closes the store",
        _via_api(UPDATE_STORE, {"slug": SLUG, "input": {"status": "CLOSED"}}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: d["store"] is None,
    ),
    (
        "setStorePriceRules",
        _via_api(SET_PRICE_RULES, {"slug": SLUG, "rules": [{"scope": "ALL", "markupPercent": "10"}]}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: _products(d)[0]["price"],
    ),
    (
        "setStoreAssortment",
        _via_api(SET_ASSORTMENT, {"slug": SLUG, "input": {"excludeSkus": ["A-2"]}}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: [p["sku"] for p in _products(d)],
    ),
    (
        "setStoreProductContent",
        _via_api(SET_CONTENT, {"slug": SLUG, "sku": "A-1", "input": {"description": "Store's own"}}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: _products(d)[0]["description"],
    ),
    (
        "suspendReseller hides its stores",
        _via_api(SUSPEND_RESELLER, {"code": "north"}),
        STORE_PAGE,
        {"slug": SLUG, "first": 50},
        lambda d: d["store"] is None,
    ),
    (
        "upsertCreative",
        _via_api(
            UPSERT_CREATIVE,
            {"input": {"code": "hero-1", "spot": "home-hero", "storeSlug": SLUG, "title": "Sale"}},
        ),
        SPOT,
        {"slug": SLUG},
        lambda d: d["spot"],
    ),
    (
        "updateHubPolicies",
        _via_api(UPDATE_POLICIES, {"input": {"paymentMethods": ["INVOICE"]}}),
        POLICIES_PAGE,
        {},
        lambda d: d["hubPolicies"]["paymentMethods"],
    ),
]


@pytest.mark.parametrize(("write", "how", "page", "variables", "shown"), WRITES, ids=[w[0] for w in WRITES])
async def test_each_write_shows_at_once_on_the_next_read(
    hub: Hub,
    tmp_path: Path,
    write: str,
    how: Callable[[Shop, Path], Awaitable[None]],
    page: str,
    variables: dict[str, Any],
    shown: Callable[[Any], Any],
) -> None:
    # given: the page cached
    shop = await open_shop(hub)
    if "Categories" in page or "categories" in page:
        await shop.write(UPSERT_CATEGORIES, {"input": [{"code": "tools", "name": "tools (old)"}]})
    if "productGroups" in page:
        await shop.write(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "promo", "skus": []}]})
    before, _ = await shop.read(page, variables)
    _, outcome = await shop.read(page, variables)
    assert outcome == "hit"
    # when
    await how(shop, tmp_path)
    # then: the next read executes again and shows the write
    after, outcome = await shop.read(page, variables)
    assert outcome == "miss", write
    assert shown(after) != shown(before), (write, before, after)
    # and: it is cached again under the new versions
    _, outcome = await shop.read(page, variables)
    assert outcome == "hit"


async def test_writes_that_change_no_public_page_leave_the_cache_alone(shop: Shop) -> None:
    await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    # A cart, its lines and web activity: no public page shows them.
    created = await shop.hub.query(
        'mutation { createCart(storeSlug: "north-shop") { cart { id } userErrors { code } } }'
    )
    cart_id = created["createCart"]["cart"]["id"]
    await shop.hub.query(
        'mutation($id: ID!) { addCartLines(cartId: $id, lines: [{sku: "A-1", quantity: 2}]) { userErrors { code } } }',
        {"id": cart_id},
    )
    _, outcome = await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    assert outcome == "hit"


async def test_a_rolled_back_write_bumps_nothing(shop: Shop) -> None:
    await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    # A price rule with an unknown target: a user error, nothing written.
    data = await shop.hub.query(
        SET_PRICE_RULES,
        {"slug": SLUG, "rules": [{"scope": "SKU", "target": "NOPE", "markupPercent": "5"}]},
        token=shop.admin,
    )
    assert data["setStorePriceRules"]["userErrors"]
    _, outcome = await shop.read(STORE_PAGE, {"slug": SLUG, "first": 50})
    assert outcome == "hit"


def test_the_tables_of_public_pages_name_their_scopes() -> None:
    assert scopes_written("INSERT INTO products (sku) VALUES (?)") == {CATALOG}
    assert scopes_written('UPDATE "stores" SET name=$1 WHERE id=$2') == {STORES}
    assert scopes_written("DELETE FROM store_price_rules WHERE store_id = 1") == {STORES}
    assert scopes_written("WITH x AS (SELECT 1) INSERT INTO creatives SELECT * FROM x") == {MARKETING}
    assert scopes_written("UPDATE hub_policies SET currencies = ?") == {POLICIES}
    assert scopes_written("SELECT * FROM products FOR UPDATE") == set()
    assert scopes_written("INSERT INTO orders (number) VALUES (?)") == set()
    assert scopes_written("INSERT INTO activity_events (kind) VALUES (?)") == set()


# ---------------------------------------------------------------- what it never shares


async def test_a_signed_in_viewer_never_gets_the_anonymous_answer(shop: Shop) -> None:
    # given: a DRAFT store, which the public does not see, its null answer cached
    draft = await add_store(shop.hub, shop.reseller_id, "draft-shop", status="DRAFT")
    assert draft
    page = {"slug": "draft-shop", "first": 50}
    for expected in ("miss", "hit"):
        data, outcome = await shop.read(STORE_PAGE, page)
        assert data["store"] is None and outcome == expected
    # when: its reseller's admin and a staff user read the same page
    reseller_admin = await shop.hub.user("RESELLER_ADMIN", reseller_id=shop.reseller_id)
    for token in (reseller_admin, shop.admin):
        response = await shop.hub.client.post(
            "/graphql",
            json={"query": STORE_PAGE, "variables": page},
            headers={"authorization": f"Bearer {token}"},
        )
        # then: executed for them, never from the cache, and they see the store
        assert "x-hub-cache" not in response.headers
        assert response.json()["data"]["store"]["name"] == "Store draft-shop"


async def test_viewer_dependent_fields_are_never_cached(shop: Shop, count_queries: QueryCounter) -> None:
    for query, variables in ((PRICE_RULES, {"slug": SLUG}), (CART, {"id": "Q2FydDox"})):
        for _ in range(2):
            response = await shop.hub.client.post("/graphql", json={"query": query, "variables": variables})
            assert "x-hub-cache" not in response.headers
    mutation = 'mutation { recordActivity(events: [{kind: PAGE_VIEW, storeSlug: "north-shop", visitorId: "v1"}]) { accepted } }'
    for _ in range(2):
        response = await shop.hub.client.post("/graphql", json={"query": mutation})
        assert "x-hub-cache" not in response.headers


@pytest.mark.parametrize(
    "document",
    [
        'query { store(slug: "x") { priceRules { scope } } }',
        'query { store(slug: "x") { reseller { code } } }',
        'query { store(slug: "x") { ...F } } fragment F on Store { name priceRules { scope } }',
        'query { product(sku: "x") { liveQuotes(quantity: 1) { price { amount } } } }',
        "query { viewer { email } }",
        'query { node(id: "x") { id } }',
        "query { hubPolicies { quoteValidityHours } }",
        "query { __schema { types { name } } }",
        'query { products { totalCount } } mutation { login(email: "a", password: "b") { token } }',
        'query { store(slug: "x") { noSuchField } }',
        "query { store(slug: ",
    ],
)
def test_judge_refuses_what_is_not_public_and_viewer_independent(hub: Hub, document: str) -> None:
    cache = hub.app.state.response_cache
    assert isinstance(cache, ResponseCache)
    assert judge(cache.schema, document, None, 2000) is None


def test_judge_names_the_scopes_a_store_page_reads(hub: Hub) -> None:
    cache = hub.app.state.response_cache
    verdict = judge(cache.schema, STORE_PAGE, None, 2000)
    assert verdict is not None
    assert verdict.scopes == {CATALOG, STORES, POLICIES}
    spot = judge(cache.schema, SPOT, "Hero", 2000)
    assert spot is not None and spot.scopes == {MARKETING, STORES} and spot.max_ttl_seconds is not None


async def test_answers_with_errors_are_never_cached(shop: Shop, count_queries: QueryCounter) -> None:
    # A page over the store's limit of 100 products: a BAD_USER_INPUT error.
    for _ in range(2):
        count_queries.reset()
        response = await shop.hub.client.post(
            "/graphql", json={"query": STORE_PAGE, "variables": {"slug": SLUG, "first": 1000}}
        )
        assert response.json()["errors"]
        assert "x-hub-cache" not in response.headers
        assert count_queries.count > 1


# ---------------------------------------------------------------- HTTP caching


async def test_get_answers_carry_an_etag_and_if_none_match_is_answered_304(shop: Shop) -> None:
    params = {"query": STORE_PAGE, "variables": json.dumps({"slug": SLUG, "first": 50})}
    first = await shop.hub.client.get("/graphql", params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=5"
    assert "Authorization" in first.headers["vary"]
    # when: asked again with the ETag
    again = await shop.hub.client.get("/graphql", params=params, headers={"if-none-match": etag})
    # then: 304, no body
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # and after a write: a new answer with a new ETag
    await shop.write(UPDATE_STORE, {"slug": SLUG, "input": {"name": "Renamed shop"}})
    changed = await shop.hub.client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["data"]["store"]["name"] == "Renamed shop"


async def test_signed_in_and_uncacheable_get_answers_are_private(shop: Shop) -> None:
    params = {"query": STORE_PAGE, "variables": json.dumps({"slug": SLUG, "first": 50})}
    signed_in = await shop.hub.client.get(
        "/graphql", params=params, headers={"authorization": f"Bearer {shop.admin}"}
    )
    assert signed_in.status_code == 200
    assert signed_in.headers["cache-control"] == "private, no-store"
    assert "etag" not in signed_in.headers
    viewer = await shop.hub.client.get("/graphql", params={"query": "{ viewer { email } }"})
    assert viewer.headers["cache-control"] == "private, no-store"


# ---------------------------------------------------------------- turned off


async def test_off_executes_every_time(settings: Settings) -> None:
    # The stores' count cache off too: it would spare the second page its count (one statement).
    off = settings.model_copy(update={"response_cache": False, "store_count_cache_entries": 0})
    async with open_hub(off) as hub:
        await open_shop(hub)
        counter = QueryCounter()
        event.listen(hub.resources.engine.sync_engine, "before_cursor_execute", counter.listener)
        counts = []
        for _ in range(2):
            counter.reset()
            response = await hub.client.post(
                "/graphql", json={"query": STORE_PAGE, "variables": {"slug": SLUG, "first": 50}}
            )
            assert "x-hub-cache" not in response.headers and "etag" not in response.headers
            assert response.json()["data"]["store"]["name"] == "Store north-shop"
            counts.append(counter.count)
        assert counts[0] == counts[1] > 1
