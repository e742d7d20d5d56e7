"""A second federation subgraph for the gateway test: it extends the hub's Product by its key with `stock`."""

from __future__ import annotations

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from hub_graphql.schema import FEDERATION_VERSION


def stock_of(sku: str) -> int:
    """A deterministic stock level, so the test can compute the answer the gateway must give."""
    return sum(sku.encode()) % 97


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: str

    @strawberry.field(description="Units on hand in the warehouse.")
    def stock(self) -> int:
        return stock_of(self.sku)

    @classmethod
    def resolve_reference(cls, sku: str) -> Product:
        return cls(sku=sku)


@strawberry.type
class Query:
    @strawberry.field(
        description="Products the warehouse counts, by SKU; the hub answers their other fields."
    )
    def counted(self, skus: list[str]) -> list[Product]:
        return [Product(sku=sku) for sku in skus]


schema = strawberry.federation.Schema(query=Query, federation_version=FEDERATION_VERSION)
app = Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])])
