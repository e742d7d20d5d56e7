"""The client's address for rate limits: the peer, or what trusted proxies say in X-Forwarded-For.

A client can write any X-Forwarded-For it likes, so the header is read only
when the peer is one of `HUB_TRUSTED_PROXIES`. Each proxy appends the address
it received the request from, so the header is read from the right, skipping
the hub's own proxies: the first address that is not one of them is the
client (what the outermost trusted proxy saw). Whatever lies to the left of
it came from the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import cache

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


@cache
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(connection: HTTPConnection, trusted_proxies: Sequence[str]) -> str:
    """The address to count this request by (see the module's docstring)."""
    peer_text = connection.client.host if connection.client else ""
    peer = _parse(peer_text)
    if peer is None:
        return peer_text or UNKNOWN
    trusted = _networks(tuple(trusted_proxies))
    if not trusted or not any(peer in network for network in trusted):
        return str(peer)
    hops = [hop for value in connection.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # not an address: nothing further left can be believed either
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)
