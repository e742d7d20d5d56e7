"""E-mail messages as the hub sends them, built from an outbox payload and its idempotency key."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

# Headers the hub sets itself: a payload's `headers` may not replace them.
OWN_HEADERS = frozenset({"from", "to", "subject", "message-id", "date", "mime-version", "content-type"})


def key_digest(idempotency_key: str) -> str:
    """A file- and header-safe name for a message, the same on every try."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def message_id(idempotency_key: str, domain: str) -> str:
    """Derived from the key, so a message sent again after a crash carries the same Message-ID."""
    return f"<{key_digest(idempotency_key)}@{domain}>"


def domain_of(address: str) -> str:
    _, _, domain = address.rpartition("@")
    return domain.strip(" >").lower() or "hub.localhost"


def build_message(payload: dict[str, Any], idempotency_key: str, sender: str) -> EmailMessage:
    """The message for an outbox `email` payload: `to`, `subject`, `text`, optional `html` and `headers`."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(idempotency_key, domain_of(sender))
    for name, value in (payload.get("headers") or {}).items():
        if name.lower() in OWN_HEADERS:
            continue
        message[name] = value
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    return message
