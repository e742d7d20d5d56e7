"""Purchase orders delivered to real distributor processes (`hub sample-distributor` on loopback), both transports,
both databases: retries with backoff, an outage, a hub restart, a service without placeOrder, a rejection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import build_ast_schema, parse
from sqlalchemy import select

from datasources.outbox.models import OutboxMessage
from datasources.partners.quote_contract import contract_breaks, takes_purchase_orders
from datasources.plaza.models import PurchaseOrder
from hub_graphql.sample_distributor import quote_only_schema, schema
from hub_graphql.settings import Settings
from tests.harness import Hub, open_hub
from tests.mail_server import eventually
from tests.plaza_factory import accepted_quote, fill_plaza_cart
from tests.plaza_servers import DistributorProcess
from tests.quote_data import make_catalog, make_distributor, make_reseller, set_policy, sku

SUBMIT = """
mutation { submitPlazaCart { purchaseOrders { number status deliveryAttempts } userErrors { code message } } }
"""

ONE = """
query($number: String!) {
  purchaseOrder(number: $number) { number status distributorReference reason deliveryAttempts }
}
"""

CONFIRM = """
mutation($number: String!, $reference: String) {
  confirmPurchaseOrder(number: $number, distributorReference: $reference) {
    purchaseOrder { status distributorReference } userErrors { code }
  }
}
"""

FAST = {
    "outbox_worker": True,
    "outbox_poll_seconds": 0.2,
    "outbox_retry_base_seconds": 0.2,
    "outbox_retry_max_seconds": 0.5,
    "order_delivery_timeout_seconds": 5.0,
}

TRANSPORTS = ["GRAPHQL_SUBGRAPH", "REST_JSON"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return Settings(_env_file=None, **{**settings.model_dump(), **FAST})


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[DistributorProcess]]:
    """The distributor processes a test starts: all stopped at its end."""
    started: list[DistributorProcess] = []
    yield started
    for process in started:
        process.stop()


def _distributor(
    tmp_path: Path, processes: list[DistributorProcess], *options: str, products: int = 10
) -> DistributorProcess:
    process = DistributorProcess(tmp_path, "NORTH", *options, products=products).start()
    processes.append(process)
    return process


class Buyer:
    def __init__(self, reseller_id: int, token: str, rep: str) -> None:
        self.reseller_id = reseller_id
        self.token = token
        self.rep = rep


async def _buyer(hub: Hub, process: DistributorProcess, transport: str) -> Buyer:
    await make_catalog(hub, 6)
    await set_policy(hub)
    reseller_id = await make_reseller(hub, "RES")
    token = await hub.user("RESELLER_ADMIN", reseller_id=reseller_id)
    distributor_id = await make_distributor(
        hub, "NORTH", process.endpoint(transport), transport=transport, resellers=(reseller_id,)
    )
    return Buyer(reseller_id, token, await hub.user("DISTRIBUTOR_REP", distributor_id=distributor_id))


async def _submit(hub: Hub, buyer: Buyer, items: list[tuple[str, int]], *, by_hand: bool = False) -> str:
    """A live quote (or, `by_hand`, the rep's) accepted, put in the plaza cart and submitted: its PO number."""
    quote_id = await accepted_quote(
        hub, buyer.token, "NORTH", items, rep_token=buyer.rep if by_hand else None
    )
    await fill_plaza_cart(hub, buyer.reseller_id, [quote_id])
    payload = (await hub.query(SUBMIT, token=buyer.token))["submitPlazaCart"]
    assert payload["userErrors"] == [], payload["userErrors"]
    [order] = payload["purchaseOrders"]
    return order["number"]


async def _order(hub: Hub, number: str) -> PurchaseOrder:
    async with hub.resources.session_factory() as session:
        row = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
        assert row is not None
        return row


async def _message(hub: Hub, number: str) -> OutboxMessage:
    async with hub.resources.session_factory() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == number))
        assert row is not None
        return row


async def _status_is(hub: Hub, number: str, status: str) -> bool:
    return (await _order(hub, number)).status == status


async def test_a_distributor_that_fails_twice_then_accepts_confirms_once_after_three_attempts(
    live_settings: Settings, tmp_path: Path, processes: list[DistributorProcess], transport: str
) -> None:
    # given a distributor whose first two order deliveries answer 503
    process = _distributor(tmp_path, processes, "--fail-orders", "2")
    async with open_hub(live_settings) as hub:
        buyer = await _buyer(hub, process, transport)

        # when a plaza cart is submitted to it
        number = await _submit(hub, buyer, [(sku(0), 4), (sku(1), 10)])

        # then the worker retries with backoff until it is CONFIRMED with the distributor's reference
        await eventually(lambda: _status_is(hub, number, "CONFIRMED"), what="CONFIRMED")
        answer = (await hub.query(ONE, {"number": number}, token=buyer.token))["purchaseOrder"]
        message = await _message(hub, number)
    assert answer["deliveryAttempts"] == 3
    assert answer["distributorReference"] == "NORTH-SO-00001" and answer["reason"] is None
    assert (message.status, message.attempts) == ("DONE", 3)
    # and the distributor holds exactly one order, as the hub sent it, after three calls
    stats = process.stats()
    assert (stats["order_calls"], stats["orders"]) == (3, 1)
    [taken] = process.orders()
    assert taken["order"]["number"] == number and taken["order"]["resellerCode"] == "RES"
    assert [(line["sku"], line["quantity"]) for line in taken["order"]["lines"]] == [
        (sku(0), 4),
        (sku(1), 10),
    ]
    assert taken["order"]["quoteRequestId"] is not None


async def test_a_distributor_down_for_good_leaves_the_order_submitted_with_its_attempts_counted(
    live_settings: Settings, tmp_path: Path, processes: list[DistributorProcess], transport: str
) -> None:
    process = _distributor(tmp_path, processes)
    async with open_hub(live_settings) as hub:
        buyer = await _buyer(hub, process, transport)
        quote_id = await accepted_quote(hub, buyer.token, "NORTH", [(sku(2), 1)])
        process.stop()  # the outage starts after the quote, before the order
        await fill_plaza_cart(hub, buyer.reseller_id, [quote_id])
        [order] = (await hub.query(SUBMIT, token=buyer.token))["submitPlazaCart"]["purchaseOrders"]

        async def tried_three_times() -> bool:
            return (await _order(hub, order["number"])).delivery_attempts >= 3

        await eventually(tried_three_times, what="three attempts")
        row = await _order(hub, order["number"])
        message = await _message(hub, order["number"])
    assert row.status == "SUBMITTED"
    assert message.status == "PENDING" and message.attempts >= 3 and message.max_attempts is None
    assert message.last_error == "NORTH could not be reached"


async def test_a_hub_restart_during_an_outage_loses_no_delivery(
    live_settings: Settings, tmp_path: Path, processes: list[DistributorProcess], transport: str
) -> None:
    process = _distributor(tmp_path, processes)
    # given an order submitted while the distributor is down, tried at least once by the first hub
    async with open_hub(live_settings) as first:
        buyer = await _buyer(first, process, transport)
        quote_id = await accepted_quote(first, buyer.token, "NORTH", [(sku(3), 2)])
        process.stop()
        await fill_plaza_cart(first, buyer.reseller_id, [quote_id])
        [order] = (await first.query(SUBMIT, token=buyer.token))["submitPlazaCart"]["purchaseOrders"]
        number = order["number"]

        async def tried() -> bool:
            return (await _order(first, number)).delivery_attempts >= 1

        await eventually(tried, what="a first attempt")
    # when that hub stops, the distributor comes back, and a new hub starts on the same database
    process.start()
    async with open_hub(live_settings) as second:
        await eventually(lambda: _status_is(second, number, "CONFIRMED"), what="CONFIRMED after the restart")
        row = await _order(second, number)
    # then the order was delivered once, by the new process
    assert row.delivery_attempts >= 2 and row.distributor_reference == "NORTH-SO-00001"
    assert process.stats()["orders"] == 1


async def test_a_service_without_place_order_leaves_the_order_to_its_rep_in_the_proxy_store(
    live_settings: Settings, tmp_path: Path, processes: list[DistributorProcess], transport: str
) -> None:
    process = _distributor(tmp_path, processes, "--no-orders")
    async with open_hub(live_settings) as hub:
        buyer = await _buyer(hub, process, transport)
        number = await _submit(hub, buyer, [(sku(0), 1)])

        async def message_done() -> bool:
            return (await _message(hub, number)).status == "DONE"

        await eventually(message_done, what="the delivery ends")
        row = await _order(hub, number)
        message = await _message(hub, number)
        assert (row.status, row.delivery_attempts) == ("SUBMITTED", 1)
        assert message.attempts == 1 and "does not take purchase orders" in (message.last_error or "")

        # the distributor's rep answers in the hub
        answer = (await hub.query(CONFIRM, {"number": number, "reference": "PHONE-1"}, token=buyer.rep))[
            "confirmPurchaseOrder"
        ]
    assert answer == {
        "purchaseOrder": {"status": "CONFIRMED", "distributorReference": "PHONE-1"},
        "userErrors": [],
    }


async def test_an_order_the_distributor_cannot_fill_is_rejected_with_its_reason(
    live_settings: Settings, tmp_path: Path, processes: list[DistributorProcess], transport: str
) -> None:
    # given a distributor whose price list stops at Q-0003, and its rep's quote on Q-0005 accepted
    process = _distributor(tmp_path, processes, products=4)
    async with open_hub(live_settings) as hub:
        buyer = await _buyer(hub, process, transport)
        number = await _submit(hub, buyer, [(sku(5), 1)], by_hand=True)

        await eventually(lambda: _status_is(hub, number, "REJECTED"), what="REJECTED")
        answer = (await hub.query(ONE, {"number": number}, token=buyer.token))["purchaseOrder"]
    assert answer["reason"] == f"not on our price list in USD: {sku(5)}"
    assert answer["distributorReference"] is None and answer["deliveryAttempts"] == 1


def test_the_reference_service_keeps_the_contract_with_and_without_purchase_orders() -> None:
    with_orders = build_ast_schema(parse(schema.as_str()), assume_valid_sdl=True)
    without = build_ast_schema(parse(quote_only_schema.as_str()), assume_valid_sdl=True)
    assert takes_purchase_orders(with_orders) and contract_breaks(with_orders) == []
    assert not takes_purchase_orders(without) and contract_breaks(without) == []
