"""The sample order history: a year of plausible orders in each sample store, up to the moment of seeding.

Written through the same bulk writer as `hub orders import` (`datasources.orders.history`), so
reports and forecasts have something to show from the first start. Made by `sample_orders`, a
pure function of the stores, the seed's "now" and a fixed random seed: the same inputs give the
same orders. What shapes it (docs/orders.md, "How the sample history is made"):

- a weekly rhythm: trade customers order on weekdays, far less at weekends;
- a yearly rhythm: a building season peaking in early June, a low in early December;
- an upward trend: about 80 % more orders a day at the end of the year than at its start
  (stronger than the yearly swing, so the last quarter outsells the first whatever the date);
- a few products sell far more than the rest (Zipf-like popularity per store);
- repeat customers (a few order often), some of whom type their e-mail with other capitals
  now and then, and about 40 % who opted in to marketing;
- about 3 % of orders cancelled within a day; the rest fulfilled one to three days after they
  were placed, or still PLACED when that is still to come.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog.models import Product
from datasources.db import WRITE_TRANSACTION
from datasources.numbers import ALPHABET, RANDOM_CHARACTERS
from datasources.orders.history import write_orders
from datasources.orders.rows import HistoricalLine, HistoricalOrder, ShippingAddress
from datasources.partners.models import Reseller
from datasources.partners.queries import hub_policy_for_update
from datasources.stores.models import Store
from datasources.stores.queries import store_products

SEED = 20261127
DAYS = 365
POPULAR_PRODUCTS = 40
CUSTOMERS_PER_STORE = 700
CANCELLED_SHARE = 0.03
ORDERS_PER_DAY = {"brightbuild": 16.0, "oakhouse": 10.0}
"""Orders on an average weekday at the start of the year, per reseller (others: the last one's)."""
WEEKDAY_FACTORS = (1.10, 1.15, 1.10, 1.05, 1.00, 0.60, 0.35)
"""Monday to Sunday."""
YEARLY_AMPLITUDE = 0.15
YEARLY_PEAK_DAY = 160
"""Day of the year with the most orders (early June)."""
TREND_GROWTH = 0.80
"""Growth of the daily orders over the year (0.8: 80 % more at its end than at its start)."""
HOUR_WEIGHTS = {
    7: 3,
    8: 6,
    9: 9,
    10: 10,
    11: 9,
    12: 7,
    13: 8,
    14: 9,
    15: 8,
    16: 7,
    17: 5,
    18: 4,
    19: 3,
    20: 2,
}
CANCEL_REASONS = (
    "Customer asked to cancel",
    "Ordered twice by mistake",
    "Out of stock at the warehouse",
    "Payment not received",
)

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Elena", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars",
    "Mia", "Noah", "Olga", "Paul", "Rosa", "Sam", "Tara", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Berg", "Costa", "Dahl", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jansen", "Klein", "Lopez",
    "Meyer", "Novak", "Olsen", "Petit", "Quinn", "Rossi", "Smith", "Weber", "Young",
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "mail.example", "builders.example", "post.example")
STREETS = ("High Street", "Mill Lane", "Station Road", "Church Street", "Park Avenue", "Harbour Way")
# Per reseller region: (city, postal code, country)
PLACES = {
    "EU": (("Berlin", "10115", "DE"), ("Hamburg", "20095", "DE"), ("Amsterdam", "1012", "NL"),
           ("Lyon", "69001", "FR"), ("Vienna", "1010", "AT")),
    "UK": (("London", "SW1A 1AA", "GB"), ("Leeds", "LS1 4AP", "GB"), ("Bristol", "BS1 4ST", "GB"),
           ("Glasgow", "G1 1XQ", "GB")),
    "US": (("Austin", "78701", "US"), ("Denver", "80202", "US"), ("Portland", "97201", "US")),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SampleProduct:
    sku: str
    name: str
    """The product's name in the store (its own, or the master's)."""
    price_minor: int


@dataclass(frozen=True, slots=True)
class SampleStore:
    id: int
    reseller_id: int
    reseller_code: str
    region: str
    currency: str
    products: Sequence[SampleProduct]
    """What the store sells, at its prices, in SKU order."""


@dataclass(frozen=True, slots=True)
class _Customer:
    email: str
    email_variant: str | None
    """The same address with other capitals, as the customer sometimes types it."""
    opt_in: bool
    address: ShippingAddress


def day_factor(day: datetime, first_day: datetime) -> float:
    """How many orders a day brings relative to an average weekday at the start of the year."""
    weekly = WEEKDAY_FACTORS[day.weekday()]
    yearly = 1 + YEARLY_AMPLITUDE * math.cos(
        2 * math.pi * (day.timetuple().tm_yday - YEARLY_PEAK_DAY) / 365.25
    )
    trend = 1 + TREND_GROWTH * (day - first_day).days / (DAYS - 1)
    return weekly * yearly * trend


def sample_orders(
    stores: Sequence[SampleStore], now: datetime, payment_methods: Sequence[str], seed: int = SEED
) -> list[HistoricalOrder]:
    """A year of orders in each store, the last day ending at `now`, oldest first per store."""
    numbers: set[str] = set()
    orders: list[HistoricalOrder] = []
    for store in stores:
        if store.products:
            orders.extend(
                _store_orders(
                    store, now, payment_methods, random.Random(f"{seed}-{store.reseller_code}"), numbers
                )
            )
    return orders


def _store_orders(
    store: SampleStore, now: datetime, payment_methods: Sequence[str], rng: random.Random, numbers: set[str]
) -> list[HistoricalOrder]:
    owner = f"owner@{store.reseller_code}.example"
    popular = rng.sample(list(store.products), min(POPULAR_PRODUCTS, len(store.products)))
    popularity = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(popular))))
    customers = [_customer(rng, store.region, n) for n in range(CUSTOMERS_PER_STORE)]
    # A few customers order often, most once or twice.
    loyalty = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(customers))))
    payment_weights = [len(payment_methods) - i for i in range(len(payment_methods))]
    hours, hour_weights = list(HOUR_WEIGHTS), list(itertools.accumulate(HOUR_WEIGHTS.values()))
    base = ORDERS_PER_DAY.get(store.reseller_code, 10.0)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today - timedelta(days=DAYS - 1)
    orders: list[HistoricalOrder] = []
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        for _ in range(_poisson(rng, base * day_factor(day, first_day))):
            placed_at = day + timedelta(
                hours=rng.choices(hours, cum_weights=hour_weights)[0],
                minutes=rng.randrange(60),
                seconds=rng.randrange(60),
            )
            customer = rng.choices(customers, cum_weights=loyalty)[0]
            order = _order(rng, store, placed_at, customer, popular, popularity, numbers)
            order.payment_method = rng.choices(payment_methods, payment_weights)[0]
            if rng.random() < CANCELLED_SHARE:
                order.status = "CANCELLED"
                order.status_at = placed_at + timedelta(minutes=rng.randrange(20, 20 * 60))
                order.status_by = owner
                order.status_reason = rng.choice(CANCEL_REASONS)
            else:
                fulfilled_at = placed_at + timedelta(hours=rng.randrange(20, 72), minutes=rng.randrange(60))
                if fulfilled_at <= now:
                    order.status = "FULFILLED"
                    order.status_at = fulfilled_at
                    order.status_by = owner
            if order.status_at is not None and order.status_at > now:
                order.status, order.status_at, order.status_by, order.status_reason = (
                    "PLACED",
                    None,
                    None,
                    None,
                )
            if placed_at <= now:
                orders.append(order)
    return orders


def _order(
    rng: random.Random,
    store: SampleStore,
    placed_at: datetime,
    customer: _Customer,
    popular: Sequence[SampleProduct],
    popularity: Sequence[float],
    numbers: set[str],
) -> HistoricalOrder:
    wanted = rng.choices((1, 2, 3, 4, 5), (45, 25, 15, 10, 5))[0]
    picked = list(dict.fromkeys(rng.choices(popular, cum_weights=popularity, k=wanted)))
    lines = [
        HistoricalLine(
            product.sku,
            product.name,
            rng.choices((1, 2, 3, 5, 10, 25), (50, 20, 10, 8, 8, 4))[0],
            product.price_minor,
        )
        for product in picked
    ]
    email = customer.email
    if customer.email_variant is not None and rng.random() < 0.4:
        email = customer.email_variant
    return HistoricalOrder(
        number=_number(rng, numbers),
        store_id=store.id,
        reseller_id=store.reseller_id,
        currency=store.currency,
        customer_email=email,
        placed_at=placed_at,
        status="PLACED",
        lines=lines,
        address=customer.address,
        marketing_opt_in=customer.opt_in,
    )


def _customer(rng: random.Random, region: str, serial: int) -> _Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{serial}@{rng.choice(MAIL_DOMAINS)}"
    variant = None
    if rng.random() < 0.15:
        domain = email.split("@")[1]
        variant = f"{first}.{last}{serial}@{domain.capitalize()}" if rng.random() < 0.5 else email.upper()
    city, postal_code, country = rng.choice(PLACES.get(region, PLACES["US"]))
    address = ShippingAddress(
        name=f"{first} {last}",
        line1=f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        line2=None,
        city=city,
        postal_code=postal_code,
        region=None,
        country=country,
    )
    return _Customer(email, variant, rng.random() < 0.4, address)


def _number(rng: random.Random, numbers: set[str]) -> str:
    """An order number like `datasources.numbers.new_number("ORD")`, but from the seeded generator."""
    while True:
        bits = rng.getrandbits(5 * RANDOM_CHARACTERS)
        body = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(RANDOM_CHARACTERS))
        number = f"ORD-{body[0:4]}-{body[4:8]}-{body[8:12]}"
        if number not in numbers:
            numbers.add(number)
            return number


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of a day's orders.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


async def sample_stores(session: AsyncSession) -> list[SampleStore]:
    """The OPEN stores with what each sells at its prices (the overlay applied), in id order."""
    rows = (
        await session.execute(
            select(Store.id, Store.reseller_id, Store.currency, Reseller.code, Reseller.region)
            .join(Reseller, Reseller.id == Store.reseller_id)
            .where(Store.status == "OPEN")
            .order_by(Store.id)
        )
    ).all()
    dialect = session.bind.dialect.name
    stores = []
    for store_id, reseller_id, currency, code, region in rows:
        statement = store_products(None, dialect).order_by(Product.sku)
        products = [
            SampleProduct(row.Product.sku, row.name, row.price_minor)
            for row in await session.execute(statement, {"store_id": store_id})
        ]
        stores.append(SampleStore(store_id, reseller_id, code, region, currency, products))
    return stores


async def seed(
    session_factory: async_sessionmaker[AsyncSession], report, now: datetime | None = None
) -> None:  # type: ignore[no-untyped-def]
    """Write a year of sample orders into the sample stores (after the stores' seeder)."""
    now = now or datetime.now(UTC)
    async with session_factory() as session, session.begin():
        # The writer allocates order ids: SQLite's write lock from the start keeps them free.
        await session.connection(execution_options=WRITE_TRANSACTION)
        stores = await sample_stores(session)
        payment_methods = list((await hub_policy_for_update(session)).payment_methods)
        orders = sample_orders(stores, now, payment_methods)
        await write_orders(session, orders)
    lines = sum(len(order.lines) for order in orders)
    report(f"orders: {len(orders)} sample orders with {lines} lines over the last {DAYS} days")
