"""SQLite's substring search index: every word's suffixes, so that a lookup costs what it finds.

A product's `search_text` (SKU, name and description, lower-cased) matches a search term when
the term is a substring of it. On PostgreSQL pg_trgm's GIN index answers that. On SQLite an
FTS5 trigram index did, but FTS5 reads the whole posting list of every trigram of the term, and
the trigrams of most terms ("lin", "ine") are in a large share of any catalog: a term matching
200 products took 0.5 ms at 10,000 products and 5 ms at 200,000.

This index holds, for each word of the text, the word and each of its suffixes of three
characters or more ("line00021" gives "line00021", "ine00021", …, "021"), in a contentless
FTS5 table without positions. A word of a term is a substring of a word of the text exactly
when it is a prefix of one of those suffixes, which FTS5 answers with a prefix query reading
only the matching entries: 0.07 ms for that term at either size. The index narrows the
candidates; the query then checks the whole term against `search_text` (LIKE), so spaces and
words shorter than three characters in the term are matched exactly too.

The triggers that keep the index call `hub_search_words`, which every connection of the hub
registers (`datasources.db.create_engine`).
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
    words = [word for word in dict.fromkeys(needle.split()) if len(word) >= MIN_INDEXED_WORD]
    if not words or any(_splits(word) for word in words):
        return None
    return " AND ".join('"' + word[:SUFFIX_MAX].replace('"', '""') + '"*' for word in words)


def _splits(word: str) -> bool:
    return any(unicodedata.category(char).startswith(_SEPARATOR_CATEGORIES) for char in word)
