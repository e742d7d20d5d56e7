"""Reseller stores over GraphQL: management, access, the overlay on the master catalog, batching."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from datasources.db import standalone_database
from datasources.stores.counts import StoreCounts
from datasources.stores.models import Store, StoreAssortmentRule, StorePriceRule, StoreProductContent
from tests.harness import Hub, QueryCounter, codes_of
from tests.stores_factory import (
    CatalogSpec,
    CategorySpec,
    ProductSpec,
    add_reseller,
    add_store,
    load_catalog,
    set_reseller_status,
)

CREATE_STORE = """
mutation($input: CreateStoreInput!) {
  createStore(input: $input) {
    store { slug name status currency reseller { code } }
    userErrors { field code message }
  }
}"""
UPDATE_STORE = """
mutation($slug: String!, $input: UpdateStoreInput!) {
  updateStore(slug: $slug, input: $input) {
    store { slug name status texts { key value } welcome: text(key: "welcome") }
    userErrors { field code message }
  }
}"""
SET_ASSORTMENT = """
mutation($slug: String!, $input: AssortmentInput!) {
  setStoreAssortment(slug: $slug, input: $input) { store { slug } userErrors { field code message } }
}"""
SET_PRICE_RULES = """
mutation($slug: String!, $rules: [PriceRuleInput!]!) {
  setStorePriceRules(slug: $slug, rules: $rules) {
    store { slug priceRules { scope target markupPercent fixedPrice } }
    userErrors { field code message }
  }
}"""
SET_CONTENT = """
mutation($slug: String!, $sku: String!, $input: ProductContentInput!) {
  setStoreProductContent(slug: $slug, sku: $sku, input: $input) { store { slug } userErrors { field code message } }
}"""
STORE = """
query($slug: String!) { store(slug: $slug) { id slug name status currency } }"""
STORE_PRODUCTS = """
query($slug: String!, $first: Int, $after: String, $filter: ProductFilter) {
  store(slug: $slug) {
    products(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { sku name description price { amount currency } listPrice { amount currency } } }
    }
  }
}"""
STORE_PAGE = """
query($slug: String!, $first: Int) {
  store(slug: $slug) {
    products(first: $first) {
      edges { node { sku name price { amount currency } listPrice { amount } category { name } } }
    }
  }
}"""
STORE_PRODUCT = """
query($slug: String!, $sku: String!) {
  store(slug: $slug) { product(sku: $sku) { sku name price { amount } product { sku name } } }
}"""
STORE_CATEGORIES = """
query($slug: String!) { store(slug: $slug) { categories { code } } }"""
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Store { slug name products(first: 2) { edges { node { sku } } } } }
}"""
NODE = """
query($id: ID!) { node(id: $id) { id ... on Store { slug } } }"""
MY_STORES = """
query { viewer { reseller { code stores { slug status } } } }"""
UPSERT_PRODUCTS = """
mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku } userErrors { field code message } }
}"""

# tools (1) > power (2) > drills (3);  garden (4)
TREE = [
    CategorySpec("tools"),
    CategorySpec("power", parent=0),
    CategorySpec("drills", parent=1),
    CategorySpec("garden"),
]


def catalog() -> CatalogSpec:
    return CatalogSpec(
        categories=TREE,
        groups=["promo", "clearance"],
        products=[
            ProductSpec("A-1", category=2, groups=[0], prices={"USD": 1000, "EUR": 900}),
            ProductSpec("A-2", category=2, groups=[0, 1], prices={"USD": 2000}),
            ProductSpec("A-3", category=1, prices={"USD": 5}),
            ProductSpec("A-4", category=0, prices={"USD": 333}),
            ProductSpec("B-1", category=3, prices={"USD": 1500}),
            ProductSpec("B-2", category=3, prices={"EUR": 700}),
            ProductSpec("B-3", category=3, status="DRAFT", prices={"USD": 100}),
            ProductSpec("B-4", category=3, status="DISCONTINUED", prices={"USD": 100}),
            ProductSpec("C-1", category=None, prices={}),
        ],
    )


async def count_rows(hub: Hub, model: type) -> int:
    async with hub.resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def store_products(
    hub: Hub, slug: str, token: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    data = await hub.query(STORE_PRODUCTS, {"slug": slug, "first": 100, **variables}, token=token)
    return [e["node"] for e in data["store"]["products"]["edges"]]


async def admin_store(hub: Hub, slug: str = "north-shop", *, status: str = "OPEN") -> tuple[str, int]:
    """A SITE_ADMIN token and a store of an approved reseller over the sample catalog."""
    await load_catalog(hub, catalog())
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, slug, status=status)
    return await hub.staff(), reseller_id


# ---------------------------------------------------------------- managing stores


async def test_a_channel_manager_creates_a_draft_store_that_only_insiders_see(hub: Hub) -> None:
    # given
    reseller_id = await add_reseller(hub, "north")
    other_id = await add_reseller(hub, "south")
    manager = await hub.user("CHANNEL_MANAGER")
    own_admin = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    other_admin = await hub.user("RESELLER_ADMIN", reseller_id=other_id)
    # when
    data = await hub.query(
        CREATE_STORE,
        {"input": {"resellerCode": "north", "slug": "north-shop", "name": "North"}},
        token=manager,
    )
    # then
    assert data["createStore"] == {
        "store": {
            "slug": "north-shop",
            "name": "North",
            "status": "DRAFT",
            "currency": "USD",
            "reseller": {"code": "north"},
        },
        "userErrors": [],
    }
    assert (await hub.query(STORE, {"slug": "north-shop"}))["store"] is None
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=other_admin))["store"] is None
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=own_admin))["store"]["status"] == "DRAFT"
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=manager))["store"]["slug"] == "north-shop"


async def test_an_open_store_is_public_until_its_reseller_is_suspended(hub: Hub) -> None:
    reseller_id = await add_reseller(hub, "north")
    admin = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    await add_store(hub, reseller_id, "north-shop", status="DRAFT")
    data = await hub.query(UPDATE_STORE, {"slug": "north-shop", "input": {"status": "OPEN"}}, token=admin)
    assert data["updateStore"]["store"]["status"] == "OPEN"
    assert (await hub.query(STORE, {"slug": "north-shop"}))["store"]["status"] == "OPEN"

    await set_reseller_status(hub, reseller_id, "SUSPENDED")

    assert (await hub.query(STORE, {"slug": "north-shop"}))["store"] is None
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=await hub.staff("CUSTOMER_SERVICE")))[
        "store"
    ]
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=admin))["store"]["slug"] == "north-shop"


async def test_closed_stores_are_hidden_from_the_public(hub: Hub) -> None:
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "north-shop", status="CLOSED")
    assert (await hub.query(STORE, {"slug": "north-shop"}))["store"] is None
    customer = await hub.user("CUSTOMER")
    assert (await hub.query(STORE, {"slug": "north-shop"}, token=customer))["store"] is None


async def test_create_store_refuses_bad_input_and_writes_nothing(hub: Hub) -> None:
    admin = await hub.staff()
    await add_reseller(hub, "north")
    await add_reseller(hub, "pending", status="PENDING")
    await hub.query(
        CREATE_STORE, {"input": {"resellerCode": "north", "slug": "taken", "name": "T"}}, token=admin
    )
    cases = [
        ({"resellerCode": "nobody", "slug": "a", "name": "A"}, ["input", "resellerCode"], "NOT_FOUND"),
        ({"resellerCode": "pending", "slug": "a", "name": "A"}, ["input", "resellerCode"], "INVALID_STATE"),
        ({"resellerCode": "north", "slug": "taken", "name": "A"}, ["input", "slug"], "DUPLICATE"),
        ({"resellerCode": "north", "slug": "Upper", "name": "A"}, ["input", "slug"], "INVALID_SLUG"),
        ({"resellerCode": "north", "slug": "a_b", "name": "A"}, ["input", "slug"], "INVALID_SLUG"),
        ({"resellerCode": "north", "slug": "a b", "name": "A"}, ["input", "slug"], "INVALID_SLUG"),
        ({"resellerCode": "north", "slug": "a", "name": "  "}, ["input", "name"], "REQUIRED"),
        (
            {"resellerCode": "north", "slug": "a", "name": "A", "currency": "JPY"},
            ["input", "currency"],
            "UNKNOWN_CURRENCY",
        ),
    ]
    for store_input, path, code in cases:
        data = await hub.query(CREATE_STORE, {"input": store_input}, token=admin)
        assert data["createStore"]["store"] is None, store_input
        assert [(e["field"], e["code"]) for e in data["createStore"]["userErrors"]] == [(path, code)], (
            store_input
        )
    assert await count_rows(hub, Store) == 1


async def test_store_currency_defaults_to_the_hub_default_and_takes_another_hub_currency(hub: Hub) -> None:
    admin = await hub.staff()
    await add_reseller(hub, "north")
    data = await hub.query(
        CREATE_STORE,
        {"input": {"resellerCode": "north", "slug": "eu", "name": "EU", "currency": "EUR"}},
        token=admin,
    )
    assert data["createStore"]["store"]["currency"] == "EUR"


async def test_only_store_managers_of_the_right_reseller_may_change_a_store(hub: Hub) -> None:
    north = await add_reseller(hub, "north")
    south = await add_reseller(hub, "south")
    pending = await add_reseller(hub, "pending", status="PENDING")
    await add_store(hub, north, "north-shop", status="DRAFT")
    rename = {"slug": "north-shop", "input": {"name": "Renamed"}}
    create = {"input": {"resellerCode": "north", "slug": "second", "name": "Second"}}

    assert codes_of(await hub.post(UPDATE_STORE, rename)) == ["UNAUTHENTICATED"]
    for token in (
        await hub.user("CUSTOMER"),
        await hub.user("CATALOG_MANAGER"),
        await hub.user("RESELLER_ADMIN", reseller_id=south),
        await hub.user("RESELLER_ADMIN", reseller_id=pending),
    ):
        assert codes_of(await hub.post(UPDATE_STORE, rename, token=token)) == ["FORBIDDEN"]
        assert codes_of(await hub.post(CREATE_STORE, create, token=token)) == ["FORBIDDEN"]
    assert await count_rows(hub, Store) == 1

    own = await hub.user("RESELLER_ADMIN", reseller_id=north)
    assert (await hub.query(UPDATE_STORE, rename, token=own))["updateStore"]["store"]["name"] == "Renamed"
    assert (await hub.query(CREATE_STORE, create, token=own))["createStore"]["store"]["slug"] == "second"
    await set_reseller_status(hub, north, "SUSPENDED")
    assert codes_of(await hub.post(UPDATE_STORE, rename, token=own)) == ["FORBIDDEN"]


async def test_status_changes_follow_the_store_lifecycle(hub: Hub) -> None:
    admin = await hub.staff()
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "s", status="DRAFT")

    async def move(status: str) -> dict[str, Any]:
        return (await hub.query(UPDATE_STORE, {"slug": "s", "input": {"status": status}}, token=admin))[
            "updateStore"
        ]

    assert (await move("OPEN"))["store"]["status"] == "OPEN"
    refused = await move("DRAFT")
    assert refused["store"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "status"], "INVALID_STATE")
    ]
    assert (await move("CLOSED"))["store"]["status"] == "CLOSED"
    assert (await move("OPEN"))["store"]["status"] == "OPEN"
    await set_reseller_status(hub, reseller_id, "SUSPENDED")
    assert (await move("CLOSED"))["store"]["status"] == "CLOSED"
    assert [e["code"] for e in (await move("OPEN"))["userErrors"]] == ["INVALID_STATE"]


async def test_texts_are_replaced_and_read_by_key(hub: Hub) -> None:
    admin = await hub.staff()
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "s")
    texts = [{"key": "welcome", "value": "Hello"}, {"key": "terms", "value": "Be nice"}]
    data = await hub.query(UPDATE_STORE, {"slug": "s", "input": {"texts": texts}}, token=admin)
    assert data["updateStore"]["store"]["texts"] == [
        {"key": "terms", "value": "Be nice"},
        {"key": "welcome", "value": "Hello"},
    ]
    assert data["updateStore"]["store"]["welcome"] == "Hello"
    twice = [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]
    refused = await hub.query(
        UPDATE_STORE, {"slug": "s", "input": {"texts": twice, "name": "X"}}, token=admin
    )
    assert [(e["field"], e["code"]) for e in refused["updateStore"]["userErrors"]] == [
        (["input", "texts", "1", "key"], "DUPLICATE")
    ]
    after = await hub.query(UPDATE_STORE, {"slug": "s", "input": {}}, token=admin)
    assert after["updateStore"]["store"]["name"] == "Store s"
    assert len(after["updateStore"]["store"]["texts"]) == 2


async def test_unknown_slug_is_a_user_error(hub: Hub) -> None:
    admin = await hub.staff()
    data = await hub.query(UPDATE_STORE, {"slug": "nope", "input": {"name": "X"}}, token=admin)
    assert [(e["field"], e["code"]) for e in data["updateStore"]["userErrors"]] == [(["slug"], "NOT_FOUND")]


# ---------------------------------------------------------------- overlay input


async def test_price_rules_refuse_bad_rules_and_write_nothing(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    good = [{"scope": "ALL", "markupPercent": "10"}]
    assert (await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": good}, token=admin))[
        "setStorePriceRules"
    ]["userErrors"] == []
    cases = [
        ({"scope": "ALL", "markupPercent": "10", "fixedPrice": "1.00"}, ["rules", "0"], "INVALID_RULE"),
        ({"scope": "ALL"}, ["rules", "0"], "INVALID_RULE"),
        ({"scope": "ALL", "fixedPrice": "-0.01"}, ["rules", "0", "fixedPrice"], "INVALID_AMOUNT"),
        ({"scope": "ALL", "fixedPrice": "1.001"}, ["rules", "0", "fixedPrice"], "INVALID_AMOUNT"),
        ({"scope": "ALL", "markupPercent": "-100"}, ["rules", "0", "markupPercent"], "INVALID_MARKUP"),
        ({"scope": "ALL", "markupPercent": "-150"}, ["rules", "0", "markupPercent"], "INVALID_MARKUP"),
        ({"scope": "ALL", "markupPercent": "1.005"}, ["rules", "0", "markupPercent"], "INVALID_MARKUP"),
        ({"scope": "SKU", "target": "NOPE", "markupPercent": "1"}, ["rules", "0", "target"], "NOT_FOUND"),
        (
            {"scope": "CATEGORY", "target": "nope", "markupPercent": "1"},
            ["rules", "0", "target"],
            "NOT_FOUND",
        ),
        ({"scope": "GROUP", "target": "nope", "markupPercent": "1"}, ["rules", "0", "target"], "NOT_FOUND"),
        ({"scope": "GROUP", "markupPercent": "1"}, ["rules", "0", "target"], "REQUIRED"),
        (
            {"scope": "ALL", "target": "tools", "markupPercent": "1"},
            ["rules", "0", "target"],
            "INVALID_TARGET",
        ),
    ]
    for rule, path, code in cases:
        data = await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": [rule]}, token=admin)
        payload = data["setStorePriceRules"]
        assert payload["store"] is None, rule
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], rule
    duplicate = [
        {"scope": "SKU", "target": "A-1", "markupPercent": "1"},
        {"scope": "SKU", "target": "A-1", "fixedPrice": "1"},
    ]
    data = await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": duplicate}, token=admin)
    assert [(e["field"], e["code"]) for e in data["setStorePriceRules"]["userErrors"]] == [
        (["rules", "1", "target"], "DUPLICATE")
    ]
    async with hub.resources.session_factory() as session:
        rules = (await session.scalars(select(StorePriceRule))).all()
    assert [(r.scope, r.markup_bp, r.fixed_minor) for r in rules] == [("ALL", 1000, None)]


async def test_price_rules_read_back_as_written(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    rules = [
        {"scope": "SKU", "target": "A-1", "fixedPrice": "9.99", "markupPercent": None},
        {"scope": "GROUP", "target": "promo", "markupPercent": "-12.5", "fixedPrice": None},
        {"scope": "CATEGORY", "target": "power", "markupPercent": "20", "fixedPrice": None},
        {"scope": "ALL", "target": None, "markupPercent": "0.05", "fixedPrice": None},
    ]
    data = await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": rules}, token=admin)
    assert data["setStorePriceRules"]["store"]["priceRules"] == [
        {"scope": "SKU", "target": "A-1", "markupPercent": None, "fixedPrice": "9.99"},
        {"scope": "GROUP", "target": "promo", "markupPercent": "-12.50", "fixedPrice": None},
        {"scope": "CATEGORY", "target": "power", "markupPercent": "20.00", "fixedPrice": None},
        {"scope": "ALL", "target": None, "markupPercent": "0.05", "fixedPrice": None},
    ]


async def test_price_rules_are_shown_only_to_store_managers(hub: Hub) -> None:
    _, reseller_id = await admin_store(hub)
    query = 'query { store(slug: "north-shop") { priceRules { scope } } }'
    assert codes_of(await hub.post(query)) == ["UNAUTHENTICATED"]
    south = await add_reseller(hub, "south")
    assert codes_of(await hub.post(query, token=await hub.user("RESELLER_ADMIN", reseller_id=south))) == [
        "FORBIDDEN"
    ]
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    assert (await hub.query(query, token=own))["store"]["priceRules"] == []


async def test_assortment_refuses_unknown_codes_and_writes_nothing(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    good = {"includeCategoryCodes": ["power"]}
    assert (await hub.query(SET_ASSORTMENT, {"slug": "north-shop", "input": good}, token=admin))[
        "setStoreAssortment"
    ]["userErrors"] == []
    bad = {
        "includeCategoryCodes": ["garden", "nope"],
        "includeGroupCodes": ["nope"],
        "excludeSkus": ["A-1", "NOPE"],
    }
    data = await hub.query(SET_ASSORTMENT, {"slug": "north-shop", "input": bad}, token=admin)
    assert data["setStoreAssortment"]["store"] is None
    assert [(e["field"], e["code"]) for e in data["setStoreAssortment"]["userErrors"]] == [
        (["input", "includeCategoryCodes", "1"], "NOT_FOUND"),
        (["input", "includeGroupCodes", "0"], "NOT_FOUND"),
        (["input", "excludeSkus", "1"], "NOT_FOUND"),
    ]
    async with hub.resources.session_factory() as session:
        rules = (await session.scalars(select(StoreAssortmentRule))).all()
    assert [(r.mode, r.scope) for r in rules] == [("INCLUDE", "CATEGORY")]


async def test_product_content_refuses_unknown_skus_and_blank_names(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    data = await hub.query(
        SET_CONTENT, {"slug": "north-shop", "sku": "NOPE", "input": {"name": "X"}}, token=admin
    )
    assert [(e["field"], e["code"]) for e in data["setStoreProductContent"]["userErrors"]] == [
        (["sku"], "NOT_FOUND")
    ]
    data = await hub.query(
        SET_CONTENT, {"slug": "north-shop", "sku": "A-1", "input": {"name": " "}}, token=admin
    )
    assert [(e["field"], e["code"]) for e in data["setStoreProductContent"]["userErrors"]] == [
        (["input", "name"], "REQUIRED")
    ]
    assert await count_rows(hub, StoreProductContent) == 0


# ---------------------------------------------------------------- the overlay


async def test_empty_assortment_sells_every_active_priced_product_at_list_price(hub: Hub) -> None:
    await admin_store(hub)
    products = await store_products(hub, "north-shop")
    assert [(p["sku"], p["price"]["amount"], p["listPrice"]["amount"]) for p in products] == [
        ("A-1", "10.00", "10.00"),
        ("A-2", "20.00", "20.00"),
        ("A-3", "0.05", "0.05"),
        ("A-4", "3.33", "3.33"),
        ("B-1", "15.00", "15.00"),
    ]
    assert {p["price"]["currency"] for p in products} == {"USD"}


async def test_assortment_includes_subtrees_groups_and_skus_minus_exclusions(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    assortment = {
        "includeCategoryCodes": ["power"],
        "includeSkus": ["B-1"],
        "excludeGroupCodes": ["clearance"],
    }
    await hub.query(SET_ASSORTMENT, {"slug": "north-shop", "input": assortment}, token=admin)
    assert [p["sku"] for p in await store_products(hub, "north-shop")] == ["A-1", "A-3", "B-1"]
    await hub.query(
        SET_ASSORTMENT,
        {"slug": "north-shop", "input": {"includeGroupCodes": ["promo"], "excludeCategoryCodes": ["drills"]}},
        token=admin,
    )
    assert [p["sku"] for p in await store_products(hub, "north-shop")] == []
    await hub.query(
        SET_ASSORTMENT, {"slug": "north-shop", "input": {"excludeCategoryCodes": ["power"]}}, token=admin
    )
    assert [p["sku"] for p in await store_products(hub, "north-shop")] == ["A-4", "B-1"]


async def test_price_rules_apply_most_specific_first_and_round_half_up(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    rules = [
        {"scope": "ALL", "markupPercent": "50"},
        {"scope": "CATEGORY", "target": "tools", "markupPercent": "10"},
        {"scope": "CATEGORY", "target": "power", "fixedPrice": "7.00"},
        {"scope": "CATEGORY", "target": "drills", "markupPercent": "-10"},
        {"scope": "GROUP", "target": "promo", "markupPercent": "5"},
        {"scope": "GROUP", "target": "clearance", "fixedPrice": "1.00"},
        {"scope": "SKU", "target": "A-1", "fixedPrice": "99.00"},
        {"scope": "SKU", "target": "B-2", "fixedPrice": "4.00"},
    ]
    data = await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": rules}, token=admin)
    assert data["setStorePriceRules"]["userErrors"] == []
    products = await store_products(hub, "north-shop")
    assert {p["sku"]: p["price"]["amount"] for p in products} == {
        "A-1": "99.00",  # SKU beats everything
        "A-2": "1.00",  # two GROUP rules: 21.00 and 1.00, the lower wins
        "A-3": "7.00",  # deepest CATEGORY on its path is power (fixed)
        "A-4": "3.66",  # tools: 3.33 * 1.10 = 3.663
        "B-1": "22.50",  # ALL: 15.00 * 1.5
        "B-2": "4.00",  # no USD list price, but a fixed SKU price
    }
    assert next(p for p in products if p["sku"] == "B-2")["listPrice"] is None
    half = [{"scope": "ALL", "markupPercent": "50"}]
    await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": half}, token=admin)
    prices = {p["sku"]: p["price"]["amount"] for p in await store_products(hub, "north-shop")}
    assert prices["A-3"] == "0.08"  # 0.075 rounds half up
    assert prices["A-4"] == "5.00"  # 4.995 rounds half up


async def test_a_markup_rule_without_a_list_price_leaves_the_product_out(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    rules = [{"scope": "SKU", "target": "B-2", "markupPercent": "10"}, {"scope": "ALL", "fixedPrice": "1.00"}]
    await hub.query(SET_PRICE_RULES, {"slug": "north-shop", "rules": rules}, token=admin)
    skus = [p["sku"] for p in await store_products(hub, "north-shop")]
    assert "B-2" not in skus
    assert "C-1" in skus  # no list price, but the ALL rule's fixed price


async def test_content_overrides_replace_the_masters_in_one_store_only(hub: Hub) -> None:
    admin, reseller_id = await admin_store(hub)
    await add_store(hub, reseller_id, "other-shop")
    await hub.query(
        SET_CONTENT,
        {"slug": "north-shop", "sku": "A-1", "input": {"name": "Our drill", "description": "Best"}},
        token=admin,
    )
    await hub.query(
        SET_CONTENT, {"slug": "north-shop", "sku": "A-2", "input": {"description": "Only text"}}, token=admin
    )
    mine = {p["sku"]: (p["name"], p["description"]) for p in await store_products(hub, "north-shop")}
    assert mine["A-1"] == ("Our drill", "Best")
    assert mine["A-2"] == ("Product A-2", "Only text")
    other = {p["sku"]: (p["name"], p["description"]) for p in await store_products(hub, "other-shop")}
    assert other["A-1"] == ("Product A-1", None)
    await hub.query(SET_CONTENT, {"slug": "north-shop", "sku": "A-1", "input": {}}, token=admin)
    mine = {p["sku"]: (p["name"], p["description"]) for p in await store_products(hub, "north-shop")}
    assert mine["A-1"] == ("Product A-1", None)
    data = await hub.query(STORE_PRODUCT, {"slug": "north-shop", "sku": "A-2"})
    assert data["store"]["product"] == {
        "sku": "A-2",
        "name": "Product A-2",
        "price": {"amount": "20.00"},
        "product": {"sku": "A-2", "name": "Product A-2"},
    }


async def test_master_catalog_changes_show_on_the_next_read(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    await hub.query(
        SET_ASSORTMENT, {"slug": "north-shop", "input": {"includeCategoryCodes": ["drills"]}}, token=admin
    )
    assert [p["sku"] for p in await store_products(hub, "north-shop")] == ["A-1", "A-2"]
    writer = await hub.user("CATALOG_MANAGER")
    changes = [
        {
            "sku": "A-0",
            "name": "New drill",
            "categoryCode": "drills",
            "listPrices": [{"currency": "USD", "amount": "1.00"}],
        },
        {"sku": "A-1", "name": "Product A-1", "categoryCode": "drills", "status": "DISCONTINUED"},
        {
            "sku": "A-2",
            "name": "Product A-2",
            "categoryCode": "drills",
            "listPrices": [{"currency": "USD", "amount": "25.50"}],
        },
    ]
    assert (await hub.query(UPSERT_PRODUCTS, {"input": changes}, token=writer))["upsertProducts"][
        "userErrors"
    ] == []
    products = await store_products(hub, "north-shop")
    assert [(p["sku"], p["price"]["amount"]) for p in products] == [("A-0", "1.00"), ("A-2", "25.50")]


async def test_store_products_take_the_master_filter_and_page_by_sku(hub: Hub) -> None:
    await admin_store(hub)
    assert [p["sku"] for p in await store_products(hub, "north-shop", filter={"categoryCode": "power"})] == [
        "A-1",
        "A-2",
        "A-3",
    ]
    assert [p["sku"] for p in await store_products(hub, "north-shop", filter={"groupCode": "clearance"})] == [
        "A-2"
    ]
    assert [p["sku"] for p in await store_products(hub, "north-shop", filter={"search": "product b"})] == [
        "B-1"
    ]
    assert [p["sku"] for p in await store_products(hub, "north-shop", filter={"skus": ["A-4", "B-3"]})] == [
        "A-4"
    ]
    assert await store_products(hub, "north-shop", filter={"status": "DRAFT"}) == []
    seen: list[str] = []
    after = None
    while True:
        data = await hub.query(STORE_PRODUCTS, {"slug": "north-shop", "first": 2, "after": after})
        connection = data["store"]["products"]
        assert connection["totalCount"] == 5
        seen += [e["node"]["sku"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == ["A-1", "A-2", "A-3", "A-4", "B-1"]
    body = await hub.post(STORE_PRODUCTS, {"slug": "north-shop", "first": 101})
    assert codes_of(body) == ["BAD_USER_INPUT"]
    body = await hub.post(STORE_PRODUCTS, {"slug": "north-shop", "after": "garbage"})
    assert codes_of(body) == ["BAD_USER_INPUT"]


async def test_store_categories_are_roots_holding_a_store_product(hub: Hub) -> None:
    admin, _ = await admin_store(hub)
    assert (await hub.query(STORE_CATEGORIES, {"slug": "north-shop"}))["store"]["categories"] == [
        {"code": "garden"},
        {"code": "tools"},
    ]
    await hub.query(SET_ASSORTMENT, {"slug": "north-shop", "input": {"excludeSkus": ["B-1"]}}, token=admin)
    assert (await hub.query(STORE_CATEGORIES, {"slug": "north-shop"}))["store"]["categories"] == [
        {"code": "tools"}
    ]


async def test_store_product_is_null_outside_the_store(hub: Hub) -> None:
    await admin_store(hub)
    for sku in ("B-2", "B-3", "B-4", "C-1", "NOPE"):
        assert (await hub.query(STORE_PRODUCT, {"slug": "north-shop", "sku": sku}))["store"][
            "product"
        ] is None


# ---------------------------------------------------------------- graph, federation, batching


async def test_store_page_costs_the_same_statements_for_10_and_100_products(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given: 150 products over 20 categories, a store with rules of every scope and some overrides
    categories = [CategorySpec("root")] + [CategorySpec(f"leaf-{i}", parent=0) for i in range(20)]
    products = [
        ProductSpec(f"P-{i:04d}", category=1 + i % 20, groups=[i % 3], prices={"USD": 100 + i})
        for i in range(150)
    ]
    await load_catalog(hub, CatalogSpec(categories=categories, groups=["g0", "g1", "g2"], products=products))
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "big")
    admin = await hub.staff()
    rules = [
        {"scope": "ALL", "markupPercent": "10"},
        {"scope": "CATEGORY", "target": "leaf-3", "markupPercent": "5"},
        {"scope": "GROUP", "target": "g1", "fixedPrice": "2.00"},
        {"scope": "SKU", "target": "P-0007", "fixedPrice": "1.00"},
    ]
    await hub.query(SET_PRICE_RULES, {"slug": "big", "rules": rules}, token=admin)
    await hub.query(SET_ASSORTMENT, {"slug": "big", "input": {"excludeSkus": ["P-0001"]}}, token=admin)
    await hub.query(SET_CONTENT, {"slug": "big", "sku": "P-0002", "input": {"name": "Renamed"}}, token=admin)
    counts = {}
    for first in (10, 100):
        count_queries.reset()
        # when
        data = await hub.query(STORE_PAGE, {"slug": "big", "first": first})
        # then
        assert len(data["store"]["products"]["edges"]) == first
        counts[first] = count_queries.count
    assert counts[10] == counts[100] <= 6, counts


async def test_entities_resolve_stores_in_one_batch_with_visibility(
    hub: Hub, count_queries: QueryCounter
) -> None:
    await load_catalog(hub, catalog())
    reseller_id = await add_reseller(hub, "north")
    for slug in ("s-1", "s-2", "s-3"):
        await add_store(hub, reseller_id, slug)
    await add_store(hub, reseller_id, "draft", status="DRAFT")
    representations = [{"__typename": "Store", "slug": s} for s in ("s-2", "nope", "draft", "s-1", "s-3")]
    count_queries.reset()
    data = await hub.query(ENTITIES, {"representations": representations})
    assert [e and e["slug"] for e in data["_entities"]] == ["s-2", None, None, "s-1", "s-3"]
    assert data["_entities"][0]["products"]["edges"] == [{"node": {"sku": "A-1"}}, {"node": {"sku": "A-2"}}]
    # one batch of stores, one of resellers, then one page per store
    assert count_queries.count <= 2 + 3, count_queries.statements


async def test_node_refetches_a_store_by_global_id(hub: Hub) -> None:
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "s-1")
    store_id = (await hub.query(STORE, {"slug": "s-1"}))["store"]["id"]
    assert (await hub.query(NODE, {"id": store_id}))["node"] == {"id": store_id, "slug": "s-1"}


async def test_a_reseller_lists_its_stores_and_others_see_only_open_ones(hub: Hub) -> None:
    reseller_id = await add_reseller(hub, "north")
    await add_store(hub, reseller_id, "b-open")
    await add_store(hub, reseller_id, "a-draft", status="DRAFT")
    own = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    data = await hub.query(MY_STORES, token=own)
    assert data["viewer"]["reseller"]["stores"] == [
        {"slug": "a-draft", "status": "DRAFT"},
        {"slug": "b-open", "status": "OPEN"},
    ]
    customer = await hub.user("CUSTOMER", reseller_id=reseller_id)
    assert (await hub.query(MY_STORES, token=customer))["viewer"]["reseller"]["stores"] == [
        {"slug": "a-draft", "status": "DRAFT"},
        {"slug": "b-open", "status": "OPEN"},
    ]


async def test_a_stores_count_is_kept_until_the_catalog_or_the_store_changes(
    hub: Hub, count_queries: QueryCounter
) -> None:
    # given: a store of 5 products, counted for a signed-in viewer (the response cache never answers one)
    admin, _ = await admin_store(hub)

    async def total() -> int:
        data = await hub.query(STORE_PRODUCTS, {"slug": "north-shop", "first": 1}, token=admin)
        return data["store"]["products"]["totalCount"]

    def counted() -> list[str]:
        return [s for s in count_queries.statements if "count(*)" in s.lower()]

    assert await total() == 5
    # when: the same count is asked again
    count_queries.reset()
    assert await total() == 5
    # then: it is not made again (the versions of the catalog and the stores are read instead)
    assert counted() == [], count_queries.statements
    assert any("cache_versions" in s for s in count_queries.statements)
    # and: a change to the store's assortment shows in the next count
    await hub.query(
        SET_ASSORTMENT, {"slug": "north-shop", "input": {"includeCategoryCodes": ["drills"]}}, token=admin
    )
    count_queries.reset()
    assert await total() == 2
    assert len(counted()) == 1
    # and: so does a change to the master catalog (a product discontinued, another added)
    writer = await hub.user("CATALOG_MANAGER")
    changes = [
        {"sku": "A-1", "name": "Product A-1", "categoryCode": "drills", "status": "DISCONTINUED"},
        {
            "sku": "A-9",
            "name": "New drill",
            "categoryCode": "drills",
            "listPrices": [{"currency": "USD", "amount": "3.00"}],
        },
        {
            "sku": "A-8",
            "name": "Another drill",
            "categoryCode": "drills",
            "listPrices": [{"currency": "USD", "amount": "4.00"}],
        },
    ]
    assert (await hub.query(UPSERT_PRODUCTS, {"input": changes}, token=writer))["upsertProducts"][
        "userErrors"
    ] == []
    assert await total() == 3
    # and: a write that is rolled back (bad input) changes nothing and keeps the count
    bad = [{"sku": "A-7", "name": "", "categoryCode": "drills"}]
    assert (await hub.query(UPSERT_PRODUCTS, {"input": bad}, token=writer))["upsertProducts"]["userErrors"]
    count_queries.reset()
    assert await total() == 3
    assert counted() == []


async def test_store_counts_keep_at_most_their_entries_and_none_with_zero(hub: Hub) -> None:
    made: list[str] = []

    async def make(key: str) -> int:
        made.append(key)
        return len(key)

    async with standalone_database(hub.resources.session_factory) as db:
        kept = StoreCounts(2)
        for key in ("a", "bb", "a", "ccc", "bb"):
            assert await kept.count(db, key, lambda key=key: make(key)) == len(key)
        # "a" and "bb" were made, "a" kept; "ccc" pushed out "bb", made again
        assert made == ["a", "bb", "ccc", "bb"] and len(kept) == 2
        made.clear()
        none = StoreCounts(0)
        for _ in range(2):
            assert await none.count(db, "a", lambda: make("a")) == 1
        assert made == ["a", "a"] and len(none) == 0


async def test_a_store_pages_master_products_load_in_one_batch(hub: Hub, count_queries: QueryCounter) -> None:
    # given: a store of 5 products (a page reads only the columns it shows, not the master rows)
    await admin_store(hub)
    page = """query($slug: String!, $first: Int) { store(slug: $slug) { products(first: $first) {
      edges { node { sku name product { sku name status } } } } } }"""
    for first in (2, 5):
        count_queries.reset()
        # when: the page asks for each product's master product
        data = await hub.query(page, {"slug": "north-shop", "first": first})
        nodes = [e["node"] for e in data["store"]["products"]["edges"]]
        # then: each is its own, ACTIVE, with the master's name, in one statement for the page
        assert [n["product"]["sku"] for n in nodes] == [n["sku"] for n in nodes][:first]
        assert {n["product"]["status"] for n in nodes} == {"ACTIVE"}
        assert all(n["product"]["name"] == f"Product {n['sku']}" for n in nodes)
        loads = [s for s in count_queries.statements if s.lstrip().upper().startswith("SELECT PRODUCTS.")]
        assert len(loads) == 1, count_queries.statements
