"""The reading half of `hub catalog import`: parse and check a file of products, batch by batch.

CSV columns: sku, name, description, status, categoryCode, groupCodes ("a|b"),
attributes ("name=value|name=value") and one `price_<CUR>` column per currency.
JSON Lines: one ProductInput object per line (sku, name, description, status,
categoryCode, groupCodes, listPrices [{currency, amount}], attributes [{name, value}]).

The import runs this module as its own process (`python -m resolvers.catalog_reader`) so that
reading and checking the next batch uses the second core while the hub's process writes the
current one: in one process both halves hold the same GIL and took turns. The module imports
no database or GraphQL code, so the process starts in a few tens of milliseconds.

Protocol: the parent writes one pickled `ReadRequest` to stdin; the reader answers frames on
stdout, each an 8-byte big-endian length and a pickle of ("batch", CheckedBatch),
("unreadable", message) or ("end", None). Pickle is safe here: both ends are the hub's own code.
"""

from __future__ import annotations

import csv
import gc
import json
import pickle
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from datasources.catalog.rows import ProductWrite
from datasources.catalog.search import search_words
from resolvers.catalog_checks import ProductData, check_products

FRAME_HEADER = struct.Struct("!Q")


@dataclass
class Rejected:
    line: int
    message: str


@dataclass
class CheckedBatch:
    """One batch read and checked: the writes of its valid lines and the lines it rejects."""

    writes: list[ProductWrite]
    rejected: list[Rejected]
    lines: int


@dataclass
class ReadRequest:
    """What the reader needs to check a file without the database."""

    path: Path
    batch_size: int
    category_ids: dict[str, int] = field(default_factory=dict)
    group_ids: dict[str, int] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)
    search_words: bool = False
    """Fill in each row's search-index words: the writer indexes them itself (SQLite)."""


class LineError(ValueError):
    pass


class UnreadableFile(ValueError):
    """The file cannot be read any further (not UTF-8 text); nothing of it is imported."""


def is_json_lines(path: Path) -> bool:
    return path.suffix.lower() in {".jsonl", ".ndjson", ".json"}


def read_products(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    """(line number, product or the reason the line cannot be read), streaming."""
    if is_json_lines(path):
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _read_jsonl(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    with path.open("rb") as lines:
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
            except UnicodeDecodeError:
                yield number, LineError("cannot read the line: it is not UTF-8 text")
            except (json.JSONDecodeError, KeyError, TypeError, LineError) as error:
                yield number, LineError(f"cannot read the line: {error}")


def _text_lines(handle: BinaryIO) -> Iterator[str]:
    # Decoded line by line so that a file in another encoding is named with its first bad line;
    # the first line may start with the byte-order mark that spreadsheet programs write.
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile(f"line {number} is not UTF-8 text: save the file as UTF-8") from None


def _read_csv(path: Path) -> Iterator[tuple[int, ProductData | LineError]]:
    with path.open("rb") as handle:
        reader = csv.reader(_text_lines(handle))
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
        for row in _rows(reader):
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


def _rows(reader: Any) -> Iterator[list[str]]:
    """The CSV rows; a file the csv module cannot parse further (a field over its size limit, a
    stray NUL byte) is unreadable from that line on."""
    try:
        yield from reader
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num} cannot be read as CSV: {error}") from None


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


def checked_batches(request: ReadRequest) -> Iterator[CheckedBatch]:
    """Read and check the file batch by batch, with no database access."""
    batch: list[tuple[int, ProductData]] = []
    unreadable: list[Rejected] = []
    # A SKU twice in one file is an error wherever the two lines fall, not only within a batch.
    seen: dict[str, str] = {}

    def check() -> CheckedBatch:
        product_writes, errors = check_products(
            [p for _, p in batch],
            request.category_ids,
            request.group_ids,
            request.currencies,
            labels=[str(n) for n, _ in batch],
            seen=seen,
        )
        rejected = unreadable[:]
        for error in errors.errors:
            line = int(error.field[1]) if error.field and len(error.field) > 1 else 0
            where = ".".join(error.field[2:]) if error.field else ""
            rejected.append(Rejected(line, f"{where}: {error.message}" if where else error.message))
        rejected.sort(key=lambda r: r.line)
        valid = [w for w in product_writes if w is not None]
        if request.search_words:
            for write in valid:
                write.search_words = search_words(write.search_text)
        checked = CheckedBatch(valid, rejected, len(batch) + len(unreadable))
        batch.clear()
        unreadable.clear()
        return checked

    for number, item in read_products(request.path):
        if isinstance(item, LineError):
            unreadable.append(Rejected(number, str(item)))
        else:
            batch.append((number, item))
        if len(batch) + len(unreadable) >= request.batch_size:
            yield check()
    if batch or unreadable:
        yield check()


def write_frame(out: BinaryIO, kind: str, payload: object) -> None:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    out.write(FRAME_HEADER.pack(len(data)))
    out.write(data)


def main() -> None:
    # A short-lived process that makes millions of objects and no cycles: the cyclic collector's
    # passes over its growing heap would cost a quarter of its time.
    gc.disable()
    request: ReadRequest = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        for batch in checked_batches(request):
            write_frame(out, "batch", batch)
    except UnreadableFile as error:
        write_frame(out, "unreadable", str(error))
    write_frame(out, "end", None)
    out.flush()


if __name__ == "__main__":
    # Run from the module's own name, not __main__, so that what it pickles names classes the
    # hub's process can find (`resolvers.catalog_reader.CheckedBatch`, not `__main__.CheckedBatch`).
    from resolvers.catalog_reader import main as main_of_the_module

    main_of_the_module()
