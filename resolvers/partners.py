"""Partners and access: sign-in, resellers and their approval, distributors, links and hub policies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.money import is_iso_currency
from datasources.outbox.queue import enqueue_email
from datasources.pagination import Page, cut_page
from datasources.partners import queries
from datasources.partners.endpoints import EndpointPolicy, EndpointProblem, pin_endpoint
from datasources.partners.models import (
    Distributor,
    DistributorCredential,
    HubPolicy,
    Reseller,
    ResellerDistributor,
    ResellerStatusChange,
    User,
)
from datasources.partners.quote_contract import (
    SchemaUnreachable,
    SchemaUnreadable,
    check_distributor_endpoint,
)
from resolvers.access import Viewer
from resolvers.auth import hash_password, issue_token, verify_password
from resolvers.errors import UserErrors, check_cursor, check_page_size
from resolvers.users import create_user, email_problem, password_problem

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_MAX = 200
REGION_MAX = 64
MAX_REGIONS = 50
REASON_MAX = 2000
CREDENTIAL_MAX = 4000
MAX_CURRENCIES = 50
MAX_PAYMENT_METHODS = 20
PAYMENT_METHOD = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
QUOTE_VALIDITY_HOURS = (1, 24 * 90)
LIVE_QUOTE_TIMEOUT_MS = (50, 30_000)

# The reseller state machine: the statuses each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"PENDING", "SUSPENDED"}), "APPROVED"),
    "reject": (frozenset({"PENDING"}), "REJECTED"),
    "suspend": (frozenset({"APPROVED"}), "SUSPENDED"),
}


# ---------------------------------------------------------------- sign-in


@dataclass
class SignIn:
    token: str | None
    user: User | None
    errors: UserErrors


async def login(db: RequestDatabase, email: str, password: str, secret: str, ttl: timedelta) -> SignIn:
    """A bearer token for a user whose password matches; one vague error otherwise (no account probing)."""
    user = await queries.user_by_email(db, email)
    if user is None or not verify_password(user.password_hash if user else None, password):
        errors = UserErrors()
        errors.add("INVALID_CREDENTIALS", "The e-mail or the password is wrong.", "password")
        return SignIn(token=None, user=None, errors=errors)
    return SignIn(token=issue_token(user.id, secret, ttl), user=user, errors=UserErrors())


# ---------------------------------------------------------------- reads


def visible_distributor_statuses(viewer: Viewer | None) -> tuple[str, ...] | None:
    """Staff see every distributor; others only the approved ones."""
    return None if viewer is not None and viewer.is_staff else ("APPROVED",)


def distributor_visible(viewer: Viewer | None, row: Distributor | None) -> bool:
    """Signed-in users only (as the root fields): staff any, others approved ones and their own."""
    if viewer is None or row is None:
        return False
    statuses = visible_distributor_statuses(viewer)
    return statuses is None or row.status in statuses or viewer.distributor_id == row.id


async def resellers_page(
    db: RequestDatabase, status: str | None, first: int | None, after: str | None
) -> Page[Reseller]:
    """A keyset page of resellers in code order."""
    size = check_page_size(first)
    key = check_cursor(after, "reseller")
    after_code = str(key[0]) if key else None
    rows = await queries.reseller_page(db, status, limit=size + 1, after_code=after_code)
    return cut_page(rows, size, after_given=after is not None, kind="reseller", key_of=lambda r: [r.code])


# ---------------------------------------------------------------- resellers


@dataclass
class ResellerData:
    code: str
    name: str
    contact_email: str
    password: str
    region: str | None = None


@dataclass
class Outcome:
    """What a partner mutation did: userErrors, or the row it wrote."""

    errors: UserErrors = field(default_factory=UserErrors)
    reseller: Reseller | None = None
    distributor: Distributor | None = None


def _check_code(errors: UserErrors, code: str, *path: str) -> None:
    if not CODE_PATTERN.match(code):
        errors.add("INVALID_CODE", "A code is 1 to 64 letters, digits, dots, hyphens or underscores.", *path)


def _check_name(errors: UserErrors, name: str, *path: str) -> None:
    if not name.strip() or len(name) > NAME_MAX:
        errors.add("INVALID_NAME", f"A name is 1 to {NAME_MAX} characters.", *path)


async def register_reseller(session: AsyncSession, data: ResellerData, policy: HubPolicy) -> Outcome:
    """A new reseller and its first RESELLER_ADMIN user; APPROVED at once when the hub approves automatically."""
    outcome = Outcome()
    errors = outcome.errors
    code = data.code.strip()
    _check_code(errors, code, "input", "code")
    _check_name(errors, data.name, "input", "name")
    if data.region is not None and len(data.region) > REGION_MAX:
        errors.add("INVALID_REGION", f"A region has at most {REGION_MAX} characters.", "input", "region")
    if not errors and await queries.reseller_by_code(session, code) is not None:
        errors.add("DUPLICATE", f"A reseller with code {code} exists already.", "input", "code")
    email = data.contact_email.strip().lower()
    problem = email_problem(email)
    if problem is not None:
        errors.add(problem[0], problem[1], "input", "contactEmail")
    weak = password_problem(data.password)
    if weak is not None:
        errors.add(weak[0], weak[1], "input", "password")
    if errors:
        return outcome
    status = "APPROVED" if policy.reseller_approval == "AUTOMATIC" else "PENDING"
    reseller = Reseller(
        code=code, name=data.name.strip(), status=status, region=data.region, contact_email=email
    )
    if await queries.email_taken(session, email):
        # No account enumeration: the caller gets the answer a fresh registration gets, and the
        # address's owner, who alone can read it, learns of the attempt by e-mail.
        await tell_owner_of_registration_attempt(session, reseller)
        hash_password(data.password)  # the work a registration does, so its time tells nothing either
        reseller.id = 0  # never written; no reseller has id 0, so its lists are empty as a new one's are
        outcome.reseller = reseller
        return outcome
    session.add(reseller)
    await session.flush()
    user_errors = await create_user(
        session, email, data.password, ["RESELLER_ADMIN"], reseller_id=reseller.id, path=("input",)
    )
    for error in user_errors.errors:
        # The user's e-mail is the input's contactEmail.
        path = ["input", "contactEmail"] if error.field == ["input", "email"] else error.field
        errors.add(error.code, error.message, *(path or []))
    if errors:
        return outcome
    session.add(
        ResellerStatusChange(
            reseller_id=reseller.id,
            from_status=None,
            to_status=status,
            changed_by_email=email,
            reason="registered; approved automatically by the hub policy"
            if status == "APPROVED"
            else "registered",
        )
    )
    await session.flush()
    outcome.reseller = reseller
    return outcome


async def tell_owner_of_registration_attempt(session: AsyncSession, attempt: Reseller) -> None:
    """E-mail the owner of a taken address that someone tried to register a reseller with it."""
    text = "\n".join(
        [
            "Someone asked to register a reseller at the demand chain hub with this e-mail address",
            f"(reseller code {attempt.code!r}, name {attempt.name!r}).",
            "",
            "This address already has an account, so no reseller and no account were made, and your",
            "account has not changed.",
            "",
            "If it was you: sign in with your existing account (ask the hub's staff if you have lost its",
            "password). If it was not you, you need not do anything.",
        ]
    )
    await enqueue_email(
        session,
        f"registration-attempt:{uuid.uuid4().hex}",
        to=attempt.contact_email,
        subject="Someone tried to register with your e-mail address",
        text=text,
    )


async def change_reseller_status(
    session: AsyncSession, code: str, action: str, viewer: Viewer, reason: str | None
) -> Outcome:
    """Move a reseller through the state machine; INVALID_STATE for a move it does not allow."""
    outcome = Outcome()
    errors = outcome.errors
    if reason is not None and len(reason) > REASON_MAX:
        errors.add("TOO_LONG", f"A reason has at most {REASON_MAX} characters.", "reason")
        return outcome
    reseller = await queries.reseller_for_update(session, code)
    if reseller is None:
        errors.add("NOT_FOUND", f"No reseller has code {code}.", "code")
        return outcome
    allowed_from, target = TRANSITIONS[action]
    if reseller.status not in allowed_from:
        errors.add(
            "INVALID_STATE",
            f"A {reseller.status} reseller cannot be {target.lower()}; "
            f"only a reseller that is {' or '.join(sorted(allowed_from))} can.",
            "code",
        )
        return outcome
    session.add(
        ResellerStatusChange(
            reseller_id=reseller.id,
            from_status=reseller.status,
            to_status=target,
            changed_by_email=viewer.email,
            reason=reason.strip() if reason and reason.strip() else None,
        )
    )
    reseller.status = target
    await session.flush()
    outcome.reseller = reseller
    return outcome


async def connect_reseller(session: AsyncSession, reseller_code: str, distributor_code: str) -> Outcome:
    """Let a reseller ask a distributor for quotes; connecting twice changes nothing."""
    outcome = Outcome()
    errors = outcome.errors
    reseller = await queries.reseller_by_code(session, reseller_code)
    if reseller is None:
        errors.add("NOT_FOUND", f"No reseller has code {reseller_code}.", "resellerCode")
    distributor = await queries.distributor_by_code(session, distributor_code)
    if distributor is None:
        errors.add("NOT_FOUND", f"No distributor has code {distributor_code}.", "distributorCode")
    if reseller is None or distributor is None:
        return outcome
    if not await queries.is_connected(session, reseller.id, distributor.id):
        session.add(ResellerDistributor(reseller_id=reseller.id, distributor_id=distributor.id))
        await session.flush()
    outcome.reseller = reseller
    return outcome


# ---------------------------------------------------------------- distributors


@dataclass
class DistributorData:
    code: str
    name: str
    quote_transport: str
    regions: list[str] | None = None
    quote_endpoint: str | None = None
    quote_credential: str | None = None


def _check_distributor_fields(data: DistributorData, errors: UserErrors) -> None:
    _check_code(errors, data.code.strip(), "input", "code")
    _check_name(errors, data.name, "input", "name")
    regions = data.regions or []
    if len(regions) > MAX_REGIONS:
        errors.add("TOO_MANY", f"At most {MAX_REGIONS} regions.", "input", "regions")
    for index, region in enumerate(regions):
        if not region.strip() or len(region) > REGION_MAX:
            errors.add(
                "INVALID_REGION", f"A region is 1 to {REGION_MAX} characters.", "input", "regions", str(index)
            )
    if data.quote_credential is not None and not (
        0 < len(data.quote_credential) <= CREDENTIAL_MAX and data.quote_credential.isprintable()
    ):
        # Never echo the value: it is a secret.
        errors.add(
            "INVALID_CREDENTIAL",
            f"A credential is 1 to {CREDENTIAL_MAX} printable characters.",
            "input",
            "quoteCredential",
        )


async def check_distributor_input(
    db: RequestDatabase, http: httpx.AsyncClient, policy: EndpointPolicy, data: DistributorData
) -> UserErrors:
    """Everything about a new distributor that needs no write: fields, the endpoint's address and contract.

    Runs before the unit of work, so no write transaction waits on a partner's server.
    """
    errors = UserErrors()
    _check_distributor_fields(data, errors)
    if await db.scalar(queries.select_distributor_id(data.code.strip())) is not None:
        errors.add(
            "DUPLICATE", f"A distributor with code {data.code.strip()} exists already.", "input", "code"
        )
    endpoint = (data.quote_endpoint or "").strip() or None
    if data.quote_transport == "MANUAL":
        if endpoint is not None:
            errors.add(
                "INVALID_ENDPOINT", "A MANUAL distributor has no quote endpoint.", "input", "quoteEndpoint"
            )
        if data.quote_credential is not None:
            errors.add(
                "INVALID_CREDENTIAL", "A MANUAL distributor has no credential.", "input", "quoteCredential"
            )
        return errors
    if endpoint is None:
        errors.add(
            "REQUIRED",
            f"A {data.quote_transport} distributor needs a quote endpoint.",
            "input",
            "quoteEndpoint",
        )
        return errors
    # Resolved and checked once; the schema check then talks to the address checked (DNS rebinding).
    pinned = await pin_endpoint(endpoint, policy)
    if isinstance(pinned, EndpointProblem):
        errors.add(pinned.code, pinned.message, "input", "quoteEndpoint")
        return errors
    if errors or data.quote_transport != "GRAPHQL_SUBGRAPH":
        return errors
    headers = {"Authorization": data.quote_credential} if data.quote_credential else {}
    try:
        check = await check_distributor_endpoint(http, pinned, headers)
    except SchemaUnreachable as error:
        errors.add("UNREACHABLE", f"The quote endpoint did not answer: {error}.", "input", "quoteEndpoint")
        return errors
    except SchemaUnreadable as error:
        errors.add(
            "CONTRACT_MISMATCH",
            f"The quote endpoint's schema could not be read: {error}.",
            "input",
            "quoteEndpoint",
        )
        return errors
    if not check.conforms:
        errors.add(
            "CONTRACT_MISMATCH",
            "The quote endpoint breaks the distributor quote contract: " + "; ".join(check.breaks),
            "input",
            "quoteEndpoint",
        )
    return errors


async def create_distributor(session: AsyncSession, data: DistributorData) -> Outcome:
    """Store a distributor whose input passed `check_distributor_input`; its credential apart."""
    outcome = Outcome()
    code = data.code.strip()
    if await queries.distributor_by_code(session, code) is not None:
        outcome.errors.add("DUPLICATE", f"A distributor with code {code} exists already.", "input", "code")
        return outcome
    distributor = Distributor(
        code=code,
        name=data.name.strip(),
        status="APPROVED",
        regions=[r.strip() for r in data.regions or []],
        quote_transport=data.quote_transport,
        quote_endpoint=(data.quote_endpoint or "").strip() or None,
    )
    session.add(distributor)
    await session.flush()
    if data.quote_credential:
        session.add(DistributorCredential(distributor_id=distributor.id, header_value=data.quote_credential))
        await session.flush()
    outcome.distributor = distributor
    return outcome


# ---------------------------------------------------------------- hub policies


@dataclass
class PolicyChanges:
    reseller_approval: str | None = None
    default_currency: str | None = None
    currencies: list[str] | None = None
    quote_validity_hours: int | None = None
    live_quote_timeout_ms: int | None = None
    payment_methods: list[str] | None = None


@dataclass
class PolicyOutcome:
    errors: UserErrors = field(default_factory=UserErrors)
    policy: HubPolicy | None = None


def _check_bounds(
    errors: UserErrors, value: int | None, bounds: tuple[int, int], name: str, unit: str
) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        errors.add("OUT_OF_RANGE", f"{name} is between {bounds[0]} and {bounds[1]} {unit}.", "input", name)


def _check_currencies(errors: UserErrors, currencies: Sequence[str]) -> None:
    if not currencies:
        errors.add("REQUIRED", "The hub needs at least one currency.", "input", "currencies")
    if len(currencies) > MAX_CURRENCIES:
        errors.add("TOO_MANY", f"At most {MAX_CURRENCIES} currencies.", "input", "currencies")
    for index, currency in enumerate(currencies[:MAX_CURRENCIES]):
        if not is_iso_currency(currency):
            errors.add(
                "INVALID_CURRENCY",
                f"{currency!r} is not an ISO 4217 currency code.",
                "input",
                "currencies",
                str(index),
            )
    if len(set(currencies)) != len(currencies):
        errors.add("DUPLICATE", "A currency is listed twice.", "input", "currencies")


def _check_payment_methods(errors: UserErrors, methods: Sequence[str]) -> None:
    if not methods:
        errors.add("REQUIRED", "The hub needs at least one payment method.", "input", "paymentMethods")
    if len(methods) > MAX_PAYMENT_METHODS:
        errors.add("TOO_MANY", f"At most {MAX_PAYMENT_METHODS} payment methods.", "input", "paymentMethods")
    for index, method in enumerate(methods[:MAX_PAYMENT_METHODS]):
        if not PAYMENT_METHOD.match(method):
            errors.add(
                "INVALID_PAYMENT_METHOD",
                "A payment method is an upper-case name such as INVOICE or CREDIT_CARD.",
                "input",
                "paymentMethods",
                str(index),
            )
    if len(set(methods)) != len(methods):
        errors.add("DUPLICATE", "A payment method is listed twice.", "input", "paymentMethods")


async def update_hub_policies(session: AsyncSession, changes: PolicyChanges) -> PolicyOutcome:
    """Change the hub's policies; every violation is a userError and nothing is written while any remains."""
    outcome = PolicyOutcome()
    errors = outcome.errors
    policy = await queries.hub_policy_for_update(session)
    currencies = changes.currencies if changes.currencies is not None else list(policy.currencies)
    default = changes.default_currency if changes.default_currency is not None else policy.default_currency
    if changes.currencies is not None:
        _check_currencies(errors, currencies)
    if changes.default_currency is not None and not is_iso_currency(default):
        errors.add(
            "INVALID_CURRENCY", f"{default!r} is not an ISO 4217 currency code.", "input", "defaultCurrency"
        )
    elif default not in currencies:
        errors.add(
            "INVALID_CURRENCY",
            f"The default currency {default} must be one of the hub's currencies.",
            "input",
            "defaultCurrency",
        )
    _check_bounds(errors, changes.quote_validity_hours, QUOTE_VALIDITY_HOURS, "quoteValidityHours", "hours")
    _check_bounds(errors, changes.live_quote_timeout_ms, LIVE_QUOTE_TIMEOUT_MS, "liveQuoteTimeoutMs", "ms")
    if changes.payment_methods is not None:
        _check_payment_methods(errors, changes.payment_methods)
    if errors:
        return outcome
    if changes.reseller_approval is not None:
        policy.reseller_approval = changes.reseller_approval
    policy.currencies = list(currencies)
    policy.default_currency = default
    if changes.quote_validity_hours is not None:
        policy.quote_validity_hours = changes.quote_validity_hours
    if changes.live_quote_timeout_ms is not None:
        policy.live_quote_timeout_ms = changes.live_quote_timeout_ms
    if changes.payment_methods is not None:
        policy.payment_methods = list(changes.payment_methods)
    await session.flush()
    outcome.policy = policy
    return outcome
