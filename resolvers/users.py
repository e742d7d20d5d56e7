"""Creating users: e-mail checks, argon2 password hashes, roles and their partner."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.partners.models import ROLES, User
from resolvers.auth import MIN_PASSWORD_LENGTH, hash_password
from resolvers.errors import UserErrors

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def create_user(
    session: AsyncSession,
    email: str,
    password: str,
    roles: Sequence[str],
    *,
    reseller_id: int | None = None,
    distributor_id: int | None = None,
    path: Sequence[str] = (),
) -> UserErrors:
    """Add a user; userErrors (and nothing added) on a bad e-mail, short password, unknown role or taken e-mail."""
    errors = UserErrors()
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        errors.add("INVALID_EMAIL", "That is not an e-mail address.", *path, "email")
    elif await session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        errors.add("DUPLICATE", "A user with that e-mail exists already.", *path, "email")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            "WEAK_PASSWORD", f"A password has at least {MIN_PASSWORD_LENGTH} characters.", *path, "password"
        )
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        errors.add("INVALID_ROLE", f"Roles are among {', '.join(ROLES)}.", *path, "roles")
    if errors:
        return errors
    session.add(
        User(
            email=email,
            password_hash=hash_password(password),
            roles=list(dict.fromkeys(roles)),
            reseller_id=reseller_id,
            distributor_id=distributor_id,
        )
    )
    await session.flush()
    return errors
