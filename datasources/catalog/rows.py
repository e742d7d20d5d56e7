"""Catalog rows as plain data, free of SQLAlchemy: what the import's reader process builds and sends."""

from __future__ import annotations

from dataclasses import dataclass

PRODUCT_STATUSES = ("ACTIVE", "DRAFT", "DISCONTINUED")


@dataclass
class ProductWrite:
    """One validated product row. A list left as None keeps what is stored; a list replaces it."""

    sku: str
    name: str
    description: str | None
    status: str
    category_id: int | None
    prices_minor: dict[str, int] | None = None
    attributes: list[tuple[str, str]] | None = None
    group_ids: list[int] | None = None
