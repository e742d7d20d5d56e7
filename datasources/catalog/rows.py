"""Catalog rows as plain data, free of SQLAlchemy: what the import's reader process builds and sends."""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCT_STATUSES = ("ACTIVE", "DRAFT", "DISCONTINUED")
PRODUCT_COLUMNS = ("sku", "name", "description", "status", "category_id", "search_text")
"""The columns of `products` a write sets, in the order of `ProductWrite.product_values`."""


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
    # Derived once, where the row is made: for an import that is the reader process, which
    # takes this work off the writing process.
    search_text: str = field(init=False)
    search_words: str | None = field(default=None, init=False)
    """The search index's words, for a writer that indexes them itself (SQLite's bulk import):
    the import's reader fills them in; None elsewhere (the triggers, or PostgreSQL, derive them)."""

    def __post_init__(self) -> None:
        self.search_text = search_text_of(self.sku, self.name, self.description)

    def product_values(self) -> tuple[str, str, str | None, str, int | None, str]:
        """The row's values of PRODUCT_COLUMNS, for the bulk writers' multi-row statements and COPY."""
        return (self.sku, self.name, self.description, self.status, self.category_id, self.search_text)


def search_text_of(sku: str, name: str, description: str | None) -> str:
    """What a search looks in: SKU, name and description, lower-cased."""
    return " ".join(part for part in (sku, name, description or "") if part).lower()
