"""`flat_input`: inputs built straight from their GraphQL value equal what Strawberry's own conversion builds."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.types.arguments import convert_argument

from hub_graphql.schema import build_schema
from hub_graphql.types.catalog import AttributeInput, CategoryInput, PriceInput
from hub_graphql.types.common import flat_input
from hub_graphql.types.quotes import QuoteItemInput, QuoteLineInput

CASES: list[tuple[type, dict[str, Any]]] = [
    (QuoteItemInput, {"quantity": 3, "sku": "A-1"}),
    (QuoteItemInput, {"quantity": 1, "categoryCode": "drills", "sku": None}),
    (QuoteLineInput, {"sku": "A-1", "quantity": 2, "available": True, "unitPrice": Decimal("9.95")}),
    (QuoteLineInput, {"sku": "A-1", "quantity": 2, "available": False, "leadTimeDays": None}),
    (CategoryInput, {"code": "c", "name": "C"}),
    (CategoryInput, {"code": "c", "name": "C", "parentCode": "p"}),
    (PriceInput, {"currency": "EUR", "amount": Decimal("0.50")}),
    (AttributeInput, {"name": "color", "value": "red"}),
]


SCHEMA = build_schema()


def convert(cls: type, value: dict[str, Any]) -> object:
    return convert_argument(value, cls, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)


@pytest.mark.parametrize(("cls", "value"), CASES)
def test_a_flat_input_is_built_as_strawberry_builds_it(cls: type, value: dict[str, Any]) -> None:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    fast = convert(cls, value)
    hook, definition.from_input = definition.from_input, None
    try:
        slow = convert(cls, value)
    finally:
        definition.from_input = hook
    assert hook is not None
    assert type(fast) is cls and fast == slow


def test_flat_input_refuses_a_field_that_is_not_a_scalar() -> None:
    @strawberry.enum
    class Colour(Enum):
        RED = "red"

    @flat_input
    @strawberry.input
    class WithEnum:
        colour: Colour

    with pytest.raises(TypeError, match=r"WithEnum\.colour is not a scalar"):
        convert(WithEnum, {"colour": Colour.RED})
