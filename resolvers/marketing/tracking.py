"""Signed tokens of the campaign e-mails' tracked links, open pixels and unsubscribe links.

A token is a recipient's id and what the link does (click, open, unsubscribe), signed with an HMAC
(SHA-256, a key derived from the hub's secret key for this purpose alone), in URL-safe base64: no
e-mail address is in any URL, a token cannot be guessed from another (changing the id or the kind
breaks the signature), and one for a click does not unsubscribe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

KINDS = {"click": b"r", "open": b"o", "unsubscribe": b"u"}
SIGNATURE_BYTES = 16
"""128 bits of HMAC-SHA256: far past guessing, and the links stay short."""
_PURPOSE = b"hub-campaign-tracking-v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def make_token(secret: str, kind: str, recipient_id: int) -> str:
    payload = KINDS[kind] + recipient_id.to_bytes(8, "big")
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(payload + signature).decode().rstrip("=")


def read_token(secret: str, kind: str, token: str) -> int | None:
    """The recipient id of a token of this kind, or None for anything else (tampered, another kind, junk)."""
    if not token or len(token) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 9 + SIGNATURE_BYTES:
        return None
    payload, signature = raw[:9], raw[9:]
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    if not hmac.compare_digest(signature, expected) or payload[:1] != KINDS[kind]:
        return None
    return int.from_bytes(payload[1:], "big")
