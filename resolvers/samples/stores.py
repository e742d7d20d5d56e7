"""The sample stores: an OPEN store for each approved sample reseller, each with its own overlay and texts."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Product
from datasources.catalog.queries import category_subtree_ids
from datasources.partners.models import Reseller
from datasources.partners.queries import hub_policy_for_update
from resolvers.access import Viewer
from resolvers.stores import (
    AssortmentData,
    CreateStoreData,
    PriceRuleData,
    StoreResult,
    UpdateStoreData,
    create_store,
    set_assortment,
    set_price_rules,
    set_product_content,
    update_store,
)

SEEDER = Viewer(user_id=0, email="sample@hub.local", roles=frozenset({"SITE_ADMIN"}))

# One profile per store, in turn: what it sells, how it prices, what it says.
PROFILES = [
    {
        "assortment": AssortmentData(
            include_category_codes=["power-tools", "hand-tools"], exclude_group_codes=["trade-only"]
        ),
        "rules": [
            PriceRuleData("ALL", markup_percent=Decimal("12")),
            PriceRuleData("CATEGORY", "power-tools-drills", markup_percent=Decimal("8.5")),
            PriceRuleData("GROUP", "spring-promo", markup_percent=Decimal("-10")),
            PriceRuleData("GROUP", "clearance", markup_percent=Decimal("-25")),
        ],
        "texts": [
            ("welcome", "Tools for every trade, delivered next day."),
            ("terms", "30-day returns on unused tools."),
        ],
    },
    {
        "assortment": AssortmentData(
            include_category_codes=["fasteners", "plumbing"], include_group_codes=["bulk-packs"]
        ),
        "rules": [
            PriceRuleData("ALL", markup_percent=Decimal("20")),
            PriceRuleData("GROUP", "bulk-packs", markup_percent=Decimal("5")),
        ],
        "texts": [("welcome", "Fixings and fittings by the box."), ("shipping", "Free shipping over 100.")],
    },
    {
        "assortment": AssortmentData(
            include_category_codes=["safety", "electrical"], exclude_group_codes=["clearance"]
        ),
        "rules": [
            PriceRuleData("ALL", markup_percent=Decimal("15")),
            PriceRuleData("CATEGORY", "safety", markup_percent=Decimal("5")),
        ],
        "texts": [("welcome", "Site safety and electrical supplies."), ("terms", "Trade accounts only.")],
    },
]


def _check(result: StoreResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"sample stores: {what}: {result.errors.errors}")


async def seed(session_factory: async_sessionmaker[AsyncSession], report) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session, session.begin():
        policy = await hub_policy_for_update(session)
        resellers = (
            await session.scalars(
                select(Reseller).where(Reseller.status == "APPROVED").order_by(Reseller.code)
            )
        ).all()
        opened = []
        for index, reseller in enumerate(resellers):
            profile = PROFILES[index % len(PROFILES)]
            slug = f"{reseller.code}-store"
            _check(
                await create_store(
                    session,
                    SEEDER,
                    CreateStoreData(reseller.code, slug, f"{reseller.name} Store", policy.default_currency),
                    policy,
                ),
                slug,
            )
            _check(await set_assortment(session, SEEDER, slug, profile["assortment"]), slug)  # type: ignore[arg-type]
            rules = list(profile["rules"])  # type: ignore[call-overload]
            # A hand-picked price and a store's own wording for the first products it sells.
            assortment: AssortmentData = profile["assortment"]  # type: ignore[assignment]
            first_skus = (
                await session.scalars(
                    select(Product.sku)
                    .where(
                        Product.status == "ACTIVE",
                        Product.category_id.in_(category_subtree_ids(assortment.include_category_codes[0])),
                    )
                    .order_by(Product.sku)
                    .limit(3)
                )
            ).all()
            if first_skus:
                rules.append(PriceRuleData("SKU", first_skus[0], fixed_price=Decimal("9.99")))
                _check(
                    await set_product_content(
                        session, SEEDER, slug, first_skus[-1], f"{reseller.name} pick", "Chosen by our staff."
                    ),
                    slug,
                )
            _check(await set_price_rules(session, SEEDER, slug, rules), slug)
            _check(
                await update_store(
                    session, SEEDER, slug, UpdateStoreData(status="OPEN", texts=profile["texts"])
                ),  # type: ignore[arg-type]
                slug,
            )
            opened.append(slug)
    report(f"stores: opened {len(opened)} sample stores ({', '.join(opened)})")
