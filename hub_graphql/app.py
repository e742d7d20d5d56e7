"""The ASGI app: Starlette serving the GraphQL endpoint and GraphiQL at /graphql, resources owned by the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from strawberry.asgi import GraphQL

from hub_graphql.body_limit import BodySizeLimit
from hub_graphql.context import Context, build_context
from hub_graphql.graphiql import GraphiQLFiles
from hub_graphql.http import GraphQLOverHTTP, json_response, media_type_of
from hub_graphql.marketing_http import marketing_routes
from hub_graphql.resources import Resources, open_resources
from hub_graphql.schema import build_schema
from hub_graphql.security_headers import SecurityHeaders
from hub_graphql.settings import Settings
from hub_graphql.web_pages import web_routes

log = logging.getLogger("hub")


class HubGraphQL(GraphQLOverHTTP, GraphQL):
    """strawberry's ASGI app with the hub's context, error logging and its own GraphiQL page."""

    def __init__(
        self, resources_holder: dict[str, Resources], graphiql: GraphiQLFiles, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._holder = resources_holder
        self._graphiql = graphiql

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
        return SecurityHeaders(super().build_middleware_stack())


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

    async def graphql_endpoint(request: Request) -> Response:
        stopped = False
        try:
            # Past the limit the request's task is cancelled: resolvers, statements and the transaction.
            async with asyncio.timeout(time_limit_s) as deadline:
                return await graphql_app.run(request)
        except TimeoutError:
            if not deadline.expired():
                raise
            stopped = True
            return _timed_out(request, settings.max_execution_ms)
        except HTTPException as error:
            return PlainTextResponse(error.reason, status_code=error.status_code)
        finally:
            await _close_context(request, stopped=stopped)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def root(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with open_resources(settings, deliver=True) as resources:
            holder["resources"] = resources
            with startup_objects_frozen():
                yield
            holder.pop("resources", None)

    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
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
            Route("/", root),
            *graphiql.routes(),
            *web_routes(),
            *marketing_routes(lambda: holder["resources"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.resources_holder = holder
    return app
