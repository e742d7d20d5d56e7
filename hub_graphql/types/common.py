"""Types every domain shares: Node and global ids, PageInfo, Money, UserError."""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import TypeAlias

import strawberry

from datasources.money import from_minor
from datasources.pagination import Page
from hub_graphql.context import Context
from resolvers.errors import UserErrorData

Info: TypeAlias = strawberry.Info[Context, None]


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
