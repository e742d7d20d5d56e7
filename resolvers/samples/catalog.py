"""The sample master catalog: about 5,000 tools-and-hardware products in a three-level category tree."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog import writes
from datasources.partners.queries import hub_policy_for_update
from resolvers.catalog import (
    CategoryData,
    ProductData,
    ProductGroupData,
    upsert_categories,
    upsert_product_groups,
    validate_products,
)
from resolvers.errors import UserErrors

SEED = 20261127
PRODUCTS_PER_LEAF = 42

TREE: dict[str, tuple[str, str, dict[str, list[str]]]] = {
    "power-tools": (
        "Power Tools",
        "PT",
        {
            "drills": ["Cordless Drills", "Hammer Drills", "Drill Presses", "Impact Drivers", "Screwdrivers"],
            "saws": ["Circular Saws", "Jigsaws", "Mitre Saws", "Reciprocating Saws", "Band Saws"],
            "sanders": ["Orbital Sanders", "Belt Sanders", "Detail Sanders", "Polishers", "Sheet Sanders"],
            "grinders": [
                "Angle Grinders",
                "Bench Grinders",
                "Die Grinders",
                "Straight Grinders",
                "Cut-off Tools",
            ],
        },
    ),
    "hand-tools": (
        "Hand Tools",
        "HT",
        {
            "wrenches": [
                "Spanners",
                "Adjustable Wrenches",
                "Torque Wrenches",
                "Socket Sets",
                "Pipe Wrenches",
            ],
            "pliers": ["Combination Pliers", "Long-nose Pliers", "Cutters", "Locking Pliers", "Crimpers"],
            "hammers": ["Claw Hammers", "Sledgehammers", "Mallets", "Ball-peen Hammers", "Dead-blow Hammers"],
            "measuring": ["Tape Measures", "Spirit Levels", "Squares", "Calipers", "Laser Measures"],
        },
    ),
    "fasteners": (
        "Fasteners",
        "FA",
        {
            "screws": [
                "Wood Screws",
                "Machine Screws",
                "Drywall Screws",
                "Self-tapping Screws",
                "Deck Screws",
            ],
            "bolts": ["Hex Bolts", "Carriage Bolts", "Anchor Bolts", "Eye Bolts", "U-bolts"],
            "nuts": ["Hex Nuts", "Lock Nuts", "Wing Nuts", "Cap Nuts", "Flange Nuts"],
            "anchors": [
                "Wall Plugs",
                "Toggle Anchors",
                "Sleeve Anchors",
                "Chemical Anchors",
                "Hollow Anchors",
            ],
        },
    ),
    "safety": (
        "Safety",
        "SF",
        {
            "eye": ["Safety Glasses", "Goggles", "Face Shields", "Welding Masks", "Over-glasses"],
            "hand": [
                "Work Gloves",
                "Cut-resistant Gloves",
                "Chemical Gloves",
                "Disposable Gloves",
                "Heat Gloves",
            ],
            "hearing": ["Ear Muffs", "Ear Plugs", "Banded Plugs", "Electronic Muffs", "Helmet Muffs"],
            "head": ["Hard Hats", "Bump Caps", "Climbing Helmets", "Helmet Lamps", "Chin Straps"],
        },
    ),
    "electrical": (
        "Electrical",
        "EL",
        {
            "cable": ["Power Cable", "Flex Cable", "Data Cable", "Armoured Cable", "Speaker Cable"],
            "switches": ["Light Switches", "Dimmers", "Isolators", "Timers", "Motion Sensors"],
            "lighting": ["LED Panels", "Floodlights", "Work Lights", "Bulkheads", "Downlights"],
            "testers": [
                "Multimeters",
                "Voltage Testers",
                "Clamp Meters",
                "Socket Testers",
                "Insulation Testers",
            ],
        },
    ),
    "plumbing": (
        "Plumbing",
        "PL",
        {
            "pipes": ["Copper Pipe", "PEX Pipe", "PVC Pipe", "Waste Pipe", "Flexible Hoses"],
            "fittings": ["Elbows", "Tees", "Couplers", "Reducers", "Compression Fittings"],
            "valves": ["Ball Valves", "Gate Valves", "Check Valves", "Radiator Valves", "Pressure Valves"],
            "sealing": ["PTFE Tape", "Sealants", "O-rings", "Gaskets", "Jointing Compound"],
        },
    ),
}
BRANDS = ["Atlas", "Boreal", "Cobalt", "Dynamo", "Ember", "Forge", "Granite", "Helix"]
QUALIFIERS = ["Pro", "Compact", "Heavy-duty", "XL", "Lite", "Max", "Eco", "Industrial"]
COLORS = ["red", "yellow", "blue", "black", "green", "orange"]
GROUPS = [
    ("spring-promo", "Spring promotion"),
    ("pro-line", "Professional line"),
    ("starter-kits", "Starter kits"),
    ("best-sellers", "Best sellers"),
    ("clearance", "Clearance"),
    ("new-arrivals", "New arrivals"),
    ("trade-only", "Trade only"),
    ("eco-range", "Eco range"),
    ("site-safety", "Site safety essentials"),
    ("install-bundle", "Installer bundle"),
    ("bulk-packs", "Bulk packs"),
    ("gift-ideas", "Gift ideas"),
]


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def sample_categories() -> list[CategoryData]:
    rows: list[CategoryData] = []
    for root_code, (root_name, _prefix, subs) in TREE.items():
        rows.append(CategoryData(root_code, root_name))
        for sub_code, leaves in subs.items():
            sub_full = f"{root_code}-{sub_code}"
            rows.append(CategoryData(sub_full, sub_code.capitalize(), root_code))
            rows.extend(CategoryData(f"{sub_full}-{_slug(leaf)}", leaf, sub_full) for leaf in leaves)
    return rows


def sample_products() -> list[ProductData]:
    rng = random.Random(SEED)
    rows: list[ProductData] = []
    for root_code, (_root_name, prefix, subs) in TREE.items():
        number = 0
        for sub_code, leaves in subs.items():
            for leaf in leaves:
                leaf_code = f"{root_code}-{sub_code}-{_slug(leaf)}"
                for _ in range(PRODUCTS_PER_LEAF):
                    number += 1
                    brand, qualifier = rng.choice(BRANDS), rng.choice(QUALIFIERS)
                    noun = leaf.rstrip("s") if leaf.endswith("s") else leaf
                    usd = Decimal(rng.randrange(199, 49999)) / 100
                    eur = (usd * Decimal("0.92")).quantize(Decimal("0.01"))
                    status = "ACTIVE" if number % 37 else ("DISCONTINUED" if number % 2 else "DRAFT")
                    groups = [code for code, _ in GROUPS if rng.random() < 0.06]
                    rows.append(
                        ProductData(
                            sku=f"{prefix}-{number:04d}",
                            name=f"{brand} {qualifier} {noun}",
                            description=f"{brand} {noun.lower()} for trade and home use, {qualifier.lower()} model.",
                            status=status,
                            category_code=leaf_code,
                            group_codes=groups,
                            list_prices=[("USD", usd), ("EUR", eur)],
                            attributes=[
                                ("brand", brand),
                                ("color", rng.choice(COLORS)),
                                ("weight_kg", f"{rng.uniform(0.1, 12):.1f}"),
                            ],
                        )
                    )
    return rows


async def seed(session_factory: async_sessionmaker[AsyncSession], report) -> None:  # type: ignore[no-untyped-def]
    async with session_factory() as session, session.begin():
        await _seed(session)
    report(
        f"catalog: {len(sample_categories())} categories, {len(sample_products())} products, "
        f"{len(GROUPS)} product groups"
    )


async def _seed(session: AsyncSession) -> None:
    result = await upsert_categories(session, sample_categories())
    _check(result.errors)
    result = await upsert_product_groups(session, [ProductGroupData(code, name) for code, name in GROUPS])
    _check(result.errors)
    currencies = list((await hub_policy_for_update(session)).currencies)
    products = sample_products()
    for start in range(0, len(products), 1000):
        product_writes, errors = await validate_products(session, products[start : start + 1000], currencies)
        _check(errors)
        await writes.upsert_products(session, [w for w in product_writes if w is not None])


def _check(errors: UserErrors) -> None:
    if errors:
        raise RuntimeError(f"the sample catalog is inconsistent: {errors.errors}")
