"""The master catalog over GraphQL: upserts, atomicity, the tree, filters, keyset pages, batching."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Hub, QueryCounter, codes_of, post_escaped

UPSERT_CATEGORIES = """
mutation($input: [CategoryInput!]!) {
  upsertCategories(input: $input) { categories { code name parent { code } } userErrors { field code message } }
}"""
UPSERT_PRODUCTS = """
mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku name status } userErrors { field code message } }
}"""
UPSERT_GROUPS = """
mutation($input: [ProductGroupInput!]!) {
  upsertProductGroups(input: $input) { productGroups { code name } userErrors { field code message } }
}"""
PRODUCTS = """
query($first: Int, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sku } }
  }
}"""
PRODUCT_PAGE_WITH_RELATIONS = """
query($first: Int) {
  products(first: $first) {
    edges { node { sku category { name parent { name } } groups { code } attributes { name } listPrice { amount } } }
  }
}"""

TREE = [
    {"code": "tools", "name": "Tools"},
    {"code": "power", "name": "Power tools", "parentCode": "tools"},
    {"code": "drills", "name": "Drills", "parentCode": "power"},
    {"code": "garden", "name": "Garden"},
]


def product(sku: str, **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": fields.pop("name", f"Product {sku}"),
        "categoryCode": fields.pop("categoryCode", "drills"),
        "listPrices": fields.pop("listPrices", [{"currency": "USD", "amount": "10.00"}]),
        **fields,
    }


async def catalog_manager(hub: Hub) -> str:
    return await hub.user("CATALOG_MANAGER")


async def seed_tree(hub: Hub, token: str) -> None:
    data = await hub.query(UPSERT_CATEGORIES, {"input": TREE}, token=token)
    assert data["upsertCategories"]["userErrors"] == []


async def seed_products(hub: Hub, token: str, count: int, **fields: Any) -> list[str]:
    await hub.query(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "Promotion"}]}, token=token)
    skus = [f"SKU-{i:04d}" for i in range(count)]
    for start in range(0, count, 500):
        rows = [
            product(
                sku,
                groupCodes=["promo"] if i % 2 == 0 else [],
                attributes=[{"name": "color", "value": "red"}],
                **fields,
            )
            for i, sku in enumerate(skus[start : start + 500], start=start)
        ]
        data = await hub.query(UPSERT_PRODUCTS, {"input": rows}, token=token)
        assert data["upsertProducts"]["userErrors"] == []
    return skus


async def all_skus(hub: Hub, token: str | None = None) -> list[str]:
    data = await hub.query(PRODUCTS, {"first": 100}, token=token)
    return [e["node"]["sku"] for e in data["products"]["edges"]]


async def test_categories_form_a_tree_and_products_include_everything_below(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(
        UPSERT_PRODUCTS,
        {
            "input": [
                product("D-1"),
                product("P-1", categoryCode="power"),
                product("G-1", categoryCode="garden"),
            ]
        },
        token=token,
    )

    data = await hub.query(
        """{ categories { code children { code children { code } } }
             tools: category(code: "tools") { products { totalCount edges { node { sku } } } }
             garden: category(code: "garden") { products { edges { node { sku } } } } }"""
    )

    assert data["categories"] == [
        {"code": "garden", "children": []},
        {"code": "tools", "children": [{"code": "power", "children": [{"code": "drills"}]}]},
    ]
    assert [e["node"]["sku"] for e in data["tools"]["products"]["edges"]] == ["D-1", "P-1"]
    assert data["tools"]["products"]["totalCount"] == 2
    assert [e["node"]["sku"] for e in data["garden"]["products"]["edges"]] == ["G-1"]


async def test_a_product_reads_back_with_every_relation(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "Promotion"}]}, token=token)
    await hub.query(
        UPSERT_PRODUCTS,
        {
            "input": [
                product(
                    "D-1",
                    description="Cordless, 18 V",
                    status="DRAFT",
                    groupCodes=["promo"],
                    listPrices=[{"currency": "USD", "amount": "99.5"}, {"currency": "EUR", "amount": "90"}],
                    attributes=[{"name": "voltage", "value": "18V"}, {"name": "color", "value": "red"}],
                )
            ]
        },
        token=token,
    )

    data = await hub.query(
        """{ product(sku: "D-1") { id sku name description status category { code parent { code } }
             groups { code } attributes { name value } listPrice { amount currency }
             eur: listPrice(currency: "EUR") { amount currency } gbp: listPrice(currency: "GBP") { amount } } }""",
        token=token,
    )

    assert data["product"] == {
        "id": data["product"]["id"],
        "sku": "D-1",
        "name": "Product D-1",
        "description": "Cordless, 18 V",
        "status": "DRAFT",
        "category": {"code": "drills", "parent": {"code": "power"}},
        "groups": [{"code": "promo"}],
        "attributes": [{"name": "voltage", "value": "18V"}, {"name": "color", "value": "red"}],
        "listPrice": {"amount": "99.50", "currency": "USD"},
        "eur": {"amount": "90.00", "currency": "EUR"},
        "gbp": None,
    }
    node = await hub.query(
        "query($id: ID!) { node(id: $id) { id ... on Product { sku } } }",
        {"id": data["product"]["id"]},
        token=token,
    )
    assert node["node"]["sku"] == "D-1"


async def test_draft_products_are_hidden_from_everyone_but_staff(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(UPSERT_PRODUCTS, {"input": [product("A-1"), product("B-1", status="DRAFT")]}, token=token)

    assert await all_skus(hub) == ["A-1"]
    assert (await hub.query('{ product(sku: "B-1") { sku } }'))["product"] is None
    assert await all_skus(hub, token) == ["A-1", "B-1"]


async def test_an_upsert_updates_by_key_and_keeps_lists_left_out(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(
        UPSERT_PRODUCTS, {"input": [product("A-1", attributes=[{"name": "a", "value": "1"}])]}, token=token
    )

    await hub.query(
        UPSERT_PRODUCTS, {"input": [{"sku": "A-1", "name": "Renamed", "categoryCode": "garden"}]}, token=token
    )
    data = await hub.query(
        '{ product(sku: "A-1") { name category { code } attributes { name } listPrice { amount } } }'
    )

    assert data["product"] == {
        "name": "Renamed",
        "category": {"code": "garden"},
        "attributes": [{"name": "a"}],
        "listPrice": {"amount": "10.00"},
    }


@pytest.mark.parametrize(
    ("bad_row", "field", "code"),
    [
        ({"categoryCode": "nowhere"}, ["input", "1", "categoryCode"], "NOT_FOUND"),
        (
            {"listPrices": [{"currency": "USD", "amount": "-1"}]},
            ["input", "1", "listPrices", "0", "amount"],
            "INVALID_AMOUNT",
        ),
        (
            {"listPrices": [{"currency": "XTS", "amount": "1"}]},
            ["input", "1", "listPrices", "0", "currency"],
            "UNKNOWN_CURRENCY",
        ),
        (
            {"listPrices": [{"currency": "USD", "amount": "1.001"}]},
            ["input", "1", "listPrices", "0", "amount"],
            "INVALID_AMOUNT",
        ),
        ({"sku": "  "}, ["input", "1", "sku"], "REQUIRED"),
        ({"sku": "OK-1"}, ["input", "1", "sku"], "DUPLICATE"),
        ({"groupCodes": ["nope"]}, ["input", "1", "groupCodes", "0"], "NOT_FOUND"),
    ],
)
async def test_one_bad_product_row_writes_nothing(
    hub: Hub, bad_row: dict[str, Any], field: list[str], code: str
) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)

    bad = {**product("BAD-1"), **bad_row}
    data = await hub.query(UPSERT_PRODUCTS, {"input": [product("OK-1"), bad]}, token=token)

    assert data["upsertProducts"]["products"] is None
    assert [(e["field"], e["code"]) for e in data["upsertProducts"]["userErrors"]] == [(field, code)]
    assert await all_skus(hub, token) == []


async def test_a_category_cannot_become_its_own_ancestor(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)

    data = await hub.query(
        UPSERT_CATEGORIES,
        {
            "input": [
                {"code": "new", "name": "New"},
                {"code": "tools", "name": "Tools", "parentCode": "drills"},
            ]
        },
        token=token,
    )

    assert data["upsertCategories"]["categories"] is None
    assert [(e["field"], e["code"]) for e in data["upsertCategories"]["userErrors"]] == [
        (["input", "1", "parentCode"], "CYCLE")
    ]
    roots = await hub.query("{ categories { code } }")
    assert roots["categories"] == [{"code": "garden"}, {"code": "tools"}]


async def test_moving_a_category_moves_its_subtree(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(UPSERT_PRODUCTS, {"input": [product("D-1")]}, token=token)

    await hub.query(
        UPSERT_CATEGORIES,
        {"input": [{"code": "power", "name": "Power", "parentCode": "garden"}]},
        token=token,
    )
    data = await hub.query(
        '{ garden: category(code: "garden") { products { edges { node { sku } } } }'
        ' tools: category(code: "tools") { products { totalCount } } }'
    )

    assert [e["node"]["sku"] for e in data["garden"]["products"]["edges"]] == ["D-1"]
    assert data["tools"]["products"]["totalCount"] == 0


async def test_product_groups_hold_their_products(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(UPSERT_PRODUCTS, {"input": [product("A-1"), product("B-1"), product("C-1")]}, token=token)

    bad = await hub.query(
        UPSERT_GROUPS, {"input": [{"code": "kit", "name": "Kit", "skus": ["A-1", "Z-9"]}]}, token=token
    )
    good = await hub.query(
        UPSERT_GROUPS, {"input": [{"code": "kit", "name": "Kit", "skus": ["C-1", "A-1"]}]}, token=token
    )
    data = await hub.query("{ productGroups { code products { edges { node { sku } } } } }")

    assert [(e["field"], e["code"]) for e in bad["upsertProductGroups"]["userErrors"]] == [
        (["input", "0", "skus", "1"], "NOT_FOUND")
    ]
    assert good["upsertProductGroups"]["productGroups"] == [{"code": "kit", "name": "Kit"}]
    assert data["productGroups"] == [
        {"code": "kit", "products": {"edges": [{"node": {"sku": "A-1"}}, {"node": {"sku": "C-1"}}]}}
    ]


async def test_filters_search_sku_name_and_description_case_insensitively(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(
        UPSERT_PRODUCTS,
        {
            "input": [
                product("DRL-100", name="Cordless Drill"),
                product("SAW-200", name="Circular saw", description="For hardwood, 100% carbide"),
                product("HAM-300", name="Hammer", categoryCode="garden", status="DISCONTINUED"),
            ]
        },
        token=token,
    )

    async def skus(filter_: dict[str, Any]) -> list[str]:
        data = await hub.query(PRODUCTS, {"filter": filter_})
        return [e["node"]["sku"] for e in data["products"]["edges"]]

    assert await skus({"search": "drill"}) == ["DRL-100"]
    assert await skus({"search": "HARDWOOD"}) == ["SAW-200"]
    assert await skus({"search": "drl-1"}) == ["DRL-100"]
    assert await skus({"search": "100"}) == ["DRL-100", "SAW-200"]
    assert await skus({"search": "0%"}) == ["SAW-200"]
    assert await skus({"search": "%"}) == ["SAW-200"]
    assert await skus({"search": "_"}) == []
    assert await skus({"categoryCode": "power"}) == ["DRL-100", "SAW-200"]
    assert await skus({"status": "DISCONTINUED"}) == ["HAM-300"]
    assert await skus({"skus": ["HAM-300", "DRL-100", "NOPE"]}) == ["DRL-100", "HAM-300"]
    assert await skus({"search": "saw", "categoryCode": "garden"}) == []


async def test_pages_are_keyset_cursors_that_walk_the_whole_list(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    skus = await seed_products(hub, token, 25)

    seen: list[str] = []
    after = None
    inserted = 0
    while True:
        data = (await hub.query(PRODUCTS, {"first": 10, "after": after}))["products"]
        seen += [e["node"]["sku"] for e in data["edges"]]
        assert data["totalCount"] == 25 + inserted
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        # A product inserted before the cursor while paging shifts nothing after it.
        await hub.query(UPSERT_PRODUCTS, {"input": [product(f"AAA-{len(seen)}")]}, token=token)
        inserted += 1

    assert seen == skus


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 0}, "`first` must be at least 1"),
        ({"first": -311}, "`first` must be at least 1"),
        ({"first": 101}, "`first` may be at most 100"),
        ({"after": "not-a-cursor"}, "`after` is not a cursor"),
        ({"after": "aHViMTpbInN0b3JlIixbIngiXV0"}, "`after` is not a cursor"),
    ],
)
async def test_bad_page_arguments_are_clear_errors(hub: Hub, variables: dict[str, Any], message: str) -> None:
    body = await hub.post(PRODUCTS, variables)

    assert codes_of(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith(message)
    assert "SELECT" not in str(body)


@pytest.mark.parametrize("role", ["RESELLER_ADMIN", "MARKETING_MANAGER", "CHANNEL_MANAGER"])
async def test_catalog_mutations_need_a_catalog_role(hub: Hub, role: str) -> None:
    anonymous = await hub.post(UPSERT_CATEGORIES, {"input": TREE})
    other = await hub.post(UPSERT_CATEGORIES, {"input": TREE}, token=await hub.user(role))
    admin = await hub.query(UPSERT_CATEGORIES, {"input": TREE}, token=await hub.user("SITE_ADMIN"))

    assert codes_of(anonymous) == ["UNAUTHENTICATED"]
    assert codes_of(other) == ["FORBIDDEN"]
    assert len(admin["upsertCategories"]["categories"]) == 4


async def test_a_product_page_costs_the_same_statements_for_10_and_100(
    hub: Hub, count_queries: QueryCounter
) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    await hub.query(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "Promotion"}]}, token=token)
    await seed_products(hub, token, 120)

    counts = {}
    for size in (10, 100):
        count_queries.reset()
        data = await hub.query(PRODUCT_PAGE_WITH_RELATIONS, {"first": size})
        assert len(data["products"]["edges"]) == size
        assert data["products"]["edges"][0]["node"]["category"]["parent"] == {"name": "Power tools"}
        counts[size] = count_queries.count

    assert counts[10] == counts[100]
    assert counts[100] <= 8, count_queries.statements


async def test_search_checks_the_whole_term_whichever_trigrams_the_index_is_asked_for(hub: Hub) -> None:
    # On SQLite the index is asked only for the term's rarest trigrams; the rest must still match.
    token = await catalog_manager(hub)
    await seed_tree(hub, token)
    names = {"L-1": "Drill line00021", "L-2": "Drill line00012", "L-3": 'Cable 3" line00021x', "L-4": "Saw"}
    await hub.query(
        UPSERT_PRODUCTS, {"input": [product(sku, name=name) for sku, name in names.items()]}, token=token
    )

    async def skus(term: str) -> list[str]:
        data = await hub.query(PRODUCTS, {"filter": {"search": term}})
        return [e["node"]["sku"] for e in data["products"]["edges"]]

    assert await skus("line00021") == ["L-1", "L-3"]
    assert await skus("drill line00013") == []
    assert await skus("drill line00012") == ["L-2"]
    assert await skus('3" line') == ["L-3"]
    assert await skus("line00021q") == []


# ---------------------------------------------------------------- found by the fuzz run (tests/test_fuzz.py)


UNSTORABLE_TEXT = "Text may not hold the NUL character (U+0000) or a lone surrogate (U+D800 to U+DFFF)"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ product(sku: "A\\u0000B") { sku } }', {}),
        ('{ product(sku: "A\\u{0}B") { sku } }', {}),
        ("query($sku: String!) { product(sku: $sku) { sku } }", {"sku": "A\x00B"}),
        ("query($sku: String!) { product(sku: $sku) { sku } }", {"sku": "A\ud800B"}),
    ],
)
async def test_a_sku_with_a_nul_or_a_lone_surrogate_is_bad_input_not_an_unexpected_error(
    hub: Hub, query: str, variables: dict[str, Any]
) -> None:
    # PostgreSQL's text cannot hold NUL, and no driver encodes a lone surrogate: both reached SQL.
    body = await post_escaped(hub, query, variables)

    assert body.get("data") is None
    assert codes_of(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith(UNSTORABLE_TEXT)


async def test_a_product_with_a_nul_in_its_name_is_refused_and_nothing_is_written(hub: Hub) -> None:
    token = await catalog_manager(hub)
    await seed_tree(hub, token)

    bad = {**product("BAD-1"), "name": "Drill\x00"}
    body = await hub.post(UPSERT_PRODUCTS, {"input": [product("OK-1"), bad]}, token=token)

    assert codes_of(body) == ["BAD_USER_INPUT"]
    assert "variable `$input.1.name`" in body["errors"][0]["message"]
    assert await all_skus(hub, token) == []
    # Other characters outside ASCII are text like any other.
    accented = await hub.query(
        UPSERT_PRODUCTS, {"input": [{**product("É-1"), "name": "Perceuse à 👍"}]}, token=token
    )
    assert accented["upsertProducts"]["userErrors"] == []
    assert (await hub.query('{ product(sku: "\\u00c9-1") { name } }'))["product"] == {"name": "Perceuse à 👍"}
