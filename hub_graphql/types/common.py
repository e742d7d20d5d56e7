"""Types every domain shares: Node and global ids, PageInfo, Money, UserError."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryOptional

from datasources.money import from_minor
from datasources.pagination import Page
from hub_graphql.context import Context
from resolvers.errors import UserErrorData

Info: TypeAlias = strawberry.Info[Context, None]
InputT = TypeVar("InputT")


def flat_input(cls: type[InputT]) -> type[InputT]:
    """Build this input straight from its GraphQL value: for inputs of scalar fields that come in long lists.

    Strawberry converts an input field by field, resolving each field's type every time: for a
    quote request of 300 items that was 15 to 20 ms of a request. graphql-core has already parsed and
    checked every scalar, so the values can go to the class as they are. Strawberry's documented
    hook for this is the definition's `from_input`; fields the client left out keep the class's
    defaults. Only scalar fields (no enum, no nested input, no list): checked on first use.
    """
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    names: list[tuple[str, str]] = []

    def from_input(target: type[InputT], value: Mapping[str, Any], context: InputContext) -> InputT:
        if not names:
            for field in definition.fields:
                field_type = field.resolve_type(type_definition=definition)
                if isinstance(field_type, StrawberryOptional):
                    field_type = field_type.of_type
                if not isinstance(field_type, type) or not issubclass(field_type, _SCALARS):
                    raise TypeError(f"flat_input: {cls.__name__}.{field.python_name} is not a scalar")
                names.append((context.config.name_converter.from_field(field), field.python_name))
        return target(**{python: value[graphql] for graphql, python in names if graphql in value})

    definition.from_input = from_input
    return cls


_SCALARS = (str, int, float, bool, Decimal)


def global_id(type_name: str, key: str | int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("="))


def parse_global_id(value: str) -> tuple[str, str] | None:
    """(type name, key) of an id the hub gave out, or None."""
    try:
        raw = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, sep, key = raw.partition(":")
    return (type_name, key) if sep and type_name and key else None


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page) -> PageInfo:  # type: ignore[type-arg]
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type(description="A decimal amount in an ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of_minor(cls, amount_minor: int, currency: str) -> Money:
        return cls(amount=from_minor(amount_minor, currency), currency=currency)


@strawberry.type(description="Bad input to a mutation: nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(description="The path to the bad value in the input.")
    message: str
    code: str = strawberry.field(
        description="A stable code: REQUIRED, NOT_FOUND, DUPLICATE, INVALID_STATE, …"
    )

    @classmethod
    def of(cls, error: UserErrorData) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)

    @classmethod
    def all(cls, errors: list[UserErrorData]) -> list[UserError]:
        return [cls.of(e) for e in errors]
