"""Printable numbers for orders and purchase orders that cannot be guessed from one another."""

from __future__ import annotations

import secrets

# Crockford's base-32 alphabet: no I, L, O or U, so a number read over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARACTERS = 12
"""60 random bits: a clash is rare (the unique index catches it and the writer draws again), and a
number says nothing about any other, unlike a sequence."""


def new_number(prefix: str) -> str:
    """A new number such as `ORD-7KQ2-M9XD-4TZB`: the prefix, then 12 random characters in groups of 4."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARACTERS))
    return f"{prefix}-{body[0:4]}-{body[4:8]}-{body[8:12]}"
