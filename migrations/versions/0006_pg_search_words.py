"""PostgreSQL search: a GIN index of word suffixes replaces the pg_trgm index (as 0005 did on SQLite).

Revision ID: 0006_pg_search_words
Revises: 0005_search_words
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_pg_search_words"
down_revision: str | None = "0005_search_words"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As datasources/catalog/search.py PG_SEARCH_DDL stands at this revision.
SEARCH_WORDS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION hub_search_words(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT substr(w, i, 32)), '{}')
  FROM regexp_split_to_table(t, '\s+') AS w, generate_series(1, greatest(length(w) - 2, 1)) AS i
  WHERE w <> ''
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEARCH_WORDS_FUNCTION)
    op.execute(
        "ALTER TABLE products ADD COLUMN search_words tsvector "
        "GENERATED ALWAYS AS (array_to_tsvector(hub_search_words(search_text))) STORED"
    )
    op.execute("CREATE INDEX ix_products_search_words ON products USING gin (search_words)")
    # With both, the planner ANDs the two bitmaps, and the trigram side costs what it did alone.
    op.execute("DROP INDEX IF EXISTS ix_products_search_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_products_search_trgm ON products USING gin (search_text gin_trgm_ops)")
    op.execute("DROP INDEX IF EXISTS ix_products_search_words")
    op.execute("ALTER TABLE products DROP COLUMN IF EXISTS search_words")
    op.execute("DROP FUNCTION IF EXISTS hub_search_words(text)")
