"""The guard against server-side request forgery on the URLs partners give the hub (quote endpoints).

The hub calls URLs that partners typed in, so before it stores or calls one it
checks where the URL really points:

- only `http` and `https`, a host, no user name or password in the URL;
- the host's addresses (an IP literal, or every address its name resolves to)
  are never unspecified, multicast or link-local (169.254.0.0/16 holds cloud
  metadata services) unless a listed network holds them;
- in production the host must be named by the allowlist (a host name, a
  `*.domain` wildcard, or a CIDR network holding every address), and no
  loopback, private or reserved address is accepted unless a listed network
  holds it (a listed host name alone does not open a private address);
- in development loopback and private addresses are allowed (samples and
  tests run distributors on 127.0.0.1), and a non-empty allowlist still
  limits which hosts may be named.

Redirects are never followed (the shared httpx client is built that way), so
a checked URL cannot bounce elsewhere.

DNS rebinding: a name checked a moment ago may answer another address when
the HTTP client resolves it again (a short TTL is enough). So a call never
lets the client resolve a partner's name: `pin_endpoint` resolves it once,
checks every address, and returns them, and the call goes to those
addresses (datasources/partners/outbound.py) with the name as
Host and TLS server name. Nothing is cached across calls: each call resolves
anew. The resolver is the policy's (`EndpointPolicy.resolver`), so tests give
one whose answers change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""(host, port) -> the addresses the host stands for; raises OSError when it cannot tell."""

MAX_URL_LENGTH = 2000


def parse_allowlist_entry(entry: str) -> str | IPNetwork:
    """A CIDR network (or single address) or a host name (`*.` wildcards allowed); ValueError otherwise."""
    entry = entry.strip().lower()
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        pass
    name = entry[2:] if entry.startswith("*.") else entry
    labels = name.split(".")
    if (
        not name
        or any(not label or len(label) > 63 for label in labels)
        or not all(label.replace("-", "").isalnum() for label in labels)
    ):
        raise ValueError(f"{entry!r} is neither a host name nor a CIDR network")
    return entry


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives for a host name, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))


@dataclass(frozen=True)
class EndpointPolicy:
    """Where quote endpoints may point: the deployment mode and the allowlist."""

    production: bool
    hosts: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=resolve, compare=False, repr=False)
    """How host names are resolved: the system's, or a test's."""

    @classmethod
    def of(cls, env: str, allowlist: Sequence[str], resolver: Resolver = resolve) -> EndpointPolicy:
        parsed = [parse_allowlist_entry(e) for e in allowlist]
        return cls(
            production=env == "production",
            hosts=tuple(p for p in parsed if isinstance(p, str)),
            networks=tuple(p for p in parsed if not isinstance(p, str)),
            resolver=resolver,
        )

    @property
    def has_allowlist(self) -> bool:
        return bool(self.hosts or self.networks)

    def names_host(self, host: str) -> bool:
        for listed in self.hosts:
            if listed.startswith("*.") and host.endswith(listed[1:]):
                return True
            if host == listed:
                return True
        return False

    def lists_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class EndpointProblem:
    """Why a URL was refused: `code` is the userError code (INVALID_ENDPOINT, ENDPOINT_NOT_ALLOWED, UNREACHABLE)."""

    code: str
    message: str


def _never_allowed(address: IPAddress) -> bool:
    return address.is_unspecified or address.is_multicast or address.is_link_local


def _internal(address: IPAddress) -> bool:
    return address.is_loopback or address.is_private or address.is_reserved or not address.is_global


def check_url_shape(url: str) -> tuple[str, int] | EndpointProblem:
    """(host, port) of an http(s) URL; the problem otherwise. No network involved."""
    if len(url) > MAX_URL_LENGTH:
        return EndpointProblem(
            "INVALID_ENDPOINT", f"An endpoint URL has at most {MAX_URL_LENGTH} characters."
        )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return EndpointProblem("INVALID_ENDPOINT", "That is not a URL.")
    if parts.scheme not in ("http", "https"):
        return EndpointProblem("INVALID_ENDPOINT", "An endpoint is an http or https URL.")
    if not parts.hostname:
        return EndpointProblem("INVALID_ENDPOINT", "An endpoint URL names a host.")
    if parts.username is not None or parts.password is not None:
        return EndpointProblem(
            "INVALID_ENDPOINT", "An endpoint URL holds no user or password: give a credential instead."
        )
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True)
class PinnedEndpoint:
    """A URL whose host was resolved once and checked: calls go to `address`, never to a new lookup."""

    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]
    """Every address the resolver gave, in its order of preference; each passed the policy."""

    @property
    def address(self) -> IPAddress:
        return self.addresses[0]


async def _addresses_of(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]  # an IP literal stands for itself
    except ValueError:
        return await resolver(host, port)


async def pin_endpoint(url: str, policy: EndpointPolicy) -> PinnedEndpoint | EndpointProblem:
    """Resolve the URL's host once and check every address; the address to call, or why not."""
    shape = check_url_shape(url)
    if isinstance(shape, EndpointProblem):
        return shape
    host, port = shape
    try:
        addresses = await _addresses_of(host, port, policy.resolver)
    except (OSError, UnicodeError):
        return EndpointProblem("UNREACHABLE", f"The host {host} could not be resolved.")
    if not addresses:
        return EndpointProblem("UNREACHABLE", f"The host {host} could not be resolved.")
    for address in addresses:
        if policy.lists_address(address):
            continue
        if _never_allowed(address):
            return EndpointProblem(
                "ENDPOINT_NOT_ALLOWED", f"{host} points to {address}, an address the hub never calls."
            )
        if policy.production and _internal(address):
            return EndpointProblem(
                "ENDPOINT_NOT_ALLOWED",
                f"{host} points to the internal address {address}; "
                "list its network in HUB_QUOTE_ENDPOINT_ALLOWLIST to allow it.",
            )
    listed = policy.names_host(host) or all(policy.lists_address(a) for a in addresses)
    if (policy.production or policy.has_allowlist) and not listed:
        return EndpointProblem(
            "ENDPOINT_NOT_ALLOWED", f"{host} is not in the hub's quote endpoint allowlist."
        )
    return PinnedEndpoint(url=url.strip(), host=host, port=port, addresses=tuple(addresses))


async def check_endpoint(url: str, policy: EndpointPolicy) -> EndpointProblem | None:
    """None when the hub may call `url`; otherwise why not. Resolves the host's name."""
    pinned = await pin_endpoint(url, policy)
    return pinned if isinstance(pinned, EndpointProblem) else None
