"""Reads of quote requests and quotes, and who can be asked for live quotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.catalog.models import Product, ProductGroup, ProductGroupMember
from datasources.catalog.queries import category_subtree_ids
from datasources.db import RequestDatabase
from datasources.loading import chunks
from datasources.partners.models import Distributor, DistributorCredential, ResellerDistributor
from datasources.quotes.clients import LIVE_TRANSPORTS, Endpoint
from datasources.quotes.models import QuoteRequest, QuoteRequestDistributor


async def live_endpoints(db: RequestDatabase, distributor_ids: Sequence[int]) -> dict[int, Endpoint]:
    """The endpoints (with credentials) of those distributors that are APPROVED and have a live service."""
    rows = await db.all(
        select(Distributor, DistributorCredential)
        .outerjoin(DistributorCredential, DistributorCredential.distributor_id == Distributor.id)
        .where(
            Distributor.id.in_(distributor_ids),
            Distributor.status == "APPROVED",
            Distributor.quote_transport.in_(LIVE_TRANSPORTS),
            Distributor.quote_endpoint.is_not(None),
        )
    )
    return {
        d.id: Endpoint(
            distributor_id=d.id,
            code=d.code,
            transport=d.quote_transport,
            url=d.quote_endpoint,
            headers=((c.header_name, c.header_value),) if c is not None else (),
        )
        for d, c in rows
    }


async def askable_distributors(
    db: RequestDatabase, reseller_ids: Sequence[int]
) -> list[tuple[int, Distributor]]:
    """(reseller id, distributor) for the APPROVED distributors connected to each reseller; id 0 is staff: all."""
    pairs: list[tuple[int, Distributor]] = []
    real = [r for r in reseller_ids if r]
    if real:
        rows = await db.all(
            select(ResellerDistributor.reseller_id, Distributor)
            .join(Distributor, Distributor.id == ResellerDistributor.distributor_id)
            .where(ResellerDistributor.reseller_id.in_(real), Distributor.status == "APPROVED")
            .order_by(Distributor.code)
        )
        pairs.extend((r, d) for r, d in rows)
    if 0 in reseller_ids:
        rows = await db.scalars(
            select(Distributor).where(Distributor.status == "APPROVED").order_by(Distributor.code)
        )
        pairs.extend((0, d) for d in rows)
    return pairs


@dataclass(frozen=True)
class RequestScope:
    """Which quote requests a viewer may list: one reseller's, one distributor's, or (staff) all."""

    reseller_id: int | None = None
    distributor_id: int | None = None
    everything: bool = False


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """EXPIRED is not stored: an OPEN or QUOTED request past expires_at reads as EXPIRED."""
    live = or_(QuoteRequest.expires_at.is_(None), QuoteRequest.expires_at > now)
    if status == "EXPIRED":
        return and_(QuoteRequest.status.in_(("OPEN", "QUOTED")), QuoteRequest.expires_at <= now)
    if status in ("OPEN", "QUOTED"):
        return and_(QuoteRequest.status == status, live)
    return QuoteRequest.status == status


def scope_conditions(scope: RequestScope) -> list[ColumnElement[bool]]:
    if scope.everything:
        return []
    conditions: list[ColumnElement[bool]] = []
    if scope.reseller_id is not None:
        conditions.append(QuoteRequest.reseller_id == scope.reseller_id)
    if scope.distributor_id is not None:
        conditions.append(
            exists().where(
                QuoteRequestDistributor.request_id == QuoteRequest.id,
                QuoteRequestDistributor.distributor_id == scope.distributor_id,
            )
        )
    return conditions or [QuoteRequest.id.is_(None)]


async def request_page(
    db: RequestDatabase,
    scope: RequestScope,
    status: str | None,
    now: datetime,
    *,
    limit: int,
    before_id: int | None,
) -> Sequence[QuoteRequest]:
    """Newest first, keyset on id."""
    conditions = scope_conditions(scope)
    if status is not None:
        conditions.append(status_condition(status, now))
    if before_id is not None:
        conditions.append(QuoteRequest.id < before_id)
    return await db.scalars(
        select(QuoteRequest).where(and_(True, *conditions)).order_by(QuoteRequest.id.desc()).limit(limit)
    )


async def count_requests(db: RequestDatabase, scope: RequestScope, status: str | None, now: datetime) -> int:
    conditions = scope_conditions(scope)
    if status is not None:
        conditions.append(status_condition(status, now))
    return await db.scalar(select(func.count()).select_from(QuoteRequest).where(and_(True, *conditions)))


# ---------------------------------------------------------------- inside a unit of work


async def connected_distributors(session: AsyncSession, reseller_id: int) -> list[Distributor]:
    """The APPROVED distributors connected to a reseller, by code."""
    return list(
        await session.scalars(
            select(Distributor)
            .join(ResellerDistributor, ResellerDistributor.distributor_id == Distributor.id)
            .where(ResellerDistributor.reseller_id == reseller_id, Distributor.status == "APPROVED")
            .order_by(Distributor.code)
        )
    )


async def products_by_skus(session: AsyncSession, skus: Sequence[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for part in chunks(list(skus)):
        found.update((p.sku, p) for p in await session.scalars(select(Product).where(Product.sku.in_(part))))
    return found


async def codes_present(session: AsyncSession, model: type, codes: Sequence[str]) -> set[str]:
    if not codes:
        return set()
    return set(await session.scalars(select(model.code).where(model.code.in_(codes))))


async def active_skus_of_category(session: AsyncSession, code: str, limit: int) -> list[str]:
    return list(
        await session.scalars(
            select(Product.sku)
            .where(Product.status == "ACTIVE", Product.category_id.in_(category_subtree_ids(code)))
            .order_by(Product.sku)
            .limit(limit)
        )
    )


async def active_skus_of_group(session: AsyncSession, code: str, limit: int) -> list[str]:
    return list(
        await session.scalars(
            select(Product.sku)
            .join(ProductGroupMember, ProductGroupMember.product_id == Product.id)
            .join(ProductGroup, ProductGroup.id == ProductGroupMember.group_id)
            .where(Product.status == "ACTIVE", ProductGroup.code == code)
            .order_by(Product.sku)
            .limit(limit)
        )
    )
