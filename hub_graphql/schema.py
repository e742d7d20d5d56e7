"""Assembles the one GraphQL schema from the per-domain Query and Mutation classes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.config import StrawberryConfig

from hub_graphql.cost import query_cost_limiter
from hub_graphql.database_errors import HubMaskErrors, log_unavailable
from hub_graphql.execution import HubExecutionContext
from hub_graphql.partial_results import PartialResults
from hub_graphql.settings import Settings
from hub_graphql.text_input import UnstorableText
from hub_graphql.types import catalog, marketing, orders, partners, plaza, quotes, reports, stores
from hub_graphql.types.common import Info, Node, parse_global_id

FEDERATION_VERSION = "2.9"

NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    **catalog.NODE_RESOLVERS,
    **partners.NODE_RESOLVERS,
    **stores.NODE_RESOLVERS,
    **quotes.NODE_RESOLVERS,
    **plaza.NODE_RESOLVERS,
    **orders.NODE_RESOLVERS,
    **marketing.NODE_RESOLVERS,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None or parsed[0] not in NODE_RESOLVERS:
            return None
        return await NODE_RESOLVERS[parsed[0]](info, parsed[1])


@strawberry.type
class Query(
    NodeQuery,
    catalog.CatalogQuery,
    partners.PartnersQuery,
    stores.StoresQuery,
    quotes.QuotesQuery,
    plaza.PlazaQuery,
    orders.OrdersQuery,
    reports.ReportsQuery,
    marketing.MarketingQuery,
):
    pass


@strawberry.type
class Mutation(
    partners.PartnersMutation,
    catalog.CatalogMutation,
    stores.StoresMutation,
    quotes.QuotesMutation,
    plaza.PlazaMutation,
    orders.OrdersMutation,
    reports.ReportsMutation,
    marketing.MarketingMutation,
):
    pass


def _should_mask(error: GraphQLError) -> bool:
    """Hide unexpected failures (a database error's SQL, a stack's text); keep the hub's own errors."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


QUERY_TOO_LARGE = "QUERY_TOO_LARGE"


class HubSchema(strawberry.federation.Schema):
    max_query_tokens: int | None = None

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # graphql-core refuses a document past MaxTokensLimiter's count with a plain syntax error; the
        # code tells a client it is too large rather than mistyped. (Here, not in an extension: the
        # parse hooks are left unresumed when ParserCache's parse raises.)
        for error in errors:
            if error.extensions is not None and "tokens. Parsing aborted" in error.message:
                error.extensions.update(code=QUERY_TOO_LARGE, maxTokens=self.max_query_tokens)
        # The hub's own errors (bad input, sign-in, permissions) are answers, not incidents: log the rest.
        unexpected = [
            e
            for e in log_unavailable(errors)
            if not isinstance(e.original_error, GraphQLError) and e.original_error
        ]
        super().process_errors(unexpected, execution_context)


class _Limits(AddValidationRules):
    """The depth and alias limits as validation rules made once per schema.

    QueryDepthLimiter and MaxAliasesLimiter each make a new rule class per instance, and a fresh
    instance per request made every request's rules differ: ValidationCache, keyed by them,
    never hit (validating a recordActivity call of 50 events took 4 to 9 ms, every time).
    """

    def __init__(self, rules: list[type[ValidationRule]]) -> None:
        super().__init__(rules)


def build_schema(
    settings: Settings | None = None, *, query: type = Query, mutation: type = Mutation
) -> strawberry.federation.Schema:
    """The hub's schema with its limits; `query` and `mutation` let tests add fields of their own."""
    settings = settings or Settings()
    limit_rules: list[type[ValidationRule]] = [
        depth_validator(settings.max_query_depth, None),
        alias_validator(settings.max_aliases),
    ]
    # Factories, so each request gets fresh extension instances (the caches live at module level).
    extensions: list[object] = [
        lambda: _Limits(limit_rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        # Before execution: no NUL or lone surrogate in any string argument (found by the fuzz run).
        UnstorableText,
        # After validation, before execution (it needs the variables): docs/operations.md, "Limits".
        query_cost_limiter(settings.max_query_cost),
        # Also answers a lost database as SERVICE_UNAVAILABLE (hub_graphql/database_errors.py).
        lambda: HubMaskErrors(should_mask_error=_should_mask),
        PartialResults,
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    schema = HubSchema(
        query=query,
        mutation=mutation,
        types=[
            catalog.Product,
            catalog.Category,
            catalog.ProductGroup,
            partners.Reseller,
            partners.Distributor,
            stores.Store,
        ],
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=HubExecutionContext,
    )
    schema.max_query_tokens = settings.max_query_tokens
    return schema


def export_sdl(schema: strawberry.federation.Schema | None = None) -> str:
    """The SDL `hub export-schema` prints and schema.graphql holds."""
    return (schema or build_schema(Settings(_env_file=None))).as_str() + "\n"
