"""Creating users: e-mail checks, argon2 password hashes, roles and the partner a user belongs to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from datasources.partners import queries
from datasources.partners.models import ROLES, STAFF_ROLES, User
from resolvers.auth import MIN_PASSWORD_LENGTH, hash_password
from resolvers.errors import UserErrors

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD_LENGTH = 1000


def email_problem(email: str) -> tuple[str, str] | None:
    """(code, message) when `email` (already lower-cased and stripped) is not an e-mail address."""
    if not EMAIL.match(email) or len(email) > 320:
        return ("INVALID_EMAIL", "That is not an e-mail address.")
    return None


def password_problem(password: str) -> tuple[str, str] | None:
    """(code, message) when `password` is too short or too long to be one."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return ("WEAK_PASSWORD", f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.")
    return None


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
    problem = email_problem(email)
    if problem is None and await queries.email_taken(session, email):
        problem = ("DUPLICATE", "A user with that e-mail exists already.")
    if problem is not None:
        errors.add(problem[0], problem[1], *path, "email")
    weak = password_problem(password)
    if weak is not None:
        errors.add(weak[0], weak[1], *path, "password")
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


@dataclass
class UserData:
    email: str
    password: str
    roles: list[str]
    reseller_code: str | None = None
    distributor_code: str | None = None


@dataclass
class NewUser:
    errors: UserErrors = field(default_factory=UserErrors)
    user: User | None = None


async def create_partner_user(session: AsyncSession, data: UserData) -> NewUser:
    """`createUser`: staff belong to the manufacturer, a RESELLER_ADMIN to one reseller, a DISTRIBUTOR_REP to one distributor."""
    result = NewUser()
    errors = result.errors
    roles = set(data.roles)
    if roles & STAFF_ROLES and roles & {"RESELLER_ADMIN", "DISTRIBUTOR_REP"}:
        errors.add(
            "INVALID_ROLE",
            "A user works either for the manufacturer or for one partner, not both.",
            "input",
            "roles",
        )
    if {"RESELLER_ADMIN", "DISTRIBUTOR_REP"} <= roles:
        errors.add(
            "INVALID_ROLE", "A user belongs to a reseller or to a distributor, not both.", "input", "roles"
        )
    reseller_id = distributor_id = None
    if "RESELLER_ADMIN" in roles:
        if not data.reseller_code:
            errors.add("REQUIRED", "A RESELLER_ADMIN belongs to a reseller.", "input", "resellerCode")
        else:
            reseller = await queries.reseller_by_code(session, data.reseller_code)
            if reseller is None:
                errors.add(
                    "NOT_FOUND", f"No reseller has code {data.reseller_code}.", "input", "resellerCode"
                )
            else:
                reseller_id = reseller.id
    elif data.reseller_code:
        errors.add("INVALID_ROLE", "Only a RESELLER_ADMIN belongs to a reseller.", "input", "resellerCode")
    if "DISTRIBUTOR_REP" in roles:
        if not data.distributor_code:
            errors.add("REQUIRED", "A DISTRIBUTOR_REP belongs to a distributor.", "input", "distributorCode")
        else:
            distributor = await queries.distributor_by_code(session, data.distributor_code)
            if distributor is None:
                errors.add(
                    "NOT_FOUND",
                    f"No distributor has code {data.distributor_code}.",
                    "input",
                    "distributorCode",
                )
            else:
                distributor_id = distributor.id
    elif data.distributor_code:
        errors.add(
            "INVALID_ROLE", "Only a DISTRIBUTOR_REP belongs to a distributor.", "input", "distributorCode"
        )
    errors.extend(
        (
            await create_user(
                session,
                data.email,
                data.password,
                data.roles,
                reseller_id=reseller_id,
                distributor_id=distributor_id,
                path=("input",),
            )
        ).errors
        if not errors
        else []
    )
    if errors:
        return result
    result.user = await queries.user_by_email_in(session, data.email)
    return result
