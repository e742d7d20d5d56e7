"""Configuration read from the environment (prefix HUB_), documented in the README's settings table."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from datasources.partners.endpoints import parse_allowlist_entry

DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./hub.db"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=30 * 24 * 60)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    sql_echo: bool = False
    max_query_depth: int = Field(default=12, ge=3, le=50)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    quote_endpoint_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Hosts and CIDR networks quote endpoints may point to: `a.example, *.b.example, 10.1.0.0/16`."""
    introspection: bool | None = None
    """None: on in development, off in production."""
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
