"""GraphQL types, queries and mutations of Commerce Plaza purchase orders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum

import strawberry

from datasources.plaza import models
from hub_graphql.mutations import run_checked
from hub_graphql.permissions import guarded
from hub_graphql.types.common import Info, Money, Node, PageInfo, UserError, global_id
from hub_graphql.types.partners import Distributor, Reseller
from resolvers import plaza


@strawberry.enum
class PurchaseOrderStatus(Enum):
    SUBMITTED = strawberry.enum_value(
        "SUBMITTED",
        description="Stored by the hub; being sent to a live distributor, or waiting in a manual "
        "distributor's proxy store.",
    )
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


@strawberry.type
class PurchaseOrderLine:
    sku: str
    quantity: int
    unit_price: Money
    total: Money


@strawberry.type(
    description="What a submitted plaza cart becomes: one order to each distributor, at the prices of the "
    "accepted quotes."
)
class PurchaseOrder(Node):
    id: strawberry.ID
    number: str
    status: PurchaseOrderStatus
    currency: str
    total: Money
    submitted_at: datetime
    distributor_reference: str | None = strawberry.field(
        description="The distributor's own reference, once it confirmed."
    )
    reason: str | None = strawberry.field(description="Why the distributor rejected it.")
    delivery_attempts: int = strawberry.field(description="Delivery attempts to a live distributor so far.")
    row: strawberry.Private[models.PurchaseOrder]

    @classmethod
    def of(cls, row: models.PurchaseOrder) -> PurchaseOrder:
        return cls(
            id=global_id("PurchaseOrder", row.id),
            number=row.number,
            status=PurchaseOrderStatus(row.status),
            currency=row.currency,
            total=Money.of_minor(row.total_minor, row.currency),
            submitted_at=plaza.as_utc(row.submitted_at) or plaza.utcnow(),
            distributor_reference=row.distributor_reference,
            reason=row.reason,
            delivery_attempts=row.delivery_attempts,
            row=row,
        )

    @strawberry.field
    async def reseller(self, info: Info) -> Reseller:
        row = await info.context.loaders.partners.reseller_by_id.load(self.row.reseller_id)
        return Reseller.of(row)

    @strawberry.field
    async def distributor(self, info: Info) -> Distributor:
        row = await info.context.loaders.partners.distributor_by_id.load(self.row.distributor_id)
        return Distributor.of(row)

    @strawberry.field
    async def lines(self, info: Info) -> list[PurchaseOrderLine]:
        rows = await info.context.loaders.plaza.lines_by_purchase_order_id.load(self.row.id)
        currency = self.row.currency
        return [
            PurchaseOrderLine(
                sku=r.sku,
                quantity=r.quantity,
                unit_price=Money.of_minor(r.unit_price_minor, currency),
                total=Money.of_minor(r.total_minor, currency),
            )
            for r in rows
        ]


@strawberry.type
class PurchaseOrderEdge:
    cursor: str
    node: PurchaseOrder


@strawberry.type
class PurchaseOrderConnection:
    edges: list[PurchaseOrderEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many purchase orders match, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class PurchaseOrdersPayload:
    purchase_orders: list[PurchaseOrder] | None
    user_errors: list[UserError]


@strawberry.type
class PurchaseOrderPayload:
    purchase_order: PurchaseOrder | None
    user_errors: list[UserError]


async def _orders(info: Info, ids: list[int]) -> list[PurchaseOrder]:
    rows = await info.context.loaders.plaza.purchase_order_by_id.load_many(ids)
    return [PurchaseOrder.of(r) for r in rows if r is not None]


async def _order_payload(info: Info, result: plaza.Result) -> PurchaseOrderPayload:
    if result.errors:
        return PurchaseOrderPayload(purchase_order=None, user_errors=UserError.all(result.errors.errors))
    orders = await _orders(info, result.purchase_order_ids)
    return PurchaseOrderPayload(purchase_order=orders[0] if orders else None, user_errors=[])


# ---------------------------------------------------------------- roots


async def _purchase_order_node(info: Info, key: str) -> PurchaseOrder | None:
    if not key.isdigit():
        return None
    row = await plaza.visible_purchase_order_by_id(
        info.context.loaders.plaza, await info.context.viewer(), int(key)
    )
    return PurchaseOrder.of(row) if row else None


NODE_RESOLVERS: dict[str, Callable[[Info, str], Awaitable[Node | None]]] = {
    "PurchaseOrder": _purchase_order_node,
}


@strawberry.type
class PlazaQuery:
    @strawberry.field(
        extensions=guarded(),
        description="A reseller sees its own, a distributor those sent to it, staff all. Newest first.",
    )
    async def purchase_orders(
        self,
        info: Info,
        status: PurchaseOrderStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> PurchaseOrderConnection:
        viewer = await info.context.viewer()
        assert viewer is not None  # the guard lets no anonymous caller through
        wanted = status.value if status else None
        db = info.context.db
        page, scope = await plaza.purchase_orders_page(db, viewer, wanted, first, after)
        return PurchaseOrderConnection(
            edges=[
                PurchaseOrderEdge(cursor=c, node=PurchaseOrder.of(r))
                for c, r in zip(page.cursors, page.items, strict=True)
            ],
            page_info=PageInfo.of(page),
            count=lambda: plaza.purchase_orders_count(db, scope, wanted),
        )

    @strawberry.field(
        extensions=guarded(), description="By number; null when there is none the viewer may see."
    )
    async def purchase_order(self, info: Info, number: str) -> PurchaseOrder | None:
        row = await plaza.visible_purchase_order(
            info.context.loaders.plaza, await info.context.viewer(), number.strip()
        )
        return PurchaseOrder.of(row) if row else None


@strawberry.type
class PlazaMutation:
    @strawberry.mutation(
        extensions=guarded(),
        description="One purchase order per distributor; every line's quote must still be valid.",
    )
    async def submit_plaza_cart(self, info: Info) -> PurchaseOrdersPayload:
        viewer = await info.context.viewer()
        assert viewer is not None
        result = await run_checked(info, lambda unit: plaza.submit_cart(unit.session, viewer, plaza.utcnow()))
        if result.errors:
            return PurchaseOrdersPayload(
                purchase_orders=None, user_errors=UserError.all(result.errors.errors)
            )
        return PurchaseOrdersPayload(
            purchase_orders=await _orders(info, result.purchase_order_ids), user_errors=[]
        )

    @strawberry.mutation(
        extensions=guarded(),
        description="A manual distributor's answer to a purchase order, in its proxy store.",
    )
    async def confirm_purchase_order(
        self, info: Info, number: str, distributor_reference: str | None = None
    ) -> PurchaseOrderPayload:
        viewer = await info.context.viewer()
        assert viewer is not None
        result = await run_checked(
            info,
            lambda unit: plaza.answer(
                unit.session,
                viewer,
                number.strip(),
                confirmed=True,
                reference=distributor_reference,
                reason=None,
                now=plaza.utcnow(),
            ),
        )
        return await _order_payload(info, result)

    @strawberry.mutation(
        extensions=guarded(),
        description="Rejects a SUBMITTED purchase order in the proxy store; a reason is required.",
    )
    async def reject_purchase_order(self, info: Info, number: str, reason: str) -> PurchaseOrderPayload:
        viewer = await info.context.viewer()
        assert viewer is not None
        result = await run_checked(
            info,
            lambda unit: plaza.answer(
                unit.session,
                viewer,
                number.strip(),
                confirmed=False,
                reference=None,
                reason=reason,
                now=plaza.utcnow(),
            ),
        )
        return await _order_payload(info, result)
