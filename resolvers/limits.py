"""How often an operation may run: the one table of rate limits, by schema coordinate, and how it is applied.

`OPERATIONS` maps an operation (its schema coordinate, as in
resolvers/access.py) to its rule. The GraphQL layer applies the table in one
place, the guard every root field carries (hub_graphql/permissions.py), so an
operation is limited by adding its row here: a row whose operation is not in
the schema yet waits harmlessly until it is (the commerce rows below were
written before their mutations). A refusal is the GraphQL error
`RATE_LIMITED` with `extensions.retryAfter` (whole seconds), and the HTTP
answer carries a `Retry-After` header.

Two kinds of rule:

- `PerAddress(count, seconds)`: at most `count` calls from one client address
  in each window of `seconds` (a fixed window; IPv6 addresses count by /64,
  which one subscriber usually holds whole). `HUB_RATE_LIMITS` overrides the
  numbers: `registerReseller=5/3600, checkout=off`.
- `SIGN_IN`: failed sign-ins, counted per e-mail (case-insensitive) and per
  client address. After `HUB_SIGN_IN_SLOW_AFTER` failures for one e-mail
  each further try must wait a moment (`HUB_SIGN_IN_DELAY_SECONDS`, doubling);
  after `HUB_SIGN_IN_FAILURES_PER_EMAIL` failures within
  `HUB_SIGN_IN_WINDOW_SECONDS` the e-mail is locked for
  `HUB_SIGN_IN_LOCK_SECONDS`, doubling with each further lock up to
  `HUB_SIGN_IN_LOCK_MAX_SECONDS`; an address is locked the same way after
  `HUB_SIGN_IN_FAILURES_PER_ADDRESS` failures. While locked, even the right
  password is refused. A success clears the e-mail's failures. The answer is
  the same whether the e-mail has an account or not.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasources.rate_limits import CounterStore, FailureRule
from resolvers.errors import HubError

MINUTE = 60
HOUR = 3600


@dataclass(frozen=True)
class PerAddress:
    """At most `count` calls per client address in each window of `seconds`."""

    count: int
    seconds: int


@dataclass(frozen=True)
class SignIn:
    """Failed sign-ins per e-mail and per client address (numbers from the HUB_SIGN_IN_* settings)."""

    email_argument: str = "email"


SIGN_IN = SignIn()

OPERATIONS: dict[str, PerAddress | SignIn] = {
    "Mutation.login": SIGN_IN,
    "Mutation.registerReseller": PerAddress(10, HOUR),
    # Commerce: storefront visitors, anonymous or signed in, so counted by address.
    "Mutation.createCart": PerAddress(60, MINUTE),
    "Mutation.checkout": PerAddress(20, MINUTE),
    "Mutation.recordActivity": PerAddress(600, MINUTE),
}


def parse_override(entry: str) -> tuple[str, PerAddress | None]:
    """`registerReseller=5/3600` (or `Mutation.registerReseller=…`, `…=off`): the coordinate and its rule.

    Raises ValueError on an unknown operation or a malformed rule.
    """
    name, equals, value = (part.strip() for part in entry.partition("="))
    coordinate = name if "." in name else f"Mutation.{name}"
    if not equals or coordinate not in OPERATIONS:
        raise ValueError(
            f"{entry!r}: name an operation of resolvers.limits.OPERATIONS, as name=COUNT/SECONDS"
        )
    if isinstance(OPERATIONS[coordinate], SignIn):
        raise ValueError(f"{entry!r}: sign-in limits are the HUB_SIGN_IN_* settings")
    if value.lower() == "off":
        return coordinate, None
    count, slash, seconds = value.partition("/")
    try:
        rule = PerAddress(int(count), int(seconds))
    except ValueError:
        raise ValueError(f"{entry!r}: a rule is COUNT/SECONDS (10/3600) or off") from None
    if not slash or rule.count < 1 or rule.seconds < 1:
        raise ValueError(f"{entry!r}: a rule is COUNT/SECONDS (10/3600), both at least 1, or off")
    return coordinate, rule


@dataclass(frozen=True)
class SignInPolicy:
    """The numbers of SIGN_IN, from the settings."""

    per_email: FailureRule
    per_address: FailureRule


def rate_limited(retry_after_seconds: int) -> HubError:
    return HubError(
        f"Too many attempts: try again in {retry_after_seconds} s.",
        "RATE_LIMITED",
        retryAfter=retry_after_seconds,
    )


def address_key(address: str) -> str:
    """The counting key of a client address: an IPv4 address, an IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def email_key(email: str) -> str:
    """E-mails are counted by a digest: the counters (perhaps in Redis) never hold one."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Admission:
    """An admitted call of a sign-in-limited operation: `settle` it with the outcome."""

    keys: tuple[tuple[str, bool], ...] = ()
    """(counter key, clear on success) of each failure reserved."""


ADMITTED = Admission()


class RateLimits:
    """The table applied on a counter store (one per app), with the settings' numbers and a clock."""

    def __init__(
        self,
        store: CounterStore,
        *,
        sign_in: SignInPolicy,
        overrides: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sign_in = sign_in
        self.clock = clock
        """Wall-clock seconds: tests replace it to move time without sleeping."""
        rules: dict[str, PerAddress | SignIn | None] = dict(OPERATIONS)
        for entry in overrides:
            coordinate, rule = parse_override(entry)
            rules[coordinate] = rule
        self.rules: Mapping[str, PerAddress | SignIn] = {c: r for c, r in rules.items() if r is not None}

    def rule_for(self, operation: str) -> PerAddress | SignIn | None:
        return self.rules.get(operation)

    async def admit(
        self, operation: str, rule: PerAddress | SignIn, address: str, arguments: Mapping[str, Any]
    ) -> Admission:
        """Count one call of `operation` from `address`; raise RATE_LIMITED when it is over its limit."""
        now_ms = int(self.clock() * 1000)
        if isinstance(rule, PerAddress):
            wait_ms = await self.store.hit(
                f"op:{operation}:{address_key(address)}", rule.count, rule.seconds * 1000, now_ms
            )
            if wait_ms:
                raise rate_limited(_seconds(wait_ms))
            return ADMITTED
        email = arguments.get(rule.email_argument)
        keys: list[tuple[str, bool]] = [(f"sign-in:address:{address_key(address)}", False)]
        if isinstance(email, str):
            keys.insert(0, (f"sign-in:email:{email_key(email)}", True))
        reserved: list[tuple[str, bool]] = []
        for key, clear in keys:
            policy = self.sign_in.per_email if clear else self.sign_in.per_address
            wait_ms = await self.store.attempt(key, policy, now_ms)
            if wait_ms:
                # The other key's reserved failure is given back: this attempt never ran.
                for reserved_key, _ in reserved:
                    await self.store.settle(reserved_key, clear=False)
                raise rate_limited(_seconds(wait_ms))
            reserved.append((key, clear))
        return Admission(tuple(reserved))

    async def settle(self, admission: Admission, *, succeeded: bool) -> None:
        """After the call: a success gives the reserved failures back (and clears the e-mail's)."""
        if succeeded:
            for key, clear in admission.keys:
                await self.store.settle(key, clear=clear)


def _seconds(wait_ms: int) -> int:
    return max(1, math.ceil(wait_ms / 1000))
