"""The reading half of `hub orders import`: parse and check a CSV file of past orders, batch by batch.

Columns (a header line names them, in any order):
`number,store_slug,placed_at,customer_email,status,sku,quantity,unit_price,currency`, one row per
order line; the rows of one order are next to each other and repeat the order's fields
(store_slug, placed_at, customer_email, status, currency), which must agree. The rules are in
docs/orders.md ("Importing order history"). Checking needs no database: the caller passes the
stores and the catalog's SKUs and names in a `ReadRequest`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from datasources.money import MAX_AMOUNT, to_minor
from datasources.orders.rows import STATUSES, HistoricalLine, HistoricalOrder

# The catalog import's CSV reading: UTF-8 line by line (named with the first bad line), a
# spreadsheet's byte-order mark allowed, a file the csv module cannot parse stopped with its line.
from resolvers.catalog_reader import Rejected, UnreadableFile, _rows, _text_lines

CSV_COLUMNS = (
    "number",
    "store_slug",
    "placed_at",
    "customer_email",
    "status",
    "sku",
    "quantity",
    "unit_price",
    "currency",
)
ORDER_FIELDS = ("store_slug", "placed_at", "customer_email", "status", "currency")
"""The columns every row of one order repeats."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""`resolvers.users.EMAIL` (a test keeps them equal), so the reader needs no database code."""
MAX_EMAIL_LENGTH = 320
PRICE = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")
MAX_NUMBER_LENGTH = 32
MAX_LINES_PER_ORDER = 1000
MAX_QUANTITY = 1_000_000
MAX_PRICES_REMEMBERED = 100_000
IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class StoreFacts:
    id: int
    reseller_id: int
    currency: str


@dataclass
class ReadRequest:
    """What the reader needs to check a file without the database."""

    path: Path
    batch_size: int
    now: datetime
    """No order may be placed after this (timezone-aware)."""
    stores: dict[str, StoreFacts] = field(default_factory=dict)
    product_names: dict[str, str] = field(default_factory=dict)
    """Every SKU of the master catalog, with the product's name."""
    store_product_names: dict[tuple[int, str], str] = field(default_factory=dict)
    """(store id, SKU) → the store's own name for the product, where it has one."""


@dataclass
class CheckedBatch:
    """Whole orders read and checked: the valid ones, the line each starts on, and the problems found."""

    orders: list[HistoricalOrder]
    first_lines: list[int]
    rejected: list[Rejected]
    lines: int


class LineProblems:
    """The problems of one line, each naming its column."""

    def __init__(self, line: int, rejected: list[Rejected]) -> None:
        self.line = line
        self.rejected = rejected
        self.found = False

    def add(self, column: str, message: str) -> None:
        self.rejected.append(Rejected(self.line, f"{column}: {message}"))
        self.found = True


@dataclass
class _OrderInProgress:
    number: str
    first_line: int
    raw: tuple[str, ...]
    """The order's fields as its first row gave them (a row that repeats them exactly agrees)."""
    store: StoreFacts | None
    placed_at: datetime | None
    email: str
    status: str
    currency: str
    lines: list[HistoricalLine] = field(default_factory=list)
    bad: bool = False


def read_header(reader: csv.reader) -> tuple[list[int], int]:  # type: ignore[valid-type]
    """The index of each of CSV_COLUMNS in the file's rows, and how many columns the header names;
    UnreadableFile for a wrong header."""
    header = next(reader, None)  # type: ignore[call-overload]
    if not header:
        raise UnreadableFile(
            f"the file is empty: its first line must name the columns {','.join(CSV_COLUMNS)}"
        )
    names = [name.strip().lower() for name in header]
    missing = [name for name in CSV_COLUMNS if name not in names]
    unknown = [name for name in names if name not in CSV_COLUMNS]
    twice = sorted({name for name in names if names.count(name) > 1})
    if missing or unknown or twice:
        said = []
        if missing:
            said.append(f"lacks the columns {', '.join(missing)}")
        if unknown:
            said.append(f"has unknown columns {', '.join(unknown)}")
        if twice:
            said.append(f"names {', '.join(twice)} twice")
        raise UnreadableFile(
            f"line 1, the header, {' and '.join(said)}: the columns are {','.join(CSV_COLUMNS)}"
        )
    return [names.index(name) for name in CSV_COLUMNS], len(names)


def checked_batches(request: ReadRequest) -> Iterator[CheckedBatch]:
    """Read and check the file, yielding batches of whole orders of about `batch_size` lines."""
    with request.path.open("rb") as handle:
        reader = csv.reader(_text_lines(handle))
        indexes, width = read_header(reader)
        checker = _Checker(request)
        for row in _rows(reader):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            cells = len(row)
            if cells < width:
                row = row + [""] * (width - cells)
            # More cells than columns is a shifted line (an unquoted comma, say); empty ones at the
            # end are a spreadsheet's habit.
            shifted = cells > width and any(cell.strip() for cell in row[width:])
            checker.row(reader.line_num, [row[index].strip() for index in indexes], cells if shifted else 0)
            # The open order is not in the batch yet (it joins the batch in which it ends).
            if checker.lines >= request.batch_size:
                yield checker.take()
        checker.finish_order()
        if checker.lines or checker.batch_orders or checker.rejected:
            yield checker.take()


class _Checker:
    def __init__(self, request: ReadRequest) -> None:
        self.request = request
        self.current: _OrderInProgress | None = None
        self.ended: dict[str, int] = {}
        """Number → first line of every order read so far (a number may not come back later)."""
        self.batch_orders: list[HistoricalOrder] = []
        self.first_lines: list[int] = []
        self.rejected: list[Rejected] = []
        self.lines = 0
        self.prices: dict[tuple[str, str], int] = {}
        """(unit_price as written, currency) → minor units, for the prices already checked."""

    def take(self) -> CheckedBatch:
        self.rejected.sort(key=lambda r: r.line)
        batch = CheckedBatch(self.batch_orders, self.first_lines, self.rejected, self.lines)
        self.batch_orders, self.first_lines, self.rejected, self.lines = [], [], [], 0
        return batch

    def row(self, line: int, values: list[str], shifted_cells: int = 0) -> None:
        """Check one line; `shifted_cells`: it has that many cells, more than the header's columns."""
        self.lines += 1
        number, slug, placed_at, email, status, sku, quantity, unit_price, currency = values
        problems = LineProblems(line, self.rejected)
        if shifted_cells:
            problems.add("line", f"{shifted_cells} cells where the header names {len(CSV_COLUMNS)} columns")
        current = self.current
        if current is None or number != current.number:
            self.finish_order()
            current = self._start_order(problems, number, (slug, placed_at, email, status, currency))
        elif (slug, placed_at, email, status, currency) != current.raw:
            self._check_agreement(problems, current, (slug, placed_at, email, status, currency))
        order_line = self._line(problems, current, sku, quantity, unit_price)
        if order_line is not None and not current.bad:
            if len(current.lines) == MAX_LINES_PER_ORDER:
                problems.add("number", f"order {number} has more than {MAX_LINES_PER_ORDER} lines")
            current.lines.append(order_line)
        if problems.found:
            current.bad = True

    def _start_order(self, problems: LineProblems, number: str, raw: tuple[str, ...]) -> _OrderInProgress:
        slug, placed_at_text, email, status, currency = raw
        if not number:
            problems.add("number", "is empty")
        elif len(number) > MAX_NUMBER_LENGTH:
            problems.add("number", f"{number!r} is longer than {MAX_NUMBER_LENGTH} characters")
        elif not number.isprintable() or " " in number:  # every other space is not printable
            problems.add("number", f"{number!r} holds spaces or control characters")
        elif number in self.ended:
            problems.add(
                "number",
                f"order {number} already ended on an earlier line (it began on line {self.ended[number]}): "
                "the rows of one order must be next to each other",
            )
        store = self.request.stores.get(slug)
        if store is None:
            problems.add("store_slug", f"no store {slug!r}" if slug else "is empty")
        placed_at = self._placed_at(problems, placed_at_text)
        if len(email) > MAX_EMAIL_LENGTH or not EMAIL.match(email):
            problems.add("customer_email", f"{email!r} is not an e-mail address")
        status = status.upper()
        if status not in STATUSES:
            problems.add("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        currency = currency.upper()
        if store is not None and currency != store.currency:
            problems.add("currency", f"{currency or 'empty'} is not the store's currency ({store.currency})")
        current = _OrderInProgress(number, problems.line, raw, store, placed_at, email, status, currency)
        current.bad = problems.found
        if number and number not in self.ended:
            self.ended[number] = problems.line
        self.current = current
        return current

    def _placed_at(self, problems: LineProblems, value: str) -> datetime | None:
        try:
            placed_at = datetime.fromisoformat(value)
        except ValueError:
            problems.add("placed_at", f"{value!r} is not an ISO 8601 date and time" if value else "is empty")
            return None
        if placed_at.tzinfo is None or placed_at.utcoffset() is None:
            problems.add(
                "placed_at",
                f"{value!r} has no UTC offset: add Z for UTC or the offset of the time, e.g. +01:00",
            )
            return None
        if placed_at > self.request.now:
            problems.add("placed_at", f"{value} is in the future")
            return None
        return placed_at

    def _check_agreement(
        self, problems: LineProblems, current: _OrderInProgress, raw: tuple[str, ...]
    ) -> None:
        slug, placed_at_text, email, status, currency = raw
        first_slug, first_placed_at, first_email, first_status, first_currency = current.raw
        differs = []
        if slug != first_slug:
            differs.append("store_slug")
        if placed_at_text != first_placed_at:
            try:
                same = datetime.fromisoformat(placed_at_text) == datetime.fromisoformat(first_placed_at)
            except (ValueError, TypeError):  # TypeError: a naive time compared with an aware one
                same = False
            if not same:
                differs.append("placed_at")
        if email.lower() != first_email.lower():
            differs.append("customer_email")
        if status.upper() != first_status.upper():
            differs.append("status")
        if currency.upper() != first_currency.upper():
            differs.append("currency")
        for column in differs:
            problems.add(
                column,
                f"differs from line {current.first_line}, where order {current.number} begins: "
                "the rows of one order must agree on its fields",
            )

    def _line(
        self, problems: LineProblems, order: _OrderInProgress, sku: str, quantity_text: str, price_text: str
    ) -> HistoricalLine | None:
        name = self.request.product_names.get(sku)
        if name is None:
            problems.add("sku", f"{sku!r} is not in the master catalog" if sku else "is empty")
        try:
            # Digits only: int() would also take "+3", " 3_000" or other scripts' digits.
            if not (quantity_text.isascii() and quantity_text.isdigit()):
                raise ValueError(quantity_text)
            quantity = int(quantity_text)
        except ValueError:
            problems.add(
                "quantity", f"{quantity_text!r} is not a whole number" if quantity_text else "is empty"
            )
            quantity = 0
        else:
            if not 1 <= quantity <= MAX_QUANTITY:
                problems.add("quantity", f"{quantity} is not between 1 and {MAX_QUANTITY:,}")
        unit_price_minor = self._unit_price(problems, order, price_text)
        if problems.found or name is None or unit_price_minor is None or order.store is None:
            return None
        store_name = self.request.store_product_names.get((order.store.id, sku))
        return HistoricalLine(sku, store_name or name, quantity, unit_price_minor)

    def _unit_price(self, problems: LineProblems, order: _OrderInProgress, value: str) -> int | None:
        if order.store is not None:
            # A sales history repeats its prices: each text is checked once per currency.
            known = self.prices.get((value, order.store.currency))
            if known is not None:
                return known
        try:
            # A plain decimal with a dot: Decimal() would also take "1e3", "1_000" or "NaN".
            if not PRICE.match(value):
                raise InvalidOperation(value)
            amount = Decimal(value)
        except InvalidOperation:
            problems.add("unit_price", f"{value!r} is not a number" if value else "is empty")
            return None
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            problems.add("unit_price", f"{value} is not between 0 and {MAX_AMOUNT:,}")
            return None
        if order.store is None:
            return None
        try:
            minor = to_minor(amount, order.store.currency)
        except ValueError as error:
            problems.add("unit_price", str(error))
            return None
        if len(self.prices) < MAX_PRICES_REMEMBERED:
            self.prices[(value, order.store.currency)] = minor
        return minor

    def finish_order(self) -> None:
        """Close the current order: into the batch when all its lines were good."""
        current = self.current
        self.current = None
        if current is None or current.bad or current.store is None or current.placed_at is None:
            return
        self.batch_orders.append(
            HistoricalOrder(
                number=current.number,
                store_id=current.store.id,
                reseller_id=current.store.reseller_id,
                currency=current.currency,
                customer_email=current.email,
                placed_at=current.placed_at,
                status=current.status,
                lines=current.lines,
                placed_reason=IMPORTED,
                status_reason=IMPORTED if current.status != "PLACED" else None,
            )
        )
        self.first_lines.append(current.first_line)
