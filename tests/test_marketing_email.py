"""A campaign end to end: sent through the outbox worker to a real SMTP server on loopback (aiosmtpd), the
received messages read, a tracked link followed with a plain HTTP client, the results moving."""

from __future__ import annotations

import re
from typing import Any

from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub
from tests.mail_server import SmtpServer, eventually
from tests.marketing_factory import add_order, shop
from tests.stores_factory import CatalogSpec, ProductSpec, load_catalog

FAST = {
    "outbox_worker": True,
    "outbox_poll_seconds": 0.2,
    "outbox_retry_base_seconds": 0.1,
    "outbox_retry_max_seconds": 0.4,
}
CREATE = """
mutation {
  createCampaign(input: {code: "SPRING", name: "Spring", storeSlug: "shop", subject: "Spring is here",
    body: "Hello!\\n\\nOur <b>spring</b> range: {{link}}", landingPath: "/product/DRILL-1"}) { userErrors { code } }
}"""
SEND = 'mutation { sendCampaign(code: "SPRING") { campaign { status } userErrors { code } } }'
RESULTS = """
{ campaign(code: "SPRING") { status results { recipients sent failed opened clicked visits orders conversionRate } } }"""
RECORD = "mutation($events: [ActivityInput!]!) { recordActivity(events: $events) { accepted } }"


async def test_a_campaign_reaches_its_recipients_and_its_results_move(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    configured = Settings(_env_file=None, **{**settings.model_dump(), **FAST, "smtp_url": smtp_server.url})
    async with open_hub(configured) as hub:
        # given a store with three opted-in customers (one of them twice) and one who did not opt in
        reseller_id, store_id = await shop(hub)
        for email, opt_in in (
            ("Ann@Example.com", True),
            ("ann@example.com", True),
            ("bo@example.com", True),
            ("cy@example.com", True),
            ("dee@example.com", False),
        ):
            await add_order(hub, store_id, reseller_id, email=email, opt_in=opt_in)
        token = await hub.staff("MARKETING_MANAGER")
        assert (await hub.query(CREATE, token=token))["createCampaign"]["userErrors"] == []
        # when
        sent = (await hub.query(SEND, token=token))["sendCampaign"]
        assert sent == {"campaign": {"status": "SENDING"}, "userErrors": []}

        # then every recipient gets exactly one message, and the campaign becomes SENT
        async def all_received() -> bool:
            return len(smtp_server.inbox.messages) >= 3

        await eventually(all_received, within=20, what="three messages")

        async def is_sent() -> bool:
            return (await hub.query(RESULTS, token=token))["campaign"]["status"] == "SENT"

        await eventually(is_sent, within=20, what="the campaign is SENT")
        messages = smtp_server.inbox.messages
        assert sorted(rcpt for _, (rcpt,) in smtp_server.inbox.envelopes) == [
            "Ann@Example.com",
            "bo@example.com",
            "cy@example.com",
        ]
        by_recipient = {m["To"]: m for m in messages}
        ann = by_recipient["Ann@Example.com"]
        assert ann["Subject"] == "Spring is here"
        assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = re.fullmatch(r"<(http://127\.0\.0\.1:8000/u/[A-Za-z0-9_-]+)>", ann["List-Unsubscribe"])
        assert unsubscribe is not None
        text = ann.get_body(preferencelist=("plain",)).get_content()
        html = ann.get_body(preferencelist=("html",)).get_content()
        assert "Our <b>spring</b> range: http://127.0.0.1:8000/r/" in text
        assert "Our &lt;b&gt;spring&lt;/b&gt; range:" in html and '<img src="http://127.0.0.1:8000/o/' in html
        click = re.search(r"http://127\.0\.0\.1:8000(/r/[A-Za-z0-9_-]+)", text)
        pixel = re.search(r"http://127\.0\.0\.1:8000(/o/[A-Za-z0-9_-]+)", html)
        assert click and pixel

        # a plain HTTP client follows the link: it lands on the store with the campaign code
        response = await hub.client.get(click.group(1))
        assert response.status_code == 302
        landing = response.headers["location"]
        assert landing == "http://127.0.0.1:8000/shop/shop/product/DRILL-1?campaign=SPRING"
        assert (await hub.client.get(pixel.group(1))).status_code == 200
        # the storefront's activity carries the code it landed with
        events = [
            {"visitorId": "ann-browser", "storeSlug": "shop", "type": "PAGE_VIEW", "campaignCode": "SPRING"}
        ]
        assert (await hub.query(RECORD, {"events": events}))["recordActivity"]["accepted"] == 1

        results = (await hub.query(RESULTS, token=token))["campaign"]["results"]
        assert results == {
            "recipients": 3,
            "sent": 3,
            "failed": 0,
            "opened": 1,
            "clicked": 1,
            "visits": 1,
            "orders": 0,
            "conversionRate": 0.0,
        }
        # the one-click unsubscription, as a mail client posts it
        path = unsubscribe.group(1).removeprefix("http://127.0.0.1:8000")
        assert (await hub.client.post(path, content="List-Unsubscribe=One-Click")).status_code == 200


CART = 'mutation { createCart(storeSlug: "shop") { cart { id } userErrors { code } } }'
ADD = """mutation($cart: ID!) { addCartLines(cartId: $cart, lines: [{sku: "DRILL-1", quantity: 2}]) {
  userErrors { code } } }"""
CHECKOUT = """mutation($cart: ID!, $email: String!, $visitor: String) {
  checkout(cartId: $cart, input: {email: $email, paymentMethod: "INVOICE", visitorId: $visitor,
    shippingAddress: {name: "N", line1: "1 Road", city: "Town", postalCode: "1000", country: "DE"}}) {
    order { number total { amount } campaign { code } } userErrors { code }
  }
}"""
REVENUE = '{ campaign(code: "SPRING") { results { orders revenue { amount currency } } } }'


async def _checkout(hub: Hub, email: str, visitor: str | None) -> dict[str, Any]:
    cart = (await hub.query(CART))["createCart"]["cart"]["id"]
    assert (await hub.query(ADD, {"cart": cart}))["addCartLines"]["userErrors"] == []
    placed = (await hub.query(CHECKOUT, {"cart": cart, "email": email, "visitor": visitor}))["checkout"]
    assert placed["userErrors"] == [], placed
    return placed["order"]


async def test_the_closed_loop_a_click_then_a_checkout_credits_the_campaign(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    configured = Settings(_env_file=None, **{**settings.model_dump(), **FAST, "smtp_url": smtp_server.url})
    async with open_hub(configured) as hub:
        # given a store selling DRILL-1 (49.99) with two opted-in customers, and the campaign sent to them
        await load_catalog(hub, CatalogSpec(products=[ProductSpec("DRILL-1", prices={"USD": 4999})]))
        reseller_id, store_id = await shop(hub)
        for email in ("ann@example.com", "bo@example.com"):
            await add_order(hub, store_id, reseller_id, email=email, opt_in=True)
        token = await hub.staff("MARKETING_MANAGER")
        assert (await hub.query(CREATE, token=token))["createCampaign"]["userErrors"] == []
        assert (await hub.query(SEND, token=token))["sendCampaign"]["userErrors"] == []

        async def all_received() -> bool:
            return len(smtp_server.inbox.messages) >= 2

        await eventually(all_received, within=20, what="two messages")
        links = {}
        for message in smtp_server.inbox.messages:
            text = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"http://127\.0\.0\.1:8000(/r/[A-Za-z0-9_-]+)", text)
            assert found is not None
            links[message["To"]] = found.group(1)
        before = (await hub.query(REVENUE, token=token))["campaign"]["results"]
        assert before == {"orders": 0, "revenue": {"amount": "0.00", "currency": "USD"}}

        # when Ann follows her link, the storefront records her visit with its visitor id and the
        # campaign code it landed with, and she checks out with that visitor id (another e-mail)
        response = await hub.client.get(links["ann@example.com"])
        assert response.status_code == 302 and response.headers["location"].endswith("?campaign=SPRING")
        events = [
            {"visitorId": "ann-browser", "storeSlug": "shop", "type": "PAGE_VIEW", "campaignCode": "SPRING"}
        ]
        assert (await hub.query(RECORD, {"events": events}))["recordActivity"]["accepted"] == 1
        by_visit = await _checkout(hub, "ann.other@example.com", "ann-browser")
        # and Bo clicks, then orders by e-mail alone (another device: no visitor id), in other case
        assert (await hub.client.get(links["bo@example.com"])).status_code == 302
        by_email = await _checkout(hub, "Bo@Example.com", None)
        # while someone who never clicked orders too
        stranger = await _checkout(hub, "cy@example.com", "cy-browser")

        # then both are credited to the campaign, the stranger's order to none, and the results move
        assert by_visit["campaign"] == {"code": "SPRING"} and by_email["campaign"] == {"code": "SPRING"}
        assert stranger["campaign"] is None
        after = (await hub.query(REVENUE, token=token))["campaign"]["results"]
        assert after == {"orders": 2, "revenue": {"amount": "199.96", "currency": "USD"}}
