"""PostgreSQL search words: hub_search_words in PL/pgSQL, the same index entries at under half the cost.

The generated column `products.search_words` (0006) calls hub_search_words for every product row
written; as a SQL function (regexp_split_to_table, generate_series, array_agg(DISTINCT ...)) it
took about 70 µs a call, a quarter of PostgreSQL's work per imported product. The PL/pgSQL loop
below takes about 31 µs (docs/performance.md, "COPY import"). It returns the same suffixes, with
repeats and unsorted: array_to_tsvector removes repeats and sorts, so the stored tsvector of every
text is the same and the column keeps its values (tests/test_catalog_search_words_pg.py compares
both functions' tsvectors).

Revision ID: 0013_pg_search_words_plpgsql
Revises: 0012_cache_versions
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_pg_search_words_plpgsql"
down_revision: str | None = "0012_cache_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As datasources/catalog/search.py describes: words split on whitespace; a word of fewer than
# three characters is one entry, a longer one each of its suffixes of three or more, cut to 32.
SEARCH_WORDS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION hub_search_words(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  word text;
  words text[] := '{}';
BEGIN
  FOREACH word IN ARRAY regexp_split_to_array(t, '\s+') LOOP
    IF word <> '' THEN
      FOR i IN 1 .. greatest(length(word) - 2, 1) LOOP
        words := words || substr(word, i, 32);
      END LOOP;
    END IF;
  END LOOP;
  RETURN words;
END
$$"""

# 0006's function, restored by a downgrade.
SQL_SEARCH_WORDS_FUNCTION = r"""
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


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SQL_SEARCH_WORDS_FUNCTION)
