"""Opaque keyset cursors: what a Relay cursor holds, and how a page is cut from a sorted query."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

CURSOR_PREFIX = "hub1:"
MAX_PAGE_SIZE = 100


class InvalidCursor(ValueError):
    """A cursor the hub did not make, or one for another list."""


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    raw = CURSOR_PREFIX + json.dumps([kind, list(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> list[Any]:
    """The key a cursor holds; InvalidCursor when it is not one of ours for this kind of list."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        if not raw.startswith(CURSOR_PREFIX):
            raise InvalidCursor(cursor)
        found_kind, key = json.loads(raw[len(CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeError, ValueError, TypeError) as error:
        raise InvalidCursor(cursor) from error
    if found_kind != kind or not isinstance(key, list):
        raise InvalidCursor(cursor)
    return key


@dataclass
class Page(Generic[T]):
    """One page of a keyset-paginated list, and what Relay's PageInfo needs to know about it."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def cut_page(rows: Sequence[T], first: int, *, after_given: bool, kind: str, key_of: Any) -> Page[T]:
    """Rows were fetched with LIMIT first + 1: the extra row only says there is a next page."""
    items = list(rows[:first])
    return Page(
        items=items,
        cursors=[encode_cursor(kind, key_of(item)) for item in items],
        has_next_page=len(rows) > first,
        has_previous_page=after_given,
    )
