"""Order e-mail end to end: a checkout's confirmation and a resend reach a real SMTP server on loopback."""

from __future__ import annotations

from hub_graphql.settings import Settings
from tests.harness import open_hub
from tests.mail_server import SmtpServer, delivering, eventually
from tests.orders_factory import make_shop
from tests.test_orders import CHECKOUT, checkout_input, new_cart

RESEND = """
mutation($n: String!) { resendOrderConfirmation(number: $n) { order { number } userErrors { code } } }
"""


async def test_a_checkout_confirmation_and_its_resend_reach_the_customer_by_smtp(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    async with open_hub(delivering(settings, smtp_server.url)) as hub:
        # given: a store, a cart of two lines and a customer-service user
        shop = await make_shop(hub, 2)
        cart = await new_cart(hub, shop, [(0, 2), (1, 1)])
        token = await hub.staff("CUSTOMER_SERVICE")

        # when: the customer checks out
        order = (await hub.query(CHECKOUT, {"cart": cart["id"], "input": checkout_input()}))["checkout"][
            "order"
        ]
        number = order["number"]

        # then: the confirmation arrives once, to the address as the customer typed it
        async def received(count: int) -> bool:
            return len(smtp_server.inbox.messages) >= count

        await eventually(lambda: received(1), within=10, what="the confirmation is received")
        [confirmation] = smtp_server.inbox.messages
        assert smtp_server.inbox.envelopes[0][1] == ["Ada.Lovelace@Example.COM"]
        assert number in str(confirmation["Subject"])
        text = confirmation.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "Total: 31.00 USD" in text

        # when: customer service sends it again
        resent = await hub.query(RESEND, {"n": number}, token=token)
        assert resent["resendOrderConfirmation"]["userErrors"] == []

        # then: a second message, with a Message-ID of its own (a new delivery, not a retry)
        await eventually(lambda: received(2), within=10, what="the resend is received")
        first, second = smtp_server.inbox.messages
        assert number in str(second["Subject"])
        assert first["Message-ID"] != second["Message-ID"]
