"""The substring search index: every word's suffixes, so that a lookup costs what it finds.

A product's `search_text` (SKU, name and description, lower-cased) matches a search term when
the term is a substring of it. Trigram indexes (FTS5's on SQLite, pg_trgm's GIN on PostgreSQL)
answered that first, but both read the whole posting list of every trigram of the term, and the
trigrams of most terms ("lin", "ine") are in a large share of any catalog: on SQLite a term
matching 200 products took 0.5 ms at 10,000 products and 5 ms at 200,000 (PostgreSQL: 3.4 ms at
200,000).

This index holds, for each word of the text, the word and each of its suffixes of three
characters or more ("line00021" gives "line00021", "ine00021", …, "021"), in a contentless
FTS5 table without positions. A word of a term is a substring of a word of the text exactly
when it is a prefix of one of those suffixes, which FTS5 answers with a prefix query reading
only the matching entries: 0.07 ms for that term at either size. The index narrows the
candidates; the query then checks the whole term against `search_text` (LIKE), so spaces and
words shorter than three characters in the term are matched exactly too.

On SQLite the index is an FTS5 table kept by triggers, which call `hub_search_words`, a
function every connection of the hub registers (`datasources.db.create_engine`). On PostgreSQL
it is a generated tsvector column, `search_words`, built by the SQL function of the same name
(migration 0006) and searched through a GIN index with prefix queries (`'line00021':*`): 0.17 ms
for that term at 200,000 products.
"""

from __future__ import annotations

import unicodedata

SEARCH_WORDS_FUNCTION = "hub_search_words"
MIN_INDEXED_WORD = 3
SUFFIX_MAX = 32
"""Suffixes are cut to this many characters, and a longer word of a term looks up its first 32: a
word's suffixes would otherwise take room in the square of its length (a 20,000-character
"word" in a description, 200 million characters)."""

# The tokenizer keeps every character but separators and control characters inside a token, so
# a word of the text (split on whitespace) is one token, punctuation and all ("dr-1", "100%").
_TOKEN_CATEGORIES = "L* N* M* P* S* Co Cn"
_SEPARATOR_CATEGORIES = ("Z", "Cc", "Cf", "Cs")

SQLITE_SEARCH_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS product_search USING fts5(words, content='', "
    "columnsize=0, detail=none, "
    f"tokenize=\"unicode61 remove_diacritics 0 categories '{_TOKEN_CATEGORIES}'\")"
)


def search_words(search_text: str) -> str:
    """What the index holds for a product: each distinct word and its suffixes of 3+ characters,
    each cut to SUFFIX_MAX characters.

    The triggers remove a product's entries by computing them again from its old text (the table
    keeps no copy): a change to what this returns needs a migration that rebuilds the index.
    """
    words: list[str] = []
    add = words.append
    for word in dict.fromkeys(search_text.split()):
        if len(word) <= SUFFIX_MAX:
            add(word)
            for start in range(1, len(word) - 2):
                add(word[start:])
        else:
            for start in range(len(word) - 2):
                add(word[start : start + SUFFIX_MAX])
    return " ".join(words)


def index_query(needle: str) -> str | None:
    """The FTS5 query that finds every product whose text may contain `needle` (lower-cased);
    None when the index cannot narrow the search (no word of 3+ characters in the term, or a
    word the tokenizer would split)."""
    words = _indexed_words(needle)
    if words is None:
        return None
    return " AND ".join('"' + word[:SUFFIX_MAX].replace('"', '""') + '"*' for word in words)


def _indexed_words(needle: str) -> list[str] | None:
    words = [word for word in dict.fromkeys(needle.split()) if len(word) >= MIN_INDEXED_WORD]
    if not words or any(_splits(word) for word in words):
        return None
    return words


def _splits(word: str) -> bool:
    return any(unicodedata.category(char).startswith(_SEPARATOR_CATEGORIES) for char in word)


# PostgreSQL: the same words from SQL. Whitespace is PostgreSQL's `\s`, which Python's str.split()
# also splits on, so a word of a term (split by Python) never spans two of these words.
PG_SEARCH_WORDS_FUNCTION_DDL = f"""
CREATE OR REPLACE FUNCTION {SEARCH_WORDS_FUNCTION}(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT substr(w, i, {SUFFIX_MAX})), '{{}}')
  FROM regexp_split_to_table(t, '\\s+') AS w, generate_series(1, greatest(length(w) - 2, 1)) AS i
  WHERE w <> ''
$$"""
PG_SEARCH_COLUMN = "search_words"
PG_SEARCH_INDEX = "ix_products_search_words"
PG_SEARCH_DDL = (
    PG_SEARCH_WORDS_FUNCTION_DDL,
    f"ALTER TABLE products ADD COLUMN {PG_SEARCH_COLUMN} tsvector "
    f"GENERATED ALWAYS AS (array_to_tsvector({SEARCH_WORDS_FUNCTION}(search_text))) STORED",
    f"CREATE INDEX {PG_SEARCH_INDEX} ON products USING gin ({PG_SEARCH_COLUMN})",
)


def pg_index_query(needle: str) -> str | None:
    """The tsquery (PostgreSQL's input syntax, no normalisation) for `needle`, as `index_query`."""
    words = _indexed_words(needle)
    if words is None:
        return None
    return " & ".join(
        "'" + word[:SUFFIX_MAX].replace("\\", "\\\\").replace("'", "''") + "':*" for word in words
    )
