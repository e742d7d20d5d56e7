"""Partners and access: sign-in, users, resellers, distributors and hub policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from datasources.db import RequestDatabase
from datasources.partners.models import User
from datasources.partners.queries import user_by_email
from resolvers.auth import issue_token, verify_password
from resolvers.errors import UserErrors


@dataclass
class SignIn:
    token: str | None
    user: User | None
    errors: UserErrors


async def login(db: RequestDatabase, email: str, password: str, secret: str, ttl: timedelta) -> SignIn:
    """A bearer token for a user whose password matches; one vague error otherwise (no account probing)."""
    user = await user_by_email(db, email)
    if user is None or not verify_password(user.password_hash if user else None, password):
        errors = UserErrors()
        errors.add("INVALID_CREDENTIALS", "The e-mail or the password is wrong.", "password")
        return SignIn(token=None, user=None, errors=errors)
    return SignIn(token=issue_token(user.id, secret, ttl), user=user, errors=UserErrors())
