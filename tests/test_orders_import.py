"""`hub orders import` and the sample order history: one bulk writer, all or nothing, per-line errors."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import DateTime, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from typer.testing import CliRunner

from datasources.orders.history import _sqlite_time, write_orders
from datasources.orders.models import ORDER_STATUSES, Order
from datasources.orders.rows import STATUSES, HistoricalLine, HistoricalOrder
from datasources.stores.models import StoreProductContent
from hub_graphql.cli import app
from resolvers import orders_import
from resolvers.orders_import import import_orders
from resolvers.orders_reader import EMAIL
from resolvers.samples import seed_sample
from resolvers.samples.orders import DAYS, SampleProduct, SampleStore, sample_orders
from resolvers.users import EMAIL as USER_EMAIL
from tests.harness import Hub
from tests.stores_factory import CatalogSpec, ProductSpec, add_reseller, add_store, load_catalog

HEADER = "number,store_slug,placed_at,customer_email,status,sku,quantity,unit_price,currency\n"
GOOD = (
    HEADER
    # line 2-4: one order of three lines, placed at 09:15 in UTC+01:00
    + "OLD-1001,north-shop,2026-03-02T09:15:00+01:00,Ann.Lee@Example.com,FULFILLED,DR-1,2,129.00,USD\n"
    + "OLD-1001,north-shop,2026-03-02T09:15:00+01:00,Ann.Lee@Example.com,FULFILLED,DR-2,1,59.9,USD\n"
    + "OLD-1001,north-shop,2026-03-02T09:15:00+01:00,Ann.Lee@Example.com,FULFILLED,SAW-1,3,0.99,USD\n"
    # line 5: a cancelled order in the other store, in euros, its fields written a little differently
    + "OLD-1002,south-shop,2026-03-03T14:00:00Z,bob@example.com,cancelled,DR-1,5,119.50,eur\n"
    # line 6-7: an order still open, both rows with the same instant written in two ways
    + "OLD-1003,north-shop,2026-03-04T23:30:00-05:00,ann.lee@example.com,PLACED,DR-2,1,60.00,USD\n"
    + "OLD-1003,north-shop,2026-03-05T04:30:00Z,ANN.LEE@example.com,PLACED,DR-1,1,128,USD\n"
)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads the test's database from HUB_DATABASE_URL, away from any .env file."""
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.chdir("/")


async def hub_import(*args: str) -> Result:
    # The command runs its own event loop: run it in a thread, away from the test's loop.
    return await asyncio.to_thread(CliRunner().invoke, app, ["orders", "import", *args])


async def prepare_stores(hub: Hub) -> dict[str, int]:
    """Two stores (USD and EUR) of two resellers, three products; the USD store names DR-2 its own way."""
    await load_catalog(
        hub,
        CatalogSpec(
            products=[
                ProductSpec("DR-1", name="Cordless drill", prices={"USD": 12900}),
                ProductSpec("DR-2", name="Hammer drill", prices={"USD": 5990}),
                ProductSpec("SAW-1", name="Jigsaw", status="DISCONTINUED"),
            ]
        ),
    )
    north = await add_reseller(hub, "north")
    south = await add_reseller(hub, "south")
    ids = {
        "north": north,
        "south": south,
        "north-shop": await add_store(hub, north, "north-shop"),
        "south-shop": await add_store(hub, south, "south-shop", currency="EUR", status="CLOSED"),
    }
    async with hub.resources.session_factory() as session, session.begin():
        session.add(
            StoreProductContent(store_id=ids["north-shop"], product_id=2, name="North's hammer drill")
        )
    return ids


async def rows(hub: Hub, sql: str) -> list[tuple[Any, ...]]:
    async with hub.resources.session_factory() as session:
        return [tuple(row) for row in (await session.execute(text(sql))).all()]


def utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite answers it naive, in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def order_count(hub: Hub) -> int:
    return (await rows(hub, "SELECT count(*) FROM orders"))[0][0]


@pytest.mark.usefixtures("cli_env")
async def test_a_good_file_imports_orders_with_lines_history_and_totals(hub: Hub, tmp_path: Path) -> None:
    # given: batches of two lines, so the first order (three lines) is read across two batches
    ids = await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(GOOD, encoding="utf-8")
    # when
    result = await hub_import(str(file), "--batch-size", "2")
    # then
    assert result.exit_code == 0, result.output
    assert "imported 3 orders with 6 lines" in result.output
    orders = {
        row[0]: row
        for row in await rows(
            hub,
            "SELECT number, store_id, reseller_id, status, customer_email, customer_email_key, currency, "
            "subtotal_minor, discount_minor, total_minor, placed_at, payment_method, marketing_opt_in, "
            "ship_name, ship_line1, ship_line2, ship_city, ship_postal_code, ship_region, ship_country, "
            "cart_id, placed_by FROM orders",
        )
    }
    assert sorted(orders) == ["OLD-1001", "OLD-1002", "OLD-1003"]
    first = orders["OLD-1001"]
    assert first[1:4] == (ids["north-shop"], ids["north"], "FULFILLED")
    assert first[4:7] == ("Ann.Lee@Example.com", "ann.lee@example.com", "USD")
    assert first[7:10] == (2 * 12900 + 5990 + 3 * 99, 0, 2 * 12900 + 5990 + 3 * 99)
    assert utc(first[10]) == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    assert first[11] == "IMPORTED" and not first[12]
    # the file has no address: the order says it was imported, with the "unknown region" country
    assert first[13:20] == ("(imported)", "", None, "", "", None, "ZZ")
    assert first[20:] == (None, None)
    cancelled = orders["OLD-1002"]
    assert cancelled[1:4] == (ids["south-shop"], ids["south"], "CANCELLED")
    assert cancelled[6] == "EUR" and cancelled[9] == 5 * 11950
    still_open = orders["OLD-1003"]
    assert still_open[3] == "PLACED" and still_open[9] == 6000 + 12800
    assert utc(still_open[10]) == datetime(2026, 3, 5, 4, 30, tzinfo=UTC)
    # lines in file order, with the store's own name where it has one, else the master's
    lines = await rows(
        hub,
        "SELECT o.number, l.position, l.sku, l.name, l.quantity, l.unit_price_minor, l.discount_minor, "
        "l.total_minor FROM order_lines l JOIN orders o ON o.id = l.order_id ORDER BY o.number, l.position",
    )
    assert lines == [
        ("OLD-1001", 0, "DR-1", "Cordless drill", 2, 12900, 0, 25800),
        ("OLD-1001", 1, "DR-2", "North's hammer drill", 1, 5990, 0, 5990),
        ("OLD-1001", 2, "SAW-1", "Jigsaw", 3, 99, 0, 297),
        ("OLD-1002", 0, "DR-1", "Cordless drill", 5, 11950, 0, 59750),
        ("OLD-1003", 0, "DR-2", "North's hammer drill", 1, 6000, 0, 6000),
        ("OLD-1003", 1, "DR-1", "Cordless drill", 1, 12800, 0, 12800),
    ]
    # history: PLACED, then the final status at the same time, each marked imported
    events = await rows(
        hub,
        "SELECT o.number, e.status, e.at, e.by, e.reason FROM order_events e "
        "JOIN orders o ON o.id = e.order_id ORDER BY o.number, e.id",
    )
    assert [(n, s, utc(at), by, reason) for n, s, at, by, reason in events] == [
        ("OLD-1001", "PLACED", datetime(2026, 3, 2, 8, 15, tzinfo=UTC), None, "imported"),
        ("OLD-1001", "FULFILLED", datetime(2026, 3, 2, 8, 15, tzinfo=UTC), None, "imported"),
        ("OLD-1002", "PLACED", datetime(2026, 3, 3, 14, 0, tzinfo=UTC), None, "imported"),
        ("OLD-1002", "CANCELLED", datetime(2026, 3, 3, 14, 0, tzinfo=UTC), None, "imported"),
        ("OLD-1003", "PLACED", datetime(2026, 3, 5, 4, 30, tzinfo=UTC), None, "imported"),
    ]


# A bad line appended to the good file (line 8), or replacing one of its lines: what it must say.
BAD_LINES = {
    "unknown store": (
        "OLD-2001,nowhere,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        "store_slug: no store 'nowhere'",
    ),
    "unknown SKU": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,NOPE-9,1,1.00,USD\n",
        8,
        "sku: 'NOPE-9' is not in the master catalog",
    ),
    "unknown status": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,SHIPPED,DR-1,1,1.00,USD\n",
        8,
        "status: 'SHIPPED' is not one of PLACED, FULFILLED, CANCELLED",
    ),
    "time without offset": (
        "OLD-2001,north-shop,2026-03-02T09:15:00,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        "placed_at: '2026-03-02T09:15:00' has no UTC offset",
    ),
    "not a time": (
        "OLD-2001,north-shop,yesterday,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        "placed_at: 'yesterday' is not an ISO 8601 date and time",
    ),
    "time in the future": (
        "OLD-2001,north-shop,2099-01-01T00:00:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        "placed_at: 2099-01-01T00:00:00Z is in the future",
    ),
    "not an e-mail": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,nobody,PLACED,DR-1,1,1.00,USD\n",
        8,
        "customer_email: 'nobody' is not an e-mail address",
    ),
    "another currency than the store's": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,EUR\n",
        8,
        "currency: EUR is not the store's currency (USD)",
    ),
    "more decimals than the currency has": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.999,USD\n",
        8,
        "unit_price: 1.999 has more than 2 decimal places for USD",
    ),
    "a negative price": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,-1.00,USD\n",
        8,
        "unit_price: -1.00 is not between 0 and",
    ),
    "not a price": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,NaN,USD\n",
        8,
        "unit_price: 'NaN' is not a number",
    ),
    "a price with a thousands separator": (
        'OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,"1,299.00",USD\n',
        8,
        "unit_price: '1,299.00' is not a number",
    ),
    "a line with a cell too many": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1,299.00,USD\n",
        8,
        "line: 10 cells where the header names 9 columns",
    ),
    "no quantity": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,0,1.00,USD\n",
        8,
        "quantity: 0 is not between 1 and 1,000,000",
    ),
    "a fractional quantity": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1.5,1.00,USD\n",
        8,
        "quantity: '1.5' is not a whole number",
    ),
    "a signed quantity": (
        "OLD-2001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,+3,1.00,USD\n",
        8,
        "quantity: '+3' is not a whole number",
    ),
    "no number": (
        ",north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        "number: is empty",
    ),
    "a number too long": (
        f"{'N' * 33},north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n",
        8,
        f"number: '{'N' * 33}' is longer than 32 characters",
    ),
    "an order's rows that disagree": (
        "OLD-1003,north-shop,2026-03-05T04:30:00Z,ann.lee@example.com,FULFILLED,SAW-1,1,1.00,USD\n",
        8,
        "status: differs from line 6, where order OLD-1003 begins",
    ),
    "an order's rows apart": (
        "OLD-1001,north-shop,2026-03-02T09:15:00+01:00,Ann.Lee@Example.com,FULFILLED,DR-1,1,1.00,USD\n",
        8,
        "number: order OLD-1001 already ended on an earlier line (it began on line 2)",
    ),
}


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(("bad", "line", "says"), BAD_LINES.values(), ids=list(BAD_LINES))
async def test_a_bad_line_is_named_with_its_column_and_nothing_is_written(
    hub: Hub, tmp_path: Path, bad: str, line: int, says: str
) -> None:
    # given: the good file, then one bad line, then one more good order
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(
        GOOD + bad + "OLD-3001,north-shop,2026-03-09T10:00:00Z,d@example.com,PLACED,DR-1,1,1.00,USD\n",
        encoding="utf-8",
    )
    # when
    result = await hub_import(str(file), "--batch-size", "3")
    # then
    said = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 1, result.output
    assert f"line {line}: {says}" in said
    assert "1 lines rejected; nothing was imported" in said
    assert "Traceback" not in said
    assert await order_count(hub) == 0
    assert await rows(hub, "SELECT count(*) FROM order_lines") == [(0,)]
    assert await rows(hub, "SELECT count(*) FROM order_events") == [(0,)]


@pytest.mark.usefixtures("cli_env")
async def test_a_number_already_in_the_hub_is_rejected_and_nothing_more_is_written(
    hub: Hub, tmp_path: Path
) -> None:
    # given: the good file imported once
    await prepare_stores(hub)
    first = tmp_path / "orders.csv"
    first.write_text(GOOD, encoding="utf-8")
    assert (await hub_import(str(first))).exit_code == 0
    # when: a second file with a new order and one of the old numbers
    second = tmp_path / "more.csv"
    second.write_text(
        HEADER
        + "OLD-4001,north-shop,2026-04-01T10:00:00Z,e@example.com,PLACED,DR-1,1,1.00,USD\n"
        + "OLD-1002,south-shop,2026-04-02T10:00:00Z,f@example.com,PLACED,DR-1,1,1.00,EUR\n",
        encoding="utf-8",
    )
    result = await hub_import(str(second))
    # then
    said = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "line 3: number: order OLD-1002 is already in the hub" in said
    assert sorted(r[0] for r in await rows(hub, "SELECT number FROM orders")) == [
        "OLD-1001",
        "OLD-1002",
        "OLD-1003",
    ]


@pytest.mark.usefixtures("cli_env")
async def test_every_bad_line_of_a_file_is_reported_across_batches(hub: Hub, tmp_path: Path) -> None:
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(
        GOOD
        + "OLD-5001,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,NOPE,1,1.00,USD\n"  # 8
        + "OLD-5002,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n"
        + "OLD-5003,north-shop,2026-03-02T09:15:00,c@example,PLACED,DR-1,x,1.00,USD\n",  # 10
        encoding="utf-8",
    )
    result = await hub_import(str(file), "--batch-size", "1")
    said = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "line 8: sku:" in said
    assert (
        "line 10: placed_at:" in said and "line 10: customer_email:" in said and "line 10: quantity:" in said
    )
    assert "2 lines rejected; nothing was imported" in said
    assert await order_count(hub) == 0


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("header", "says"),
    [
        (
            "number,store_slug,placed_at,customer_email,status,sku,quantity,unit_price\n",
            "lacks the columns currency",
        ),
        (HEADER.strip() + ",discount\n", "has unknown columns discount"),
    ],
)
async def test_a_wrong_header_stops_the_import(hub: Hub, tmp_path: Path, header: str, says: str) -> None:
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(header + "OLD-1,north-shop,2026-03-02T09:15:00Z,c@example.com,PLACED,DR-1,1,1.00,USD\n")
    result = await hub_import(str(file))
    said = " ".join(result.output.split())
    assert result.exit_code == 1
    assert f"line 1, the header, {says}" in said and "nothing was imported" in said
    assert await order_count(hub) == 0


@pytest.mark.usefixtures("cli_env")
async def test_a_file_with_a_byte_order_mark_and_columns_in_another_order_imports(
    hub: Hub, tmp_path: Path
) -> None:
    # Spreadsheet programs write a byte-order mark and empty cells at the end of a line; the header
    # names the columns, in any order.
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(
        "\ufeffsku,quantity,unit_price,currency,number,store_slug,placed_at,customer_email,status\n"
        "DR-1,2,10.00,USD,OLD-7,north-shop,2026-05-01T08:00:00Z,g@example.com,FULFILLED,,\n",
        encoding="utf-8",
    )
    result = await hub_import(str(file))
    assert result.exit_code == 0, result.output
    assert await rows(hub, "SELECT number, status, total_minor FROM orders") == [("OLD-7", "FULFILLED", 2000)]


@pytest.mark.usefixtures("cli_env")
async def test_a_file_that_is_not_utf8_is_refused_with_its_first_bad_line(hub: Hub, tmp_path: Path) -> None:
    # given: a spreadsheet's Latin-1 export, the bad byte on line 8, after batches already written
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_bytes(
        (GOOD + "OLD-9,north-shop,2026-03-02T09:15:00Z,andré@example.com,PLACED,DR-1,1,1.00,USD\n").encode(
            "latin-1"
        )
    )
    # when
    result = await hub_import(str(file), "--batch-size", "2")
    # then
    assert result.exit_code == 1
    assert "line 8 is not UTF-8 text" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert await order_count(hub) == 0


async def test_the_import_function_writes_nothing_when_the_writer_fails(hub: Hub, tmp_path: Path) -> None:
    # given: an order number that slips past the checks (written by another writer in the meantime
    # is the real case): the unique index stops the batch and the whole import rolls back
    await prepare_stores(hub)
    file = tmp_path / "orders.csv"
    file.write_text(GOOD, encoding="utf-8")
    report = await import_orders(hub.resources.session_factory, file, batch_size=1, now=NOW)
    assert report.written and report.orders == 3 and report.lines == 6
    # when / then: the same file again is refused by the checks, naming each order's first line
    again = await import_orders(hub.resources.session_factory, file, now=NOW)
    assert not again.written and again.orders == 0
    assert [(r.line, r.message) for r in again.rejected] == [
        (2, "number: order OLD-1001 is already in the hub"),
        (5, "number: order OLD-1002 is already in the hub"),
        (6, "number: order OLD-1003 is already in the hub"),
    ]
    assert await order_count(hub) == 3


def test_the_reader_knows_the_statuses_and_e_mails_as_the_hub_does() -> None:
    # The reader keeps its own copies (its process must not import the models or the users module).
    assert STATUSES == ORDER_STATUSES
    assert EMAIL.pattern == USER_EMAIL.pattern


async def test_the_bulk_writer_writes_orders_in_one_batch_and_the_next(hub: Hub) -> None:
    # The one code path of the import and the sample, called directly: two batches, ids continue.
    ids = await prepare_stores(hub)

    def order(number: str, minutes: int) -> HistoricalOrder:
        return HistoricalOrder(
            number=number,
            store_id=ids["north-shop"],
            reseller_id=ids["north"],
            currency="USD",
            customer_email="Z@Example.com",
            placed_at=NOW - timedelta(minutes=minutes),
            status="FULFILLED",
            lines=[HistoricalLine("DR-1", "Cordless drill", 1, 100), HistoricalLine("DR-2", "Drill", 2, 50)],
            status_at=NOW,
            status_by="owner@north.example",
        )

    async with hub.resources.session_factory() as session, session.begin():
        await write_orders(session, [order(f"W-{n}", n) for n in range(3)])
    async with hub.resources.session_factory() as session, session.begin():
        await write_orders(session, [order("W-9", 9)])
    found = await rows(hub, "SELECT id, number, total_minor, customer_email_key FROM orders ORDER BY id")
    assert [(number, total, key) for _, number, total, key in found] == [
        ("W-0", 200, "z@example.com"),
        ("W-1", 200, "z@example.com"),
        ("W-2", 200, "z@example.com"),
        ("W-9", 200, "z@example.com"),
    ]
    assert len({row[0] for row in found}) == 4
    # read back through the ORM: the times the writer stored are the times given
    async with hub.resources.session_factory() as session:
        placed = (await session.scalars(select(Order.placed_at).order_by(Order.id))).all()
    assert [utc(at) for at in placed] == [NOW - timedelta(minutes=n) for n in (0, 1, 2, 9)]
    events = await rows(hub, "SELECT status, by FROM order_events ORDER BY id")
    assert events == [("PLACED", None), ("FULFILLED", "owner@north.example")] * 4
    assert await rows(hub, "SELECT count(*) FROM order_lines") == [(8,)]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 2, 8, 15, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 15, 7, 120, tzinfo=timezone(timedelta(hours=1))),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_the_writer_stores_times_on_sqlite_as_sqlalchemy_does(at: datetime) -> None:
    dialect = sqlite_dialect.dialect()
    processor = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert _sqlite_time(at) == processor(at.astimezone(UTC))


# ---------------------------------------------------------------- the sample history


def sample_store(store_id: int, code: str, products: int = 60) -> SampleStore:
    return SampleStore(
        id=store_id,
        reseller_id=store_id,
        reseller_code=code,
        region="EU",
        currency="USD",
        products=[SampleProduct(f"{code}-{n:03d}", f"Product {n}", 500 + 37 * n) for n in range(products)],
    )


SAMPLE_STORES = [sample_store(1, "brightbuild"), sample_store(2, "oakhouse")]


def daily_counts(orders: list[HistoricalOrder], now: datetime) -> dict[datetime, int]:
    """Orders per UTC day over the sample's year, zero-filled, the last (partial) day left out."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = Counter(o.placed_at.replace(hour=0, minute=0, second=0, microsecond=0) for o in orders)
    return {today - timedelta(days=d): counts.get(today - timedelta(days=d), 0) for d in range(1, DAYS)}


def test_the_sample_history_is_the_same_for_the_same_moment() -> None:
    first = sample_orders(SAMPLE_STORES, NOW, ["INVOICE", "CREDIT_CARD"])
    second = sample_orders(SAMPLE_STORES, NOW, ["INVOICE", "CREDIT_CARD"])
    assert first == second
    assert len({o.number for o in first}) == len(first)
    assert all(o.number.startswith("ORD-") and len(o.number) == 18 for o in first)


@pytest.mark.parametrize(
    "now",
    [NOW, datetime(2026, 6, 10, 8, 30, tzinfo=UTC), datetime(2027, 2, 28, 23, 59, tzinfo=UTC)],
    ids=["november", "june", "february"],
)
def test_the_sample_history_has_a_year_with_its_rhythms(now: datetime) -> None:
    orders = sample_orders(SAMPLE_STORES, now, ["INVOICE", "CREDIT_CARD"])
    # a year, ending at the moment of seeding
    placed = [o.placed_at for o in orders]
    assert max(placed) <= now and min(placed) >= now - timedelta(days=DAYS)
    days = daily_counts(orders, now)
    assert sum(1 for count in days.values() if count) >= DAYS - 5
    # weekly: weekend days bring clearly fewer orders than weekdays
    weekday = statistics.mean(c for d, c in days.items() if d.weekday() < 5)
    weekend = statistics.mean(c for d, c in days.items() if d.weekday() >= 5)
    assert weekend < 0.7 * weekday
    # trend: the last quarter outsells the first, whatever the season
    ordered = [days[d] for d in sorted(days)]
    assert sum(ordered[-91:]) > 1.2 * sum(ordered[:91])
    # a few % cancelled, fulfilled ones after they were placed, open ones recent
    statuses = Counter(o.status for o in orders)
    assert 0.015 < statuses["CANCELLED"] / len(orders) < 0.05
    assert all(
        o.status_at is not None and o.placed_at < o.status_at <= now for o in orders if o.status != "PLACED"
    )
    assert all(o.placed_at > now - timedelta(days=3) for o in orders if o.status == "PLACED")
    # popularity: the best seller sells several times more often than the median product
    sold = Counter(line.sku for o in orders for line in o.lines)
    assert sold.most_common(1)[0][1] > 4 * statistics.median(sold.values())
    # repeat customers, some typing their address with other capitals; some opted in to marketing
    by_key = Counter(o.customer_email.lower() for o in orders)
    assert sum(1 for n in by_key.values() if n >= 5) >= 50
    spellings: dict[str, set[str]] = {}
    for o in orders:
        spellings.setdefault(o.customer_email.lower(), set()).add(o.customer_email)
    assert sum(1 for s in spellings.values() if len(s) > 1) >= 20
    opted = sum(1 for o in orders if o.marketing_opt_in) / len(orders)
    assert 0.2 < opted < 0.6
    assert all(
        o.total_minor == sum(line.quantity * line.unit_price_minor for line in o.lines) for o in orders
    )


def test_the_sample_history_has_a_yearly_rhythm() -> None:
    # The season shows once the trend is taken out: the generator's daily factor, divided by the
    # trend, is highest in early June and lowest in early December.
    now = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    orders = sample_orders([sample_store(1, "brightbuild", 80)], now, ["INVOICE"])
    first_day = datetime(2026, 1, 1, tzinfo=UTC)

    def detrended(start: datetime, days: int) -> float:
        counts = daily_counts(orders, now)
        total = 0.0
        for d in range(days):
            day = start + timedelta(days=d)
            total += counts[day] / (1 + 0.8 * (day - first_day).days / (DAYS - 1))
        return total / days

    june = detrended(datetime(2026, 5, 25, tzinfo=UTC), 28)
    december = detrended(datetime(2026, 11, 25, tzinfo=UTC), 28)
    assert june > 1.15 * december


async def test_seed_sample_adds_a_year_of_orders_to_the_sample_stores(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given / when: the whole sample hub (its price lists go to ./sample-data)
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    started = datetime.now(UTC)
    assert await seed_sample(hub.resources.session_factory, said.append)
    # then: orders in both OPEN sample stores over the year up to now, with lines and history
    per_store = await rows(
        hub,
        "SELECT s.slug, count(*), min(o.placed_at), max(o.placed_at) FROM orders o "
        "JOIN stores s ON s.id = o.store_id AND s.reseller_id = o.reseller_id GROUP BY s.slug ORDER BY s.slug",
    )
    assert [row[0] for row in per_store] == ["brightbuild-store", "oakhouse-store"]
    assert all(count > 2000 for _, count, _, _ in per_store)
    for _, _, first, last in per_store:
        assert utc(last) <= datetime.now(UTC) and utc(first) >= started - timedelta(days=DAYS)
    assert any(line.startswith("orders: ") for line in said)
    # totals agree with the lines; every order has its PLACED event; lines carry the store's prices
    assert await rows(
        hub,
        "SELECT count(*) FROM orders o WHERE o.total_minor <> "
        "(SELECT sum(l.total_minor) FROM order_lines l WHERE l.order_id = o.id)",
    ) == [(0,)]
    assert await rows(
        hub,
        "SELECT count(*) FROM orders o WHERE NOT EXISTS "
        "(SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.status = 'PLACED')",
    ) == [(0,)]
    statuses = dict(await rows(hub, "SELECT status, count(*) FROM orders GROUP BY status"))
    assert set(statuses) == {"PLACED", "FULFILLED", "CANCELLED"}
    # weekdays busier than weekends, in the database too (0 = Sunday, 6 = Saturday)
    weekday_sql = (
        "CAST(strftime('%w', placed_at) AS INTEGER)"
        if hub.resources.engine.dialect.name == "sqlite"
        else "CAST(EXTRACT(DOW FROM placed_at AT TIME ZONE 'UTC') AS INTEGER)"
    )
    by_weekday = dict(await rows(hub, f"SELECT {weekday_sql}, count(*) FROM orders GROUP BY 1"))
    assert by_weekday[0] + by_weekday[6] < 0.7 * 2 / 5 * sum(by_weekday[d] for d in range(1, 6))
    # e-mails compare case-insensitively: the key is the lower-cased address
    assert await rows(
        hub, "SELECT count(*) FROM orders WHERE customer_email_key <> lower(customer_email)"
    ) == [(0,)]
    assert (await rows(hub, "SELECT count(*) FROM orders WHERE customer_email <> customer_email_key"))[0][
        0
    ] > 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_number_another_writer_adds_during_the_import_fails_it_cleanly(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL other writers carry on during an import. Given: another writer commits order
    # OLD-1002 just after the import looked up the batch's numbers (on SQLite the import holds the
    # write lock, so this cannot happen there).
    ids = await prepare_stores(hub)
    real_lookup = orders_import.existing_numbers

    async def lookup_then_race(session: Any, numbers: Any) -> set[str]:
        found = await real_lookup(session, numbers)
        async with hub.resources.session_factory() as other, other.begin():
            await write_orders(
                other,
                [
                    HistoricalOrder(
                        number="OLD-1002",
                        store_id=ids["north-shop"],
                        reseller_id=ids["north"],
                        currency="USD",
                        customer_email="race@example.com",
                        placed_at=NOW,
                        status="PLACED",
                        lines=[HistoricalLine("DR-1", "Cordless drill", 1, 100)],
                    )
                ],
            )
        return found

    monkeypatch.setattr(orders_import, "existing_numbers", lookup_then_race)
    file = tmp_path / "orders.csv"
    file.write_text(GOOD, encoding="utf-8")
    # when / then: the unique index refuses the batch, the import says so and writes nothing
    with pytest.raises(orders_import.WriteRefused, match="refused the orders that begin on lines 2 to 6 "):
        await import_orders(hub.resources.session_factory, file, now=NOW)
    assert await rows(hub, "SELECT number, customer_email FROM orders") == [("OLD-1002", "race@example.com")]
