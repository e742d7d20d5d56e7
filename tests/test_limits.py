"""Limits on what one request may ask (docs/operations.md, "Limits"): the operation cost, tokens per document,
the body size, and the protections that held before them (depth, aliases, page sizes, CSRF, batches)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, build_ast_schema, get_introspection_query, parse

from hub_graphql.cost import FIELD_COSTS, CostCache, CostCalculator, FieldCost
from hub_graphql.schema import build_schema
from hub_graphql.settings import Settings
from tests.federation.processes import hub_server
from tests.harness import Hub, QueryCounter, codes_of, errors_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "hub_graphql" / "static" / "examples.graphql"
CONTRACT = ROOT / "tests" / "contract" / "hub.graphql"
DEFAULT_MAX_COST = Settings(_env_file=None).max_query_cost

# The hostile query: three nested lists of 100, anonymous.
HOSTILE = """
{ categories { products(first: 100) { edges { node {
    category { products(first: 100) { edges { node {
      groups { products(first: 100) { edges { node { sku } } } }
    } } } }
} } } } }
"""

# What a storefront asks for (tests/contract/hub.graphql, version 2): a store page of 100 products with
# their prices and categories, the store's category tree, and the cart beside it.
STOREFRONT_PAGE = """
query StorePage($slug: String!, $after: String, $cartId: ID!) {
  store(slug: $slug) {
    name status currency
    texts { key value }
    categories { code name children { code name } }
    products(first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        sku name description
        price { amount currency }
        listPrice { amount currency }
        category { code name parent { code name } }
        product { id status groups { code name } attributes { name value } }
      } }
    }
  }
  cart(id: $cartId) { ...CartView }
}

fragment CartView on Cart {
  id kind currency couponCode itemCount
  lines { id sku quantity unitPrice { amount currency } discount { amount } total { amount currency }
          product { sku name } }
  subtotal { amount currency }
  discounts { promotionCode name couponCode amount { amount currency } }
  total { amount currency }
}
"""
STOREFRONT_CHECKOUT = """
mutation Checkout($cartId: ID!, $input: CheckoutInput!) {
  checkout(cartId: $cartId, input: $input) {
    order { number status total { amount currency } lines { sku quantity } }
    userErrors { field code message }
  }
}
"""


@pytest.fixture(scope="module")
def calculator() -> CostCalculator:
    return CostCalculator(build_schema(Settings(_env_file=None))._schema)


def _cost(
    calculator: CostCalculator, document: str, variables: dict | None = None, name: str | None = None
) -> int:
    return calculator.operation_cost(parse(document), name, variables)


# ---------------------------------------------------------------- the cost formula


def test_every_example_operation_fits_well_under_the_default_limit(calculator: CostCalculator) -> None:
    document = parse(EXAMPLES.read_text(encoding="utf-8"))
    names = [d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name]
    assert names
    for name in names:
        cost = calculator.operation_cost(document, name)
        assert 0 < cost <= DEFAULT_MAX_COST // 2, (name, cost)


def test_a_storefront_page_and_its_cart_fit_well_under_the_default_limit() -> None:
    # The contract has the commerce types (carts, orders) the storefront will use.
    contract = CostCalculator(
        build_ast_schema(parse(CONTRACT.read_text(encoding="utf-8")), assume_valid_sdl=True)
    )
    page = _cost(contract, STOREFRONT_PAGE, {"slug": "s", "cartId": "c"})
    checkout = _cost(contract, STOREFRONT_CHECKOUT)
    assert 1_000 < page <= DEFAULT_MAX_COST // 2
    assert 0 < checkout <= DEFAULT_MAX_COST // 2


def test_each_field_costs_one_and_a_list_multiplies_by_first(calculator: CostCalculator) -> None:
    assert _cost(calculator, '{ product(sku: "A") { sku name } }') == 3
    # products 1 + edges (1 + 10 x node (1 + sku 1)) + totalCount 1
    assert (
        _cost(calculator, "{ products(first: 10) { totalCount edges { node { sku } } } }")
        == 1 + 1 + 10 * 2 + 1
    )
    # `first` left out: the argument's default (20)
    assert _cost(calculator, "{ products { edges { node { sku } } } }") == 1 + 1 + 20 * 2


def test_nested_lists_multiply_together(calculator: CostCalculator) -> None:
    one_level = "{ products(first: 10) { edges { node { sku } } } }"
    two_levels = "{ products(first: 10) { edges { node { category { products(first: 10) { edges { node { sku } } } } } } } }"
    assert _cost(calculator, one_level) == 22
    # each of the 10 nodes: node 1 + category 1 + products (1 + edges 1 + 10 x 2)
    assert _cost(calculator, two_levels) == 1 + 1 + 10 * (1 + 1 + (1 + 1 + 10 * 2))


def test_variables_for_first_are_resolved(calculator: CostCalculator) -> None:
    query = "query($n: Int) { products(first: $n) { edges { node { sku } } } }"
    assert _cost(calculator, query, {"n": 5}) == 1 + 1 + 5 * 2
    assert _cost(calculator, query, {"n": 100}) == 1 + 1 + 100 * 2
    # not given: the field's default; its own default when the operation has one
    assert _cost(calculator, query, {}) == 1 + 1 + 20 * 2
    assert (
        _cost(calculator, "query($n: Int = 3) { products(first: $n) { edges { node { sku } } } }")
        == 1 + 1 + 3 * 2
    )
    # beyond the page size (refused when it runs anyway): priced at the page size; not a number: the same
    assert _cost(calculator, query, {"n": 10_000}) == 1 + 1 + 100 * 2
    assert _cost(calculator, query, {"n": "many"}) == 1 + 1 + 100 * 2


def test_fragments_and_inline_fragments_count(calculator: CostCalculator) -> None:
    plain = "{ products(first: 50) { edges { node { sku name category { code } } } } }"
    with_fragment = """
      { products(first: 50) { edges { node { ...Details } } } }
      fragment Details on Product { sku ...More }
      fragment More on Product { name category { code } }
    """
    inline = (
        "{ products(first: 50) { edges { node { ... on Product { sku name } ... { category { code } } } } } }"
    )
    assert _cost(calculator, with_fragment) == _cost(calculator, plain)
    assert _cost(calculator, inline) == _cost(calculator, plain)


def test_a_fragment_spread_many_times_counts_each_time_and_is_priced_once(calculator: CostCalculator) -> None:
    # Each fragment spreads the next one twice: 2^12 copies of the last; priced without expanding them.
    fragments = "\n".join(f"fragment F{i} on Product {{ ...F{i + 1} ...F{i + 1} }}" for i in range(12))
    document = f'{{ product(sku: "A") {{ ...F0 }} }}\n{fragments}\nfragment F12 on Product {{ sku }}'
    started = time.perf_counter()
    assert _cost(calculator, document) == 1 + 2**12
    assert time.perf_counter() - started < 0.5


def test_an_interface_costs_its_most_costly_type(calculator: CostCalculator) -> None:
    query = """{ node(id: "x") {
        ... on Product { sku }
        ... on Category { products(first: 10) { edges { node { sku } } } }
    } }"""
    assert _cost(calculator, query) == 1 + (1 + 1 + 10 * 2)


def test_costly_fields_have_their_own_price(calculator: CostCalculator) -> None:
    assert FIELD_COSTS["Product.liveQuotes"].cost > 1
    with_quotes = "{ products(first: 10) { edges { node { liveQuotes(quantity: 1) { available } } } } }"
    live = FIELD_COSTS["Product.liveQuotes"]
    assert _cost(calculator, with_quotes) == 1 + 1 + 10 * (1 + live.cost + live.assumed_size * 1)
    request_quote = "mutation { requestQuote(input: { items: [] }) { quoteRequest { id } } }"
    assert _cost(calculator, request_quote) == FIELD_COSTS["Mutation.requestQuote"].cost + 2


def test_overrides_can_be_given_per_field() -> None:
    schema = build_schema(Settings(_env_file=None))._schema
    cheap = CostCalculator(schema, {"Query.categories": FieldCost(cost=1, assumed_size=2)})
    assert _cost(cheap, "{ categories { code } }") == 1 + 2 * 1
    # a list not named: the page size
    assert _cost(CostCalculator(schema, {}), "{ categories { code } }") == 1 + 100 * 1


def test_introspection_is_priced_at_the_fields_it_answers(calculator: CostCalculator) -> None:
    schema = build_schema(Settings(_env_file=None))
    query = get_introspection_query(descriptions=True)
    answer = schema.execute_sync(query)

    def fields_in(value: object) -> int:
        if isinstance(value, dict):
            return sum(1 + fields_in(v) for v in value.values())
        if isinstance(value, list):
            return sum(fields_in(v) for v in value)
        return 0

    assert _cost(calculator, query) == fields_in(answer.data)
    assert _cost(calculator, query) <= DEFAULT_MAX_COST // 2


def test_the_hostile_query_costs_far_over_the_limit(calculator: CostCalculator) -> None:
    assert _cost(calculator, HOSTILE) > 1000 * DEFAULT_MAX_COST


def test_the_cost_cache_is_keyed_by_document_and_the_numbers_in_the_variables() -> None:
    cache = CostCache(maxsize=2)
    a = CostCache.key("q", None, {"n": 5, "s": "text"})
    assert a == CostCache.key("q", None, {"n": 5, "s": "other text"})
    assert a != CostCache.key("q", None, {"n": 6})
    # a list's length can size a list (`_entities`), its items cannot
    assert CostCache.key("q", None, {"r": [1, 2]}) == CostCache.key("q", None, {"r": [3, 4]})
    assert CostCache.key("q", None, {"r": [1, 2]}) != CostCache.key("q", None, {"r": [1, 2, 3]})
    cache.put(a, 12)
    cache.put(CostCache.key("q2", None, {}), 1)
    assert cache.get(a) == 12
    cache.put(CostCache.key("q3", None, {}), 1)
    assert cache.get(CostCache.key("q2", None, {})) is None  # least recently used, gone


# ---------------------------------------------------------------- the limit, through the hub


async def test_an_operation_over_the_limit_is_refused_before_it_runs(
    hub: Hub, count_queries: QueryCounter
) -> None:
    body = await hub.post(HOSTILE)
    assert body["data"] is None
    assert codes_of(body) == ["QUERY_TOO_COSTLY"]
    error = errors_of(body)[0]
    assert error["extensions"]["maxCost"] == hub.settings.max_query_cost
    assert error["extensions"]["cost"] > hub.settings.max_query_cost
    assert f"{hub.settings.max_query_cost:,}" in error["message"]
    assert f"{error['extensions']['cost']:,}" in error["message"]
    assert count_queries.count == 0


async def test_the_refusal_is_a_request_error_in_graphql_response_json(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql", json={"query": HOSTILE}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes_of(response.json()) == ["QUERY_TOO_COSTLY"]


async def test_the_limit_follows_the_variables(database_url: str) -> None:
    from tests.harness import open_hub

    settings = Settings(_env_file=None, database_url=database_url, max_query_cost=500)
    query = "query($n: Int) { products(first: $n) { edges { node { sku name } } } }"
    async with open_hub(settings) as hub:
        assert (await hub.query(query, {"n": 100})) == {"products": {"edges": []}}  # 1 + 1 + 100 x 3
        body = await hub.post(
            "query($n: Int) { products(first: $n) { edges { node { sku name category { code } } } } }",
            {"n": 100},
        )
        assert codes_of(body) == ["QUERY_TOO_COSTLY"]
        # the same document with a smaller page fits
        body = await hub.post(
            "query($n: Int) { products(first: $n) { edges { node { sku name category { code } } } } }",
            {"n": 10},
        )
        assert not errors_of(body)


async def test_page_sizes_out_of_range_are_still_refused_as_bad_input(hub: Hub) -> None:
    for first in (-5, 0, 101, 1_000_000):
        body = await hub.post("query($n: Int) { products(first: $n) { totalCount } }", {"n": first})
        assert codes_of(body) == ["BAD_USER_INPUT"], first


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_hostile_query_over_http_is_refused_in_well_under_a_second(
    settings: Settings, tmp_path: Path
) -> None:
    with hub_server(settings.database_url, settings.secret_key.get_secret_value(), tmp_path) as url:
        async with httpx.AsyncClient(timeout=30) as client:
            await client.post(url, json={"query": "{ __typename }"})  # a first request, to warm up
            started = time.monotonic()
            response = await client.post(url, json={"query": HOSTILE})
            elapsed = time.monotonic() - started
            assert response.status_code == 200
            assert codes_of(response.json()) == ["QUERY_TOO_COSTLY"]
            assert elapsed < 0.5
            # and the process is free at once for the next caller
            started = time.monotonic()
            assert (await client.post(url, json={"query": "{ __typename }"})).json() == {
                "data": {"__typename": "Query"}
            }
            assert time.monotonic() - started < 0.5


# ---------------------------------------------------------------- tokens


async def test_a_document_with_too_many_tokens_is_refused_unparsed(hub: Hub) -> None:
    limit = hub.settings.max_query_tokens
    # `{ a0: __typename … }` — three tokens an alias; aliases would be refused too, but later.
    fields = " ".join(f"a{i}: __typename" for i in range(limit // 3 + 1))
    body = await hub.post(f"{{ {fields} }}")
    assert body["data"] is None
    assert f"more than {limit} tokens" in errors_of(body)[0]["message"]
    assert errors_of(body)[0]["extensions"] == {"code": "QUERY_TOO_LARGE", "maxTokens": limit}
    # the examples document, the largest a client sends today, is far below it
    assert len(EXAMPLES.read_text(encoding="utf-8").split()) < limit


# ---------------------------------------------------------------- body size


async def test_a_12_mb_body_is_refused_413(hub: Hub) -> None:
    started = time.monotonic()
    response = await hub.client.post(
        "/graphql", content=b" " * 12_000_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert f"{hub.settings.max_body_bytes:,}" in response.json()["errors"][0]["message"]
    assert response.headers["connection"] == "close"
    assert time.monotonic() - started < 1


async def test_a_chunked_body_is_counted_as_it_comes_and_refused_past_the_limit(hub: Hub) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(200):  # 12.8 MB if it were all read
            sent += 1
            yield b" " * 64_000

    response = await hub.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    # it stopped reading just past the limit
    assert sent <= hub.settings.max_body_bytes // 64_000 + 2


async def test_a_chunked_body_under_the_limit_is_served(hub: Hub) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typ'
        yield b'ename }"}'

    response = await hub.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_over_http_a_declared_12_mb_body_is_answered_413_before_it_is_sent(
    settings: Settings, tmp_path: Path
) -> None:
    with hub_server(settings.database_url, settings.secret_key.get_secret_value(), tmp_path) as url:
        port = httpx.URL(url).port
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            head = (
                "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: 12000000\r\n\r\n"
            )
            connection.sendall(head.encode() + b" " * 65_536)  # the rest of the 12 MB is never sent
            answer = b""
            while b"\r\n\r\n" not in answer:
                piece = connection.recv(65_536)
                if not piece:
                    break
                answer += piece
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert time.monotonic() - started < 1


# ---------------------------------------------------------------- what held before, still holds


async def test_the_depth_limit_still_holds(hub: Hub) -> None:
    deep = "{ categories { " + "children { " * 13 + "code" + " }" * 13 + " } }"
    body = await hub.post(deep)
    assert body["data"] is None
    assert "exceeds maximum operation depth" in errors_of(body)[0]["message"]


async def test_the_alias_limit_still_holds(hub: Hub) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(hub.settings.max_aliases + 1))
    body = await hub.post(f"{{ {aliases} }}")
    assert "aliases found" in errors_of(body)[0]["message"]


async def test_a_text_plain_post_and_a_batch_are_still_refused(hub: Hub) -> None:
    login = '{"query": "mutation { login(email: \\"a@b.example\\", password: \\"x\\") { token } }"}'
    plain = await hub.client.post("/graphql", content=login, headers={"content-type": "text/plain"})
    assert plain.status_code == 400
    batch = await hub.client.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert batch.status_code == 400
    over_get = await hub.client.get(
        "/graphql", params={"query": 'mutation { login(email: "a", password: "b") { token } }'}
    )
    assert over_get.status_code == 405


def test_a_gateways_entities_cost_as_many_as_the_representations_sent(calculator: CostCalculator) -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { sku name } } }"
    five = [{"__typename": "Product", "sku": f"S{i}"} for i in range(5)]
    assert _cost(calculator, query, {"r": five}) == 1 + 5 * 2
    assert _cost(calculator, query, {"r": five * 200}) == 1 + 1000 * 2
