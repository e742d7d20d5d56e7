"""Passwords (argon2) and bearer tokens (signed, expiring JWTs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_ALGORITHM = "HS256"
TOKEN_ISSUER = "demand-chain-hub"

_hasher = PasswordHasher()
# Verifying against this when no user matches keeps sign-in timing the same for unknown e-mails.
_DUMMY_HASH = _hasher.hash("no user has this password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, secret: str, ttl: timedelta, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + ttl, "iss": TOKEN_ISSUER}
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


def user_id_from_token(token: str, secret: str) -> int | None:
    """The user a token names, or None when it is tampered, expired or signed with another key."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            issuer=TOKEN_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
