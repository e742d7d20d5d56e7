"""The ASGI app: Starlette serving the GraphQL endpoint and GraphiQL at /graphql, resources owned by the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from hub_graphql.context import Context, build_context
from hub_graphql.graphiql import GraphiQLFiles
from hub_graphql.http import GraphQLOverHTTP
from hub_graphql.resources import Resources, open_resources
from hub_graphql.schema import build_schema
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


async def _close_context(request: Request) -> None:
    context: Context | None = getattr(request.state, "hub_context", None)
    if context is not None:
        await context.close()


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


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the hub; the engine, session factory and HTTP client live as long as the app's lifespan."""
    settings = settings or Settings()
    holder: dict[str, Resources] = {}
    graphiql = GraphiQLFiles(settings.web_modules_dir)
    graphql_app = HubGraphQL(
        holder,
        graphiql,
        schema=build_schema(settings),
        graphql_ide="graphiql",
        allow_queries_via_get=True,
    )

    async def graphql_endpoint(request: Request) -> Response:
        try:
            return await graphql_app.run(request)
        except HTTPException as error:
            return PlainTextResponse(error.reason, status_code=error.status_code)
        finally:
            await _close_context(request)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def root(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            holder["resources"] = resources
            with startup_objects_frozen():
                yield
            holder.pop("resources", None)

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/", root),
            *graphiql.routes(),
            *web_routes(),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.resources_holder = holder
    return app
