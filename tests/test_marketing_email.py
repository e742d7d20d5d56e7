"""A campaign end to end: sent through the outbox worker to a real SMTP server on loopback (aiosmtpd), the
received messages read, a tracked link followed with a plain HTTP client, the results moving."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from hub_graphql.settings import Settings
from tests.harness import open_hub
from tests.mail_server import SmtpServer, eventually
from tests.marketing_factory import add_order, shop

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


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


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
