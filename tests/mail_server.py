"""A real SMTP server on loopback for the e-mail tests (aiosmtpd in a thread), and a wait helper."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from hub_graphql.settings import Settings
from tests.plaza_servers import free_port


class Inbox:
    """What the SMTP server received, message by message."""

    def __init__(self) -> None:
        self.receiving = threading.Event()
        self._lock = threading.Lock()
        self._messages: list[tuple[str, list[str], bytes]] = []

    gate: threading.Event | None = None
    """When set up, DATA waits for it (a stuck server); `receiving` tells that a message is being taken."""

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.receiving.set()
        if self.gate is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        with self._lock:
            self._messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [email.message_from_bytes(raw, policy=default) for _, _, raw in self._messages]  # type: ignore[misc]

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self._lock:
            return [(sender, rcpt) for sender, rcpt, _ in self._messages]


class SmtpServer:
    """An aiosmtpd server that can be started late (to play a server that is down at first)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def delivering(settings: Settings, smtp_url: str) -> Settings:
    """`settings` with the outbox worker on, polling often, sending through the SMTP server at `smtp_url`."""
    return Settings(
        _env_file=None,
        **{**settings.model_dump(), "outbox_worker": True, "outbox_poll_seconds": 0.2, "smtp_url": smtp_url},
    )


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "") -> None:
    """Wait until `check()` holds (polling every 50 ms); fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)
