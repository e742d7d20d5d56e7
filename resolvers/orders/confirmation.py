"""The order confirmation e-mail: rendered from the order as placed, put on the outbox with the order."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from datasources.money import from_minor
from datasources.orders.models import Order, OrderDiscount, OrderLine
from datasources.outbox.queue import enqueue_email


def confirmation_key(number: str) -> str:
    """The outbox key of an order's first confirmation; resends add `:resend:<n>`."""
    return f"order-confirmation:{number}"


def _money(amount_minor: int, currency: str) -> str:
    return f"{from_minor(amount_minor, currency)} {currency}"


def _address_lines(order: Order) -> list[str]:
    city = " ".join(part for part in (order.ship_postal_code, order.ship_city) if part)
    return [
        part
        for part in (
            order.ship_name,
            order.ship_line1,
            order.ship_line2,
            city,
            order.ship_region,
            order.ship_country,
        )
        if part
    ]


def render(
    order: Order, lines: Sequence[OrderLine], discounts: Sequence[OrderDiscount], store_name: str
) -> tuple[str, str, str]:
    """(subject, text, html) of the confirmation. Every store and customer text is escaped in the HTML."""
    currency = order.currency
    # A header is one line: a line break in a store's name must not start another header.
    subject = " ".join(f"Your order {order.number} at {store_name}".split())
    rows = [
        (f"{line.quantity} x {line.name} ({line.sku})", _money(line.total_minor, currency)) for line in lines
    ]
    totals = [("Subtotal", _money(order.subtotal_minor, currency))]
    totals += [(f"Discount: {d.name}", "-" + _money(d.amount_minor, currency)) for d in discounts]
    totals.append(("Total", _money(order.total_minor, currency)))
    address = _address_lines(order)
    text = "\n".join(
        [
            f"Thank you for your order at {store_name}.",
            "",
            f"Order number: {order.number}",
            "",
            *(f"{what}  {amount}" for what, amount in rows),
            "",
            *(f"{what}: {amount}" for what, amount in totals),
            "",
            f"Payment: {order.payment_method}",
            "",
            "Ships to:",
            *address,
            "",
        ]
    )
    html = "".join(
        [
            "<!doctype html><html><body>",
            f"<p>Thank you for your order at {escape(store_name)}.</p>",
            f"<p>Order number: <strong>{escape(order.number)}</strong></p>",
            "<table>",
            *(f"<tr><td>{escape(what)}</td><td>{escape(amount)}</td></tr>" for what, amount in rows),
            *(f"<tr><th>{escape(what)}</th><td>{escape(amount)}</td></tr>" for what, amount in totals),
            "</table>",
            f"<p>Payment: {escape(order.payment_method)}</p>",
            "<p>Ships to:<br>",
            "<br>".join(escape(part) for part in address),
            "</p></body></html>",
        ]
    )
    return subject, text, html


async def enqueue_confirmation(
    session: AsyncSession,
    key: str,
    order: Order,
    lines: Sequence[OrderLine],
    discounts: Sequence[OrderDiscount],
    store_name: str,
) -> None:
    """Put the confirmation on the outbox in the caller's transaction: it is sent only if the change commits."""
    subject, text, html = render(order, lines, discounts, store_name)
    await enqueue_email(session, key, to=order.customer_email, subject=subject, text=text, html=html)
