"""The outbox worker and the mail module: a real SMTP server on loopback, .eml files, retries, leases, both databases."""

from __future__ import annotations

import asyncio
import email
import random
import threading
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from datasources.db import WRITE_TRANSACTION, create_engine, create_session_factory
from datasources.mail.delivery import email_deliverer
from datasources.mail.messages import key_digest, message_id
from datasources.mail.transports import FileTransport, SmtpTransport
from datasources.outbox.models import OutboxMessage
from datasources.outbox.queue import enqueue, enqueue_email
from datasources.outbox.worker import (
    ClaimedMessage,
    OutboxWorker,
    Outcome,
    RetryPolicy,
    claim_due,
    oldest_pending_age_seconds,
    outbox_depth,
    record_outcome,
)
from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub
from tests.mail_server import SmtpServer, eventually

FAST = {
    "outbox_worker": True,
    "outbox_poll_seconds": 0.2,
    "outbox_retry_base_seconds": 0.1,
    "outbox_retry_max_seconds": 0.4,
}


def _with(settings: Settings, **changes: object) -> Settings:
    return Settings(_env_file=None, **{**settings.model_dump(), **FAST, **changes})


async def _message(hub: Hub, key: str) -> OutboxMessage:
    async with hub.resources.session_factory() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert row is not None
        return row


async def _enqueue_email(hub: Hub, key: str, to: str = "Customer@Example.com", **extra: object) -> None:
    # Through the hub's own session factory: the commit rings the worker's doorbell.
    async with hub.resources.session_factory() as session, session.begin():
        # The worker writes too: take SQLite's write lock up front, as a unit of work does.
        await session.connection(execution_options=WRITE_TRANSACTION)
        await enqueue_email(
            session,
            key,
            to=to,
            subject="Your order H-1234",
            text="Thank you for your order.",
            html="<p>Thank you for your <b>order</b>.</p>",
            headers={"List-Unsubscribe": "<https://hub.test/u/abc>", "Message-ID": "<not-this@x>"},
            **extra,  # type: ignore[arg-type]
        )


async def test_an_enqueued_email_reaches_the_smtp_server_once_with_its_parts_and_headers(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    async with open_hub(_with(settings, smtp_url=smtp_server.url, outbox_poll_seconds=30)) as hub:
        # when (the poll is 30 s: only the doorbell can make this prompt)
        await _enqueue_email(hub, "order-confirmation:H-1234")

        # then
        await eventually(lambda: _received(smtp_server, 1), within=5, what="the message is received")
        row = await _message(hub, "order-confirmation:H-1234")
        await eventually(lambda: _status(hub, "order-confirmation:H-1234", "DONE"), what="DONE")
    [received] = smtp_server.inbox.messages
    assert received["To"] == "Customer@Example.com"
    assert received["Subject"] == "Your order H-1234"
    assert received["From"] == settings.mail_from
    assert received["List-Unsubscribe"] == "<https://hub.test/u/abc>"
    assert received["Message-ID"] == message_id("order-confirmation:H-1234", "localhost")
    assert received.get_body(("plain",)).get_content().strip() == "Thank you for your order."
    assert "<b>order</b>" in received.get_body(("html",)).get_content()
    assert row.max_attempts == 8
    assert smtp_server.inbox.envelopes == [("hub@localhost", ["Customer@Example.com"])]


async def _received(server: SmtpServer, count: int) -> bool:
    return len(server.inbox.messages) >= count


async def _status(hub: Hub, key: str, status: str) -> bool:
    return (await _message(hub, key)).status == status


async def test_an_smtp_server_down_at_first_gets_the_message_after_retries_exactly_once(
    settings: Settings,
) -> None:
    server = SmtpServer()  # not started: the port refuses connections
    try:
        async with open_hub(_with(settings, smtp_url=server.url)) as hub:
            await _enqueue_email(hub, "welcome:a@example.com", to="a@example.com")

            async def tried_twice() -> bool:
                return (await _message(hub, "welcome:a@example.com")).attempts >= 2

            await eventually(tried_twice, what="two failed tries")
            failed = await _message(hub, "welcome:a@example.com")
            assert failed.status == "PENDING" and "could not be reached" in (failed.last_error or "")
            server.start()
            await eventually(lambda: _status(hub, "welcome:a@example.com", "DONE"), what="DONE")
            await asyncio.sleep(0.5)  # a few more polls: nothing is sent again
            done = await _message(hub, "welcome:a@example.com")
        assert len(server.inbox.messages) == 1
        assert done.attempts >= 3 and done.done_at is not None
    finally:
        server.stop()


async def test_a_stuck_smtp_server_holds_up_no_request_and_no_database_lock(settings: Settings) -> None:
    # given an SMTP server that takes the message's data and then does not answer until released
    server = SmtpServer()
    server.inbox.gate = threading.Event()
    server.start()
    try:
        async with open_hub(_with(settings, smtp_url=server.url)) as hub:
            await _enqueue_email(hub, "order-confirmation:H-STUCK")
            await asyncio.to_thread(server.inbox.receiving.wait, 10)

            # when a request writes meanwhile (SQLite has one write lock for the whole file)
            body = await asyncio.wait_for(hub.post(REGISTER), 10)

            # then it is answered while the delivery still waits on the server
            assert body["data"]["registerReseller"]["userErrors"] == []
            assert (await _message(hub, "order-confirmation:H-STUCK")).status == "PENDING"
            server.inbox.gate.set()
            await eventually(lambda: _status(hub, "order-confirmation:H-STUCK", "DONE"), what="DONE")
        assert len(server.inbox.messages) == 1
    finally:
        server.inbox.gate.set()
        server.stop()


REGISTER = """
mutation {
  registerReseller(input: {code: "WHILE-STUCK", name: "New", contactEmail: "new@stuck.example",
                           password: "long-enough-pw"}) { reseller { code } userErrors { code } }
}
"""


async def test_an_email_that_keeps_failing_is_failed_after_its_attempts(settings: Settings) -> None:
    server = SmtpServer()  # never started
    async with open_hub(_with(settings, smtp_url=server.url)) as hub:
        async with hub.resources.session_factory() as session, session.begin():
            # The worker writes too: take SQLite's write lock up front, as a unit of work does.
            await session.connection(execution_options=WRITE_TRANSACTION)
            await enqueue(
                session,
                "email",
                "campaign:7:x@example.com",
                {"to": "x@example.com", "subject": "s", "text": "t"},
                max_attempts=3,
            )
        await eventually(lambda: _status(hub, "campaign:7:x@example.com", "FAILED"), what="FAILED")
        row = await _message(hub, "campaign:7:x@example.com")
    assert row.attempts == 3 and row.done_at is not None and row.last_error


async def test_without_an_smtp_url_each_message_is_an_eml_file_named_by_its_key(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "outgoing"
    async with open_hub(_with(settings, mail_dir=str(folder))) as hub:
        await _enqueue_email(hub, "order-confirmation:H-9")
        await eventually(lambda: _status(hub, "order-confirmation:H-9", "DONE"), what="DONE")
    files = list(folder.iterdir())
    assert [f.name for f in files] == [f"{key_digest('order-confirmation:H-9')}.eml"]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert parsed["Subject"] == "Your order H-1234" and parsed["To"] == "Customer@Example.com"
    assert parsed.get_body(("plain",)).get_content().strip() == "Thank you for your order."


async def test_a_retried_eml_delivery_overwrites_the_same_file(tmp_path: Path) -> None:
    deliver = email_deliverer(FileTransport(tmp_path), "hub@example.com")
    message = ClaimedMessage(
        id=1,
        kind="email",
        idempotency_key="k",
        payload={"to": "a@b.c", "subject": "s", "text": "one"},
        attempts=0,
        max_attempts=8,
        lease_until=None,  # type: ignore[arg-type]
    )
    assert (await deliver(message)).done
    again = ClaimedMessage(**{**message.__dict__, "payload": {**message.payload, "text": "two"}})
    assert (await deliver(again)).done
    files = await asyncio.to_thread(lambda: sorted(tmp_path.iterdir()))
    assert [f.name for f in files] == [f"{key_digest('k')}.eml"]  # no second file, no temporary left
    assert "two" in await asyncio.to_thread(files[0].read_text)


def test_smtp_urls_give_host_port_tls_and_login() -> None:
    plain = SmtpTransport.of_url("smtp://mail.local:2525")
    secure = SmtpTransport.of_url("smtps://user%40x:p%3Ass@mail.example")
    upgraded = SmtpTransport.of_url("smtp+starttls://mail.example")
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls, plain.username) == (
        "mail.local",
        2525,
        False,
        False,
        None,
    )
    assert (secure.port, secure.use_tls, secure.username, secure.password) == (465, True, "user@x", "p:ss")
    assert (upgraded.port, upgraded.start_tls) == (587, True)
    assert "p:ss" not in repr(secure)
    with pytest.raises(ValueError):
        SmtpTransport.of_url("http://mail.example")


def test_backoff_starts_at_the_base_doubles_and_is_capped_with_a_little_jitter() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=300.0)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        expected = min(2 ** (n - 1), 300)
        assert expected * 0.9 <= delay <= min(expected * 1.1, 300), (n, delay)
    assert delays[-1] <= 300


async def test_a_claim_whose_process_died_comes_back_after_its_lease_and_its_late_outcome_is_ignored(
    hub: Hub,
) -> None:
    factory = hub.resources.session_factory
    async with factory() as session, session.begin():
        await enqueue(session, "email", "k1", {"to": "a@b.c", "subject": "s", "text": "t"})

    first = await claim_due(factory, limit=10, lease_seconds=0.3)
    assert [m.idempotency_key for m in first] == ["k1"]
    assert await claim_due(factory, limit=10, lease_seconds=0.3) == []  # leased: not due
    assert await outbox_depth_of(hub) == 1
    await asyncio.sleep(0.4)
    second = await claim_due(factory, limit=10, lease_seconds=30)
    assert [m.id for m in second] == [first[0].id]

    # the first claimant wakes up late: its outcome is not recorded, the second's is
    assert await record_outcome(factory, first[0], Outcome.delivered(), RetryPolicy()) is None
    assert await record_outcome(factory, second[0], Outcome.delivered(), RetryPolicy()) == "DONE"
    row = await _message(hub, "k1")
    assert (row.status, row.attempts) == ("DONE", 1)
    assert await outbox_depth_of(hub) == 0


async def outbox_depth_of(hub: Hub) -> int:
    async with hub.resources.session_factory() as session:
        return await outbox_depth(session)


async def test_depth_and_oldest_age_read_the_pending_messages(hub: Hub) -> None:
    async with hub.resources.session_factory() as session:
        assert await outbox_depth(session) == 0 and await oldest_pending_age_seconds(session) == 0.0
    async with hub.resources.session_factory() as session, session.begin():
        await enqueue(session, "purchase_order", "PO-1", {})
        await enqueue(session, "email", "e-1", {})
    async with hub.resources.session_factory() as session, session.begin():
        await enqueue(session, "email", "e-1", {"again": True})  # the same key twice keeps one
    async with hub.resources.session_factory() as session:
        assert await outbox_depth(session) == 2
        assert await outbox_depth(session, "email") == 1
        assert await oldest_pending_age_seconds(session) >= 0.0


async def test_the_worker_starts_with_the_app_stops_with_it_and_can_be_turned_off(settings: Settings) -> None:
    async with open_hub(_with(settings)) as hub:
        worker = hub.resources.outbox
        assert worker is not None and worker._task is not None and not worker._task.done()
        task = worker._task
    assert task.done() and not task.cancelled()
    async with open_hub(_with(settings, outbox_worker=False)) as hub:
        assert hub.resources.outbox is None


async def test_two_workers_on_postgresql_never_deliver_one_message_twice(postgresql_url_clean: str) -> None:
    # given 300 due messages, and two workers, each with its own engine (as two hub processes)
    engines = [create_engine(postgresql_url_clean) for _ in range(2)]
    factories = [create_session_factory(e) for e in engines]
    async with factories[0]() as session, session.begin():
        for n in range(300):
            await enqueue(session, "test", f"m-{n}", {"n": n})
    delivered: list[tuple[int, str]] = []

    def deliverer(worker: int):  # type: ignore[no-untyped-def]
        async def deliver(message: ClaimedMessage) -> Outcome:
            await asyncio.sleep(0.002)  # a little work, so the claims overlap in time
            delivered.append((worker, message.idempotency_key))
            return Outcome.delivered()

        return deliver

    workers = [
        OutboxWorker(f, {"test": deliverer(i)}, poll_seconds=0.05, batch_size=10)
        for i, f in enumerate(factories)
    ]
    try:
        # when both run until the outbox is empty
        for worker in workers:
            worker.start()

        async def empty() -> bool:
            async with factories[0]() as session:
                return await outbox_depth(session) == 0

        await eventually(empty, within=60, what="the outbox is empty")
    finally:
        for worker in workers:
            await worker.stop()
        for engine in engines:
            await engine.dispose()

    # then every message was delivered exactly once, and both workers took a share
    keys = [key for _, key in delivered]
    assert sorted(keys) == sorted(f"m-{n}" for n in range(300))
    assert len(set(keys)) == 300
    assert {w for w, _ in delivered} == {0, 1}
