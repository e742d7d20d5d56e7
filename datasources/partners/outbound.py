"""Calls to partners' URLs that go to the address the endpoint policy checked, never to a fresh lookup.

The URL's host is replaced by the pinned address, so httpx neither resolves
the name again nor reuses a pooled connection to any other address (its pool
is keyed by the address it connects to). The name still travels where a
server looks for it: in the `Host` header and, for https, as the TLS server
name (httpcore's `sni_hostname` extension), against which the certificate is
verified as usual.

Keyed by address alone, a pool would let an https request for one name ride
on a TLS session whose certificate was verified for another name on the same
address and port. So the client the hub calls partners with
(`partner_http_client`) keeps one pool per TLS server name
(`PartnerTransport`): a connection is reused only for the same name and the
same checked address. Its pools are as many as the https host names of the
distributors called since start-up.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import httpx

from datasources.partners.endpoints import IPAddress, PinnedEndpoint

DEFAULT_PORTS = {"http": 80, "https": 443}

ON_ITS_WAY: ContextVar[Callable[[], None] | None] = ContextVar("hub_call_on_its_way", default=None)
"""Set by a task about to call a partner: called (maybe more than once) as soon as its call waits on
the network, its request sent or its connection being made. The fan-out of live quotes lets a page's
walk begin then, not before (datasources/quotes/fanout.py, hub_graphql/types/quotes.py)."""

# httpcore's trace events (the `trace` request extension) after which the call needs no CPU until
# the network answers.
_WAITING_ON_THE_NETWORK = frozenset(
    {
        "connection.connect_tcp.started",
        "connection.start_tls.started",
        "http11.send_request_body.complete",
        "http2.send_request_body.complete",
    }
)


def _trace_calling(callback: Callable[[], None]) -> Callable[[str, dict[str, Any]], Any]:
    async def trace(event: str, _info: dict[str, Any]) -> None:
        if event in _WAITING_ON_THE_NETWORK:
            callback()

    return trace


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def pinned_request_parts(
    pinned: PinnedEndpoint, address: IPAddress | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL to a pinned address (the first by default), the Host header and the request extensions.

    Built from the URL's parts as strings: parsing it with httpx.URL twice cost ~60 µs a call.
    """
    parts = urlsplit(pinned.url)
    scheme = parts.scheme.lower()
    port = f":{parts.port}" if parts.port is not None and parts.port != DEFAULT_PORTS[scheme] else ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    url = f"{scheme}://{_bracketed(str(address or pinned.address))}{port}{target}"
    extensions: dict[str, Any] = {"sni_hostname": pinned.host} if scheme == "https" else {}
    return url, {"Host": _bracketed(pinned.host) + port}, extensions


class PartnerTransport(httpx.AsyncBaseTransport):
    """httpx's transport, with one connection pool per TLS server name (plain http shares one)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._plain = httpx.AsyncHTTPTransport(**options)
        self._by_server_name: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.extensions.get("sni_hostname")
        if name is None:
            return await self._plain.handle_async_request(request)
        transport = self._by_server_name.get(name)
        if transport is None:
            transport = self._by_server_name[name] = httpx.AsyncHTTPTransport(**self._options)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in [self._plain, *self._by_server_name.values()]:
            await transport.aclose()


def partner_http_client(
    *,
    limits: httpx.Limits = httpx.Limits(max_connections=200, max_keepalive_connections=50),
    http_timeout: httpx.Timeout = httpx.Timeout(10.0),
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """The client for partners' URLs: no redirects followed (SSRF), no proxy from the environment."""
    return httpx.AsyncClient(
        transport=PartnerTransport(limits=limits, verify=verify),
        follow_redirects=False,
        timeout=http_timeout,
        trust_env=False,
    )


@asynccontextmanager
async def pinned_stream(
    http: httpx.AsyncClient,
    method: str,
    pinned: PinnedEndpoint,
    *,
    headers: dict[str, str],
    http_timeout: httpx.Timeout | float,
    content: str | bytes | None = None,
    json: Any = None,
) -> AsyncIterator[httpx.Response]:
    """`http.stream(...)` to the pinned address; the response is streamed (read it with a size limit).

    When the name stood for several addresses, they are tried in the resolver's order while the
    connection is refused (nothing was sent yet), as a client resolving the name itself would.
    """
    last = len(pinned.addresses) - 1
    on_its_way = ON_ITS_WAY.get()
    for index, address in enumerate(pinned.addresses):
        url, host, extensions = pinned_request_parts(pinned, address)
        if on_its_way is not None:
            extensions = {**extensions, "trace": _trace_calling(on_its_way)}
        async with AsyncExitStack() as stack:
            try:
                response = await stack.enter_async_context(
                    http.stream(
                        method,
                        url,
                        content=content,
                        json=json,
                        headers={**headers, **host},
                        timeout=http_timeout,
                        extensions=extensions,
                    )
                )
            except httpx.ConnectError:
                if index == last:
                    raise
                continue
            yield response
            return
