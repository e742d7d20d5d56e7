"""GraphQL types, queries and mutations of partners and access."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from datasources.db import UnitOfWork
from datasources.pagination import Page
from datasources.partners import models
from datasources.partners.endpoints import EndpointPolicy
from datasources.partners.queries import count_resellers, distributors_list, hub_policy_in
from hub_graphql.mutations import run_checked
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Node, PageInfo, UserError, global_id
from resolvers import partners, users
from resolvers.access import Viewer as ViewerData
from resolvers.access import (
    can_see_distributor_links,
    can_see_distributor_secrets,
    can_see_reseller,
    can_see_store,
)

if TYPE_CHECKING:
    from hub_graphql.types.stores import Store


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


@strawberry.enum
class ApprovalMode(Enum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


# ---------------------------------------------------------------- partners


async def _visible_distributor(info: Info, row: models.Distributor | None) -> Distributor | None:
    return Distributor.of(row) if partners.distributor_visible(await info.context.viewer(), row) else None


async def _visible_reseller(info: Info, row: models.Reseller | None) -> Reseller | None:
    if row is None or not can_see_reseller(await info.context.viewer(), row.id):
        return None
    return Reseller.of(row)


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

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Distributor | None:
        return await _visible_distributor(
            info, await info.context.loaders.partners.distributor_by_code.load(code)
        )

    @strawberry.field(
        description="Shown to site administrators and to the distributor itself; null for others."
    )
    async def quote_endpoint(self, info: Info) -> str | None:
        if can_see_distributor_secrets(await info.context.viewer(), self.row.id):
            return self.row.quote_endpoint
        return None

    @strawberry.field(
        extensions=guarded(),
        description="The resellers that may ask this distributor for quotes: for staff and its own reps.",
    )
    async def resellers(self, info: Info) -> list[Reseller]:
        if not can_see_distributor_links(await info.context.viewer(), self.row.id):
            return []
        rows = await info.context.loaders.partners.resellers_by_distributor_id.load(self.row.id)
        return [Reseller.of(r) for r in rows]


@strawberry.type(description="One move of a reseller through its statuses: who, when and why.")
class ResellerStatusChange:
    from_status: PartnerStatus | None = strawberry.field(description="Null for the registration.")
    to_status: PartnerStatus
    changed_by: str | None = strawberry.field(description="The e-mail of the user who made the change.")
    reason: str | None
    changed_at: datetime

    @classmethod
    def of(cls, row: models.ResellerStatusChange) -> ResellerStatusChange:
        return cls(
            from_status=PartnerStatus(row.from_status) if row.from_status else None,
            to_status=PartnerStatus(row.to_status),
            changed_by=row.changed_by_email,
            reason=row.reason,
            changed_at=row.changed_at,
        )


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

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Reseller | None:
        return await _visible_reseller(info, await info.context.loaders.partners.reseller_by_code.load(code))

    @strawberry.field(
        extensions=guarded(), description="The distributors this reseller may ask for quotes, by code."
    )
    async def distributors(self, info: Info) -> list[Distributor]:
        if not can_see_reseller(await info.context.viewer(), self.row.id):
            return []
        rows = await info.context.loaders.partners.distributors_by_reseller_id.load(self.row.id)
        return [Distributor.of(r) for r in rows]

    @strawberry.field(
        extensions=guarded(), description="Every status change, oldest first: for the hub's staff."
    )
    async def status_history(self, info: Info) -> list[ResellerStatusChange]:
        rows = await info.context.loaders.partners.status_changes_by_reseller_id.load(self.row.id)
        return [ResellerStatusChange.of(r) for r in rows]

    @strawberry.field(description="The reseller's stores that the viewer may see.")
    async def stores(self, info: Info) -> list[Annotated[Store, strawberry.lazy("hub_graphql.types.stores")]]:
        from hub_graphql.types.stores import Store as StoreType

        rows = await info.context.loaders.stores.stores_by_reseller_id.load(self.row.id)
        viewer = await info.context.viewer()
        return [
            StoreType.of(r) for r in rows if can_see_store(viewer, r.reseller_id, r.status, self.row.status)
        ]


@strawberry.type
class ResellerEdge:
    cursor: str
    node: Reseller


@strawberry.type
class ResellerConnection:
    edges: list[ResellerEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many resellers match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


# ---------------------------------------------------------------- users


@strawberry.type(description="The signed-in user.")
class Viewer:
    email: str
    roles: list[Role]
    data: strawberry.Private[ViewerData]

    @classmethod
    def of(cls, viewer: ViewerData) -> Viewer:
        return cls(email=viewer.email, roles=[Role(r) for r in sorted(viewer.roles)], data=viewer)

    @classmethod
    def of_user(cls, user: models.User) -> Viewer:
        return cls.of(
            ViewerData(
                user_id=user.id,
                email=user.email,
                roles=frozenset(user.roles),
                reseller_id=user.reseller_id,
                distributor_id=user.distributor_id,
            )
        )

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


# ---------------------------------------------------------------- hub policies


@strawberry.type(description="Hub-wide policies, set by the site administrator.")
class HubPolicies:
    default_currency: str
    currencies: list[str]
    row: strawberry.Private[models.HubPolicy]

    @classmethod
    def of(cls, row: models.HubPolicy) -> HubPolicies:
        return cls(default_currency=row.default_currency, currencies=list(row.currencies), row=row)

    @strawberry.field(extensions=guarded())
    def reseller_approval(self) -> ApprovalMode:
        return ApprovalMode(self.row.reseller_approval)

    @strawberry.field(
        extensions=guarded(),
        description="How long a distributor's quote stays valid when its answer names no end.",
    )
    def quote_validity_hours(self) -> int:
        return self.row.quote_validity_hours

    @strawberry.field(
        extensions=guarded(),
        description="How long the hub waits for a distributor's live quote before it answers without it.",
    )
    def live_quote_timeout_ms(self) -> int:
        return self.row.live_quote_timeout_ms

    @strawberry.field(extensions=guarded())
    def payment_methods(self) -> list[str]:
        return list(self.row.payment_methods)


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input
class CreateDistributorInput:
    code: str
    name: str
    regions: list[str] | None = None
    quote_transport: QuoteTransport
    quote_endpoint: str | None = None
    quote_credential: str | None = strawberry.field(
        default=None,
        description="Write-only: the Authorization header value the hub sends with each quote call. "
        "Stored apart and never returned.",
    )

    def data(self) -> partners.DistributorData:
        return partners.DistributorData(
            code=self.code,
            name=self.name,
            regions=self.regions,
            quote_transport=self.quote_transport.value,
            quote_endpoint=self.quote_endpoint,
            quote_credential=self.quote_credential,
        )


@strawberry.input
class RegisterResellerInput:
    code: str
    name: str
    region: str | None = None
    contact_email: str
    password: str = strawberry.field(
        description="The password of the reseller's first user, whose e-mail is contactEmail."
    )


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    roles: list[Role]
    reseller_code: str | None = None
    distributor_code: str | None = None


@strawberry.input
class HubPoliciesInput:
    reseller_approval: ApprovalMode | None = None
    default_currency: str | None = None
    currencies: list[str] | None = None
    quote_validity_hours: int | None = None
    live_quote_timeout_ms: int | None = None
    payment_methods: list[str] | None = None


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(description="A bearer token for the Authorization header.")
    viewer: Viewer | None
    user_errors: list[UserError]


@strawberry.type
class DistributorPayload:
    distributor: Distributor | None
    user_errors: list[UserError]


@strawberry.type
class ResellerPayload:
    reseller: Reseller | None
    user_errors: list[UserError]


@strawberry.type
class UserPayload:
    viewer: Viewer | None = strawberry.field(description="The user created.")
    user_errors: list[UserError]


@strawberry.type
class HubPoliciesPayload:
    hub_policies: HubPolicies | None
    user_errors: list[UserError]


# ---------------------------------------------------------------- roots


async def _reseller_by_code(info: Info, code: str) -> Reseller | None:
    return await _visible_reseller(info, await info.context.loaders.partners.reseller_by_code.load(code))


async def _distributor_by_code(info: Info, code: str) -> Distributor | None:
    return await _visible_distributor(
        info, await info.context.loaders.partners.distributor_by_code.load(code)
    )


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "Reseller": _reseller_by_code,
    "Distributor": _distributor_by_code,
}


@strawberry.type
class PartnersQuery:
    @strawberry.field(description="The signed-in user; null when the request carries no token.")
    async def viewer(self, info: Info) -> Viewer | None:
        viewer = await info.context.viewer()
        return Viewer.of(viewer) if viewer else None

    @strawberry.field(extensions=guarded(), description="Distributors in code order.")
    async def distributors(self, info: Info, status: PartnerStatus | None = None) -> list[Distributor]:
        viewer = await info.context.viewer()
        rows = await distributors_list(info.context.db, [status.value] if status else None)
        return [Distributor.of(r) for r in rows if partners.distributor_visible(viewer, r)]

    @strawberry.field(extensions=guarded())
    async def distributor(self, info: Info, code: str) -> Distributor | None:
        return await _distributor_by_code(info, code)

    @strawberry.field(extensions=guarded(), description="Resellers in code order; `first` is at most 100.")
    async def resellers(
        self,
        info: Info,
        status: PartnerStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ResellerConnection:
        db = info.context.db
        wanted = status.value if status else None
        page: Page[models.Reseller] = await partners.resellers_page(db, wanted, first, after)
        return ResellerConnection(
            edges=[
                ResellerEdge(cursor=c, node=Reseller.of(r))
                for c, r in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: count_resellers(db, wanted),
        )

    @strawberry.field(extensions=guarded(), description="Staff see any reseller, its users their own.")
    async def reseller(self, info: Info, code: str) -> Reseller | None:
        return await _reseller_by_code(info, code)

    @strawberry.field(
        extensions=guarded(),
        description="Currencies for anyone; the other policies for anyone signed in.",
    )
    async def hub_policies(self, info: Info) -> HubPolicies:
        return HubPolicies.of(await info.context.policy())


async def _reseller_mutation(
    info: Info, action: Callable[[UnitOfWork], Awaitable[partners.Outcome]]
) -> ResellerPayload:
    outcome = await run_checked(info, action)
    if outcome.errors or outcome.reseller is None:
        return ResellerPayload(reseller=None, user_errors=UserError.all(outcome.errors.errors))
    return ResellerPayload(reseller=Reseller.of(outcome.reseller), user_errors=[])


async def _change_status(info: Info, code: str, action: str, reason: str | None) -> ResellerPayload:
    viewer = await info.context.viewer()
    assert viewer is not None  # the guard let a signed-in user through
    return await _reseller_mutation(
        info, lambda unit: partners.change_reseller_status(unit.session, code, action, viewer, reason)
    )


@strawberry.type
class PartnersMutation:
    @strawberry.mutation(
        extensions=guarded(), description="Sign in: a bearer token that expires, and the viewer."
    )
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

    @strawberry.mutation(
        extensions=guarded(),
        description="Open to anyone: the reseller starts PENDING, or APPROVED where the hub approves automatically.",
    )
    async def register_reseller(self, info: Info, input: RegisterResellerInput) -> ResellerPayload:
        data = partners.ResellerData(
            code=input.code,
            name=input.name,
            region=input.region,
            contact_email=input.contact_email,
            password=input.password,
        )

        async def action(unit: UnitOfWork) -> partners.Outcome:
            policy = await hub_policy_in(unit.session)
            return await partners.register_reseller(unit.session, data, policy)

        return await _reseller_mutation(info, action)

    @strawberry.mutation(extensions=guarded(), description="PENDING or SUSPENDED → APPROVED.")
    async def approve_reseller(self, info: Info, code: str) -> ResellerPayload:
        return await _change_status(info, code, "approve", None)

    @strawberry.mutation(extensions=guarded(), description="PENDING → REJECTED.")
    async def reject_reseller(self, info: Info, code: str, reason: str | None = None) -> ResellerPayload:
        return await _change_status(info, code, "reject", reason)

    @strawberry.mutation(extensions=guarded(), description="APPROVED → SUSPENDED.")
    async def suspend_reseller(self, info: Info, code: str, reason: str | None = None) -> ResellerPayload:
        return await _change_status(info, code, "suspend", reason)

    @strawberry.mutation(
        extensions=guarded(), description="Let a reseller ask a distributor for quotes; idempotent."
    )
    async def connect_reseller(
        self, info: Info, reseller_code: str, distributor_code: str
    ) -> ResellerPayload:
        return await _reseller_mutation(
            info, lambda unit: partners.connect_reseller(unit.session, reseller_code, distributor_code)
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="A GRAPHQL_SUBGRAPH endpoint is checked against the distributor quote contract first.",
    )
    async def create_distributor(self, info: Info, input: CreateDistributorInput) -> DistributorPayload:
        context = info.context
        data = input.data()
        policy = EndpointPolicy.of(context.settings.env, context.settings.quote_endpoint_allowlist)
        errors = await partners.check_distributor_input(context.db, context.resources.http, policy, data)
        if errors:
            return DistributorPayload(distributor=None, user_errors=UserError.all(errors.errors))

        outcome = await run_checked(info, lambda unit: partners.create_distributor(unit.session, data))
        if outcome.errors or outcome.distributor is None:
            return DistributorPayload(distributor=None, user_errors=UserError.all(outcome.errors.errors))
        return DistributorPayload(distributor=Distributor.of(outcome.distributor), user_errors=[])

    @strawberry.mutation(extensions=guarded(), description="A user of the hub, a reseller or a distributor.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        data = users.UserData(
            email=input.email,
            password=input.password,
            roles=[r.value for r in input.roles],
            reseller_code=input.reseller_code,
            distributor_code=input.distributor_code,
        )

        result = await run_checked(info, lambda unit: users.create_partner_user(unit.session, data))
        if result.errors or result.user is None:
            return UserPayload(viewer=None, user_errors=UserError.all(result.errors.errors))
        return UserPayload(viewer=Viewer.of_user(result.user), user_errors=[])

    @strawberry.mutation(extensions=guarded(), description="Change some hub policies; validated, atomic.")
    async def update_hub_policies(self, info: Info, input: HubPoliciesInput) -> HubPoliciesPayload:
        changes = partners.PolicyChanges(
            reseller_approval=input.reseller_approval.value if input.reseller_approval else None,
            default_currency=input.default_currency,
            currencies=input.currencies,
            quote_validity_hours=input.quote_validity_hours,
            live_quote_timeout_ms=input.live_quote_timeout_ms,
            payment_methods=input.payment_methods,
        )

        outcome = await run_checked(info, lambda unit: partners.update_hub_policies(unit.session, changes))
        if outcome.errors or outcome.policy is None:
            return HubPoliciesPayload(hub_policies=None, user_errors=UserError.all(outcome.errors.errors))
        return HubPoliciesPayload(hub_policies=HubPolicies.of(outcome.policy), user_errors=[])
