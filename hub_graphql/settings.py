"""Configuration read from the environment (prefix HUB_), documented in the README's settings table."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from datasources.partners.endpoints import parse_allowlist_entry
from resolvers.limits import parse_override

DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./hub.db"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=30 * 24 * 60)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_warm_up: bool = True
    """PostgreSQL: open the pool's `db_pool_size` connections at start-up and run the storefront's
    statements on each (datasources/warmup.py), so the first requests do not pay for cold connections."""
    sql_echo: bool = False
    max_query_depth: int = Field(default=12, ge=3, le=50)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    quote_endpoint_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Hosts and CIDR networks quote endpoints may point to: `a.example, *.b.example, 10.1.0.0/16`."""
    quote_breaker_failures: int = Field(default=3, ge=1, le=1000)
    """Failed quote calls in a row after which a distributor's circuit opens."""
    quote_breaker_cool_down_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How long an open circuit refuses calls before one probe call is let through."""
    introspection: bool | None = None
    """None: on in development, off in production."""
    web_modules_dir: Path | None = None
    """The node_modules folder GraphiQL's files are served from; None: web/node_modules in the clone."""
    redis_url: SecretStr | None = None
    """redis://[:password@]host:6379/0: state shared by every process (rate limit counters, persisted queries,
    the quote offer cache and circuit breakers); in each process when unset."""
    # Rate limits (resolvers/limits.py) and the client address they count by.
    redis_key_prefix: str = Field(default="hub:", max_length=100)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Proxies (IPs, CIDR networks) whose X-Forwarded-For is believed: `10.0.0.0/8, 192.0.2.7`."""
    rate_limits: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Overrides of resolvers.limits.OPERATIONS: `registerReseller=5/3600, checkout=off`."""
    sign_in_window_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    sign_in_failures_per_email: int = Field(default=5, ge=1, le=1000)
    sign_in_failures_per_address: int = Field(default=30, ge=1, le=100_000)
    sign_in_slow_after: int = Field(default=3, ge=0, le=1000)
    sign_in_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    sign_in_lock_seconds: int = Field(default=60, ge=1, le=24 * 3600)
    sign_in_lock_max_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_trusted_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            entries = [str(v).strip() for v in value if str(v).strip()]
            for entry in entries:
                ipaddress.ip_network(entry, strict=False)  # raises ValueError on a malformed entry
            return entries
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            entries = [str(v).strip() for v in value if str(v).strip()]
            for entry in entries:
                parse_override(entry)  # raises ValueError on an unknown operation or a malformed rule
            return entries
        return value

    # Limits on what one request may ask (docs/operations.md, "Limits").
    max_query_cost: int = Field(default=100_000, ge=1)
    max_execution_ms: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1_000)
    max_query_tokens: int = Field(default=2_000, ge=50)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Origins (scheme://host[:port]) whose pages may call the hub from a browser; none by default."""

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            origins = [str(v).strip().rstrip("/") for v in value if str(v).strip()]
            for origin in origins:
                scheme, _, host = origin.partition("://")
                if scheme not in ("http", "https") or not host or "/" in host or origin == "*":
                    raise ValueError(
                        f"HUB_CORS_ORIGINS: {origin!r} is not an origin such as https://shop.example"
                    )
            return origins
        return value

    # Outbox and e-mail (datasources/outbox/worker.py, datasources/mail/).
    outbox_worker: bool = True
    """Deliver the outbox (e-mail, purchase orders) from this process; off for processes that should not."""
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    """How often the worker looks for due work another process enqueued (its own commits wake it at once)."""
    outbox_retry_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    outbox_retry_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    outbox_lease_seconds: float = Field(default=120.0, gt=0, le=86400)
    """A claimed message is someone's for this long; a crashed process's claim comes back after it."""
    outbox_batch_size: int = Field(default=20, ge=1, le=500)
    smtp_url: SecretStr | None = None
    """`smtp://host:port`, `smtps://user:pass@host:port`, `smtp+starttls://…`; unset: .eml files."""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_dir: str = "./mail"
    mail_from: str = "Demand Chain Hub <hub@localhost>"
    order_delivery_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    """How long a distributor's service may take to answer a purchase order before the try counts as failed."""

    # Marketing (resolvers/marketing/).
    public_url: str = "http://127.0.0.1:8000"
    """The hub's own address as the world reaches it: campaign e-mails' links, the storefront redirects."""

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("HUB_PUBLIC_URL is an http(s) address such as https://hub.example.com")
        return value.strip().rstrip("/")

    @field_validator("quote_endpoint_allowlist", mode="before")
    @classmethod
    def _split_allowlist(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            entries = [str(v).strip().lower() for v in value if str(v).strip()]
            for entry in entries:
                parse_allowlist_entry(entry)  # raises ValueError on a malformed entry
            return entries
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "HUB_SECRET_KEY must be set to a random value of at least 32 characters "
                    "when HUB_ENV=production"
                )
        return self

    @property
    def introspection_enabled(self) -> bool:
        return self.env == "development" if self.introspection is None else self.introspection

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    # Metrics, logs and persisted queries (docs/operations.md, "Metrics and logs", "Persisted queries").
    metrics_token: SecretStr | None = None
    """Bearer token that may read /metrics from anywhere; unset: /metrics answers loopback callers only."""
    log_format: Literal["json", "text"] = "json"
    """How `hub serve` writes its logs: JSON lines (default) or text lines."""
    persisted_queries: Literal["off", "auto", "required"] = "auto"
    persisted_queries_manifest: Path | None = None
    """An Apollo persisted query manifest (JSON): the only operations run when persisted_queries=required."""

    @model_validator(mode="after")
    def _required_persisted_queries_need_a_manifest(self) -> Settings:
        if self.persisted_queries == "required" and self.persisted_queries_manifest is None:
            raise ValueError("HUB_PERSISTED_QUERIES=required needs HUB_PERSISTED_QUERIES_MANIFEST")
        return self

    # The public response cache (hub_graphql/response_cache.py; docs/operations.md, "Public response cache").
    response_cache: bool = True
    """Answer anonymous reads of public data from a cache (`HUB_RESPONSE_CACHE=off` turns it off)."""
    response_cache_max_entries: int = Field(default=10_000, ge=1, le=10_000_000)
    """Answers kept in each process (without Redis); the least recently used go first."""
    response_cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Bytes of answers kept in each process (without Redis); the least recently used go first."""
    response_cache_ttl_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    """A safety net: an answer is dropped this long after it was made, even if nothing it shows changed."""
    response_cache_max_age_seconds: int = Field(default=5, ge=0, le=3600)
    """`Cache-Control: public, max-age=…` of cacheable GET answers, for a CDN or a browser in front."""
    store_count_cache_entries: int = Field(default=10_000, ge=0, le=10_000_000)
    """Stores' product counts (`totalCount`) kept in each process until the catalog or the stores change
    (datasources/stores/counts.py); 0 keeps none and counts every time."""
