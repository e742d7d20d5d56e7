"""`hub catalog import`: stream a CSV or JSON Lines file of products into the catalog in batches.

CSV columns: sku, name, description, status, categoryCode, groupCodes ("a|b"),
attributes ("name=value|name=value") and one `price_<CUR>` column per currency.
JSON Lines: one ProductInput object per line (sku, name, description, status,
categoryCode, groupCodes, listPrices [{currency, amount}], attributes [{name, value}]).
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog import writes
from datasources.catalog.models import Category, ProductGroup
from datasources.partners.queries import hub_policy_for_update
from resolvers.catalog import ProductData, check_products

BATCH_SIZE = 2000


@dataclass
class Rejected:
    line: int
    message: str


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    written: bool = False


class LineError(ValueError):
    pass


def read_products(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    """(line number, product or the reason the line cannot be read), streaming."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _read_jsonl(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise LineError("a line must hold one JSON object")
                yield (
                    number,
                    ProductData(
                        sku=str(raw.get("sku") or ""),
                        name=str(raw.get("name") or ""),
                        description=raw.get("description"),
                        status=str(raw.get("status") or "ACTIVE"),
                        category_code=raw.get("categoryCode"),
                        group_codes=raw.get("groupCodes"),
                        list_prices=[(p["currency"], _decimal(p["amount"])) for p in raw["listPrices"]]
                        if raw.get("listPrices") is not None
                        else None,
                        attributes=[(a["name"], str(a["value"])) for a in raw["attributes"]]
                        if raw.get("attributes") is not None
                        else None,
                    ),
                )
            except (json.JSONDecodeError, KeyError, TypeError, LineError) as error:
                yield number, LineError(f"cannot read the line: {error}")


def _read_csv(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        column = {name.strip(): index for index, name in enumerate(header)}
        prices = [
            (name[len("price_") :].upper(), index)
            for name, index in column.items()
            if name.lower().startswith("price_")
        ]
        width = len(header)
        # A column the file lacks reads as the empty string appended to each row.
        fields = [column.get(name, width) for name in CSV_FIELDS]
        for row in reader:
            number = reader.line_num
            if not row:
                continue
            if len(row) != width:
                row = (row + [""] * width)[:width]
            row.append("")
            try:
                yield number, _csv_product(row, fields, prices)
            except LineError as error:
                yield number, error


CSV_FIELDS = ("sku", "name", "description", "status", "categoryCode", "groupCodes", "attributes")


def _csv_product(row: list[str], fields: list[int], prices: list[tuple[str, int]]) -> ProductData:
    sku, name, description, status, category, groups, attributes = [row[index] for index in fields]
    list_prices = [(currency, _decimal(row[index])) for currency, index in prices if row[index].strip()]
    attribute_pairs = None
    if attributes.strip():
        attribute_pairs = []
        for pair in attributes.split("|"):
            attribute, sep, value = pair.partition("=")
            if not sep:
                raise LineError(f"attribute {pair!r} is not name=value")
            attribute_pairs.append((attribute.strip(), value.strip()))
    groups = groups.strip()
    return ProductData(
        sku=sku,
        name=name,
        description=description or None,
        status=(status or "ACTIVE").strip().upper(),
        category_code=category.strip() or None,
        group_codes=[g.strip() for g in groups.split("|")] if groups else None,
        list_prices=list_prices or None,
        attributes=attribute_pairs,
    )


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise LineError(f"{value!r} is not a number") from None


@dataclass
class CheckedBatch:
    """One batch read and checked: the writes of its valid lines and the lines it rejects."""

    writes: list[writes.ProductWrite]
    rejected: list[Rejected]
    lines: int


def checked_batches(
    path: Path,
    batch_size: int,
    category_ids: dict[str, int],
    group_ids: dict[str, int],
    currencies: list[str],
) -> Iterator[CheckedBatch]:
    """Read and check the file batch by batch, with no database access (it runs in a worker thread)."""
    batch: list[tuple[int, ProductData]] = []
    unreadable: list[Rejected] = []

    def check() -> CheckedBatch:
        product_writes, errors = check_products(
            [p for _, p in batch], category_ids, group_ids, currencies, labels=[str(n) for n, _ in batch]
        )
        rejected = unreadable[:]
        for error in errors.errors:
            line = int(error.field[1]) if error.field and len(error.field) > 1 else 0
            where = ".".join(error.field[2:]) if error.field else ""
            rejected.append(Rejected(line, f"{where}: {error.message}" if where else error.message))
        rejected.sort(key=lambda r: r.line)
        checked = CheckedBatch(
            [w for w in product_writes if w is not None], rejected, len(batch) + len(unreadable)
        )
        batch.clear()
        unreadable.clear()
        return checked

    for number, item in read_products(path):
        if isinstance(item, LineError):
            unreadable.append(Rejected(number, str(item)))
        else:
            batch.append((number, item))
        if len(batch) + len(unreadable) >= batch_size:
            yield check()
    if batch or unreadable:
        yield check()


async def import_products(
    session_factory: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    skip_invalid: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import in batches inside one transaction: all or nothing unless `skip_invalid`.

    A worker thread reads and checks the next batch while this one is written (SQLite and
    asyncpg release the GIL while they work), which roughly halves the time of a large import.
    """
    report = ImportReport()
    async with session_factory() as session, session.begin():
        if session.bind.dialect.name == "sqlite":
            # A large import outgrows SQLite's default 2 MB page cache (the indexes of a big catalog).
            await session.execute(text("PRAGMA cache_size = -65536"))
        currencies = list((await hub_policy_for_update(session)).currencies)
        # Checking needs every category and group code; both tables are small next to the products.
        category_ids = await writes.all_ids_by_code(session, Category)
        group_ids = await writes.all_ids_by_code(session, ProductGroup)
        batches = checked_batches(path, batch_size, category_ids, group_ids, currencies)
        following = asyncio.create_task(asyncio.to_thread(next, batches, None))
        try:
            async with writes.search_indexed_per_batch(session) as index_search:
                while (batch := await following) is not None:
                    following = asyncio.create_task(asyncio.to_thread(next, batches, None))
                    report.rejected.extend(batch.rejected)
                    if batch.writes and (skip_invalid or not report.rejected):
                        await writes.upsert_products(session, batch.writes, index_search=index_search)
                        report.imported += len(batch.writes)
                    progress(batch.lines)
        finally:
            if not following.done():
                await asyncio.wait([following])
        if report.rejected and not skip_invalid:
            await session.rollback()
            report.imported = 0
            return report
        report.written = True
    return report
