"""Who may do what: the one place where the hub's authorisation is decided.

`OPERATIONS` maps every guarded operation (a root field or a non-public
object field, by its schema coordinate) to who may run it. The GraphQL layer
applies it through one permission class (hub_graphql/permissions.py),
docs/permissions.md is generated from it (`hub permissions-table`), and the
table-driven tests read it too. Object-level rules (a reseller sees only its
own data) are the `can_*` functions below, which resolvers call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from datasources.partners.models import STAFF_ROLES
from resolvers.errors import forbidden, unauthenticated


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the hub sees them on this request."""

    user_id: int
    email: str
    roles: frozenset[str]
    reseller_id: int | None = None
    reseller_status: str | None = None
    distributor_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)

    @property
    def reseller_approved(self) -> bool:
        return self.reseller_id is not None and self.reseller_status == "APPROVED"


class Audience(Enum):
    PUBLIC = "anyone"
    SIGNED_IN = "anyone signed in"


@dataclass(frozen=True)
class Rule:
    """Who may run an operation: a set of roles, or an audience."""

    roles: frozenset[str] = frozenset()
    audience: Audience | None = None
    approved_reseller: bool = False
    """RESELLER_ADMIN users additionally need their reseller APPROVED."""
    note: str = ""

    def describe(self) -> str:
        if self.audience is not None:
            return self.audience.value
        return ", ".join(sorted(self.roles))


def roles(*names: str, approved_reseller: bool = False, note: str = "") -> Rule:
    return Rule(roles=frozenset(names), approved_reseller=approved_reseller, note=note)


PUBLIC = Rule(audience=Audience.PUBLIC)
SIGNED_IN = Rule(audience=Audience.SIGNED_IN)
STAFF = frozenset(STAFF_ROLES)
CATALOG_WRITERS = ("SITE_ADMIN", "CATALOG_MANAGER")

OPERATIONS: dict[str, Rule] = {
    "Mutation.upsertCategories": roles(*CATALOG_WRITERS),
    "Mutation.upsertProducts": roles(*CATALOG_WRITERS),
    "Mutation.upsertProductGroups": roles(*CATALOG_WRITERS),
}


def check(rule: Rule, viewer: Viewer | None, *, token_given: bool = False) -> Viewer | None:
    """Raise UNAUTHENTICATED or FORBIDDEN unless the viewer satisfies the rule."""
    if rule.audience is Audience.PUBLIC:
        return viewer
    if viewer is None:
        raise unauthenticated(
            "The bearer token is invalid or expired: sign in again."
            if token_given
            else "Sign in first: this needs a valid bearer token."
        )
    if rule.audience is Audience.SIGNED_IN:
        return viewer
    if not viewer.has_any(rule.roles):
        raise forbidden()
    if rule.approved_reseller and "RESELLER_ADMIN" in viewer.roles and not viewer.is_staff:
        if not viewer.reseller_approved:
            raise forbidden("Your reseller is not approved: this needs an approved reseller.")
    return viewer


def rule_for(operation: str) -> Rule:
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise LookupError(f"{operation} has a guard but no entry in resolvers.access.OPERATIONS") from None


def can_see_reseller(viewer: Viewer | None, reseller_id: int) -> bool:
    return viewer is not None and (viewer.is_staff or viewer.reseller_id == reseller_id)


def can_see_distributor_secrets(viewer: Viewer | None, distributor_id: int) -> bool:
    """The quote endpoint: site administrators and the distributor's own reps."""
    return viewer is not None and ("SITE_ADMIN" in viewer.roles or viewer.distributor_id == distributor_id)
