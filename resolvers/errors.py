"""The hub's GraphQL errors (with extensions.code) and the userErrors of mutation payloads."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError

from datasources.pagination import MAX_PAGE_SIZE, InvalidCursor, decode_cursor

# Re-exported: the mutations know them from here.
from resolvers.user_errors import UserErrorData as UserErrorData
from resolvers.user_errors import UserErrors as UserErrors


class HubError(GraphQLError):
    """An error the client caused or may see in full: the message is safe to show."""

    def __init__(self, message: str, code: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": code, **extensions})
        self.code = code


def unauthenticated(message: str = "Sign in first: this needs a valid bearer token.") -> HubError:
    return HubError(message, "UNAUTHENTICATED")


def forbidden(message: str = "You are not allowed to do this.") -> HubError:
    return HubError(message, "FORBIDDEN")


def bad_input(message: str) -> HubError:
    return HubError(message, "BAD_USER_INPUT")


def check_page_size(first: int | None, *, maximum: int = MAX_PAGE_SIZE) -> int:
    if first is None:
        return 20
    if first < 1:
        raise bad_input(f"`first` must be at least 1 (got {first}).")
    if first > maximum:
        raise bad_input(f"`first` may be at most {maximum} (got {first}).")
    return first


def check_cursor(after: str | None, kind: str) -> list[object] | None:
    if after is None:
        return None
    try:
        return decode_cursor(after, kind)
    except InvalidCursor:
        raise bad_input("`after` is not a cursor this list gave out.") from None


def check_list_size(items: Sequence[object], name: str, maximum: int) -> None:
    if len(items) > maximum:
        raise bad_input(f"`{name}` may hold at most {maximum} entries (got {len(items)}).")
