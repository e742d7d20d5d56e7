"""GraphQL types, queries and mutations of partners and access."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

import strawberry

from datasources.partners import models
from hub_graphql.types.common import Info, Node, UserError, global_id
from resolvers import partners
from resolvers.access import Viewer as ViewerData
from resolvers.access import can_see_distributor_secrets


@strawberry.enum
class Role(Enum):
    SITE_ADMIN = "SITE_ADMIN"
    CATALOG_MANAGER = "CATALOG_MANAGER"
    CHANNEL_MANAGER = "CHANNEL_MANAGER"
    MARKETING_MANAGER = "MARKETING_MANAGER"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    RESELLER_ADMIN = "RESELLER_ADMIN"
    DISTRIBUTOR_REP = "DISTRIBUTOR_REP"
    CUSTOMER = "CUSTOMER"


@strawberry.enum
class PartnerStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


@strawberry.enum(description="How the hub reaches a distributor for live quotes.")
class QuoteTransport(Enum):
    GRAPHQL_SUBGRAPH = strawberry.enum_value(
        "GRAPHQL_SUBGRAPH", description="A GraphQL service implementing the distributor quote contract."
    )
    REST_JSON = strawberry.enum_value(
        "REST_JSON", description="The same request and answer as JSON over HTTP POST."
    )
    MANUAL = strawberry.enum_value(
        "MANUAL", description="No live service: the distributor answers quote requests in the hub."
    )


@strawberry.federation.type(keys=["code"], description="A distributor that stocks and ships the products.")
class Distributor(Node):
    id: strawberry.ID
    code: str
    name: str
    status: PartnerStatus
    regions: list[str]
    quote_transport: QuoteTransport
    row: strawberry.Private[models.Distributor]

    @classmethod
    def of(cls, row: models.Distributor) -> Distributor:
        return cls(
            id=global_id("Distributor", row.code),
            code=row.code,
            name=row.name,
            status=PartnerStatus(row.status),
            regions=list(row.regions or []),
            quote_transport=QuoteTransport(row.quote_transport),
            row=row,
        )

    @strawberry.field(
        description="Shown to site administrators and to the distributor itself; null for others."
    )
    async def quote_endpoint(self, info: Info) -> str | None:
        if can_see_distributor_secrets(await info.context.viewer(), self.row.id):
            return self.row.quote_endpoint
        return None


@strawberry.federation.type(keys=["code"], description="A reseller that sells to end customers.")
class Reseller(Node):
    id: strawberry.ID
    code: str
    name: str
    status: PartnerStatus
    region: str | None
    contact_email: str
    row: strawberry.Private[models.Reseller]

    @classmethod
    def of(cls, row: models.Reseller) -> Reseller:
        return cls(
            id=global_id("Reseller", row.code),
            code=row.code,
            name=row.name,
            status=PartnerStatus(row.status),
            region=row.region,
            contact_email=row.contact_email,
            row=row,
        )


@strawberry.type(description="The signed-in user.")
class Viewer:
    email: str
    roles: list[Role]
    data: strawberry.Private[ViewerData]

    @classmethod
    def of(cls, viewer: ViewerData) -> Viewer:
        return cls(email=viewer.email, roles=[Role(r) for r in sorted(viewer.roles)], data=viewer)

    @strawberry.field
    async def reseller(self, info: Info) -> Reseller | None:
        if self.data.reseller_id is None:
            return None
        row = await info.context.loaders.partners.reseller_by_id.load(self.data.reseller_id)
        return Reseller.of(row) if row else None

    @strawberry.field
    async def distributor(self, info: Info) -> Distributor | None:
        if self.data.distributor_id is None:
            return None
        row = await info.context.loaders.partners.distributor_by_id.load(self.data.distributor_id)
        return Distributor.of(row) if row else None


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(description="A bearer token for the Authorization header.")
    viewer: Viewer | None
    user_errors: list[UserError]


@strawberry.type
class PartnersQuery:
    @strawberry.field(description="The signed-in user; null when the request carries no token.")
    async def viewer(self, info: Info) -> Viewer | None:
        viewer = await info.context.viewer()
        return Viewer.of(viewer) if viewer else None


@strawberry.type
class PartnersMutation:
    @strawberry.mutation(description="Sign in: a bearer token that expires, and the viewer.")
    async def login(self, info: Info, email: str, password: str) -> LoginPayload:
        settings = info.context.settings
        result = await partners.login(
            info.context.db,
            email,
            password,
            settings.secret_key.get_secret_value(),
            timedelta(minutes=settings.token_ttl_minutes),
        )
        if result.errors:
            return LoginPayload(token=None, viewer=None, user_errors=UserError.all(result.errors.errors))
        info.context.token = result.token
        info.context.after_write()
        viewer = await info.context.viewer()
        return LoginPayload(token=result.token, viewer=Viewer.of(viewer) if viewer else None, user_errors=[])
