"""SQLAlchemy models of the master catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from datasources.catalog.search import (
    PG_SEARCH_COLUMN,
    PG_SEARCH_DDL,
    PG_SEARCH_INDEX,
    SEARCH_WORDS_FUNCTION,
    SQLITE_SEARCH_TABLE,
)
from datasources.db import Base


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    # "/<root id>/…/<own id>/": lets one prefix test find a category and everything below it.
    path: Mapped[str] = mapped_column(String(1000), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # Lower-cased "sku name description", kept by the writers; the search indexes are built on it.
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (Index("ix_products_category_sku", "category_id", "sku"),)


class ProductPrice(Base):
    """A list price, in the currency's minor unit (cents for USD) so that SQL can price exactly."""

    __tablename__ = "product_prices"
    # Clustered on the key: one b-tree a row instead of two, which a bulk import feels on SQLite.
    __table_args__ = {"sqlite_with_rowid": False}

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ProductAttribute(Base):
    __tablename__ = "product_attributes"
    # Clustered on the key: one b-tree a row instead of two, which a bulk import feels on SQLite.
    __table_args__ = {"sqlite_with_rowid": False}

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(2000))


class ProductGroup(Base):
    __tablename__ = "product_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class ProductGroupMember(Base):
    __tablename__ = "product_group_members"
    # Clustered on the key: one b-tree a row instead of two, which a bulk import feels on SQLite.
    __table_args__ = {"sqlite_with_rowid": False}

    group_id: Mapped[int] = mapped_column(
        ForeignKey("product_groups.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# Substring search: an index of every word's suffixes (datasources/catalog/search.py says why): on
# SQLite an FTS5 table kept by triggers, on PostgreSQL a generated tsvector column with a GIN
# index. The migrations run the same statements (migrations/versions/0005_*.py and 0006_*.py).
_WORDS = SEARCH_WORDS_FUNCTION
SQLITE_SEARCH_DDL = (
    SQLITE_SEARCH_TABLE,
    "CREATE TRIGGER IF NOT EXISTS products_search_ai AFTER INSERT ON products BEGIN "
    f"INSERT INTO product_search(rowid, words) VALUES (new.id, {_WORDS}(new.search_text)); END",
    "CREATE TRIGGER IF NOT EXISTS products_search_ad AFTER DELETE ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, words) "
    f"VALUES ('delete', old.id, {_WORDS}(old.search_text)); END",
    "CREATE TRIGGER IF NOT EXISTS products_search_au AFTER UPDATE OF search_text ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, words) "
    f"VALUES ('delete', old.id, {_WORDS}(old.search_text)); "
    f"INSERT INTO product_search(rowid, words) VALUES (new.id, {_WORDS}(new.search_text)); END",
)
# Made by raw DDL (above and in the migrations), not by the models: left out of `alembic check`.
SEARCH_COLUMNS = frozenset({PG_SEARCH_COLUMN})
SEARCH_INDEXES = frozenset({PG_SEARCH_INDEX})
SEARCH_SHADOW_TABLES = frozenset(
    {"product_search", *(f"product_search_{s}" for s in ("data", "idx", "docsize", "config", "content"))}
)

for _statement in SQLITE_SEARCH_DDL:
    event.listen(Product.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in PG_SEARCH_DDL:
    event.listen(Product.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
