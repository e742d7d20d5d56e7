"""GraphQL types, queries and mutations of the master catalog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog import models
from datasources.catalog.queries import ProductQuery, all_groups, root_categories
from datasources.db import UnitOfWork
from datasources.pagination import Page
from hub_graphql.mutations import run_checked
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Money, Node, PageInfo, UserError, flat_input, global_id
from resolvers import catalog
from resolvers.errors import bad_input
from resolvers.quotes.live import LiveQuoteArguments

if TYPE_CHECKING:
    from hub_graphql.types.quotes import LiveQuote


@strawberry.enum
class ProductStatus(Enum):
    ACTIVE = "ACTIVE"
    DRAFT = "DRAFT"
    DISCONTINUED = "DISCONTINUED"


@strawberry.federation.type(keys=["code"], description="A node of the catalog's category tree.")
class Category(Node):
    id: strawberry.ID
    code: str
    name: str
    row: strawberry.Private[models.Category]

    @classmethod
    def of(cls, row: models.Category) -> Category:
        return cls(id=global_id("Category", row.code), code=row.code, name=row.name, row=row)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Category | None:
        row = await info.context.loaders.catalog.category_by_code.load(code)
        return cls.of(row) if row else None

    @strawberry.field
    async def parent(self, info: Info) -> Category | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.catalog.category_by_id.load(self.row.parent_id)
        return Category.of(row) if row else None

    @strawberry.field
    async def children(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.catalog.categories_by_parent_id.load(self.row.id)
        return [Category.of(r) for r in rows]

    @strawberry.field(description="Products of this category and of all categories below it.")
    async def products(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> ProductConnection:
        query = catalog.product_query(await info.context.viewer(), None, category_code=self.code)
        return await ProductConnection.load(info, query, first, after)


@strawberry.federation.type(
    keys=["code"], description="A named group of products that partners can quote and price together."
)
class ProductGroup(Node):
    id: strawberry.ID
    code: str
    name: str

    @classmethod
    def of(cls, row: models.ProductGroup) -> ProductGroup:
        return cls(id=global_id("ProductGroup", row.code), code=row.code, name=row.name)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> ProductGroup | None:
        row = await info.context.loaders.catalog.group_by_code.load(code)
        return cls.of(row) if row else None

    @strawberry.field
    async def products(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> ProductConnection:
        query = catalog.product_query(await info.context.viewer(), None, group_code=self.code)
        return await ProductConnection.load(info, query, first, after)


@strawberry.type
class ProductAttribute:
    name: str
    value: str


@strawberry.federation.type(keys=["sku"], description="A product of the manufacturer's master catalog.")
class Product(Node):
    id: strawberry.ID
    sku: str
    name: str
    description: str | None
    status: ProductStatus
    row: strawberry.Private[models.Product]

    @classmethod
    def of(cls, row: models.Product) -> Product:
        return cls(
            id=global_id("Product", row.sku),
            sku=row.sku,
            name=row.name,
            description=row.description,
            status=ProductStatus(row.status),
            row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, sku: str) -> Product | None:
        row = await info.context.loaders.catalog.product_by_sku.load(sku)
        return cls.of(row) if catalog.is_visible(row, await info.context.viewer()) else None

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.row.category_id is None:
            return None
        row = await info.context.loaders.catalog.category_by_id.load(self.row.category_id)
        return Category.of(row) if row else None

    @strawberry.field
    async def groups(self, info: Info) -> list[ProductGroup]:
        rows = await info.context.loaders.catalog.groups_by_product_id.load(self.row.id)
        return [ProductGroup.of(r) for r in rows]

    @strawberry.field
    async def attributes(self, info: Info) -> list[ProductAttribute]:
        rows = await info.context.loaders.catalog.attributes_by_product_id.load(self.row.id)
        return [ProductAttribute(name=r.name, value=r.value) for r in rows]

    @strawberry.field(
        description="The manufacturer's list price; the hub's default currency when none is named; "
        "null where none is set."
    )
    async def list_price(self, info: Info, currency: str | None = None) -> Money | None:
        wanted = currency or (await info.context.policy()).default_currency
        prices = await info.context.loaders.catalog.prices_by_product_id.load(self.row.id)
        for price in prices:
            if price.currency == wanted:
                return Money.of_minor(price.amount_minor, wanted)
        return None

    @strawberry.field(
        extensions=guarded(),
        description="Live offers, asked of the distributors' quote services when this field is read. "
        "A distributor that gives none adds a DISTRIBUTOR_UNAVAILABLE error (with its code and the reason) "
        "while the others' offers still come back.",
    )
    async def live_quotes(
        self,
        info: Info,
        quantity: int,
        currency: str | None = None,
        distributor_codes: list[str] | None = None,
    ) -> list[Annotated[LiveQuote, strawberry.lazy("hub_graphql.types.quotes")]]:
        from hub_graphql.types.quotes import live_quotes_of  # the quotes types build on this module

        codes = None if distributor_codes is None else tuple(distributor_codes)
        return await live_quotes_of(info, self.sku, LiveQuoteArguments(quantity, currency, codes))


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many products match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    async def load(
        cls, info: Info, query: ProductQuery, first: int | None, after: str | None
    ) -> ProductConnection:
        from hub_graphql.types.quotes import look_ahead_live_quotes  # the quotes types build on this one

        db = info.context.db
        live_quotes = look_ahead_live_quotes(info)
        page: Page[models.Product] = await catalog.products_page(db, query, first, after)
        if live_quotes is not None and page.items:
            await live_quotes.ask([p.sku for p in page.items])
        return cls(
            edges=[
                ProductEdge(cursor=c, node=Product.of(p))
                for c, p in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: catalog.products_count(db, query),
        )


@strawberry.input
class ProductFilter:
    search: str | None = strawberry.field(
        default=None, description="Matches SKU, name and description, case-insensitively."
    )
    category_code: str | None = strawberry.field(
        default=None, description="The category and all categories below it."
    )
    group_code: str | None = None
    skus: list[str] | None = None
    status: ProductStatus | None = None

    def data(self) -> catalog.ProductFilterData:
        return catalog.ProductFilterData(
            search=self.search,
            category_code=self.category_code,
            group_code=self.group_code,
            skus=self.skus,
            status=self.status.value if self.status else None,
        )


@flat_input
@strawberry.input
class CategoryInput:
    code: str
    name: str
    parent_code: str | None = None


@flat_input
@strawberry.input
class PriceInput:
    currency: str
    amount: Decimal


@flat_input
@strawberry.input
class AttributeInput:
    name: str
    value: str


@strawberry.input(
    description="A product to create, or to update by SKU. A list left out keeps what is stored."
)
class ProductInput:
    sku: str
    name: str
    description: str | None = None
    status: ProductStatus | None = ProductStatus.ACTIVE
    category_code: str | None = None
    group_codes: list[str] | None = None
    list_prices: list[PriceInput] | None = None
    attributes: list[AttributeInput] | None = None

    def data(self) -> catalog.ProductData:
        return catalog.ProductData(
            sku=self.sku,
            name=self.name,
            description=self.description,
            status=(self.status or ProductStatus.ACTIVE).value,
            category_code=self.category_code,
            group_codes=self.group_codes,
            list_prices=[(p.currency, p.amount) for p in self.list_prices]
            if self.list_prices is not None
            else None,
            attributes=[(a.name, a.value) for a in self.attributes] if self.attributes is not None else None,
        )


@strawberry.input
class ProductGroupInput:
    code: str
    name: str
    skus: list[str] | None = None


@strawberry.type
class UpsertCategoriesPayload:
    categories: list[Category] | None
    user_errors: list[UserError]


@strawberry.type
class UpsertProductsPayload:
    products: list[Product] | None
    user_errors: list[UserError]


@strawberry.type
class UpsertProductGroupsPayload:
    product_groups: list[ProductGroup] | None
    user_errors: list[UserError]


async def _product_by_sku(info: Info, sku: str) -> Product | None:
    row = await info.context.loaders.catalog.product_by_sku.load(sku)
    return Product.of(row) if catalog.is_visible(row, await info.context.viewer()) else None


async def _category_by_code(info: Info, code: str) -> Category | None:
    row = await info.context.loaders.catalog.category_by_code.load(code)
    return Category.of(row) if row else None


async def _group_by_code(info: Info, code: str) -> ProductGroup | None:
    row = await info.context.loaders.catalog.group_by_code.load(code)
    return ProductGroup.of(row) if row else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "Product": _product_by_sku,
    "Category": _category_by_code,
    "ProductGroup": _group_by_code,
}


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def product(self, info: Info, sku: str) -> Product | None:
        return await _product_by_sku(info, sku)

    @strawberry.field(description="The master catalog in SKU order; `first` is at most 100.")
    async def products(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> ProductConnection:
        query = catalog.product_query(await info.context.viewer(), filter.data() if filter else None)
        return await ProductConnection.load(info, query, first, after)

    @strawberry.field(description="Root categories.")
    async def categories(self, info: Info) -> list[Category]:
        return [Category.of(r) for r in await root_categories(info.context.db)]

    @strawberry.field
    async def category(self, info: Info, code: str) -> Category | None:
        return await _category_by_code(info, code)

    @strawberry.field
    async def product_groups(self, info: Info) -> list[ProductGroup]:
        return [ProductGroup.of(r) for r in await all_groups(info.context.db)]


def _input_list(items: list[object], name: str) -> None:
    if len(items) > catalog.MAX_UPSERT_ROWS:
        raise bad_input(f"`{name}` may hold at most {catalog.MAX_UPSERT_ROWS} rows per call.")


async def _upsert(
    info: Info, action: Callable[[AsyncSession], Awaitable[catalog.UpsertResult]], model: type, key: str
) -> tuple[list[UserError], list | None]:
    """Run a catalog upsert; answers (userErrors, the rows it wrote, or None when it wrote nothing)."""

    async def work(unit: UnitOfWork) -> catalog.UpsertResult:
        result = await action(unit.session)
        if not result.errors:
            result.rows = await catalog.rows_by_codes(unit.session, model, key, result.codes)
        return result

    result = await run_checked(info, work)
    return (UserError.all(result.errors.errors), None) if result.errors else ([], result.rows)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(extensions=guarded(), description="Create or update categories by code; atomic.")
    async def upsert_categories(self, info: Info, input: list[CategoryInput]) -> UpsertCategoriesPayload:
        _input_list(input, "input")
        rows = [catalog.CategoryData(code=i.code, name=i.name, parent_code=i.parent_code) for i in input]
        errors, saved = await _upsert(
            info, lambda s: catalog.upsert_categories(s, rows), models.Category, "code"
        )
        return UpsertCategoriesPayload(
            categories=None if saved is None else [Category.of(r) for r in saved], user_errors=errors
        )

    @strawberry.mutation(extensions=guarded(), description="Create or update products by SKU; atomic.")
    async def upsert_products(self, info: Info, input: list[ProductInput]) -> UpsertProductsPayload:
        _input_list(input, "input")
        currencies = list((await info.context.policy()).currencies)
        rows = [i.data() for i in input]
        errors, saved = await _upsert(
            info, lambda s: catalog.upsert_products(s, rows, currencies), models.Product, "sku"
        )
        return UpsertProductsPayload(
            products=None if saved is None else [Product.of(r) for r in saved], user_errors=errors
        )

    @strawberry.mutation(extensions=guarded(), description="Create or update product groups by code; atomic.")
    async def upsert_product_groups(
        self, info: Info, input: list[ProductGroupInput]
    ) -> UpsertProductGroupsPayload:
        _input_list(input, "input")
        rows = [catalog.ProductGroupData(code=i.code, name=i.name, skus=i.skus) for i in input]
        errors, saved = await _upsert(
            info, lambda s: catalog.upsert_product_groups(s, rows), models.ProductGroup, "code"
        )
        return UpsertProductGroupsPayload(
            product_groups=None if saved is None else [ProductGroup.of(r) for r in saved], user_errors=errors
        )
