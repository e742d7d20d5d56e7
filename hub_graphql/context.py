"""The request context: the one place that holds the session, the viewer and the loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from aiodataloader import DataLoader
from graphql import GraphQLError
from starlette.requests import HTTPConnection

from datasources.catalog.loaders import CatalogLoaders
from datasources.db import RequestDatabase
from datasources.marketing.loaders import MarketingLoaders
from datasources.orders.loaders import OrderLoaders
from datasources.partners.endpoints import EndpointPolicy
from datasources.partners.loaders import PartnerLoaders
from datasources.partners.models import HubPolicy
from datasources.partners.queries import hub_policy
from datasources.plaza.loaders import PlazaLoaders
from datasources.quotes.loaders import QuoteLoaders
from datasources.quotes.state import quote_state
from datasources.stores.loaders import StoreLoaders
from hub_graphql.resources import Resources
from resolvers.access import Viewer
from resolvers.auth import user_id_from_token


class Loaders:
    """Every per-request dataloader, grouped by domain; a group is made on its first use.

    A request touches two or three of the seven groups: making all fifty-odd loaders for each one
    (a storefront page among them) cost about 0.2 ms a request.
    """

    GROUPS = ("catalog", "partners", "quotes", "stores", "plaza", "orders", "marketing")

    def __init__(self, db: RequestDatabase, resources: Resources) -> None:
        self._db = db
        self._resources = resources

    @classmethod
    def create(cls, db: RequestDatabase, resources: Resources) -> Loaders:
        return cls(db, resources)

    @cached_property
    def catalog(self) -> CatalogLoaders:
        return CatalogLoaders.create(self._db)

    @cached_property
    def partners(self) -> PartnerLoaders:
        return PartnerLoaders.create(self._db)

    @cached_property
    def quotes(self) -> QuoteLoaders:
        settings = self._resources.settings
        return QuoteLoaders.create(
            self._db,
            self._resources.http,
            quote_state(self._resources.shared),
            EndpointPolicy.of(settings.env, settings.quote_endpoint_allowlist),
        )

    @cached_property
    def stores(self) -> StoreLoaders:
        return StoreLoaders.create(self._db)

    @cached_property
    def plaza(self) -> PlazaLoaders:
        return PlazaLoaders.create(self._db)

    @cached_property
    def orders(self) -> OrderLoaders:
        return OrderLoaders.create(self._db)

    @cached_property
    def marketing(self) -> MarketingLoaders:
        return MarketingLoaders.create(self._db)

    def clear_all(self) -> None:
        """After a mutation: nothing cached before the write may be served after it."""
        made = (self.__dict__[name] for name in self.GROUPS if name in self.__dict__)
        for group in made:
            for loader in (getattr(group, f.name) for f in fields(group)):
                if isinstance(loader, DataLoader):
                    loader.clear_all()


@dataclass
class Context:
    resources: Resources
    db: RequestDatabase
    loaders: Loaders
    token: str | None = None
    request: HTTPConnection | None = None
    response: Any = None
    partial_errors: list[GraphQLError] = field(default_factory=list)
    """Errors that accompany data (the partial-result convention): appended to the response's errors."""
    started_ahead: dict[Hashable, asyncio.Task[Any]] = field(default_factory=dict)
    """Work a resolver started for fields further down, by what it answers (hub_graphql/types/quotes.py's
    look-ahead from a product page to its live quotes); cancelled when the request ends."""
    # Memoised as tasks: sibling resolvers ask concurrently, and must share one lookup.
    _viewer: asyncio.Future[Viewer | None] | None = field(default=None, init=False)
    _policy: asyncio.Future[HubPolicy] | None = field(default=None, init=False)

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.resources.settings

    async def viewer(self) -> Viewer | None:
        """The signed-in user, or None (no token, or one that is tampered, expired or unknown)."""
        if self._viewer is None:
            self._viewer = asyncio.ensure_future(self._load_viewer())
        return await self._viewer

    async def _load_viewer(self) -> Viewer | None:
        if not self.token:
            return None
        user_id = user_id_from_token(self.token, self.settings.secret_key.get_secret_value())
        if user_id is None:
            return None
        user = await self.loaders.partners.user_by_id.load(user_id)
        if user is None:
            return None
        reseller_status = None
        if user.reseller_id is not None:
            reseller = await self.loaders.partners.reseller_by_id.load(user.reseller_id)
            reseller_status = reseller.status if reseller else None
        return Viewer(
            user_id=user.id,
            email=user.email,
            roles=frozenset(user.roles),
            reseller_id=user.reseller_id,
            reseller_status=reseller_status,
            distributor_id=user.distributor_id,
        )

    async def policy(self) -> HubPolicy:
        if self._policy is None:
            self._policy = asyncio.ensure_future(hub_policy(self.db))
        return await self._policy

    def after_write(self) -> None:
        """Forget what this request read before a mutation wrote."""
        self.loaders.clear_all()
        self._cancel_started_ahead()
        self._policy = None
        self._viewer = None

    async def close(self) -> None:
        self._cancel_started_ahead()
        await self.db.close()

    async def stop(self) -> None:
        """The request ran past its time limit: stop its database work, roll it back and close."""
        self._cancel_started_ahead()
        await self.db.stop()

    def _cancel_started_ahead(self) -> None:
        """What was started for fields that were never read (their parent failed) is no longer wanted."""
        for task in self.started_ahead.values():
            task.cancel()
        self.started_ahead.clear()


def bearer_token(connection: HTTPConnection | None) -> str | None:
    if connection is None:
        return None
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def build_context(
    resources: Resources,
    *,
    request: HTTPConnection | None = None,
    token: str | None = None,
    response: Any = None,
) -> Context:
    """The one way to make a context: used by the server, the CLI and the tests."""
    db = RequestDatabase(resources.session_factory)
    return Context(
        resources=resources,
        db=db,
        loaders=Loaders.create(db, resources),
        token=token if token is not None else bearer_token(request),
        request=request,
        response=response,
    )
