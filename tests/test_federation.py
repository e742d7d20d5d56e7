"""The hub as a federation v2 subgraph: its SDL, `_entities` in batches, and a real gateway composing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from datasources.partners.models import Distributor, Reseller
from datasources.stores.models import Store
from hub_graphql.schema import export_sdl
from tests.federation.inventory_subgraph import stock_of
from tests.federation.processes import (
    gateway_server,
    hub_server,
    inventory_server,
    node_or_skip,
    run_node,
)
from tests.harness import Hub, QueryCounter

SERVICE_SDL = "{ _service { sdl } }"
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { sku name status category { code } }
    ... on Category { code name parent { code } }
    ... on ProductGroup { code name }
  }
}"""
PARTNER_ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Reseller { code status }
    ... on Distributor { code status }
    ... on Store { slug storeStatus: status reseller { code } }
  }
}"""
MIXED_ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { sku category { code } }
    ... on Category { code parent { code } }
    ... on ProductGroup { code }
    ... on Reseller { code }
    ... on Distributor { code }
    ... on Store { slug reseller { code } }
  }
}"""
UPSERT_CATEGORIES = """
mutation($input: [CategoryInput!]!) {
  upsertCategories(input: $input) { categories { code } userErrors { field code message } }
}"""
UPSERT_GROUPS = """
mutation($input: [ProductGroupInput!]!) {
  upsertProductGroups(input: $input) { productGroups { code } userErrors { field code message } }
}"""
UPSERT_PRODUCTS = """
mutation($input: [ProductInput!]!) {
  upsertProducts(input: $input) { products { sku } userErrors { field code message } }
}"""

# Through the gateway: products come from the hub, `stock` from the inventory subgraph.
GATEWAY_PRODUCTS = """
query($first: Int) { products(first: $first) { edges { node { sku name stock category { name } } } } }"""
# And the other way: the inventory subgraph answers the list, the hub's `_entities` the rest.
GATEWAY_COUNTED = "query($skus: [String!]!) { counted(skus: $skus) { sku stock name status } }"
GATEWAY_PRODUCT = "query($sku: String!) { product(sku: $sku) { sku name stock } }"


def product(sku: str, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "name": fields.pop("name", f"Product {sku}"), **fields}


async def seed_catalog(hub: Hub, products: list[dict[str, Any]]) -> None:
    token = await hub.user("CATALOG_MANAGER")
    categories = [
        {"code": "tools", "name": "Tools"},
        {"code": "drills", "name": "Drills", "parentCode": "tools"},
    ]
    data = await hub.query(UPSERT_CATEGORIES, {"input": categories}, token=token)
    assert data["upsertCategories"]["userErrors"] == []
    data = await hub.query(UPSERT_PRODUCTS, {"input": products}, token=token)
    assert data["upsertProducts"]["userErrors"] == []
    data = await hub.query(UPSERT_GROUPS, {"input": [{"code": "promo", "name": "Promotion"}]}, token=token)
    assert data["upsertProductGroups"]["userErrors"] == []


def product_refs(skus: list[str]) -> list[dict[str, str]]:
    return [{"__typename": "Product", "sku": sku} for sku in skus]


RESELLERS = {"R-APPROVED": "APPROVED", "R-PENDING": "PENDING", "R-OTHER": "APPROVED"}
DISTRIBUTORS = {"D-ONE": "APPROVED", "D-HIDDEN": "SUSPENDED", "D-TWO": "APPROVED"}
# slug: (reseller, status)
STORES = {
    "open-shop": ("R-APPROVED", "OPEN"),
    "draft-shop": ("R-APPROVED", "DRAFT"),
    "other-shop": ("R-OTHER", "OPEN"),
}


async def seed_partners_and_stores(hub: Hub) -> dict[str, int]:
    """Resellers, distributors and stores straight in the database; answers reseller code -> id."""
    async with hub.resources.session_factory() as session, session.begin():
        for code, status in RESELLERS.items():
            session.add(
                Reseller(code=code, name=code, status=status, contact_email=f"{code.lower()}@r.example")
            )
        for code, status in DISTRIBUTORS.items():
            session.add(
                Distributor(code=code, name=code, status=status, regions=["EU"], quote_transport="MANUAL")
            )
        await session.flush()
        resellers = dict((await session.execute(select(Reseller.code, Reseller.id))).all())
        for slug, (reseller, status) in STORES.items():
            session.add(
                Store(slug=slug, name=slug, reseller_id=resellers[reseller], currency="EUR", status=status)
            )
    return resellers


# ---------------------------------------------------------------- the subgraph


async def test_service_sdl_is_a_federation_v2_subgraph_with_its_entity_keys(hub: Hub) -> None:
    sdl = (await hub.query(SERVICE_SDL))["_service"]["sdl"]

    assert '@link(url: "https://specs.apollo.dev/federation/v2.9"' in sdl
    assert 'type Product implements Node @key(fields: "sku")' in sdl
    assert 'type Category implements Node @key(fields: "code")' in sdl
    assert 'type ProductGroup implements Node @key(fields: "code")' in sdl
    assert 'type Reseller implements Node @key(fields: "code")' in sdl
    assert 'type Distributor implements Node @key(fields: "code")' in sdl
    assert 'type Store implements Node @key(fields: "slug")' in sdl
    # What `hub export-schema` prints (and schema.graphql holds, see test_schema.py) is this same SDL.
    assert sdl + "\n" == export_sdl()


async def test_entities_answer_in_the_order_asked_with_null_for_unknown_keys(hub: Hub) -> None:
    await seed_catalog(hub, [product("A-1", categoryCode="drills"), product("B-2")])

    representations = [
        {"__typename": "Product", "sku": "B-2"},
        {"__typename": "Category", "code": "drills"},
        {"__typename": "Product", "sku": "NO-SUCH-SKU"},
        {"__typename": "Product", "sku": "A-1"},
        {"__typename": "Category", "code": "no-such-code"},
        {"__typename": "Category", "code": "tools"},
        {"__typename": "ProductGroup", "code": "promo"},
        {"__typename": "ProductGroup", "code": "no-such-group"},
    ]
    data = await hub.query(ENTITIES, {"representations": representations})

    assert data["_entities"] == [
        {"__typename": "Product", "sku": "B-2", "name": "Product B-2", "status": "ACTIVE", "category": None},
        {"__typename": "Category", "code": "drills", "name": "Drills", "parent": {"code": "tools"}},
        None,
        {
            "__typename": "Product",
            "sku": "A-1",
            "name": "Product A-1",
            "status": "ACTIVE",
            "category": {"code": "drills"},
        },
        None,
        {"__typename": "Category", "code": "tools", "name": "Tools", "parent": None},
        {"__typename": "ProductGroup", "code": "promo", "name": "Promotion"},
        None,
    ]


async def test_entities_cost_the_same_statements_for_1_and_100_representations(
    hub: Hub, count_queries: QueryCounter
) -> None:
    skus = [f"SKU-{n:03d}" for n in range(100)]
    await seed_catalog(hub, [product(sku, categoryCode="drills") for sku in skus])

    counts: dict[int, int] = {}
    for size in (1, 100):
        # Asked in reverse, so an answer in the database's order would show.
        wanted = list(reversed(skus))[:size]
        count_queries.reset()
        data = await hub.query(ENTITIES, {"representations": product_refs(wanted)})
        counts[size] = count_queries.count
        assert [e["sku"] for e in data["_entities"]] == wanted
        assert all(e["category"] == {"code": "drills"} for e in data["_entities"])

    assert counts[1] == counts[100], count_queries.statements
    # One statement for the products, one for their categories.
    assert counts[100] <= 2, count_queries.statements


async def test_draft_products_stay_hidden_through_entities_from_everyone_but_staff(hub: Hub) -> None:
    await seed_catalog(hub, [product("LIVE-1"), product("DRAFT-1", status="DRAFT")])
    representations = product_refs(["DRAFT-1", "LIVE-1"])

    anonymous = await hub.query(ENTITIES, {"representations": representations})
    reseller_user = await hub.query(
        ENTITIES, {"representations": representations}, token=await hub.user("RESELLER_ADMIN")
    )
    staff = await hub.query(ENTITIES, {"representations": representations}, token=await hub.staff())

    for seen in (anonymous, reseller_user):
        assert [e and e["sku"] for e in seen["_entities"]] == [None, "LIVE-1"]
    assert [e["sku"] for e in staff["_entities"]] == ["DRAFT-1", "LIVE-1"]


async def test_partner_and_store_entities_show_only_what_the_viewer_may_see(hub: Hub) -> None:
    resellers = await seed_partners_and_stores(hub)
    representations = [
        {"__typename": "Reseller", "code": "R-APPROVED"},
        {"__typename": "Reseller", "code": "R-PENDING"},
        {"__typename": "Reseller", "code": "NO-SUCH"},
        {"__typename": "Distributor", "code": "D-ONE"},
        {"__typename": "Distributor", "code": "D-HIDDEN"},
        {"__typename": "Distributor", "code": "NO-SUCH"},
        {"__typename": "Store", "slug": "open-shop"},
        {"__typename": "Store", "slug": "draft-shop"},
        {"__typename": "Store", "slug": "no-such"},
    ]

    def keys(data: dict[str, Any]) -> list[str | None]:
        return [e and (e.get("code") or e.get("slug")) for e in data["_entities"]]

    # when
    anonymous = await hub.query(PARTNER_ENTITIES, {"representations": representations})
    own_reseller = await hub.query(
        PARTNER_ENTITIES,
        {"representations": representations},
        token=await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-APPROVED"]),
    )
    other_reseller = await hub.query(
        PARTNER_ENTITIES,
        {"representations": representations},
        token=await hub.user("RESELLER_ADMIN", reseller_id=resellers["R-OTHER"]),
    )
    staff = await hub.query(PARTNER_ENTITIES, {"representations": representations}, token=await hub.staff())

    # then: as through the root fields (resolvers/access.py): resellers are their own users' and the staff's,
    # distributors the signed-in users' (suspended ones the staff's), unopened stores the owner's and the staff's
    assert keys(anonymous) == [None, None, None, None, None, None, "open-shop", None, None]
    assert keys(own_reseller) == [
        "R-APPROVED",
        None,
        None,
        "D-ONE",
        None,
        None,
        "open-shop",
        "draft-shop",
        None,
    ]
    assert keys(other_reseller) == [None, None, None, "D-ONE", None, None, "open-shop", None, None]
    assert keys(staff) == [
        "R-APPROVED",
        "R-PENDING",
        None,
        "D-ONE",
        "D-HIDDEN",
        None,
        "open-shop",
        "draft-shop",
        None,
    ]
    assert staff["_entities"][6] == {
        "__typename": "Store",
        "slug": "open-shop",
        "storeStatus": "OPEN",
        "reseller": {"code": "R-APPROVED"},
    }


async def test_entities_of_every_type_cost_the_same_statements_for_few_and_many(
    hub: Hub, count_queries: QueryCounter
) -> None:
    skus = [f"SKU-{n:03d}" for n in range(100)]
    await seed_catalog(hub, [product(sku, categoryCode="drills") for sku in skus])
    await seed_partners_and_stores(hub)
    token = await hub.staff()

    def representations(size: int) -> list[dict[str, str]]:
        return (
            product_refs(skus[:size])
            + [{"__typename": "Category", "code": c} for c in ["drills", "tools"][:size]]
            + [{"__typename": "ProductGroup", "code": "promo"}]
            + [{"__typename": "Reseller", "code": c} for c in list(RESELLERS)[:size]]
            + [{"__typename": "Distributor", "code": c} for c in list(DISTRIBUTORS)[:size]]
            + [{"__typename": "Store", "slug": s} for s in list(STORES)[:size]]
        )

    counts: dict[int, int] = {}
    for size in (1, 100):
        wanted = representations(size)
        count_queries.reset()
        data = await hub.query(MIXED_ENTITIES, {"representations": wanted}, token=token)
        counts[size] = count_queries.count
        assert [e["__typename"] for e in data["_entities"]] == [r["__typename"] for r in wanted]
        assert all(e is not None for e in data["_entities"])

    assert counts[1] == counts[100], count_queries.statements
    # The viewer; products; categories by code and by id (twice: a product's, then a parent); groups,
    # resellers, distributors and stores by key; the stores' resellers (for their visibility).
    assert counts[100] <= 10, count_queries.statements


# ---------------------------------------------------------------- a real gateway


def _post(url: str, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _compose(node: str, services: list[dict[str, str]], workdir: Path) -> Path:
    services_file, supergraph = workdir / "services.json", workdir / "supergraph.graphql"
    services_file.write_text(json.dumps(services), encoding="utf-8")
    code, output, stderr = run_node(node, "compose.mjs", str(services_file), str(supergraph))
    assert code == 0 and output["errors"] == [], (output, stderr)
    return supergraph


@pytest.mark.node
@pytest.mark.slow
# One backend: the gateway sees the hub over HTTP, whatever its database (each backend is tested in-process).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_real_gateway_composes_the_hub_with_another_subgraph(
    hub: Hub, database_url: str, tmp_path: Path
) -> None:
    node = node_or_skip()
    # given: a catalog with a draft only staff may see, in the database the hub process serves
    skus = ["DR-100", "DR-200", "SAW-300"]
    await seed_catalog(
        hub,
        [product(sku, categoryCode="drills") for sku in skus] + [product("SECRET-1", status="DRAFT")],
    )
    staff_token = await hub.staff()
    secret = hub.settings.secret_key.get_secret_value()

    with hub_server(database_url, secret, tmp_path) as hub_url, inventory_server(tmp_path) as inventory_url:
        services = [
            {"name": name, "url": url, "sdl": _post(url, SERVICE_SDL, {})["data"]["_service"]["sdl"]}
            for name, url in (("hub", hub_url), ("inventory", inventory_url))
        ]
        # when: a real composition library composes them, and a real gateway serves the supergraph
        supergraph = _compose(node, services, tmp_path)
        with gateway_server(supergraph, tmp_path) as gateway_url:
            products = _post(gateway_url, GATEWAY_PRODUCTS, {"first": 10})
            counted = _post(gateway_url, GATEWAY_COUNTED, {"skus": ["SAW-300", "DR-100"]})
            hidden = _post(gateway_url, GATEWAY_PRODUCT, {"sku": "SECRET-1"})
            shown = _post(gateway_url, GATEWAY_PRODUCT, {"sku": "SECRET-1"}, token=staff_token)
            too_many = _post(gateway_url, GATEWAY_PRODUCTS, {"first": 1000})

    # then: one answer from both subgraphs
    assert products == {
        "data": {
            "products": {
                "edges": [
                    {
                        "node": {
                            "sku": sku,
                            "name": f"Product {sku}",
                            "stock": stock_of(sku),
                            "category": {"name": "Drills"},
                        }
                    }
                    for sku in skus
                ]
            }
        }
    }
    assert counted == {
        "data": {
            "counted": [
                {"sku": sku, "stock": stock_of(sku), "name": f"Product {sku}", "status": "ACTIVE"}
                for sku in ("SAW-300", "DR-100")
            ]
        }
    }
    # The caller's token reaches the hub through the gateway: the draft is the staff's alone.
    assert hidden == {"data": {"product": None}}
    assert shown == {
        "data": {"product": {"sku": "SECRET-1", "name": "Product SECRET-1", "stock": stock_of("SECRET-1")}}
    }
    # The hub's own errors pass through with their codes.
    assert [e["extensions"]["code"] for e in too_many["errors"]] == ["BAD_USER_INPUT"]
