"""Test data for the quote tests, written straight to the database: catalog, partners, links, policy."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from datasources.catalog.models import Category, Product, ProductGroup, ProductGroupMember
from datasources.catalog.rows import search_text_of
from datasources.partners.models import (
    Distributor,
    DistributorCredential,
    HubPolicy,
    Reseller,
    ResellerDistributor,
)
from datasources.partners.queries import default_policy
from hub_graphql.sample_distributor import PriceList, PriceRow
from tests.harness import Hub

CATEGORY = "quote-tools"
GROUP = "quote-kit"


def sku(n: int) -> str:
    return f"Q-{n:04d}"


def price_list(count: int) -> PriceList:
    """USD and EUR prices for Q-0000...; every tenth SKU out of stock; breaks from 10 pieces."""
    rows: dict[tuple[str, str], PriceRow] = {}
    for n in range(count):
        for currency, factor in (("USD", Decimal("1")), ("EUR", Decimal("0.9"))):
            unit = (Decimal(10 + n) * factor).quantize(Decimal("0.01"))
            rows[(sku(n), currency)] = PriceRow(
                sku=sku(n),
                currency=currency,
                unit_price=unit,
                stock=0 if n % 10 == 9 else 100 + n,
                lead_time_days=1 + n % 5,
                breaks=((10, (unit * Decimal("0.95")).quantize(Decimal("0.01"))),),
            )
    return PriceList(rows=rows)


def expected_unit_price(n: int, quantity: int, currency: str = "USD") -> Decimal:
    return price_list(n + 1).rows[(sku(n), currency)].price_for(quantity)


async def make_catalog(hub: Hub, count: int, *, group_size: int = 0) -> None:
    """Products Q-0000.. (ACTIVE) in one category; the first `group_size` of them also in one group."""
    async with hub.resources.session_factory() as session, session.begin():
        category = Category(code=CATEGORY, name="Quote tools", path="/", depth=0)
        session.add(category)
        await session.flush()
        category.path = f"/{category.id}/"
        products = [
            Product(
                sku=sku(n),
                name=f"Quote tool {n}",
                status="ACTIVE",
                category_id=category.id,
                search_text=search_text_of(sku(n), f"Quote tool {n}", None),
            )
            for n in range(count)
        ]
        session.add_all(products)
        group = ProductGroup(code=GROUP, name="Quote kit")
        session.add(group)
        await session.flush()
        session.add_all(ProductGroupMember(group_id=group.id, product_id=p.id) for p in products[:group_size])


async def make_reseller(hub: Hub, code: str, status: str = "APPROVED") -> int:
    async with hub.resources.session_factory() as session, session.begin():
        reseller = Reseller(
            code=code, name=f"Reseller {code}", status=status, contact_email=f"{code}@test.example"
        )
        session.add(reseller)
        await session.flush()
        return reseller.id


async def make_distributor(
    hub: Hub,
    code: str,
    endpoint: str | None,
    *,
    transport: str = "REST_JSON",
    status: str = "APPROVED",
    credential: tuple[str, str] | None = None,
    resellers: tuple[int, ...] = (),
) -> int:
    async with hub.resources.session_factory() as session, session.begin():
        distributor = Distributor(
            code=code,
            name=f"Distributor {code}",
            status=status,
            regions=[],
            quote_transport=transport,
            quote_endpoint=endpoint,
        )
        session.add(distributor)
        await session.flush()
        if credential is not None:
            session.add(
                DistributorCredential(
                    distributor_id=distributor.id, header_name=credential[0], header_value=credential[1]
                )
            )
        session.add_all(ResellerDistributor(reseller_id=r, distributor_id=distributor.id) for r in resellers)
        return distributor.id


async def set_endpoint(hub: Hub, distributor_id: int, endpoint: str) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        await session.execute(
            update(Distributor).where(Distributor.id == distributor_id).values(quote_endpoint=endpoint)
        )


async def set_policy(
    hub: Hub, *, timeout_ms: int = 1500, cache_seconds: int = 0, validity_hours: int = 72
) -> None:
    async with hub.resources.session_factory() as session, session.begin():
        policy: HubPolicy = default_policy()
        policy.live_quote_timeout_ms = timeout_ms
        policy.live_quote_cache_seconds = cache_seconds
        policy.quote_validity_hours = validity_hours
        await session.merge(policy)  # the one row, made or replaced


async def quote_world(hub: Hub, world: object) -> None:
    """For the permission cases: product P-ONE, and quote request 1 of R-APPROVED (to D-ONE and D-TWO)
    holding quote 1, D-TWO's OFFERED manual answer. Builds on tests/partners_factory.py partner_world."""
    from datetime import UTC, datetime, timedelta

    from datasources.quotes.models import (
        DistributorQuote,
        DistributorQuoteLine,
        QuoteRequest,
        QuoteRequestDistributor,
        QuoteRequestItem,
    )

    resellers: dict[str, int] = world.resellers  # type: ignore[attr-defined]
    distributors: dict[str, int] = world.distributors  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    async with hub.resources.session_factory() as session, session.begin():
        session.add(Product(sku="P-ONE", name="P one", status="ACTIVE", search_text="p-one p one"))
        request = QuoteRequest(
            reseller_id=resellers["R-APPROVED"],
            status="QUOTED",
            currency="USD",
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        session.add(request)
        await session.flush()
        session.add(QuoteRequestItem(request_id=request.id, position=0, sku="P-ONE", quantity=1))
        session.add_all(
            QuoteRequestDistributor(request_id=request.id, distributor_id=distributors[code])
            for code in ("D-ONE", "D-TWO")
        )
        quote = DistributorQuote(
            request_id=request.id,
            distributor_id=distributors["D-TWO"],
            status="OFFERED",
            source="MANUAL",
            currency="USD",
            total_minor=500,
            valid_until=now + timedelta(days=1),
            answered_at=now,
        )
        session.add(quote)
        await session.flush()
        session.add(
            DistributorQuoteLine(
                quote_id=quote.id, position=0, sku="P-ONE", quantity=1, unit_price_minor=500, available=True
            )
        )
