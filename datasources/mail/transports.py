"""Where e-mail goes: an SMTP server (`HUB_SMTP_URL`, aiosmtplib) or .eml files under `HUB_MAIL_DIR`."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

SCHEMES = {"smtp": (25, False, False), "smtps": (465, True, False), "smtp+starttls": (587, False, True)}
"""scheme -> (default port, TLS from the start, STARTTLS after connecting)."""


class MailFailure(Exception):
    """A message that could not be sent now; the reason holds no password."""


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, key: str) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    """One SMTP connection per message: the outbox sends few at a time, and no connection idles."""

    host: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # never the password
        return f"SmtpTransport({self.host}:{self.port})"

    @classmethod
    def of_url(cls, url: str, timeout_s: float = 30.0) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                "HUB_SMTP_URL is smtp://host:port, smtps://user:pass@host:port or smtp+starttls://…"
            )
        default_port, use_tls, start_tls = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            use_tls=use_tls,
            start_tls=start_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout_s=timeout_s,
        )

    async def send(self, message: EmailMessage, key: str) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls if self.start_tls else False,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPResponseException as error:
            raise MailFailure(f"the SMTP server answered {error.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailFailure(f"the SMTP server could not be reached ({type(error).__name__})") from None


@dataclass(frozen=True)
class FileTransport:
    """Each message as `<key digest>.eml` in a folder: written to a temporary file, then renamed, so a
    reader never sees half a message and a retry replaces the same file."""

    folder: Path

    async def send(self, message: EmailMessage, key: str) -> None:
        await asyncio.to_thread(self._write, bytes(message), key)

    def _write(self, content: bytes, key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, self.folder / f"{key}.eml")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def transport_of(smtp_url: str | None, mail_dir: str, timeout_s: float = 30.0) -> MailTransport:
    """SMTP when a URL is set, else .eml files."""
    if smtp_url:
        return SmtpTransport.of_url(smtp_url, timeout_s)
    return FileTransport(Path(mail_dir))
