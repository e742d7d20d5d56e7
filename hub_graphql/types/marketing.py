"""GraphQL types, queries and mutations of marketing: web activity, creatives, promotions, campaigns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from hub_graphql.mutations import run_mutation
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Node, UserError
from resolvers.marketing import activity

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


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {}


@strawberry.type
class MarketingQuery:
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
