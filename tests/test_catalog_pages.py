"""Category pages stay exact with the bounded plan (datasources/catalog/queries.py category_page_end)."""

from __future__ import annotations

import random

import pytest

from tests.harness import Hub

UPSERT_CATEGORIES = """
mutation($input: [CategoryInput!]!) { upsertCategories(input: $input) { userErrors { field message } } }"""
UPSERT_PRODUCTS = """
mutation($input: [ProductInput!]!) { upsertProducts(input: $input) { userErrors { field message } } }"""
CATEGORY_PAGE = """
query($category: String!, $first: Int, $after: String) {
  products(first: $first, after: $after, filter: {categoryCode: $category}) {
    pageInfo { hasNextPage endCursor }
    edges { node { sku } }
  }
}"""
CATEGORY_PRODUCTS = """
query($category: String!, $first: Int, $after: String) {
  category(code: $category) {
    products(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { sku } } }
  }
}"""

# A root with leaves of very different sizes (one empty), a sub-tree, and a sibling tree.
TREE = [
    {"code": "root", "name": "Root"},
    {"code": "small", "name": "Small", "parentCode": "root"},
    {"code": "mid", "name": "Mid", "parentCode": "root"},
    {"code": "big", "name": "Big", "parentCode": "root"},
    {"code": "empty", "name": "Empty", "parentCode": "root"},
    {"code": "big-a", "name": "Big A", "parentCode": "big"},
    {"code": "other", "name": "Other"},
]
SIZES = {"small": 3, "mid": 40, "big": 25, "big-a": 90, "other": 60, "root": 4}


async def load(hub: Hub, token: str) -> dict[str, list[tuple[str, str]]]:
    """Products with shuffled SKUs, one in seven a DRAFT; answers (sku, status) per category code."""
    data = await hub.query(UPSERT_CATEGORIES, {"input": TREE}, token=token)
    assert data["upsertCategories"]["userErrors"] == []
    rng = random.Random(5)
    numbers = list(range(sum(SIZES.values())))
    rng.shuffle(numbers)
    rows, placed = [], {}
    for code, size in SIZES.items():
        for _ in range(size):
            number = numbers.pop()
            status = "DRAFT" if number % 7 == 0 else "ACTIVE"
            rows.append(
                {"sku": f"P-{number:04d}", "name": f"P {number}", "categoryCode": code, "status": status}
            )
            placed.setdefault(code, []).append((f"P-{number:04d}", status))
    data = await hub.query(UPSERT_PRODUCTS, {"input": rows}, token=token)
    assert data["upsertProducts"]["userErrors"] == []
    return placed


async def walk(hub: Hub, document: str, category: str, first: int, token: str | None) -> list[str]:
    skus: list[str] = []
    after = None
    while True:
        data = await hub.query(document, {"category": category, "first": first, "after": after}, token=token)
        page = data["products"] if "products" in data else data["category"]["products"]
        skus.extend(edge["node"]["sku"] for edge in page["edges"])
        assert len(page["edges"]) <= first
        if not page["pageInfo"]["hasNextPage"]:
            return skus
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("first", [4, 30, 100])
async def test_category_pages_walk_every_product_below_in_sku_order(hub: Hub, first: int) -> None:
    staff = await hub.user("CATALOG_MANAGER")
    placed = await load(hub, staff)
    below = {
        "root": ["root", "small", "mid", "big", "big-a", "empty"],
        "big": ["big", "big-a"],
        "empty": ["empty"],
    }
    for category, codes in below.items():
        everything = sorted(sku for code in codes for sku, _ in placed.get(code, []))
        public = sorted(sku for code in codes for sku, status in placed.get(code, []) if status != "DRAFT")
        assert await walk(hub, CATEGORY_PAGE, category, first, staff) == everything
        assert await walk(hub, CATEGORY_PAGE, category, first, None) == public
        assert await walk(hub, CATEGORY_PRODUCTS, category, first, None) == public
