"""SQLite search: an FTS5 index of word suffixes replaces the trigram index (issue 4's store search).

Revision ID: 0005_search_words
Revises: 0004_quotes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_search_words"
down_revision: str | None = "0004_quotes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("products_search_ai", "products_search_ad", "products_search_au")

# As datasources/catalog/models.py SQLITE_SEARCH_DDL stands at this revision (hub_search_words is
# registered on every connection of the hub, the migrations' included).
SUFFIX_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE product_search USING fts5(words, content='', columnsize=0, detail=none, "
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co Cn'\")",
    "CREATE TRIGGER products_search_ai AFTER INSERT ON products BEGIN "
    "INSERT INTO product_search(rowid, words) VALUES (new.id, hub_search_words(new.search_text)); END",
    "CREATE TRIGGER products_search_ad AFTER DELETE ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, words) "
    "VALUES ('delete', old.id, hub_search_words(old.search_text)); END",
    "CREATE TRIGGER products_search_au AFTER UPDATE OF search_text ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, words) "
    "VALUES ('delete', old.id, hub_search_words(old.search_text)); "
    "INSERT INTO product_search(rowid, words) VALUES (new.id, hub_search_words(new.search_text)); END",
)
TRIGRAM_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE product_search USING fts5("
    "search_text, content='products', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER products_search_ai AFTER INSERT ON products BEGIN "
    "INSERT INTO product_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER products_search_ad AFTER DELETE ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER products_search_au AFTER UPDATE OF search_text ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO product_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def _replace_search(ddl: Sequence[str], fill: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS product_search")
    for statement in ddl:
        op.execute(statement)
    op.execute(fill)


def upgrade() -> None:
    _replace_search(
        SUFFIX_SEARCH_DDL,
        "INSERT INTO product_search(rowid, words) SELECT id, hub_search_words(search_text) FROM products",
    )


def downgrade() -> None:
    _replace_search(TRIGRAM_SEARCH_DDL, "INSERT INTO product_search(product_search) VALUES ('rebuild')")
