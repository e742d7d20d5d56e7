"""The ASGI app: Starlette serving the GraphQL endpoint and GraphiQL at /graphql, resources owned by the lifespan."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from datasources.persisted_queries import QueryStore
from datasources.quotes.state import quote_state
from hub_graphql.body_limit import BodySizeLimit
from hub_graphql.context import Context, build_context
from hub_graphql.graphiql import GraphiQLFiles
from hub_graphql.http import GraphQLOverHTTP, json_response, media_type_of
from hub_graphql.marketing_http import marketing_routes
from hub_graphql.metrics import SHARED_KEY as METRICS_KEY
from hub_graphql.metrics import HubMetrics, metrics_response
from hub_graphql.persisted_queries import PersistedQueries, load_manifest
from hub_graphql.request_log import RequestIds
from hub_graphql.resources import Resources, open_resources, warm_database
from hub_graphql.response_cache import NoResponseCache, ResponseCache
from hub_graphql.schema import build_schema
from hub_graphql.security_headers import SecurityHeaders
from hub_graphql.settings import Settings
from hub_graphql.web_pages import web_routes

log = logging.getLogger("hub")


UNEXPECTED = "Unexpected error."
_FIRST_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def first_operation_name(query: str | None) -> str | None:
    """The name of the document's first named operation, for the metrics (without parsing it again)."""
    match = _FIRST_OPERATION.search(query[:2000]) if query else None
    return match.group(1) if match else None


def outcome_of(result: ExecutionResult) -> str:
    """A request's outcome for the metrics: ok, `unexpected` (a masked failure), or the first error's code."""
    if not result.errors:
        return "ok"
    codes = []
    for error in result.errors:
        code = (error.extensions or {}).get("code")
        if code is None and error.message == UNEXPECTED:
            return "unexpected"
        codes.append(code if isinstance(code, str) else None)
    first = codes[0]
    if first is not None:
        return first
    # graphql-core's own errors carry no code: a document that did not parse, or did not validate.
    if result.errors[0].message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED" if result.errors[0].path is None else "error"


class HubGraphQL(GraphQLOverHTTP, GraphQL):
    """strawberry's ASGI app with the hub's context, error logging, persisted queries and its own GraphiQL page."""

    def __init__(
        self, resources_holder: dict[str, Resources], graphiql: GraphiQLFiles, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._holder = resources_holder
        self._graphiql = graphiql
        self.persisted: PersistedQueries | None = None
        """Set by the app's lifespan (its store may live in Redis)."""

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted query's hash (no `query`) is an operation, not a browser.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        request, data = kwargs["request"], kwargs["request_data"]
        query = data.query
        if self.persisted is not None:
            # Before parsing: a hash becomes its registered text, or the request is refused here.
            query = await self.persisted.query_for(data.query, data.extensions, data.operation_name)
            if isinstance(query, GraphQLError):
                request.state.graphql_operation = data.operation_name
                return ExecutionResult(data=None, errors=[query])
            kwargs["request_data"] = dataclasses.replace(data, query=query)
        request.state.graphql_operation = data.operation_name or first_operation_name(query)
        return await super().execute_single(*args, **kwargs)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        request.state.graphql_outcome = outcome_of(result)
        return await super().process_result(request, result)

    async def get_context(self, request: Any, response: Any) -> Context:
        context = build_context(self._holder["resources"], request=request, response=response)
        request.state.hub_context = context
        return context

    async def render_graphql_ide(self, request: Any) -> Response:
        # Not strawberry's page, which loads React and GraphiQL from a public CDN.
        return self._graphiql.page()


TIMEOUT = "TIMEOUT"


async def _close_context(request: Request, *, stopped: bool = False) -> None:
    context: Context | None = getattr(request.state, "hub_context", None)
    if context is not None:
        await (context.stop() if stopped else context.close())


def _timed_out(request: Request, limit_ms: int) -> Response:
    """The answer to an operation stopped at the time limit: its work was cancelled, nothing it wrote kept."""
    error = {
        "message": f"The operation ran past the hub's time limit of {limit_ms:,} ms and was stopped; "
        "nothing it would have written was kept.",
        "extensions": {"code": TIMEOUT, "limitMs": limit_ms},
    }
    return json_response({"data": None, "errors": [error]}, 200, media_type_of(request))


class HubStarlette(Starlette):
    """Starlette with the security headers outside everything, its own error pages included."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(RequestIds(super().build_middleware_stack()))


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Keep what start-up made (schema, models, engine: ~130,000 objects) out of the cyclic GC's passes.

    GraphQL execution leaves reference cycles behind, so full collections come every few dozen
    requests, and each walked every object of the process: 90 to 130 ms, the whole of the p99 of
    the catalog and store benches. Frozen, a full collection takes 7 to 15 ms. Unfrozen at shutdown,
    so that an app torn down in a test process can be collected. No collection first: whatever
    garbage start-up left waits for shutdown (a little memory), and the tests, which start an app
    per test, do not pay a full collection each time (it doubled their time).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(settings: Settings | None = None, *, schema: Any = None) -> Starlette:
    """Build the hub; the engine, session factory and HTTP client live as long as the app's lifespan.

    `schema` replaces the hub's schema (tests add fields of their own); by default `build_schema(settings)`.
    """
    settings = settings or Settings()
    holder: dict[str, Resources] = {}
    graphiql = GraphiQLFiles(settings.web_modules_dir)
    graphql_app = HubGraphQL(
        holder,
        graphiql,
        schema=schema or build_schema(settings),
        graphql_ide="graphiql",
        allow_queries_via_get=True,
    )
    time_limit_s = settings.max_execution_ms / 1000
    response_cache = response_cache_of(settings, graphql_app)
    metrics = HubMetrics()
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def graphql_endpoint(request: Request) -> Response:
        stopped = False
        started = time.perf_counter()
        response: Response | None = None
        try:
            # Past the limit the request's task is cancelled: resolvers, statements and the transaction.
            async with asyncio.timeout(time_limit_s) as deadline:
                response = await response_cache.answer(request, graphql_app.run)
                return response
        except TimeoutError:
            if not deadline.expired():
                raise
            stopped = True
            request.state.graphql_outcome = TIMEOUT
            response = _timed_out(request, settings.max_execution_ms)
            return response
        except HTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
            return response
        finally:
            await _close_context(request, stopped=stopped)
            _count_request(request, response, time.perf_counter() - started)

    def _count_request(request: Request, response: Response | None, seconds: float) -> None:
        outcome = getattr(request.state, "graphql_outcome", None)
        if outcome is None:
            if response is None:
                outcome = "unexpected"  # an exception escaped: the server's error page answers
            elif response.media_type == "text/html":
                return  # GraphiQL's page, not an operation
            else:
                outcome = f"HTTP_{response.status_code}"
        operation = metrics.operation_label(getattr(request.state, "graphql_operation", None))
        metrics.request_answered(operation, outcome, seconds)

    async def metrics_endpoint(request: Request) -> Response:
        return await metrics_response(request, metrics, holder.get("resources"), metrics_token)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def root(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with open_resources(settings, deliver=True) as resources:
            await warm_database(resources)
            holder["resources"] = resources
            resources.shared[METRICS_KEY] = metrics
            quote_state(resources.shared).observer = metrics.distributor_called
            graphql_app.persisted = persisted_queries_of(settings, resources.redis)
            response_cache.open(resources.engine, resources.redis)
            if tracing is not None:
                from hub_graphql.tracing import trace_resources

                trace_resources(resources, tracing)
            try:
                with startup_objects_frozen():
                    yield
            finally:
                if tracing is not None:
                    tracing.shutdown()  # sends the spans still batched
                await graphql_app.persisted.close()
                graphql_app.persisted = None
                await response_cache.close()
                holder.pop("resources", None)

    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    tracing: Any = None
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        # Imported only when asked for: without the variable OpenTelemetry is never loaded.
        from hub_graphql.tracing import tracer_provider, tracing_middleware

        tracing = tracer_provider()
        middleware.insert(0, tracing_middleware(tracing))
    if settings.cors_origins:
        # Storefronts on other origins: only those listed, never `*`. Tokens travel in the
        # Authorization header, so no cookies (credentials) are allowed.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "accept", "x-request-id"],
                expose_headers=["retry-after", "x-request-id"],
                max_age=600,
            ),
        )
    app = HubStarlette(
        middleware=middleware,
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/metrics", metrics_endpoint),
            Route("/", root),
            *graphiql.routes(),
            *web_routes(),
            *marketing_routes(lambda: holder["resources"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.resources_holder = holder
    app.state.metrics = metrics
    app.state.response_cache = response_cache
    return app


def response_cache_of(settings: Settings, graphql_app: HubGraphQL) -> ResponseCache | NoResponseCache:
    """The public response cache (hub_graphql/response_cache.py), or none with HUB_RESPONSE_CACHE=off."""
    if not settings.response_cache:
        return NoResponseCache()
    schema = graphql_app.schema
    return ResponseCache(
        settings,
        schema._schema,
        schema.as_str(),
        persisted=lambda: graphql_app.persisted,
    )


def persisted_queries_of(settings: Settings, redis: Redis | None = None) -> PersistedQueries:
    """The persisted query mode of the settings, its manifest read, its store also in Redis when the app
    has a client (`Resources.redis`)."""
    manifest = (
        load_manifest(settings.persisted_queries_manifest) if settings.persisted_queries_manifest else None
    )
    return PersistedQueries(
        settings.persisted_queries,
        QueryStore(redis, settings.redis_key_prefix),
        manifest,
        max_tokens=settings.max_query_tokens,
    )
