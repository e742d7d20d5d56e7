"""The executor's short path for plain fields (hub_graphql/execution.py) answers exactly as graphql-core does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension

from hub_graphql.execution import HubExecutionContext
from hub_graphql.schema import build_schema
from hub_graphql.settings import Settings


@strawberry.enum
class Shade(Enum):
    DARK = "DARK"
    LIGHT = "LIGHT"


@strawberry.type
class Price:
    amount: Decimal
    currency: str


@strawberry.type
class Item:
    sku: str
    count: int
    shade: Shade
    note: str | None
    price: Price
    list_price: Price | None

    @strawberry.field
    def label(self) -> str:
        return f"{self.sku}!"


@dataclass
class Broken:
    """What a buggy resolver might hand over: values the schema's types refuse."""

    sku: Any = None
    count: Any = "many"
    shade: Any = "PURPLE"
    note: Any = 12
    price: Any = None
    list_price: Any = None

    def label(self) -> str:
        return "broken"


def _item(n: int) -> Item:
    return Item(
        sku=f"S-{n}",
        count=n,
        shade=Shade.DARK if n % 2 else Shade.LIGHT,
        note=None if n % 3 else f"note {n}",
        price=Price(amount=Decimal(n) / 4, currency="EUR"),
        list_price=None if n % 2 else Price(amount=Decimal(n), currency="USD"),
    )


@strawberry.type
class Query:
    @strawberry.field
    async def items(self) -> list[Item]:
        return [_item(n) for n in range(6)]

    @strawberry.field
    def broken(self) -> list[Item | None]:
        return [Broken(), _item(1), Broken(sku="B", price=Price(amount=Decimal(1), currency="X"))]  # type: ignore[list-item]

    @strawberry.field
    def one_broken(self) -> Item:
        return Broken()  # type: ignore[return-value]


DOCUMENT = """
query($withLabel: Boolean!) {
  items { sku count shade note price { amount currency } listPrice { amount currency } label @include(if: $withLabel) }
  broken { sku count shade note price { amount } listPrice { amount } }
  alias: items { s: sku p: price { a: amount } ...F }
}
fragment F on Item { count listPrice { currency } }
"""
FAILING_ROOT = "{ oneBroken { sku price { amount } } items { sku } }"


def _answer(result: Any) -> tuple[Any, Any]:
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
        for e in result.errors or []
    ]
    return result.data, sorted(errors, key=repr)


async def test_plain_fields_answer_data_and_errors_as_graphql_core_does() -> None:
    # given: the same types executed by graphql-core's executor and by the hub's
    plain = strawberry.Schema(query=Query)
    hub = strawberry.Schema(query=Query, execution_context_class=HubExecutionContext)
    for document, variables in (
        (DOCUMENT, {"withLabel": True}),
        (DOCUMENT, {"withLabel": False}),
        (FAILING_ROOT, {}),
    ):
        # when
        expected = await plain.execute(document, variable_values=variables)
        answered = await hub.execute(document, variable_values=variables)
        # then: the same data, the same errors at the same paths (nulls, refused scalars and enums)
        assert _answer(answered) == _answer(expected)
    assert _answer(await hub.execute(DOCUMENT, variable_values={"withLabel": True}))[
        1
    ]  # errors were compared


class EveryField(SchemaExtension):
    """An extension that hooks into every field (a graphql-core middleware)."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        EveryField.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_an_extension_hooking_into_every_field_still_sees_every_field() -> None:
    schema = strawberry.Schema(
        query=Query, extensions=[EveryField], execution_context_class=HubExecutionContext
    )
    EveryField.seen.clear()
    result = await schema.execute("{ items { sku price { amount } } }")
    assert result.errors is None
    assert EveryField.seen.count("sku") == 6 and EveryField.seen.count("amount") == 6


def test_the_hub_schema_has_no_extension_hooking_into_every_field() -> None:
    # A `resolve` hook in any schema extension makes all ~500 fields of a store page pay for it,
    # and turns the executor's short path off: extensions act per operation, guards per field.
    schema = build_schema(Settings(_env_file=None))
    assert schema.execution_context_class is HubExecutionContext
    hooked = [type(e).__name__ for e in schema.get_extensions() if e._implements_resolve()]
    assert hooked == []
