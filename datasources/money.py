"""Currencies and amounts: ISO 4217 codes, minor units, exact conversion to and from integers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# Amounts above this (in major units) are refused: they are typos, and they keep SQL arithmetic in 64 bits.
MAX_AMOUNT = Decimal("1000000000")


@cache
def iso_currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isalpha())


def is_iso_currency(code: str) -> bool:
    return code in iso_currencies()


@cache
def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (2 for USD, 0 for JPY)."""
    return get_currency_precision(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """An exact amount in minor units; raises ValueError when it has more digits than the currency allows."""
    try:
        exponent = minor_unit_exponent(currency)
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {exponent} decimal places for {currency}")
        return int(scaled)
    except InvalidOperation as error:
        raise ValueError(f"{amount} is not a valid amount") from error


def from_minor(amount_minor: int, currency: str) -> Decimal:
    exponent = minor_unit_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    exponent = minor_unit_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
