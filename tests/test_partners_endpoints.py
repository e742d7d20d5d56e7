"""The SSRF guard on quote endpoints and the settings it reads (no database, no network beyond loopback names)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from datasources.partners.endpoints import EndpointPolicy, check_endpoint
from hub_graphql.settings import Settings

SECRET = "s" * 40
DEVELOPMENT = EndpointPolicy.of("development", [])
PRODUCTION = EndpointPolicy.of(
    "production", ["quotes.partner.example", "*.distri.example", "203.0.113.0/24", "10.20.0.0/16"]
)


def test_the_allowlist_reads_a_comma_separated_environment_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HUB_QUOTE_ENDPOINT_ALLOWLIST",
        " quotes.partner.example, *.Distri.example ,10.0.0.0/8,, 2001:db8::/32",
    )
    settings = Settings(_env_file=None)
    assert settings.quote_endpoint_allowlist == [
        "quotes.partner.example",
        "*.distri.example",
        "10.0.0.0/8",
        "2001:db8::/32",
    ]


@pytest.mark.parametrize("value", ["not a host!", "10.0.0.0/33", "-.example", "a..b"])
def test_a_malformed_allowlist_entry_refuses_to_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HUB_QUOTE_ENDPOINT_ALLOWLIST", value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_production_refuses_a_default_or_short_secret() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="production")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="production", secret_key="short")
    assert Settings(_env_file=None, env="production", secret_key=SECRET).env == "production"


@pytest.mark.parametrize(
    ("url", "policy", "code"),
    [
        ("http://127.0.0.1:9101/graphql", DEVELOPMENT, None),
        ("http://10.1.2.3/quote", DEVELOPMENT, None),
        ("http://[::1]:8080/q", DEVELOPMENT, None),
        ("https://203.0.113.7/quote", DEVELOPMENT, None),
        ("http://169.254.169.254/latest/meta-data", DEVELOPMENT, "ENDPOINT_NOT_ALLOWED"),
        ("http://[fe80::1]/q", DEVELOPMENT, "ENDPOINT_NOT_ALLOWED"),
        ("http://0.0.0.0/q", DEVELOPMENT, "ENDPOINT_NOT_ALLOWED"),
        ("http://224.0.0.1/q", DEVELOPMENT, "ENDPOINT_NOT_ALLOWED"),
        ("gopher://127.0.0.1/q", DEVELOPMENT, "INVALID_ENDPOINT"),
        ("http:///no-host", DEVELOPMENT, "INVALID_ENDPOINT"),
        ("http://a:b@127.0.0.1/q", DEVELOPMENT, "INVALID_ENDPOINT"),
        ("http://127.0.0.1:99999/q", DEVELOPMENT, "INVALID_ENDPOINT"),
        ("http://no-such-host.invalid/q", DEVELOPMENT, "UNREACHABLE"),
        ("https://203.0.113.7/quote", PRODUCTION, None),
        ("http://10.20.3.4/quote", PRODUCTION, None),
        ("http://10.21.3.4/quote", PRODUCTION, "ENDPOINT_NOT_ALLOWED"),
        ("http://127.0.0.1/quote", PRODUCTION, "ENDPOINT_NOT_ALLOWED"),
        ("http://localhost/quote", PRODUCTION, "ENDPOINT_NOT_ALLOWED"),
        ("https://198.51.100.1/quote", PRODUCTION, "ENDPOINT_NOT_ALLOWED"),
        ("http://169.254.169.254/", PRODUCTION, "ENDPOINT_NOT_ALLOWED"),
    ],
)
async def test_check_endpoint(url: str, policy: EndpointPolicy, code: str | None) -> None:
    problem = await check_endpoint(url, policy)
    assert (problem.code if problem else None) == code, problem


async def test_a_listed_name_does_not_open_an_internal_address() -> None:
    # localhost is named, but it resolves to loopback: only a listed network opens that.
    named = EndpointPolicy.of("production", ["localhost"])
    problem = await check_endpoint("http://localhost:9101/graphql", named)
    assert problem is not None and problem.code == "ENDPOINT_NOT_ALLOWED"
    assert (
        await check_endpoint(
            "http://localhost:9101/graphql",
            EndpointPolicy.of("production", ["localhost", "127.0.0.0/8", "::1/128"]),
        )
        is None
    )


async def test_a_development_allowlist_still_limits_hosts() -> None:
    policy = EndpointPolicy.of("development", ["127.0.0.1/32"])
    assert await check_endpoint("http://127.0.0.1/q", policy) is None
    problem = await check_endpoint("http://10.0.0.1/q", policy)
    assert problem is not None and problem.code == "ENDPOINT_NOT_ALLOWED"
