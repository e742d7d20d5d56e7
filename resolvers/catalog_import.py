"""`hub catalog import`: stream a CSV or JSON Lines file of products into the catalog in batches.

CSV columns: sku, name, description, status, categoryCode, groupCodes ("a|b"),
attributes ("name=value|name=value") and one `price_<CUR>` column per currency.
JSON Lines: one ProductInput object per line (sku, name, description, status,
categoryCode, groupCodes, listPrices [{currency, amount}], attributes [{name, value}]).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.catalog import writes
from datasources.partners.queries import hub_policy_for_update
from resolvers.catalog import ProductData, validate_products

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
        reader = csv.DictReader(handle)
        price_columns = [c for c in reader.fieldnames or () if c.lower().startswith("price_")]
        for row in reader:
            number = reader.line_num
            try:
                prices = [
                    (column[len("price_") :].upper(), _decimal(row[column]))
                    for column in price_columns
                    if (row.get(column) or "").strip()
                ]
                attributes = None
                if (row.get("attributes") or "").strip():
                    attributes = []
                    for pair in row["attributes"].split("|"):
                        name, sep, value = pair.partition("=")
                        if not sep:
                            raise LineError(f"attribute {pair!r} is not name=value")
                        attributes.append((name.strip(), value.strip()))
                groups = (row.get("groupCodes") or "").strip()
                yield (
                    number,
                    ProductData(
                        sku=row.get("sku") or "",
                        name=row.get("name") or "",
                        description=row.get("description") or None,
                        status=(row.get("status") or "ACTIVE").strip().upper(),
                        category_code=(row.get("categoryCode") or "").strip() or None,
                        group_codes=[g.strip() for g in groups.split("|")] if groups else None,
                        list_prices=prices or None,
                        attributes=attributes,
                    ),
                )
            except LineError as error:
                yield number, error


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise LineError(f"{value!r} is not a number") from None


async def import_products(
    session_factory: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    skip_invalid: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import in batches inside one transaction: all or nothing unless `skip_invalid`."""
    report = ImportReport()
    async with session_factory() as session, session.begin():
        currencies = list((await hub_policy_for_update(session)).currencies)
        batch: list[tuple[int, ProductData]] = []

        async def flush() -> None:
            numbers = [str(n) for n, _ in batch]
            product_writes, errors = await validate_products(
                session, [p for _, p in batch], currencies, labels=numbers
            )
            for error in errors.errors:
                line = int(error.field[1]) if error.field and len(error.field) > 1 else 0
                where = ".".join(error.field[2:]) if error.field else ""
                report.rejected.append(
                    Rejected(line, f"{where}: {error.message}" if where else error.message)
                )
            valid = [w for w in product_writes if w is not None]
            if valid and (skip_invalid or not report.rejected):
                await writes.upsert_products(session, valid)
                report.imported += len(valid)
            progress(len(batch))
            batch.clear()

        for number, item in read_products(path):
            if isinstance(item, LineError):
                report.rejected.append(Rejected(number, str(item)))
                progress(1)
                continue
            batch.append((number, item))
            if len(batch) >= batch_size:
                await flush()
        if batch:
            await flush()
        if report.rejected and not skip_invalid:
            await session.rollback()
            report.imported = 0
            return report
        report.written = True
    return report
