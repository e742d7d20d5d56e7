"""The sample quotes: price lists for the sample distributors' services, and a few quote requests.

Price lists go to `sample-data/<distributor>.csv` (read by `hub sample-distributor
--price-list`), derived from the sample catalog's list prices with a per-distributor
discount, so the two live distributors are each cheapest on some products. The
sample requests are stored without live answers (the services need not run while
seeding); once they run, `refreshQuotes` asks them (README, "Live quotes").
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Product, ProductGroup, ProductGroupMember, ProductPrice
from datasources.money import from_minor, round_half_up
from datasources.partners.models import Distributor, Reseller
from datasources.quotes.contract import OfferedLine
from datasources.quotes.writes import QuoteAnswer, insert_request, mark_quoted, store_answer

SEED = 20261127
SAMPLE_DATA = Path("sample-data")
# distributor code: (lowest and highest share of the list price, share of products stocked)
LIVE_PRICE_LISTS = {
    "northwind": (Decimal("0.78"), Decimal("0.96"), 0.9),
    "eastline": (Decimal("0.80"), Decimal("0.94"), 0.8),
}


async def seed(session_factory: async_sessionmaker[AsyncSession], report) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session, session.begin():
        prices = (
            await session.execute(
                select(Product.sku, ProductPrice.currency, ProductPrice.amount_minor)
                .join(ProductPrice, ProductPrice.product_id == Product.id)
                .where(Product.status == "ACTIVE")
                .order_by(Product.sku, ProductPrice.currency)
            )
        ).all()
        for code in LIVE_PRICE_LISTS:
            path = write_price_list(code, prices)
            report(f"price list of {code}: {path} ({len(prices)} rows)")
        await _sample_requests(session, report)


def write_price_list(code: str, prices: list, folder: Path = SAMPLE_DATA) -> Path:  # type: ignore[type-arg]
    """CSV rows sku,currency,unit_price,stock,lead_time_days,breaks from (sku, currency, list price minor)."""
    low, high, stocked = LIVE_PRICE_LISTS[code]
    rng = random.Random(f"{SEED}-{code}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "currency", "unit_price", "stock", "lead_time_days", "breaks"])
        for sku, currency, amount_minor in prices:
            share = low + (high - low) * Decimal(str(round(rng.random(), 3)))
            unit = round_half_up(from_minor(amount_minor, currency) * share, currency)
            stock = rng.randint(1, 500) if rng.random() < stocked else 0
            bulk = round_half_up(unit * Decimal("0.93"), currency)
            writer.writerow([sku, currency, unit, stock, rng.randint(1, 14), f"25:{bulk}"])
    return path


async def _sample_requests(session: AsyncSession, report) -> None:  # type: ignore[no-untyped-def]
    resellers = dict((await session.execute(select(Reseller.code, Reseller.id))).all())
    distributors = dict((await session.execute(select(Distributor.code, Distributor.id))).all())
    if "brightbuild" not in resellers or not {"northwind", "eastline", "southgate"} <= set(distributors):
        report("quotes: the sample partners are missing, no sample quote request written")
        return
    skus = list(
        await session.scalars(
            select(Product.sku).where(Product.status == "ACTIVE").order_by(Product.sku).limit(8)
        )
    )
    group_skus = (
        list(
            await session.scalars(
                select(Product.sku)
                .join(ProductGroupMember, ProductGroupMember.product_id == Product.id)
                .join(ProductGroup, ProductGroup.id == ProductGroupMember.group_id)
                .where(Product.status == "ACTIVE")
                .order_by(ProductGroup.code, Product.sku)
                .limit(5)
            )
        )
        or skus[:5]
    )
    now = datetime.now(UTC)
    first = await insert_request(
        session,
        reseller_id=resellers["brightbuild"],
        user_id=None,
        currency="USD",
        items=[(sku, 10 + 5 * i) for i, sku in enumerate(skus)],
        distributor_ids=[distributors[c] for c in ("northwind", "eastline", "southgate")],
        now=now,
        expires_at=now + timedelta(days=3),
    )
    # Southgate has no live service: its rep typed an answer in the hub (a MANUAL quote), about 12% off list.
    list_prices = dict(
        (
            await session.execute(
                select(Product.sku, ProductPrice.amount_minor)
                .join(ProductPrice, ProductPrice.product_id == Product.id)
                .where(Product.sku.in_(skus), ProductPrice.currency == "USD")
            )
        ).all()
    )
    manual = [
        OfferedLine(
            sku=sku,
            quantity=10 + 5 * i,
            unit_price_minor=list_prices.get(sku, 10_000) * 88 // 100 if i % 4 != 3 else None,
            available=i % 4 != 3,
            available_quantity=100 if i % 4 != 3 else 0,
            lead_time_days=7 if i % 4 != 3 else None,
        )
        for i, sku in enumerate(skus)
    ]
    await store_answer(
        session,
        first,
        QuoteAnswer(distributors["southgate"], "OFFERED", "MANUAL", manual, now + timedelta(days=2), None),
        now,
        replaceable=("UNAVAILABLE",),
    )
    await mark_quoted(session, first.id)
    oakhouse = resellers.get("oakhouse")
    if oakhouse is not None:
        await insert_request(
            session,
            reseller_id=oakhouse,
            user_id=None,
            currency="EUR",
            items=[(sku, 30) for sku in group_skus],
            distributor_ids=[distributors["northwind"]],
            now=now,
            expires_at=now + timedelta(days=3),
        )
    report("sample quote requests: brightbuild (3 distributors, southgate answered), oakhouse (northwind)")
