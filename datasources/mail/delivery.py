"""The outbox's `email` deliverer: build the message, send it, retry on failure (never the request's)."""

from __future__ import annotations

from datasources.mail.messages import build_message, key_digest
from datasources.mail.transports import MailFailure, MailTransport
from datasources.outbox.worker import ClaimedMessage, Deliverer, Outcome


def email_deliverer(transport: MailTransport, sender: str) -> Deliverer:
    """Deliver outbox messages of kind `email` through `transport`, from `sender`."""

    async def deliver(message: ClaimedMessage) -> Outcome:
        try:
            built = build_message(message.payload, message.idempotency_key, sender)
        except (KeyError, TypeError, ValueError) as error:
            # A payload that cannot make a message will not make one on the next try either.
            return Outcome(done=False, error=f"malformed e-mail payload: {error}")
        try:
            await transport.send(built, key_digest(message.idempotency_key))
        except MailFailure as failure:
            return Outcome.retry(str(failure))
        return Outcome.delivered()

    return deliver
