"""GraphQL types, queries and mutations of marketing: web activity, creatives, promotions, campaigns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from datasources.marketing import models
from hub_graphql.mutations import run_checked, run_mutation
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Node, UserError, global_id
from hub_graphql.types.stores import Store, visible_store
from resolvers.marketing import activity, creatives
from resolvers.marketing.common import as_utc

# ---------------------------------------------------------------- web activity


@strawberry.enum
class ActivityType(Enum):
    PAGE_VIEW = "PAGE_VIEW"
    PRODUCT_VIEW = "PRODUCT_VIEW"
    SEARCH = "SEARCH"
    ADD_TO_CART = "ADD_TO_CART"


@strawberry.input(description="One storefront event (live web activity). At most 100 in one call.")
class ActivityInput:
    visitor_id: str
    store_slug: str
    type: ActivityType
    sku: str | None = None
    search_term: str | None = None
    campaign_code: str | None = strawberry.field(
        default=None, description="The campaign code the visitor arrived with, if any."
    )
    path: str | None = None

    def data(self) -> activity.ActivityData:
        return activity.ActivityData(
            visitor_id=self.visitor_id,
            store_slug=self.store_slug,
            type=self.type.value if isinstance(self.type, Enum) else self.type,
            sku=self.sku,
            search_term=self.search_term,
            campaign_code=self.campaign_code,
            path=self.path,
        )


def _activity_from_input(
    target: type[ActivityInput], value: Mapping[str, Any], _context: Any
) -> ActivityInput:
    """Build an event straight from its GraphQL value: 100 of them through strawberry's field-by-field
    conversion took a third of a recordActivity call. graphql-core has already checked every field and
    turned `type` into the enum's value (its name), which `data()` takes as it is."""
    return target(
        visitor_id=value["visitorId"],
        store_slug=value["storeSlug"],
        type=value["type"],
        sku=value.get("sku"),
        search_term=value.get("searchTerm"),
        campaign_code=value.get("campaignCode"),
        path=value.get("path"),
    )


ActivityInput.__strawberry_definition__.from_input = _activity_from_input  # type: ignore[attr-defined]


@strawberry.type
class RecordActivityPayload:
    accepted: int
    user_errors: list[UserError]


@strawberry.type
class ResellerActivity:
    visitors: int
    page_views: int
    product_views: int
    add_to_carts: int
    orders: int
    conversion_rate: float = strawberry.field(description="orders / visitors.")

    @classmethod
    def of(cls, data: activity.ResellerActivityData) -> ResellerActivity:
        return cls(
            visitors=data.visitors,
            page_views=data.page_views,
            product_views=data.product_views,
            add_to_carts=data.add_to_carts,
            orders=data.orders,
            conversion_rate=data.conversion_rate,
        )


# ---------------------------------------------------------------- creatives


async def _store_of(info: Info, store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    return await visible_store(info, await info.context.loaders.stores.store_by_id.load(store_id))


@strawberry.type(
    description="Creative content shown in a named spot of the storefronts (a banner, a featured product)."
)
class Creative(Node):
    id: strawberry.ID
    code: str
    spot: str = strawberry.field(description="The storefront spot it fills, e.g. home-hero.")
    title: str
    body: str | None
    image_url: str | None
    link_url: str | None
    priority: int = strawberry.field(description="Higher first.")
    starts_at: datetime | None
    ends_at: datetime | None
    row: strawberry.Private[models.Creative]

    @classmethod
    def of(cls, row: models.Creative) -> Creative:
        return cls(
            id=global_id("Creative", row.code),
            code=row.code,
            spot=row.spot,
            title=row.title,
            body=row.body,
            image_url=row.image_url,
            link_url=row.link_url,
            priority=row.priority,
            starts_at=as_utc(row.starts_at),
            ends_at=as_utc(row.ends_at),
            row=row,
        )

    @strawberry.field(description="Null: every store; else this store alone.")
    async def store(self, info: Info) -> Store | None:
        return await _store_of(info, self.row.store_id)


@strawberry.input
class CreativeInput:
    code: str
    spot: str
    store_slug: str | None = strawberry.field(
        default=None, description="Null: every store (marketing staff only); else one store."
    )
    title: str
    body: str | None = None
    image_url: str | None = strawberry.field(default=None, description="http(s) only.")
    link_url: str | None = strawberry.field(default=None, description="http(s) only.")
    priority: int | None = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def data(self) -> creatives.CreativeData:
        return creatives.CreativeData(
            code=self.code,
            spot=self.spot,
            title=self.title,
            store_slug=self.store_slug,
            body=self.body,
            image_url=self.image_url,
            link_url=self.link_url,
            priority=self.priority or 0,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
        )


@strawberry.type
class CreativePayload:
    creative: Creative | None
    user_errors: list[UserError]


async def creative_by_code(info: Info, code: str) -> Creative | None:
    row = await creatives.creative_row(info.context.db, code)
    if row is None:
        return None
    store = await info.context.loaders.stores.store_by_id.load(row.store_id) if row.store_id else None
    reseller = await info.context.loaders.partners.reseller_by_id.load(store.reseller_id) if store else None
    visible = creatives.creative_visible(row, store, reseller, await info.context.viewer())
    return Creative.of(row) if visible else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "Creative": creative_by_code,
}


@strawberry.type
class MarketingQuery:
    @strawberry.field(
        extensions=guarded(),
        description="Active creatives for a spot of an OPEN store: the store's own and the hub-wide ones, "
        "highest priority first (on a tie the store's own first, then by code). Empty for a store that is "
        "not OPEN or does not exist.",
    )
    async def spot(self, info: Info, store_slug: str, spot: str) -> list[Creative]:
        return [Creative.of(r) for r in await creatives.spot_creatives(info.context.db, store_slug, spot)]

    @strawberry.field(
        extensions=guarded(),
        description="A reseller's storefront activity from `from` (inclusive) to `to` (exclusive): distinct "
        "visitors, page views, product views, add-to-carts, and its stores' orders placed in the range "
        "(cancelled ones left out). Staff see any reseller, a RESELLER_ADMIN its own.",
    )
    async def reseller_activity(
        self,
        info: Info,
        reseller_code: str,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> ResellerActivity:
        data = await activity.reseller_activity(
            info.context.db, await info.context.viewer(), reseller_code, from_, to
        )
        return ResellerActivity.of(data)


@strawberry.type
class MarketingMutation:
    @strawberry.mutation(
        extensions=guarded(),
        description="Creates or updates a creative by code: marketing staff hub-wide and for any store, a "
        "RESELLER_ADMIN for its own stores. Text is stored as given; URLs are http(s) only.",
    )
    async def upsert_creative(self, info: Info, input: CreativeInput) -> CreativePayload:
        viewer = await info.context.viewer()
        data = input.data()
        result = await run_checked(info, lambda unit: creatives.upsert_creative(unit.session, viewer, data))
        if result.errors:
            return CreativePayload(creative=None, user_errors=UserError.all(result.errors.errors))
        return CreativePayload(
            creative=Creative.of(result.creative) if result.creative else None, user_errors=[]
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="Public, for storefronts; at most 100 events a call. Bad events are userErrors (their "
        "index in `field`); the good ones are kept and counted in `accepted`.",
    )
    async def record_activity(self, info: Info, events: list[ActivityInput]) -> RecordActivityPayload:
        activity.check_event_count(events)
        data = [e.data() for e in events]
        result = await run_mutation(info, lambda unit: activity.record_activity(unit.session, data))
        return RecordActivityPayload(
            accepted=result.accepted, user_errors=UserError.all(result.errors.errors)
        )
