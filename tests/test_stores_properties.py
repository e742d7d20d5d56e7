"""Property tests: what the store API answers equals a plain reference implementation of the overlay.

Hypothesis generates small catalogs (a category tree, groups, products with
statuses and list prices), a store (currency, assortment, price rules,
content overrides) and compares, for every product of the catalog, the
store's membership, price, list price, name and description with
`reference_store` below, which is written straight from the issue's words
(Decimal arithmetic, no SQL); also the SKU order, the keyset pages (5 a
page), totalCount, `Store.product(sku)` for every product, `Store.categories`
and a `categoryCode` filter.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasources.money import from_minor
from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub
from tests.stores_factory import (
    CatalogSpec,
    CategorySpec,
    ProductSpec,
    add_reseller,
    add_store,
    clear_catalog_and_stores,
    load_catalog,
)

CURRENCIES = ("USD", "EUR")
STATUSES = ("ACTIVE", "ACTIVE", "ACTIVE", "DRAFT", "DISCONTINUED")


@dataclass
class Rule:
    scope: str
    target: str | None
    markup: Decimal | None = None
    fixed_minor: int | None = None


@dataclass
class World:
    catalog: CatalogSpec
    currency: str
    includes: dict[str, list[str]] = field(default_factory=dict)
    excludes: dict[str, list[str]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    content: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


# ---------------------------------------------------------------- generation


@st.composite
def worlds(draw: st.DrawFn) -> World:
    category_count = draw(st.integers(0, 7))
    categories = [
        CategorySpec(f"c{i}", parent=draw(st.none() | st.integers(0, i - 1)) if i else None)
        for i in range(category_count)
    ]
    groups = [f"g{i}" for i in range(draw(st.integers(0, 3)))]
    products = []
    for i in range(draw(st.integers(1, 14))):
        prices = {
            currency: draw(st.integers(0, 100_000))
            for currency in CURRENCIES
            if draw(st.integers(0, 3))  # one in four products lacks a price in a currency
        }
        products.append(
            ProductSpec(
                sku=f"S-{i:02d}",
                category=draw(st.none() | st.integers(0, category_count - 1)) if category_count else None,
                groups=draw(st.lists(st.integers(0, len(groups) - 1), max_size=2)) if groups else [],
                status=draw(st.sampled_from(STATUSES)),
                prices=prices,
                description=draw(st.none() | st.just(f"About S-{i:02d}")),
            )
        )
    catalog = CatalogSpec(categories=categories, groups=groups, products=products)
    targets = {
        "CATEGORY": [c.code for c in categories],
        "GROUP": groups,
        "SKU": [p.sku for p in products],
    }

    def some(scope: str) -> list[str]:
        pool = targets[scope]
        return draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)) if pool else []

    includes = {scope: some(scope) if draw(st.booleans()) else [] for scope in targets}
    excludes = {scope: some(scope) if draw(st.booleans()) else [] for scope in targets}
    rules: list[Rule] = []
    used: set[tuple[str, str | None]] = set()
    for _ in range(draw(st.integers(0, 8))):
        scope = draw(st.sampled_from(("ALL", "CATEGORY", "GROUP", "SKU")))
        if scope != "ALL" and not targets[scope]:
            continue
        target = None if scope == "ALL" else draw(st.sampled_from(targets[scope]))
        if (scope, target) in used:
            continue
        used.add((scope, target))
        if draw(st.booleans()):
            # hundredths of a percent, above -100 %
            markup = Decimal(draw(st.integers(-9_999, 30_000))) / 100
            rules.append(Rule(scope, target, markup=markup))
        else:
            rules.append(Rule(scope, target, fixed_minor=draw(st.integers(0, 50_000))))
    content = {
        sku: (
            draw(st.none() | st.text("abcxyz", min_size=1, max_size=8).map(lambda s: f"N {s}")),
            draw(st.none() | st.just(f"Store text for {sku}")),
        )
        for sku in draw(st.lists(st.sampled_from(targets["SKU"]), max_size=4, unique=True))
    }
    content = {sku: value for sku, value in content.items() if value != (None, None)}
    return World(
        catalog=catalog,
        currency=draw(st.sampled_from(CURRENCIES)),
        includes=includes,
        excludes=excludes,
        rules=rules,
        content=content,
    )


# ---------------------------------------------------------------- the reference


def reference_store(world: World) -> dict[str, tuple[str, str | None, str, str | None]]:
    """SKU -> (name, description, price, list price) for every product the store sells, as decimals."""
    catalog = world.catalog

    def ancestors(index: int | None) -> list[str]:
        return [catalog.categories[i].code for i in catalog.category_path(index)] if index is not None else []

    def named(product: ProductSpec, chosen: dict[str, list[str]]) -> bool:
        return (
            bool(set(ancestors(product.category)) & set(chosen.get("CATEGORY", [])))
            or bool({catalog.groups[g] for g in product.groups} & set(chosen.get("GROUP", [])))
            or product.sku in chosen.get("SKU", [])
        )

    def rule_price(rule: Rule, list_minor: int | None) -> int | None:
        if rule.fixed_minor is not None:
            return rule.fixed_minor
        if list_minor is None:
            return None
        assert rule.markup is not None
        exact = Decimal(list_minor) * (Decimal(100) + rule.markup) / Decimal(100)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def price_of(product: ProductSpec) -> int | None:
        list_minor = product.prices.get(world.currency)
        for rule in world.rules:
            if rule.scope == "SKU" and rule.target == product.sku:
                return rule_price(rule, list_minor)
        group_codes = {catalog.groups[g] for g in product.groups}
        group_rules = [r for r in world.rules if r.scope == "GROUP" and r.target in group_codes]
        if group_rules:
            prices = [p for p in (rule_price(r, list_minor) for r in group_rules) if p is not None]
            return min(prices) if prices else None
        path = ancestors(product.category)
        category_rules = [r for r in world.rules if r.scope == "CATEGORY" and r.target in path]
        if category_rules:
            deepest = max(category_rules, key=lambda r: path.index(r.target))  # type: ignore[arg-type]
            return rule_price(deepest, list_minor)
        for rule in world.rules:
            if rule.scope == "ALL":
                return rule_price(rule, list_minor)
        return list_minor

    has_includes = any(world.includes.values())
    answer = {}
    for product in catalog.products:
        if product.status != "ACTIVE":
            continue
        if has_includes and not named(product, world.includes):
            continue
        if named(product, world.excludes):
            continue
        price = price_of(product)
        if price is None:
            continue
        name, description = world.content.get(product.sku, (None, None))
        list_minor = product.prices.get(world.currency)
        answer[product.sku] = (
            name or product.name or f"Product {product.sku}",
            description if description is not None else product.description,
            str(from_minor(price, world.currency)),
            None if list_minor is None else str(from_minor(list_minor, world.currency)),
        )
    return answer


def reference_roots(world: World, sold: set[str]) -> list[str]:
    catalog = world.catalog
    roots = {
        catalog.categories[catalog.category_path(p.category)[0]].code
        for p in catalog.products
        if p.sku in sold and p.category is not None
    }
    return sorted(roots)


# ---------------------------------------------------------------- the store API

SET_ASSORTMENT = """
mutation($slug: String!, $input: AssortmentInput!) {
  setStoreAssortment(slug: $slug, input: $input) { userErrors { field code message } }
}"""
SET_PRICE_RULES = """
mutation($slug: String!, $rules: [PriceRuleInput!]!) {
  setStorePriceRules(slug: $slug, rules: $rules) { userErrors { field code message } }
}"""
SET_CONTENT = """
mutation($slug: String!, $sku: String!, $input: ProductContentInput!) {
  setStoreProductContent(slug: $slug, sku: $sku, input: $input) { userErrors { field code message } }
}"""
STORE_PRODUCTS = """
query($after: String) {
  store(slug: "prop") {
    categories { code }
    products(first: 5, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { sku name description price { amount currency } listPrice { amount currency } } }
    }
  }
}"""
FILTERED = """
query($filter: ProductFilter) { store(slug: "prop") { products(first: 100, filter: $filter) { edges { node { sku } } } } }"""
ONE_PRODUCT = """
query($sku: String!) {
  store(slug: "prop") { product(sku: $sku) { sku name description price { amount } listPrice { amount } } }
}"""


async def apply_overlay(hub: Hub, world: World, token: str) -> None:
    def names(chosen: dict[str, list[str]], prefix: str) -> dict[str, list[str]]:
        return {
            f"{prefix}CategoryCodes": chosen.get("CATEGORY", []),
            f"{prefix}GroupCodes": chosen.get("GROUP", []),
            f"{prefix}Skus": chosen.get("SKU", []),
        }

    assortment = {**names(world.includes, "include"), **names(world.excludes, "exclude")}
    data = await hub.query(SET_ASSORTMENT, {"slug": "prop", "input": assortment}, token=token)
    assert data["setStoreAssortment"]["userErrors"] == []
    rules = [
        {
            "scope": r.scope,
            "target": r.target,
            "markupPercent": None if r.markup is None else str(r.markup),
            "fixedPrice": None if r.fixed_minor is None else str(from_minor(r.fixed_minor, world.currency)),
        }
        for r in world.rules
    ]
    data = await hub.query(SET_PRICE_RULES, {"slug": "prop", "rules": rules}, token=token)
    assert data["setStorePriceRules"]["userErrors"] == []
    for sku, (name, description) in world.content.items():
        data = await hub.query(
            SET_CONTENT,
            {"slug": "prop", "sku": sku, "input": {"name": name, "description": description}},
            token=token,
        )
        assert data["setStoreProductContent"]["userErrors"] == []


async def store_answer(hub: Hub) -> tuple[dict[str, tuple[Any, ...]], list[str], int]:
    answer: dict[str, tuple[Any, ...]] = {}
    after = None
    while True:
        data = await hub.query(STORE_PRODUCTS, {"after": after})
        store = data["store"]
        for edge in store["products"]["edges"]:
            node = edge["node"]
            answer[node["sku"]] = (
                node["name"],
                node["description"],
                node["price"]["amount"],
                node["listPrice"] and node["listPrice"]["amount"],
            )
        if not store["products"]["pageInfo"]["hasNextPage"]:
            return answer, [c["code"] for c in store["categories"]], store["products"]["totalCount"]
        after = store["products"]["pageInfo"]["endCursor"]


async def check_world(settings_: Settings, world: World) -> None:
    async with open_hub(settings_) as hub:
        await clear_catalog_and_stores(hub)
        await load_catalog(hub, world.catalog)
        # The database outlives the example (only the catalog and stores are emptied): a fresh code each time.
        reseller_id = await add_reseller(hub, f"prop-{uuid.uuid4().hex[:12]}")
        await add_store(hub, reseller_id, "prop", currency=world.currency)
        await apply_overlay(hub, world, await hub.staff())

        expected = reference_store(world)
        answer, roots, total = await store_answer(hub)

        assert list(answer) == sorted(answer), "the store's products come in SKU order"
        assert answer == expected
        assert total == len(expected)
        assert roots == reference_roots(world, set(expected))
        # the master catalog's filter, inside the store: a category and everything below it
        catalog = world.catalog
        if catalog.categories:
            code = catalog.categories[-1].code
            under = {
                p.sku
                for p in catalog.products
                if p.category is not None
                and code in {catalog.categories[i].code for i in catalog.category_path(p.category)}
            }
            data = await hub.query(FILTERED, {"filter": {"categoryCode": code}})
            skus = [e["node"]["sku"] for e in data["store"]["products"]["edges"]]
            assert skus == sorted(set(expected) & under)
        for product in world.catalog.products:
            data = await hub.query(ONE_PRODUCT, {"sku": product.sku})
            single = data["store"]["product"]
            if product.sku in expected:
                name, description, price, list_price = expected[product.sku]
                assert single == {
                    "sku": product.sku,
                    "name": name,
                    "description": description,
                    "price": {"amount": price},
                    "listPrice": list_price and {"amount": list_price},
                }
            else:
                assert single is None, product.sku


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_store_api_matches_the_reference_overlay(settings: Settings, world: World) -> None:
    # Each example runs on the same migrated database, emptied first; a fresh app per example.
    asyncio.run(check_world(settings, world))
