"""The public response cache: anonymous reads of public data answered without executing them again.

Wraps the GraphQL endpoint's request handling (`ResponseCache.answer`), in
front of strawberry. An operation is cacheable only when all of these hold:

- no `Authorization` header (the hub's only sign-in: hub_graphql/context.py);
  a signed-in request is executed every time, and a GET of it is marked
  `Cache-Control: private, no-store`;
- a single query (no mutation: `recordActivity`, carts and checkout never are),
  given as text or as an automatic persisted query's hash;
- every field it selects, in every operation and fragment of the document, is
  in `CACHEABLE_FIELDS`: an explicit allow-list of fields that are public and
  the same for every anonymous caller (the catalog, an OPEN store's page, the
  spots' creatives, the public hub policies). Anything else (carts by id,
  orders, `viewer`, `node`, a store's price rules, live quotes) is never cached;
- it executed without any error (an entry is only ever made from an answer
  without errors; the limits of depth, aliases, tokens and cost are checked
  by that execution).

The key is the normalised document (its printed AST), the operation name, the
variables (canonical JSON), how the document was named (text or persisted
hash, so that a hash is only answered where the uncached path would know it),
a salt of the schema and the limits (a deployment with another schema or other
limits never reads this one's entries), and the current versions of the
scopes the answer is read from (datasources/cache_versions.py), read in one
statement per request. A write bumps its scopes in its own transaction, so the
next read computes another key: changes show at once, in every process.

GET answers of cacheable operations carry an `ETag` (the key: it changes with
the versions) and `Cache-Control: public, max-age=HUB_RESPONSE_CACHE_MAX_AGE_SECONDS`,
and `If-None-Match` with the current ETag is answered 304 without a body.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    get_named_type,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from datasources.cache_versions import CATALOG, MARKETING, POLICIES, STORES, VersionReader
from datasources.response_cache import AnswerStore, answer_store
from hub_graphql.cost import CostCalculator
from hub_graphql.http import negotiate
from hub_graphql.persisted_queries import PersistedQueries
from hub_graphql.settings import Settings

log = logging.getLogger("hub.response_cache")

_ALL = None
"""In CACHEABLE_FIELDS: every field of the type."""

CACHEABLE_FIELDS: Mapping[str, frozenset[str] | None] = {
    "Query": frozenset(
        {"product", "products", "category", "categories", "productGroups", "store", "spot", "hubPolicies"}
    ),
    # The master catalog (not Product.liveQuotes: a signed-in reseller's distributors' prices).
    "Product": frozenset(
        {"id", "sku", "name", "description", "status", "category", "groups", "attributes", "listPrice"}
    ),
    "Category": _ALL,
    "ProductGroup": _ALL,
    "ProductConnection": _ALL,
    "ProductEdge": _ALL,
    "ProductAttribute": _ALL,
    "PageInfo": _ALL,
    "Money": _ALL,
    # A store's page (not Store.priceRules, shown to its managers only, nor Store.reseller).
    "Store": frozenset(
        {"id", "slug", "name", "status", "currency", "texts", "text", "categories", "products", "product"}
    ),
    "StoreProduct": _ALL,
    "StoreProductConnection": _ALL,
    "StoreProductEdge": _ALL,
    "StoreText": _ALL,
    "Creative": _ALL,
    # Only the fields anyone may read (resolvers/access.py: the others need a sign-in).
    "HubPolicies": frozenset({"defaultCurrency", "currencies", "paymentMethods"}),
}
"""The fields a cached answer may hold, by type: public, and the same for every anonymous caller."""

SCOPES_OF_TYPE: Mapping[str, frozenset[str]] = {
    "Query": frozenset(),
    "Product": frozenset({CATALOG, POLICIES}),
    "Category": frozenset({CATALOG}),
    "ProductGroup": frozenset({CATALOG}),
    "ProductConnection": frozenset({CATALOG}),
    "ProductEdge": frozenset({CATALOG}),
    "ProductAttribute": frozenset({CATALOG}),
    "PageInfo": frozenset(),
    "Money": frozenset({CATALOG, POLICIES}),
    "Store": frozenset({STORES, CATALOG, POLICIES}),
    "StoreProduct": frozenset({STORES, CATALOG, POLICIES}),
    "StoreProductConnection": frozenset({STORES, CATALOG, POLICIES}),
    "StoreProductEdge": frozenset({STORES, CATALOG, POLICIES}),
    "StoreText": frozenset({STORES}),
    # A spot shows the creatives of an OPEN store of an APPROVED reseller: stores and resellers too.
    "Creative": frozenset({MARKETING, STORES}),
    "HubPolicies": frozenset({POLICIES}),
}
"""Which data (datasources/cache_versions.py scopes) each type's fields are read from."""

TIME_BOUND_FIELDS: Mapping[str, float] = {"Query.spot": 5.0}
"""Fields whose answer also moves with the clock (a creative's start and end), with the longest an
answer holding them is kept: no write marks a creative going live, so it shows within this long."""

MAX_CACHEABLE_QUERY_CHARS = 20_000
"""Longer documents are executed every time (storefront pages are a few hundred characters)."""
JUDGED_DOCUMENTS = 4_096
"""Documents whose cacheability each process remembers (by their SHA-256 and operation name)."""


@dataclass(frozen=True)
class Verdict:
    """A cacheable operation: its normalised document's hash, the scopes it reads, how long it may be kept."""

    document: str
    operation_name: str | None
    scopes: frozenset[str]
    max_ttl_seconds: float | None
    parsed: DocumentNode = field(compare=False, repr=False)


def judge(schema: GraphQLSchema, text: str, operation_name: str | None, max_tokens: int) -> Verdict | None:
    """The verdict on a document: cacheable (with what it reads), or None."""
    if len(text) > MAX_CACHEABLE_QUERY_CHARS:
        return None
    try:
        document = parse(text, max_tokens=max_tokens, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations or any(o.operation is not OperationType.QUERY for o in operations):
        return None
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if len(chosen) != 1 or (operation_name is None and len(operations) > 1):
        return None
    walk = _FieldWalk(schema)
    visit(document, TypeInfoVisitor(walk.type_info, walk))
    if not walk.cacheable or not walk.types:
        return None
    scopes = frozenset().union(*(SCOPES_OF_TYPE[t] for t in walk.types))
    if not scopes:
        return None
    ttls = [TIME_BOUND_FIELDS[c] for c in walk.coordinates if c in TIME_BOUND_FIELDS]
    name = chosen[0].name.value if chosen[0].name else None
    return Verdict(
        document=_digest(print_ast(document)),
        operation_name=name,
        scopes=scopes,
        max_ttl_seconds=min(ttls) if ttls else None,
        parsed=document,
    )


class _FieldWalk(Visitor):
    """Every field of a document against the allow-list, with the types they are read from."""

    def __init__(self, schema: GraphQLSchema) -> None:
        super().__init__()
        self.type_info = TypeInfo(schema)
        self.cacheable = True
        self.types: set[str] = set()
        self.coordinates: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        name = node.name.value
        if name == "__typename":
            return None
        parent = self.type_info.get_parent_type()
        parent_name = get_named_type(parent).name if parent is not None else None
        if parent_name not in CACHEABLE_FIELDS or self.type_info.get_field_def() is None:
            self.cacheable = False
            return self.BREAK
        allowed = CACHEABLE_FIELDS[parent_name]
        if allowed is not None and name not in allowed:
            self.cacheable = False
            return self.BREAK
        self.types.add(parent_name)
        self.coordinates.add(f"{parent_name}.{name}")
        return None


@dataclass
class _Operation:
    """What a request asks, read from its GET parameters or its JSON body."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any]
    digest: str | None
    """extensions.persistedQuery.sha256Hash, lowercase."""


def _read_operation(payload: Mapping[str, Any]) -> _Operation | None:
    query = payload.get("query")
    operation_name = payload.get("operationName")
    variables = payload.get("variables")
    extensions = payload.get("extensions")
    if isinstance(variables, str):
        try:
            variables = json.loads(variables) if variables else None
        except ValueError:
            return None
    if isinstance(extensions, str):
        try:
            extensions = json.loads(extensions) if extensions else None
        except ValueError:
            return None
    if (
        not isinstance(query, str | None)
        or not isinstance(operation_name, str | None)
        or not isinstance(variables, dict | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    digest = None
    if extensions:
        persisted = extensions.get("persistedQuery")
        if set(extensions) != {"persistedQuery"} or not isinstance(persisted, dict):
            return None
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str) or len(digest) != 64:
            return None
        digest = digest.lower()
    if query is None and digest is None:
        return None
    return _Operation(query, operation_name or None, variables or {}, digest)


class ResponseCache:
    """The cache in front of the GraphQL endpoint (created per app; its store owned by the app's lifespan)."""

    def __init__(
        self,
        settings: Settings,
        schema: GraphQLSchema,
        sdl: str,
        persisted: Callable[[], PersistedQueries | None],
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.store: AnswerStore | None = None
        """Set by the app's lifespan (it may be a Redis client); None before and after: nothing cached."""
        self.versions: VersionReader | None = None
        """Set by the app's lifespan, with the store."""
        self._persisted = persisted
        self._verdicts: OrderedDict[tuple[str, str | None], Verdict | None] = OrderedDict()
        self._costs: OrderedDict[tuple[str, str | None, str], int] = OrderedDict()
        self._calculator = CostCalculator(schema)
        limits = (
            settings.max_query_depth,
            settings.max_aliases,
            settings.max_query_cost,
            settings.max_query_tokens,
            settings.introspection_enabled,
            settings.persisted_queries,
        )
        self._salt = _digest(f"{sdl}\0{limits!r}")[:16]
        max_age = settings.response_cache_max_age_seconds
        self._public = f"public, max-age={max_age}" if max_age else "public, no-cache"

    def open(self, engine: AsyncEngine, redis: Redis | None) -> None:
        """At start-up (the app's lifespan): the answers' store (in the process, or in Redis with the app's
        client `Resources.redis`) and the version reader."""
        settings = self.settings
        self.store = answer_store(
            redis,
            settings.redis_key_prefix,
            max_entries=settings.response_cache_max_entries,
            max_bytes=settings.response_cache_max_bytes,
        )
        self.versions = VersionReader(engine)

    async def close(self) -> None:
        store, versions, self.store, self.versions = self.store, self.versions, None, None
        if store is not None:
            await store.close()
        if versions is not None:
            await versions.close()

    async def answer(self, request: Request, run: Callable[[Request], Awaitable[Response]]) -> Response:
        """The request's answer: from the cache when the operation is cacheable and answered before."""
        is_get = request.method == "GET"
        store, versions = self.store, self.versions
        if store is None or versions is None:
            return await run(request)
        if "authorization" in request.headers:
            return self._private(await run(request), is_get)
        operation = await self._operation_of(request)
        if operation is None:
            return await run(request)
        verdict = await self._verdict(operation)
        media_type = negotiate(request.headers.get("accept"))
        if verdict is None or media_type is None:
            return self._private(await run(request), is_get)
        variables = json.dumps(operation.variables, sort_keys=True, separators=(",", ":"))
        if self._cost(verdict, operation, variables) > self.settings.max_query_cost:
            return self._private(await run(request), is_get)  # refused before anything is read
        key = await self._key(operation, verdict, variables, versions)
        if key is None:
            return self._private(await run(request), is_get)
        etag = f'"{key}"'
        request.state.graphql_operation = verdict.operation_name
        if is_get and etag in _etags(request.headers.get("if-none-match")):
            request.state.graphql_outcome = "ok"
            return Response(status_code=304, headers=self._cache_headers(etag, "hit"))
        body = await store.get(key)
        if body is not None:
            request.state.graphql_outcome = "ok"
            headers = self._cache_headers(etag, "hit") if is_get else {"x-hub-cache": "hit"}
            return Response(body, 200, headers=headers, media_type=f"{media_type}; charset=utf-8")
        response = await run(request)
        body = getattr(response, "body", None)
        if (
            response.status_code == 200
            and getattr(request.state, "graphql_outcome", None) == "ok"
            and isinstance(body, bytes)
        ):
            await store.put(key, body, self._ttl(verdict))
            response.headers.update(self._cache_headers(etag, "miss") if is_get else {"x-hub-cache": "miss"})
        else:
            self._private(response, is_get)
        return response

    async def _operation_of(self, request: Request) -> _Operation | None:
        if request.method == "GET":
            if "query" not in request.query_params and "extensions" not in request.query_params:
                return None  # GraphiQL's page
            return _read_operation(request.query_params)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return None
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return None
        return _read_operation(payload) if isinstance(payload, dict) else None

    async def _verdict(self, operation: _Operation) -> Verdict | None:
        persisted = self._persisted()
        if operation.digest is not None and (persisted is None or persisted.mode == "off"):
            return None  # refused by the uncached path: let it answer
        named = operation.query if operation.query is not None else operation.digest
        assert named is not None
        memo = (
            _digest(named) if operation.query is not None else named,
            operation.operation_name,
        )
        if memo in self._verdicts:
            self._verdicts.move_to_end(memo)
            return self._verdicts[memo]
        text = operation.query
        if text is None and persisted is not None:
            found = await persisted.query_for(
                None, {"persistedQuery": {"version": 1, "sha256Hash": operation.digest}}, None
            )
            if not isinstance(found, str):
                return None  # not registered (yet): not remembered either
            text = found
        verdict = judge(self.schema, text or "", operation.operation_name, self.settings.max_query_tokens)
        self._verdicts[memo] = verdict
        while len(self._verdicts) > JUDGED_DOCUMENTS:
            self._verdicts.popitem(last=False)
        return verdict

    def _cost(self, verdict: Verdict, operation: _Operation, variables: str) -> int:
        """The operation's cost as the limit computes it (hub_graphql/cost.py), remembered per variables."""
        memo = (verdict.document, operation.operation_name, variables)
        cost = self._costs.get(memo)
        if cost is None:
            try:
                cost = self._calculator.operation_cost(
                    verdict.parsed, operation.operation_name, operation.variables
                )
            except Exception:  # variables execution would refuse: let it
                cost = self.settings.max_query_cost + 1
            self._costs[memo] = cost
            while len(self._costs) > JUDGED_DOCUMENTS:
                self._costs.popitem(last=False)
        return cost

    async def _key(
        self, operation: _Operation, verdict: Verdict, variables: str, reader: VersionReader
    ) -> str | None:
        """The entry's key, or None when the versions cannot be read (the operation is then executed)."""
        try:
            versions = await reader.read(verdict.scopes)
        except Exception as error:  # a cut connection, the database restarting: never worse than no cache
            log.warning("response cache: versions unreadable, executed instead: %s", type(error).__name__)
            return None
        named_by = "hash" if operation.digest is not None else "text"
        parts = (
            self._salt,
            named_by,
            verdict.document,
            operation.operation_name or "",
            variables,
            repr(versions),
        )
        return _digest("\0".join(parts))[:40]

    def _ttl(self, verdict: Verdict) -> float:
        ttl = float(self.settings.response_cache_ttl_seconds)
        return ttl if verdict.max_ttl_seconds is None else min(ttl, verdict.max_ttl_seconds)

    def _cache_headers(self, etag: str, outcome: str) -> dict[str, str]:
        return {
            "etag": etag,
            "cache-control": self._public,
            "vary": "Accept, Authorization",
            "x-hub-cache": outcome,
        }

    @staticmethod
    def _private(response: Response, is_get: bool) -> Response:
        # Only GET answers are kept by browsers and CDNs; never one that is not the cache's to share.
        if is_get and response.media_type != "text/html":
            response.headers["cache-control"] = "private, no-store"
        return response


def _digest(text: str) -> str:
    """SHA-256 (hex) of a text; a lone surrogate (bad input, refused by execution) hashes as well."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


class NoResponseCache:
    """`HUB_RESPONSE_CACHE=off`: every operation executed."""

    store = None

    def open(self, _engine: AsyncEngine, _redis: Redis | None) -> None:
        pass

    async def close(self) -> None:
        pass

    async def answer(self, request: Request, run: Callable[[Request], Awaitable[Response]]) -> Response:
        return await run(request)


__all__ = ["CACHEABLE_FIELDS", "SCOPES_OF_TYPE", "NoResponseCache", "ResponseCache", "Verdict", "judge"]
