"""Reads a distributor's GraphQL schema over HTTP and checks it against the distributor quote contract.

The contract is the project's copy of `../shared/contract/distributor-quote.graphql`
(kept next to this module). A federation subgraph answers `{ _service { sdl } }`;
any other GraphQL service is read by introspection. The check is graphql-core's
`find_breaking_changes(contract, schema)`, as `../shared/tools/check_contract.py`
does: a schema is compatible when a client written against the contract works
unchanged against it (additions are free).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    GraphQLSchema,
    build_ast_schema,
    build_client_schema,
    find_breaking_changes,
    get_introspection_query,
    parse,
)
from graphql.error import GraphQLError

from datasources.partners.endpoints import PinnedEndpoint
from datasources.partners.outbound import pinned_stream

CONTRACT_FILE = Path(__file__).with_name("distributor-quote.graphql")
SERVICE_SDL_QUERY = "{ _service { sdl } }"
MAX_RESPONSE_BYTES = 2_000_000
SCHEMA_FETCH_TIMEOUT_SECONDS = 5.0


OPTIONAL_PART_MARKER = (
    "# ---------------------------------------------------------------- version 2: purchase orders"
)
"""Where the contract's optional part begins: a distributor may leave out everything after it."""


@cache
def contract_schema() -> GraphQLSchema:
    """The whole contract, purchase orders included."""
    return build_ast_schema(parse(CONTRACT_FILE.read_text(encoding="utf-8")), assume_valid_sdl=True)


@cache
def required_contract_schema() -> GraphQLSchema:
    """The part every distributor's quote service implements (purchase orders are optional)."""
    text = CONTRACT_FILE.read_text(encoding="utf-8")
    return build_ast_schema(parse(text[: text.index(OPTIONAL_PART_MARKER)]), assume_valid_sdl=True)


def takes_purchase_orders(schema: GraphQLSchema) -> bool:
    """Whether the service offers the contract's optional `placeOrder`."""
    return schema.mutation_type is not None and "placeOrder" in schema.mutation_type.fields


class SchemaUnreachable(Exception):
    """The endpoint did not answer a GraphQL request (refused, timed out, not HTTP 200 JSON)."""


class SchemaUnreadable(Exception):
    """The endpoint answered, but neither `_service { sdl }` nor introspection gave a schema."""


@dataclass(frozen=True)
class ContractCheck:
    breaks: list[str]

    @property
    def conforms(self) -> bool:
        return not self.breaks


def contract_breaks(schema: GraphQLSchema) -> list[str]:
    """Each way `schema` breaks the distributor quote contract, as a sentence.

    A service without `placeOrder` is held to the required part only; one that offers it must
    offer it as the contract says.
    """
    contract = contract_schema() if takes_purchase_orders(schema) else required_contract_schema()
    return [
        f"{b.type.name}: {b.description}"
        for b in find_breaking_changes(contract, schema)
        if b.type.name != "DIRECTIVE_REMOVED"
    ]


async def _post(
    http: httpx.AsyncClient, pinned: PinnedEndpoint, query: str, headers: dict[str, str]
) -> dict[str, Any]:
    try:
        async with pinned_stream(
            http,
            "POST",
            pinned,
            json={"query": query},
            headers={"Accept": "application/json", **headers},
            http_timeout=SCHEMA_FETCH_TIMEOUT_SECONDS,
        ) as response:
            if response.status_code != 200:
                raise SchemaUnreachable(f"the endpoint answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise SchemaUnreachable("the endpoint's answer is too large")
    except httpx.TimeoutException:
        raise SchemaUnreachable("the endpoint did not answer in time") from None
    except httpx.HTTPError as error:
        # The exception's text names the URL only, never the request's headers (the credential).
        raise SchemaUnreachable(f"the endpoint could not be reached ({type(error).__name__})") from None
    try:
        answer = json.loads(bytes(body))
    except ValueError:
        raise SchemaUnreachable("the endpoint did not answer with JSON") from None
    if not isinstance(answer, dict):
        raise SchemaUnreachable("the endpoint did not answer with a GraphQL response")
    return answer


async def fetch_schema(
    http: httpx.AsyncClient, pinned: PinnedEndpoint, headers: dict[str, str] | None = None
) -> GraphQLSchema:
    """The endpoint's schema: its federation SDL, else its introspection, both from the pinned address."""
    headers = headers or {}
    answer = await _post(http, pinned, SERVICE_SDL_QUERY, headers)
    sdl = ((answer.get("data") or {}).get("_service") or {}).get("sdl")
    if isinstance(sdl, str) and sdl.strip():
        try:
            return build_ast_schema(parse(sdl), assume_valid_sdl=True)
        except (GraphQLError, TypeError) as error:
            raise SchemaUnreadable(
                f"its _service SDL does not parse: {error.message if isinstance(error, GraphQLError) else error}"
            ) from None
    answer = await _post(http, pinned, get_introspection_query(), headers)
    data = answer.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
        raise SchemaUnreadable("it answers neither `_service { sdl }` nor introspection")
    try:
        return build_client_schema(data)  # type: ignore[arg-type]
    except (GraphQLError, TypeError, KeyError) as error:
        raise SchemaUnreadable(f"its introspection answer is not a schema ({type(error).__name__})") from None


async def check_distributor_endpoint(
    http: httpx.AsyncClient, pinned: PinnedEndpoint, headers: dict[str, str] | None = None
) -> ContractCheck:
    """Fetch the endpoint's schema from the address the policy checked and compare it with the contract.

    Raises SchemaUnreachable or SchemaUnreadable.
    """
    return ContractCheck(breaks=contract_breaks(await fetch_schema(http, pinned, headers)))
