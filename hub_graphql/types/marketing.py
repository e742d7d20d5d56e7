"""GraphQL types, queries and mutations of marketing: web activity, creatives, promotions, campaigns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from datasources.marketing import models
from datasources.marketing.models import PERCENT_SCALE
from datasources.money import from_minor
from hub_graphql.mutations import run_checked, run_mutation
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Money, Node, UserError, global_id
from hub_graphql.types.stores import PriceRuleScope, Store, visible_store
from resolvers.marketing import activity, campaigns, creatives, promotions
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


# ---------------------------------------------------------------- promotions


def _percent_of(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / PERCENT_SCALE).quantize(Decimal("0.01"))


def _amount_of(value: int | None, currency: str | None) -> Decimal | None:
    return None if value is None or currency is None else from_minor(value, currency)


@strawberry.type(
    description="A discount. At most one promotion applies to a cart: of the automatic ones (no coupon code) "
    "and the one whose coupon the cart holds, the hub applies the one that takes most off (on a tie, the one "
    "created first). percentOff applies to each qualifying line; amountOff comes off the qualifying lines' "
    "subtotal once, capped at it, spread over those lines in proportion to their totals. Amounts round "
    "half-up to the currency's minor unit."
)
class Promotion(Node):
    id: strawberry.ID
    code: str
    name: str
    scope: PriceRuleScope = strawberry.field(description="Which lines qualify, as for price rules.")
    target: str | None
    percent_off: Decimal | None
    amount_off: Decimal | None = strawberry.field(
        description="In the cart's currency; only carts in `currency`."
    )
    currency: str | None
    minimum_subtotal: Decimal | None = strawberry.field(
        description="The qualifying lines' subtotal must reach it."
    )
    coupon_code: str | None = strawberry.field(description="Null: automatic.")
    starts_at: datetime | None
    ends_at: datetime | None
    enabled: bool
    usage_limit: int | None = strawberry.field(
        description="Orders that may use it, over all customers; null: no limit."
    )
    per_customer_limit: int | None = strawberry.field(
        description="Orders one customer e-mail may use it for; null: no limit."
    )
    row: strawberry.Private[models.Promotion]

    @classmethod
    def of(cls, row: models.Promotion) -> Promotion:
        return cls(
            id=global_id("Promotion", row.code),
            code=row.code,
            name=row.name,
            scope=PriceRuleScope(row.scope),
            target=row.target,
            percent_off=_percent_of(row.percent_off),
            amount_off=_amount_of(row.amount_off_minor, row.currency),
            currency=row.currency,
            minimum_subtotal=_amount_of(row.minimum_subtotal_minor, row.currency),
            coupon_code=row.coupon_code,
            starts_at=as_utc(row.starts_at),
            ends_at=as_utc(row.ends_at),
            enabled=row.enabled,
            usage_limit=row.usage_limit,
            per_customer_limit=row.per_customer_limit,
            row=row,
        )

    @strawberry.field(description="Null: every store (funded by the manufacturer); else this store alone.")
    async def store(self, info: Info) -> Store | None:
        return await _store_of(info, self.row.store_id)

    @strawberry.field(description="Orders placed with it so far (cancelled ones give their use back).")
    async def times_used(self, info: Info) -> int:
        return await info.context.loaders.marketing.times_used_by_promotion_id.load(self.row.id)


@strawberry.input
class PromotionInput:
    code: str
    name: str
    store_slug: str | None = strawberry.field(
        default=None, description="Null: every store (marketing staff only); else one store."
    )
    scope: PriceRuleScope
    target: str | None = None
    percent_off: Decimal | None = strawberry.field(default=None, description="Above 0, at most 100.")
    amount_off: Decimal | None = strawberry.field(default=None, description="Needs `currency`.")
    currency: str | None = None
    minimum_subtotal: Decimal | None = strawberry.field(default=None, description="Needs `currency`.")
    coupon_code: str | None = strawberry.field(
        default=None, description="Null: automatic. Unique over all promotions, compared case-insensitively."
    )
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    enabled: bool | None = True
    usage_limit: int | None = None
    per_customer_limit: int | None = None

    def data(self) -> promotions.PromotionData:
        return promotions.PromotionData(
            code=self.code,
            name=self.name,
            scope=self.scope.value,
            store_slug=self.store_slug,
            target=self.target,
            percent_off=self.percent_off,
            amount_off=self.amount_off,
            currency=self.currency,
            minimum_subtotal=self.minimum_subtotal,
            coupon_code=self.coupon_code,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            enabled=True if self.enabled is None else self.enabled,
            usage_limit=self.usage_limit,
            per_customer_limit=self.per_customer_limit,
        )


@strawberry.type
class PromotionPayload:
    promotion: Promotion | None
    user_errors: list[UserError]


async def promotion_by_code(info: Info, code: str) -> Promotion | None:
    row = await promotions.promotion_row(info.context.db, code)
    if row is None:
        return None
    store = await info.context.loaders.stores.store_by_id.load(row.store_id) if row.store_id else None
    visible = promotions.promotion_visible(await info.context.viewer(), store.reseller_id if store else None)
    return Promotion.of(row) if visible else None


# ---------------------------------------------------------------- campaigns


@strawberry.enum
class CampaignStatus(Enum):
    DRAFT = "DRAFT"
    SENDING = "SENDING"
    SENT = "SENT"


@strawberry.type
class CampaignResults:
    recipients: int = strawberry.field(
        description="Those it was sent to; for a DRAFT, the store's opted-in customers today."
    )
    sent: int = strawberry.field(description="Messages delivered.")
    failed: int = strawberry.field(description="Messages given up on after their retries.")
    opened: int = strawberry.field(description="Recipients whose open pixel loaded at least once.")
    clicked: int = strawberry.field(description="Recipients who clicked at least once.")
    visits: int = strawberry.field(description="Web activity events carrying the campaign.")
    orders: int = strawberry.field(description="Orders credited to the campaign, cancelled ones left out.")
    revenue: Money = strawberry.field(description="Their totals, in the store's currency.")
    conversion_rate: float = strawberry.field(description="orders / recipients.")


@strawberry.type(
    description="An e-mail campaign to a store's customers who opted in and have not unsubscribed. Each message "
    "carries personal tracked links (a click leads to the store and is recorded) and an unsubscribe link; the "
    "hub credits to the campaign the orders placed within the attribution window after a recipient's click, by "
    "the clicking visitor or with the recipient's e-mail (closed-loop marketing)."
)
class Campaign(Node):
    id: strawberry.ID
    code: str
    name: str
    subject: str
    body: str = strawberry.field(
        description="Plain text; {{link}} marks where the tracked link to the store goes."
    )
    landing_path: str = strawberry.field(
        description="The store path a click lands on, e.g. / or /product/SKU."
    )
    row: strawberry.Private[models.Campaign]

    @classmethod
    def of(cls, row: models.Campaign) -> Campaign:
        return cls(
            id=global_id("Campaign", row.code),
            code=row.code,
            name=row.name,
            subject=row.subject,
            body=row.body,
            landing_path=row.landing_path,
            row=row,
        )

    @strawberry.field
    async def store(self, info: Info) -> Store:
        row = await info.context.loaders.stores.store_by_id.load(self.row.store_id)
        return Store.of(row)

    @strawberry.field(
        description="SENDING until every message was tried (delivered or given up on), then SENT."
    )
    async def status(self, info: Info) -> CampaignStatus:
        figures = await info.context.loaders.marketing.campaign_figures_by_id.load(self.row.id)
        return CampaignStatus(campaigns.effective_status(self.row, figures))

    @strawberry.field
    async def results(self, info: Info) -> CampaignResults:
        figures = await info.context.loaders.marketing.campaign_figures_by_id.load(self.row.id)
        store = await info.context.loaders.stores.store_by_id.load(self.row.store_id)
        return CampaignResults(
            recipients=figures.recipients,
            sent=figures.sent,
            failed=figures.failed,
            opened=figures.opened,
            clicked=figures.clicked,
            visits=figures.visits,
            orders=figures.orders,
            revenue=Money.of_minor(figures.revenue_minor, store.currency),
            conversion_rate=figures.orders / figures.recipients if figures.recipients else 0.0,
        )


@strawberry.input
class CampaignInput:
    code: str
    name: str
    store_slug: str
    subject: str = strawberry.field(description="One line.")
    body: str = strawberry.field(
        description="Plain text holding {{link}}, where each recipient's tracked link goes."
    )
    landing_path: str | None = strawberry.field(
        default="/", description="A path in the store (a click lands on the store's storefront there)."
    )


@strawberry.type
class CampaignPayload:
    campaign: Campaign | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, result: campaigns.CampaignResult) -> CampaignPayload:
        if result.errors:
            return cls(campaign=None, user_errors=UserError.all(result.errors.errors))
        return cls(campaign=Campaign.of(result.campaign) if result.campaign else None, user_errors=[])


async def campaign_by_code(info: Info, code: str) -> Campaign | None:
    row = await campaigns.campaign_for(info.context.db, await info.context.viewer(), code)
    return Campaign.of(row) if row else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "Campaign": campaign_by_code,
    "Creative": creative_by_code,
    "Promotion": promotion_by_code,
}


@strawberry.type
class MarketingQuery:
    @strawberry.field(
        extensions=guarded(),
        description="Marketing staff see every promotion; a RESELLER_ADMIN its stores' ones and the hub-wide "
        "ones (read-only). With `storeSlug`: that store's promotions and the hub-wide ones.",
    )
    async def promotions(self, info: Info, store_slug: str | None = None) -> list[Promotion]:
        rows = await promotions.promotions_list(info.context.db, await info.context.viewer(), store_slug)
        return [Promotion.of(r) for r in rows]

    @strawberry.field(
        extensions=guarded(),
        description="Marketing staff see every campaign, a RESELLER_ADMIN its stores' ones; newest first.",
    )
    async def campaigns(self, info: Info) -> list[Campaign]:
        rows = await campaigns.campaigns_list(info.context.db, await info.context.viewer())
        return [Campaign.of(r) for r in rows]

    @strawberry.field(
        extensions=guarded(), description="Null when there is none, or it is another reseller's."
    )
    async def campaign(self, info: Info, code: str) -> Campaign | None:
        return await campaign_by_code(info, code)

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
        description="A DRAFT campaign of one store: marketing staff for any store, a RESELLER_ADMIN for its own.",
    )
    async def create_campaign(self, info: Info, input: CampaignInput) -> CampaignPayload:
        viewer = await info.context.viewer()
        data = campaigns.CampaignData(
            code=input.code,
            name=input.name,
            store_slug=input.store_slug,
            subject=input.subject,
            body=input.body,
            landing_path="/" if input.landing_path is None else input.landing_path,
        )
        result = await run_checked(info, lambda unit: campaigns.create_campaign(unit.session, viewer, data))
        return CampaignPayload.of(result)

    @strawberry.mutation(
        extensions=guarded(),
        description="Starts sending; the campaign is SENT once every message was tried. One e-mail per "
        "recipient goes on the outbox in this call's transaction; it answers at once with SENDING.",
    )
    async def send_campaign(self, info: Info, code: str) -> CampaignPayload:
        viewer = await info.context.viewer()
        settings = info.context.settings
        result = await run_checked(
            info,
            lambda unit: campaigns.send_campaign(
                unit.session,
                viewer,
                code,
                public_url=settings.public_url,
                secret=settings.secret_key.get_secret_value(),
            ),
        )
        return CampaignPayload.of(result)

    @strawberry.mutation(
        extensions=guarded(),
        description="Creates or updates a promotion by code: marketing staff hub-wide and for any store, a "
        "RESELLER_ADMIN for its own stores. Bad input is a userError and nothing is written.",
    )
    async def upsert_promotion(self, info: Info, input: PromotionInput) -> PromotionPayload:
        viewer = await info.context.viewer()
        data = input.data()
        result = await run_checked(info, lambda unit: promotions.upsert_promotion(unit.session, viewer, data))
        if result.errors:
            return PromotionPayload(promotion=None, user_errors=UserError.all(result.errors.errors))
        return PromotionPayload(
            promotion=Promotion.of(result.promotion) if result.promotion else None, user_errors=[]
        )

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
