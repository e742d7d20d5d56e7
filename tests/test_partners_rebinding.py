"""DNS rebinding: a distributor's host is resolved once per call, checked, and the call goes to that address.

The resolver is the endpoint policy's (`EndpointPolicy.resolver`): these tests
give one whose answer changes after the first lookup. Host names under
`.invalid` never resolve through the system, so a call that reaches a server
under such a name went to the address the policy checked. Real servers on
loopback (127.0.0.1 and 127.0.0.2, both on the loopback interface), a real TLS
server with a throwaway certificate authority.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import uvicorn

from datasources.partners.endpoints import EndpointPolicy, EndpointProblem, IPAddress, pin_endpoint
from datasources.partners.outbound import partner_http_client, pinned_request_parts
from datasources.partners.quote_contract import check_distributor_endpoint
from datasources.quotes.clients import Endpoint, ask_distributor
from datasources.quotes.contract import AskedLine, QuoteFailure
from tests.distributor_servers import Recorder, conforming_subgraph, recording
from tests.distributors import FaultyDistributors
from tests.quote_data import price_list, sku

NAME = "quotes.rebind.invalid"
TLS_NAME = "quotes.rebind.test"


class ChangingResolver:
    """Answers `answers[0]` to the first lookup, `answers[1]` to the second, and the last one after.

    An answer is one address or a list of them.
    """

    def __init__(self, *answers: str | list[str]) -> None:
        self.answers = [
            [ipaddress.ip_address(a) for a in ([answer] if isinstance(answer, str) else answer)]
            for answer in answers
        ]
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


@contextmanager
def serve(app: Any, host: str, port: int = 0, *, certificate: Path | None = None) -> Iterator[int]:
    """Serve `app` on host:port (a free port when 0), over TLS with a certificate file; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    tls = {"ssl_certfile": str(certificate), "ssl_keyfile": str(certificate)} if certificate else {}
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1, **tls)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[FaultyDistributors, FaultyDistributors, int]]:
    """The same quote service twice, on 127.0.0.1:P and 127.0.0.2:P: which one a call reached tells the address."""
    first, second = FaultyDistributors(price_list(4)), FaultyDistributors(price_list(4))
    with serve(first.app(), "127.0.0.1") as port, serve(second.app(), "127.0.0.2", port):
        yield first, second, port


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with partner_http_client() as client:
        yield client


async def _ask(http: httpx.AsyncClient, url: str, policy: EndpointPolicy) -> None:
    await ask_distributor(
        http,
        Endpoint(1, "REBIND", "REST_JSON", url),
        request_id="r-1",
        currency="USD",
        reseller_code=None,
        lines=[AskedLine(sku(1), 2)],
        deadline_s=5.0,
        endpoint_policy=policy,
    )


async def test_a_quote_call_goes_to_the_address_checked_not_to_a_later_answer(
    http: httpx.AsyncClient, two_servers: tuple[FaultyDistributors, FaultyDistributors, int]
) -> None:
    # given a name that answers 127.0.0.1 to the first lookup and 127.0.0.2 to any later one
    first, second, port = two_servers
    resolver = ChangingResolver("127.0.0.1", "127.0.0.2")
    policy = EndpointPolicy.of("development", [], resolver=resolver)

    # when the hub asks for a quote
    await _ask(http, f"http://{NAME}:{port}/ok/PINNED/quote", policy)

    # then the name was looked up once, and the call reached the server at that address, under its name
    assert resolver.lookups == [NAME]
    assert [c.headers["host"] for c in first.calls_to("PINNED")] == [f"{NAME}:{port}"]
    assert second.calls_to("PINNED") == []

    # and the next call looks up again and goes where the name points now
    await _ask(http, f"http://{NAME}:{port}/ok/PINNED/quote", policy)
    assert resolver.lookups == [NAME, NAME]
    assert len(first.calls_to("PINNED")) == 1
    assert len(second.calls_to("PINNED")) == 1


async def test_a_name_that_turns_to_a_forbidden_address_after_a_good_call_is_not_called(
    http: httpx.AsyncClient, two_servers: tuple[FaultyDistributors, FaultyDistributors, int]
) -> None:
    first, _second, port = two_servers
    resolver = ChangingResolver("127.0.0.1", "169.254.169.254")  # then the cloud metadata address
    policy = EndpointPolicy.of("development", [], resolver=resolver)
    await _ask(http, f"http://{NAME}:{port}/ok/TURNS/quote", policy)

    with pytest.raises(QuoteFailure) as refused:
        await _ask(http, f"http://{NAME}:{port}/ok/TURNS/quote", policy)

    assert refused.value.reason == "has a quote endpoint the hub's policy does not allow"
    assert len(first.calls_to("TURNS")) == 1  # only the first call, pooled connection or not


async def test_a_name_checked_as_forbidden_is_not_called_even_if_it_answers_loopback_next(
    http: httpx.AsyncClient, two_servers: tuple[FaultyDistributors, FaultyDistributors, int]
) -> None:
    first, second, port = two_servers
    resolver = ChangingResolver("10.9.8.7", "127.0.0.1")
    # production, with loopback listed: 10.9.8.7 is internal and not listed, 127.0.0.1 would pass
    policy = EndpointPolicy.of("production", [NAME, "127.0.0.0/8"], resolver=resolver)

    with pytest.raises(QuoteFailure) as refused:
        await _ask(http, f"http://{NAME}:{port}/ok/FENCED/quote", policy)

    assert refused.value.reason == "has a quote endpoint the hub's policy does not allow"
    assert resolver.lookups == [NAME]
    assert first.calls_to("FENCED") == [] and second.calls_to("FENCED") == []


async def test_a_name_with_several_addresses_is_tried_in_order_among_the_checked_ones(
    http: httpx.AsyncClient,
) -> None:
    # given a service on 127.0.0.1 only, and a name that answers 127.0.0.3 (nothing there) first
    distributors = FaultyDistributors(price_list(4))
    with serve(distributors.app(), "127.0.0.1") as port:
        resolver = ChangingResolver(["127.0.0.3", "127.0.0.1"], "169.254.169.254")
        await _ask(
            http, f"http://{NAME}:{port}/ok/SEVERAL/quote", EndpointPolicy.of("development", [], resolver)
        )

        # then the refused first address was passed over for the next checked one, with one lookup
        assert len(distributors.calls_to("SEVERAL")) == 1
        assert resolver.lookups == [NAME]

        # and a name with a forbidden address among its answers is not called at all
        mixed = ChangingResolver(["127.0.0.1", "169.254.169.254"])
        with pytest.raises(QuoteFailure):
            await _ask(
                http, f"http://{NAME}:{port}/ok/MIXED/quote", EndpointPolicy.of("development", [], mixed)
            )
        assert distributors.calls_to("MIXED") == []


async def test_an_unresolvable_name_is_reported_unreachable_without_a_call(http: httpx.AsyncClient) -> None:
    async def nothing(host: str, port: int) -> list[IPAddress]:
        raise OSError("no such name")

    policy = EndpointPolicy.of("development", [], resolver=nothing)
    with pytest.raises(QuoteFailure) as refused:
        await _ask(http, f"http://{NAME}:1/ok/GONE/quote", policy)
    assert refused.value.reason == "could not be reached"


async def test_an_address_literal_needs_no_lookup() -> None:
    resolver = ChangingResolver("10.0.0.1")
    pinned = await pin_endpoint(
        "http://127.0.0.1:9101/quote", EndpointPolicy.of("development", [], resolver=resolver)
    )
    assert not isinstance(pinned, EndpointProblem)
    assert str(pinned.address) == "127.0.0.1"
    assert resolver.lookups == []


async def test_the_registration_schema_check_talks_to_the_address_checked(http: httpx.AsyncClient) -> None:
    # given a conforming subgraph on 127.0.0.1 under a name the system cannot resolve
    recorder = Recorder()
    with serve(recording(conforming_subgraph(), recorder), "127.0.0.1") as port:
        resolver = ChangingResolver("127.0.0.1", "169.254.169.254")
        pinned = await pin_endpoint(
            f"http://{NAME}:{port}/graphql", EndpointPolicy.of("development", [], resolver=resolver)
        )
        assert not isinstance(pinned, EndpointProblem)

        # when the hub reads its schema (one request or two: SDL, then introspection)
        check = await check_distributor_endpoint(http, pinned)

    # then it was read from the address checked, with one lookup for the whole check
    assert check.conforms, check.breaks
    assert recorder.requests and resolver.lookups == [NAME]


def test_a_pinned_request_carries_the_name_as_host_and_tls_server_name() -> None:
    pinned_http = _pinned("http://Quotes.Example/q?x=1", "203.0.113.7")
    url, headers, extensions = pinned_request_parts(pinned_http)
    assert (url, headers, extensions) == ("http://203.0.113.7/q?x=1", {"Host": "quotes.example"}, {})

    pinned_https = _pinned("https://quotes.example:8443/q", "2001:db8::1")
    url, headers, extensions = pinned_request_parts(pinned_https)
    assert url == "https://[2001:db8::1]:8443/q"
    assert headers == {"Host": "quotes.example:8443"}
    assert extensions == {"sni_hostname": "quotes.example"}


def _pinned(url: str, address: str):  # type: ignore[no-untyped-def]
    from datasources.partners.endpoints import PinnedEndpoint, check_url_shape

    host, port = check_url_shape(url)  # type: ignore[misc]
    return PinnedEndpoint(url=url, host=host, port=port, addresses=(ipaddress.ip_address(address),))


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


async def test_over_tls_the_certificate_is_checked_for_the_name_while_the_call_goes_to_the_address(
    tmp_path: Path, authority: trustme.CA
) -> None:
    # given a TLS quote service on 127.0.0.1 whose certificate names quotes.rebind.test only
    certificate = tmp_path / "server.pem"
    authority.issue_cert(TLS_NAME).private_key_and_cert_chain_pem.write_to_path(str(certificate))
    distributors = FaultyDistributors(price_list(4))
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    resolver = ChangingResolver("127.0.0.1", "169.254.169.254")
    policy = EndpointPolicy.of("development", [], resolver=resolver)

    with serve(distributors.app(), "127.0.0.1", certificate=certificate) as port:
        async with partner_http_client(verify=trust) as tls_http:
            # when the hub asks it under its name
            await _ask(tls_http, f"https://{TLS_NAME}:{port}/ok/TLS/quote", policy)

            # then the certificate matched the name (SNI), the Host header too, at the address checked
            assert [c.headers["host"] for c in distributors.calls_to("TLS")] == [f"{TLS_NAME}:{port}"]

            # and a name the certificate does not hold is refused by the TLS check, not called
            other = EndpointPolicy.of("development", [], resolver=ChangingResolver("127.0.0.1"))
            with pytest.raises(QuoteFailure):
                await _ask(tls_http, f"https://other.rebind.test:{port}/ok/TLSOTHER/quote", other)
            assert distributors.calls_to("TLSOTHER") == []
