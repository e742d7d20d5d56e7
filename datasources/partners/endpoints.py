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
a checked URL cannot bounce elsewhere. Names are resolved again each time the
check runs: callers check right before they call.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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


@dataclass(frozen=True)
class EndpointPolicy:
    """Where quote endpoints may point: the deployment mode and the allowlist."""

    production: bool
    hosts: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, env: str, allowlist: Sequence[str]) -> EndpointPolicy:
        parsed = [parse_allowlist_entry(e) for e in allowlist]
        return cls(
            production=env == "production",
            hosts=tuple(p for p in parsed if isinstance(p, str)),
            networks=tuple(p for p in parsed if not isinstance(p, str)),
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


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses a host stands for (an IP literal stands for itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}, key=str)


async def check_endpoint(url: str, policy: EndpointPolicy) -> EndpointProblem | None:
    """None when the hub may call `url`; otherwise why not. Resolves the host's name."""
    shape = check_url_shape(url)
    if isinstance(shape, EndpointProblem):
        return shape
    host, port = shape
    try:
        addresses = await resolve(host, port)
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
    return None
