"""Calls to partners' URLs that go to the address the endpoint policy checked, never to a fresh lookup.

The URL's host is replaced by the pinned address, so httpx neither resolves
the name again nor reuses a pooled connection to any other address (its pool
is keyed by the address it connects to). The name still travels where a
server looks for it: in the `Host` header and, for https, as the TLS server
name (httpcore's `sni_hostname` extension), against which the certificate is
verified as usual.

One limit of keying the pool by address: two https endpoints with different
names on the same address and port share pooled connections, so the second
name's request may travel on a TLS session whose certificate was verified
for the first. Both names passed the policy and point to that same server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from datasources.partners.endpoints import PinnedEndpoint


def pinned_request_parts(pinned: PinnedEndpoint) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL to the pinned address, the Host header and the request extensions of a pinned call."""
    url = httpx.URL(pinned.url)
    host_header = url.netloc.decode("ascii")  # the name, and the port when it is not the scheme's default
    extensions: dict[str, Any] = {"sni_hostname": pinned.host} if url.scheme == "https" else {}
    return url.copy_with(host=str(pinned.address)), {"Host": host_header}, extensions


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
    """`http.stream(...)` to the pinned address; the response is streamed (read it with a size limit)."""
    url, host, extensions = pinned_request_parts(pinned)
    async with http.stream(
        method,
        url,
        content=content,
        json=json,
        headers={**headers, **host},
        timeout=http_timeout,
        extensions=extensions,
    ) as response:
        yield response
