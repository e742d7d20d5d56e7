"""The rules a product row must follow, with no database and no GraphQL.

`upsertProducts` looks the row's category and group codes up first (`resolvers.catalog.validate_products`);
`hub catalog import` looks every code up once and checks its file in a reader process
(`resolvers.catalog_reader`), which is why this module imports so little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from datasources.catalog.rows import PRODUCT_STATUSES, ProductWrite
from datasources.money import MAX_AMOUNT, to_minor
from resolvers.user_errors import UserErrors

SKU_MAX = 64
NAME_MAX = 300


@dataclass
class ProductData:
    sku: str
    name: str
    description: str | None = None
    status: str = "ACTIVE"
    category_code: str | None = None
    group_codes: list[str] | None = None
    list_prices: list[tuple[str, Decimal]] | None = None
    attributes: list[tuple[str, str]] | None = None


def check_products(
    rows: Sequence[ProductData],
    category_ids: dict[str, int],
    group_ids: dict[str, int],
    currencies: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    seen: dict[str, str] | None = None,
) -> tuple[list[ProductWrite | None], UserErrors]:
    """Check product rows with the category and group ids already looked up; one write (or None
    when invalid) per row. `labels` names each row in the error paths (row indexes by default);
    `seen` maps each SKU met so far to its label, for a check that spans several calls."""
    errors = UserErrors()
    labels = labels or [str(i) for i in range(len(rows))]
    seen = {} if seen is None else seen
    result: list[ProductWrite | None] = []
    for label, row in zip(labels, rows, strict=True):
        before = len(errors.errors)
        write = _validate_product(row, label, category_ids, group_ids, currencies, seen, errors)
        result.append(write if len(errors.errors) == before else None)
    return result, errors


def _validate_product(
    row: ProductData,
    label: str,
    category_ids: dict[str, int],
    group_ids: dict[str, int],
    currencies: Sequence[str],
    seen: dict[str, str],
    errors: UserErrors,
) -> ProductWrite | None:
    sku = row.sku.strip()
    if not sku:
        errors.add("REQUIRED", "A product needs a SKU.", "input", label, "sku")
    elif len(sku) > SKU_MAX:
        errors.add("TOO_LONG", f"A SKU has at most {SKU_MAX} characters.", "input", label, "sku")
    elif sku in seen:
        errors.add(
            "DUPLICATE", f"SKU {sku} appears twice (rows {seen[sku]} and {label}).", "input", label, "sku"
        )
    else:
        seen[sku] = label
    name = row.name.strip()
    if not name:
        errors.add("REQUIRED", "A product needs a name.", "input", label, "name")
    elif len(name) > NAME_MAX:
        errors.add("TOO_LONG", f"A name has at most {NAME_MAX} characters.", "input", label, "name")
    if row.status not in PRODUCT_STATUSES:
        errors.add(
            "INVALID_STATUS", f"Status is one of {', '.join(PRODUCT_STATUSES)}.", "input", label, "status"
        )
    category_id = None
    if row.category_code:
        category_id = category_ids.get(row.category_code)
        if category_id is None:
            errors.add(
                "NOT_FOUND", f"No category has the code {row.category_code}.", "input", label, "categoryCode"
            )
    product_group_ids = None
    if row.group_codes is not None:
        product_group_ids = []
        for j, code in enumerate(row.group_codes):
            if code in group_ids:
                product_group_ids.append(group_ids[code])
            else:
                errors.add(
                    "NOT_FOUND", f"No product group has the code {code}.", "input", label, "groupCodes", j
                )
    prices = None
    if row.list_prices is not None:
        prices = {}
        for j, (currency, amount) in enumerate(row.list_prices):
            minor = _price_minor(currency, amount, currencies, errors, ("input", label, "listPrices", j))
            if minor is not None:
                if currency in prices:
                    errors.add(
                        "DUPLICATE", f"Two list prices in {currency}.", "input", label, "listPrices", j
                    )
                prices[currency] = minor
    if row.attributes is not None:
        for j, (attr_name, _value) in enumerate(row.attributes):
            if not attr_name.strip():
                errors.add("REQUIRED", "An attribute needs a name.", "input", label, "attributes", j, "name")
    return ProductWrite(
        sku=sku,
        name=name,
        description=row.description,
        status=row.status,
        category_id=category_id,
        prices_minor=prices,
        attributes=[(n.strip(), v) for n, v in row.attributes] if row.attributes is not None else None,
        group_ids=product_group_ids,
    )


def _price_minor(
    currency: str, amount: Decimal, currencies: Sequence[str], errors: UserErrors, path: tuple[str | int, ...]
) -> int | None:
    if currency not in currencies:
        errors.add(
            "UNKNOWN_CURRENCY",
            f"{currency} is not one of the hub's currencies ({', '.join(currencies)}).",
            *path,
            "currency",
        )
        return None
    if not amount.is_finite() or amount < 0:
        errors.add("INVALID_AMOUNT", "A price must be zero or more.", *path, "amount")
        return None
    if amount > MAX_AMOUNT:
        errors.add("INVALID_AMOUNT", f"A price may be at most {MAX_AMOUNT}.", *path, "amount")
        return None
    try:
        return to_minor(amount, currency)
    except ValueError as error:
        errors.add("INVALID_AMOUNT", str(error), *path, "amount")
        return None
