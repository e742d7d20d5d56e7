"""The distributor quote contract (../shared/contract/distributor-quote.graphql) as data, and its checks.

An answer is accepted only when it keeps the contract whole: the asked currency,
every asked line exactly once, no unasked line, prices that are exact amounts in
that currency. Anything else is a `ContractBreach`, and the distributor gives no
offer for any of its lines (a partial answer that looked whole would mislead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from datasources.money import MAX_AMOUNT, to_minor

QUOTE_QUERY = """
query Quote($request: QuoteInput!) {
  quote(request: $request) {
    requestId currency validUntil
    lines { sku quantity unitPrice available availableQuantity leadTimeDays }
  }
}
""".strip()


class QuoteFailure(Exception):
    """A distributor gave no usable answer; `reason` is safe to show (no endpoint, no credential)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContractBreach(QuoteFailure):
    """The distributor answered, but not as the contract says."""


@dataclass(frozen=True)
class AskedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class OfferedLine:
    """One line of an answer, the price in minor units of the answer's currency."""

    sku: str
    quantity: int
    unit_price_minor: int | None
    available: bool
    available_quantity: int | None
    lead_time_days: int | None


@dataclass(frozen=True)
class DistributorAnswer:
    currency: str
    valid_until: datetime | None
    lines: dict[AskedLine, OfferedLine]


def quote_input(request_id: str, currency: str, reseller_code: str | None, lines: list[AskedLine]) -> dict:
    """The QuoteInput object the hub sends (GraphQL variable, or the REST_JSON body)."""
    return {
        "requestId": request_id,
        "currency": currency,
        "resellerCode": reseller_code,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
    }


def parse_answer(raw: Any, currency: str, asked: list[AskedLine]) -> DistributorAnswer:
    """Check a QuoteResult against what was asked; raises ContractBreach."""
    if not isinstance(raw, dict) or not isinstance(raw.get("lines"), list):
        raise ContractBreach("wrong shape: the answer is not a QuoteResult with a list of lines")
    answered_currency = raw.get("currency")
    if answered_currency != currency:
        raise ContractBreach(f"answered in {_short(answered_currency)} when {currency} was asked")
    valid_until = _datetime(raw.get("validUntil"))
    wanted = set(asked)
    lines: dict[AskedLine, OfferedLine] = {}
    for index, item in enumerate(raw["lines"]):
        line = _line(item, index, currency)
        key = AskedLine(line.sku, line.quantity)
        if key not in wanted:
            raise ContractBreach(f"answered a line that was not asked ({_short(line.sku)} x {line.quantity})")
        if key in lines:
            raise ContractBreach(f"answered {_short(line.sku)} x {line.quantity} twice")
        lines[key] = line
    missing = len(wanted) - len(lines)
    if missing:
        raise ContractBreach(f"left out {missing} of the {len(wanted)} asked lines")
    return DistributorAnswer(currency=currency, valid_until=valid_until, lines=lines)


def _line(item: Any, index: int, currency: str) -> OfferedLine:
    if not isinstance(item, dict):
        raise ContractBreach(f"wrong shape: line {index} is not an object")
    sku, quantity, available = item.get("sku"), item.get("quantity"), item.get("available")
    if not isinstance(sku, str) or not _is_int(quantity) or not isinstance(available, bool):
        raise ContractBreach(f"wrong shape: line {index} needs sku, quantity and available")
    available_quantity = _optional_int(item.get("availableQuantity"), index, "availableQuantity")
    lead_time_days = _optional_int(item.get("leadTimeDays"), index, "leadTimeDays")
    unit_price_minor = _price(item.get("unitPrice"), index, currency)
    if available and unit_price_minor is None:
        raise ContractBreach(f"wrong shape: line {index} is available but has no unitPrice")
    return OfferedLine(
        sku=sku,
        quantity=quantity,
        unit_price_minor=unit_price_minor if available else None,
        available=available,
        available_quantity=available_quantity,
        lead_time_days=lead_time_days,
    )


def _price(value: Any, index: int, currency: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ContractBreach(f"wrong shape: line {index} unitPrice is not a decimal")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ContractBreach(f"wrong shape: line {index} unitPrice is not a decimal") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ContractBreach(f"line {index} unitPrice is out of range")
    try:
        return to_minor(amount, currency)
    except ValueError:
        raise ContractBreach(f"line {index} unitPrice has more decimals than {currency} allows") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_int(value: Any, index: int, name: str) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or value < 0:
        raise ContractBreach(f"wrong shape: line {index} {name} is not a whole number")
    return value


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractBreach("wrong shape: validUntil is not a date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContractBreach("wrong shape: validUntil is not a date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _short(value: Any) -> str:
    """A distributor's own text, cut short: reasons are shown to resellers."""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
