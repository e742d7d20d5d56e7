"""GraphQL types, queries and mutations of reseller stores."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum

import strawberry

from datasources.db import UnitOfWork
from datasources.money import from_minor
from datasources.stores import models
from datasources.stores.loaders import PriceRuleRow, StoreProductRow
from datasources.stores.queries import store_root_categories
from hub_graphql.mutations import run_checked
from hub_graphql.permissions import guarded
from hub_graphql.types.catalog import Category, Product, ProductFilter
from hub_graphql.types.common import Info, Money, Node, PageInfo, UserError, global_id
from hub_graphql.types.partners import Reseller
from resolvers import stores
from resolvers.access import can_manage_store
from resolvers.errors import forbidden


@strawberry.enum
class StoreStatus(Enum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@strawberry.enum
class PriceRuleScope(Enum):
    ALL = "ALL"
    CATEGORY = "CATEGORY"
    GROUP = "GROUP"
    SKU = "SKU"


@strawberry.type(
    description="A store's price for the products in a scope. The most specific rule wins: SKU, then "
    "GROUP (the lowest resulting price when several match), then the deepest CATEGORY, then ALL. A fixed "
    "price wins over a markup in the same rule; a markup is a percentage of the list price in the store's "
    "currency, negative for a discount, rounded half-up to the currency's minor unit."
)
class PriceRule:
    scope: PriceRuleScope
    target: str | None = strawberry.field(
        description="A category code, a product group code or a SKU; null for ALL."
    )
    markup_percent: Decimal | None
    fixed_price: Decimal | None

    @classmethod
    def of(cls, row: PriceRuleRow, currency: str) -> PriceRule:
        return cls(
            scope=PriceRuleScope(row.scope),
            target=row.target,
            markup_percent=None
            if row.markup_bp is None
            else (Decimal(row.markup_bp) / 100).quantize(Decimal("0.01")),
            fixed_price=None if row.fixed_minor is None else from_minor(row.fixed_minor, currency),
        )


@strawberry.type
class StoreText:
    key: str
    value: str


@strawberry.type(
    description="A product as one store sells it: the master product seen through the store's overlay."
)
class StoreProduct:
    sku: str
    name: str = strawberry.field(description="The store's name for the product, else the master's.")
    description: str | None = strawberry.field(
        description="The store's description for the product, else the master's."
    )
    price: Money = strawberry.field(description="The store's price, in the store's currency.")
    list_price: Money | None = strawberry.field(
        description="The manufacturer's list price in the store's currency; null where none is set."
    )
    row: strawberry.Private[StoreProductRow]

    @classmethod
    def of(cls, row: StoreProductRow, currency: str) -> StoreProduct:
        return cls(
            sku=row.sku,
            name=row.name,
            description=row.description,
            price=Money.of_minor(row.price_minor, currency),
            list_price=None if row.list_minor is None else Money.of_minor(row.list_minor, currency),
            row=row,
        )

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.row.category_id is None:
            return None
        row = await info.context.loaders.catalog.category_by_id.load(self.row.category_id)
        return Category.of(row) if row else None

    @strawberry.field(description="The master catalog's product.")
    async def product(self, info: Info) -> Product:
        # A store page reads only the columns it shows; the product's row is loaded when asked for.
        row = self.row.product or await info.context.loaders.catalog.product_by_id.load(self.row.product_id)
        return Product.of(row)


@strawberry.type
class StoreProductEdge:
    cursor: str
    node: StoreProduct


@strawberry.type
class StoreProductConnection:
    edges: list[StoreProductEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many products of the store match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.federation.type(
    keys=["slug"],
    description="A reseller's store, hosted by the hub, whose catalog is based on the master catalog.",
)
class Store(Node):
    id: strawberry.ID
    slug: str
    name: str
    status: StoreStatus
    currency: str
    row: strawberry.Private[models.Store]

    @classmethod
    def of(cls, row: models.Store) -> Store:
        return cls(
            id=global_id("Store", row.slug),
            slug=row.slug,
            name=row.name,
            status=StoreStatus(row.status),
            currency=row.currency,
            row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, slug: str) -> Store | None:
        return await store_by_slug(info, slug)

    @strawberry.field
    async def reseller(self, info: Info) -> Reseller:
        row = await info.context.loaders.partners.reseller_by_id.load(self.row.reseller_id)
        return Reseller.of(row)

    @strawberry.field(description="Text on the store pages (welcome text, terms, …), by key.")
    async def texts(self, info: Info) -> list[StoreText]:
        rows = await info.context.loaders.stores.texts_by_store_id.load(self.row.id)
        return [StoreText(key=r.key, value=r.value) for r in rows]

    @strawberry.field(description="One of the store's texts; null when it has none with this key.")
    async def text(self, info: Info, key: str) -> str | None:
        rows = await info.context.loaders.stores.texts_by_store_id.load(self.row.id)
        return next((r.value for r in rows if r.key == key), None)

    @strawberry.field(
        extensions=guarded(),
        description="Shown to those who may change the store: the hub's site administrators and channel "
        "managers, and the store's own reseller.",
    )
    async def price_rules(self, info: Info) -> list[PriceRule]:
        if not can_manage_store(await info.context.viewer(), self.row.reseller_id):
            raise forbidden("Only those who may change this store see its price rules.")
        rows = await info.context.loaders.stores.price_rules_by_store_id.load(self.row.id)
        return [PriceRule.of(r, self.row.currency) for r in rows]

    @strawberry.field(description="Root categories with at least one product in this store's assortment.")
    async def categories(self, info: Info) -> list[Category]:
        return [Category.of(r) for r in await store_root_categories(info.context.db, self.row.id)]

    @strawberry.field(
        description="The store's products in SKU order (only ACTIVE master products with a price in the "
        "store); `first` is at most 100. The search matches the master catalog's SKU, name and description."
    )
    async def products(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> StoreProductConnection:
        db = info.context.db
        query = stores.store_product_query(filter.data() if filter else None)
        page = await stores.store_products_page(db, self.row.id, query, first, after)
        currency = self.row.currency
        return StoreProductConnection(
            edges=[
                StoreProductEdge(cursor=c, node=StoreProduct.of(p, currency))
                for c, p in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: stores.store_products_count(
                db, info.context.resources.store_counts, self.row.id, query
            ),
        )

    @strawberry.field(description="A product as this store sells it; null when the store does not sell it.")
    async def product(self, info: Info, sku: str) -> StoreProduct | None:
        row = await info.context.loaders.stores.store_product.load((self.row.id, sku))
        return StoreProduct.of(row, self.row.currency) if row else None


async def visible_store(info: Info, row: models.Store | None) -> Store | None:
    """The store when the viewer may see it (resolvers.access.can_see_store), else None."""
    if row is None:
        return None
    reseller = await info.context.loaders.partners.reseller_by_id.load(row.reseller_id)
    return Store.of(row) if stores.is_visible(row, reseller, await info.context.viewer()) else None


async def store_by_slug(info: Info, slug: str) -> Store | None:
    return await visible_store(info, await info.context.loaders.stores.store_by_slug.load(slug))


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {"Store": store_by_slug}


@strawberry.input
class CreateStoreInput:
    reseller_code: str
    slug: str = strawberry.field(description="Lower-case letters, digits and hyphens; unique in the hub.")
    name: str
    currency: str | None = strawberry.field(
        default=None, description="One of the hub's currencies; the hub's default when left out."
    )


@strawberry.input
class StoreTextInput:
    key: str
    value: str


@strawberry.input
class UpdateStoreInput:
    name: str | None = None
    status: StoreStatus | None = strawberry.field(
        default=None,
        description="DRAFT may become OPEN or CLOSED; OPEN and CLOSED may swap; none goes back to DRAFT.",
    )
    texts: list[StoreTextInput] | None = strawberry.field(
        default=None, description="Replaces all of the store's texts."
    )


@strawberry.input(
    description="What a store sells. Empty include lists mean the whole master catalog; exclusions are "
    "taken out of what the inclusions give. A category includes everything below it."
)
class AssortmentInput:
    include_category_codes: list[str] | None = None
    include_group_codes: list[str] | None = None
    include_skus: list[str] | None = None
    exclude_category_codes: list[str] | None = None
    exclude_group_codes: list[str] | None = None
    exclude_skus: list[str] | None = None

    def data(self) -> stores.AssortmentData:
        return stores.AssortmentData(
            include_category_codes=list(self.include_category_codes or []),
            include_group_codes=list(self.include_group_codes or []),
            include_skus=list(self.include_skus or []),
            exclude_category_codes=list(self.exclude_category_codes or []),
            exclude_group_codes=list(self.exclude_group_codes or []),
            exclude_skus=list(self.exclude_skus or []),
        )


@strawberry.input(description="Exactly one of markupPercent (above -100) and fixedPrice (zero or more).")
class PriceRuleInput:
    scope: PriceRuleScope
    target: str | None = None
    markup_percent: Decimal | None = None
    fixed_price: Decimal | None = None


@strawberry.input(description="A store's own name and description for a product; null shows the master's.")
class ProductContentInput:
    name: str | None = None
    description: str | None = None


@strawberry.type
class StorePayload:
    store: Store | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, result: stores.StoreResult) -> StorePayload:
        if result.errors:
            return cls(store=None, user_errors=UserError.all(result.errors.errors))
        return cls(store=Store.of(result.store) if result.store else None, user_errors=[])


async def _store_mutation(
    info: Info, action: Callable[[UnitOfWork], Awaitable[stores.StoreResult]]
) -> StorePayload:
    return StorePayload.of(await run_checked(info, action))


@strawberry.type
class StoresQuery:
    @strawberry.field(
        description="An OPEN store for anyone; a DRAFT or CLOSED one for its reseller and the hub's staff."
    )
    async def store(self, info: Info, slug: str) -> Store | None:
        return await store_by_slug(info, slug)


@strawberry.type
class StoresMutation:
    @strawberry.mutation(extensions=guarded(), description="A new DRAFT store of an APPROVED reseller.")
    async def create_store(self, info: Info, input: CreateStoreInput) -> StorePayload:
        viewer = await info.context.viewer()
        policy = await info.context.policy()
        data = stores.CreateStoreData(
            reseller_code=input.reseller_code, slug=input.slug, name=input.name, currency=input.currency
        )
        return await _store_mutation(
            info, lambda unit: stores.create_store(unit.session, viewer, data, policy)
        )

    @strawberry.mutation(
        extensions=guarded(), description="Rename a store, change its status or replace its texts."
    )
    async def update_store(self, info: Info, slug: str, input: UpdateStoreInput) -> StorePayload:
        viewer = await info.context.viewer()
        data = stores.UpdateStoreData(
            name=input.name,
            status=input.status.value if input.status else None,
            texts=[(t.key, t.value) for t in input.texts] if input.texts is not None else None,
        )
        return await _store_mutation(info, lambda unit: stores.update_store(unit.session, viewer, slug, data))

    @strawberry.mutation(extensions=guarded(), description="Replace what the store sells.")
    async def set_store_assortment(self, info: Info, slug: str, input: AssortmentInput) -> StorePayload:
        viewer = await info.context.viewer()
        data = input.data()
        return await _store_mutation(
            info, lambda unit: stores.set_assortment(unit.session, viewer, slug, data)
        )

    @strawberry.mutation(extensions=guarded(), description="Replace the store's price rules.")
    async def set_store_price_rules(self, info: Info, slug: str, rules: list[PriceRuleInput]) -> StorePayload:
        viewer = await info.context.viewer()
        data = [
            stores.PriceRuleData(
                scope=r.scope.value,
                target=r.target,
                markup_percent=r.markup_percent,
                fixed_price=r.fixed_price,
            )
            for r in rules
        ]
        return await _store_mutation(
            info, lambda unit: stores.set_price_rules(unit.session, viewer, slug, data)
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="The store's own name and description for a product; both null goes back to the master's.",
    )
    async def set_store_product_content(
        self, info: Info, slug: str, sku: str, input: ProductContentInput
    ) -> StorePayload:
        viewer = await info.context.viewer()
        return await _store_mutation(
            info,
            lambda unit: stores.set_product_content(
                unit.session, viewer, slug, sku, input.name, input.description
            ),
        )
