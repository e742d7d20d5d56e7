"""The administrator's dashboard in Debian's Chromium against a real hub on the sample data (a year of orders).

Sign-in, the sections each role sees, customer service on an order (note, cancel with a reason,
resend the confirmation), the sales report with the hub's chart, a product's forecast drawn by the
page, a reseller's demand plan, and the hub's own message when it refuses something.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import SAMPLE_ADMIN, Tab, fits_the_screen, graphql, needs, sign_in, tab_to

pytestmark = pytest.mark.browser

STORE = "brightbuild-store"
RESELLER_ADMIN = ("owner@brightbuild.example", "owner-brightbuild-pw")
CHANNEL_MANAGER = ("channel@hub.example", "channel-sample-pw")
CATALOG_MANAGER = ("catalog@hub.example", "catalog-sample-pw")
PASSWORD = "service-desk-password-1"
# What the dashboard's sections ask of the hub.
SALES = ("Query.salesReport",)
ORDERS = ("Query.orders", "Query.order")
SERVICE = (
    *ORDERS,
    "Mutation.fulfillOrder",
    "Mutation.cancelOrder",
    "Mutation.addOrderNote",
    "Mutation.resendOrderConfirmation",
)
MARKETING = ("Query.campaigns", "Query.promotions")
DEMAND = ("Query.demandForecast", "Query.demandPlan")
PLACING = ("Mutation.createCart", "Mutation.addCartLines", "Mutation.checkout")


def clean(tab: Tab) -> None:
    assert tab.outside_requests == []
    assert tab.console_errors == []


def new_user(base_url: str, role: str) -> tuple[str, str]:
    """A user of the hub with one role, made by the sample's site administrator."""
    email = f"{role.lower().replace('_', '-')}-{uuid.uuid4().hex[:6]}@hub.example"
    created = graphql(
        base_url,
        """mutation($input: CreateUserInput!) { createUser(input: $input) { userErrors { message } } }""",
        {"input": {"email": email, "password": PASSWORD, "roles": [role]}},
        sign_in(base_url, *SAMPLE_ADMIN),
    )["createUser"]
    assert created["userErrors"] == []
    return email, PASSWORD


def place_order(base_url: str) -> str:
    """An order placed as a storefront places it (anonymous: cart, lines, checkout); its number."""
    sku = graphql(
        base_url, '{ store(slug: "brightbuild-store") { products(first: 1) { edges { node { sku } } } } }'
    )["store"]["products"]["edges"][0]["node"]["sku"]
    cart = graphql(
        base_url,
        'mutation { createCart(storeSlug: "brightbuild-store") { cart { id } userErrors { message } } }',
    )["createCart"]["cart"]["id"]
    graphql(
        base_url,
        "mutation($c: ID!, $s: String!) { addCartLines(cartId: $c, lines: [{sku: $s, quantity: 2}]) { userErrors { message } } }",
        {"c": cart, "s": sku},
    )
    checkout = graphql(
        base_url,
        """mutation($c: ID!, $input: CheckoutInput!) {
          checkout(cartId: $c, input: $input) { order { number } userErrors { message } }
        }""",
        {
            "c": cart,
            "input": {
                "email": f"grace-{uuid.uuid4().hex[:6]}@customers.example",
                "shippingAddress": {
                    "name": "Grace Hopper",
                    "line1": "1 Harbour Way",
                    "city": "Arlington",
                    "postalCode": "22201",
                    "country": "US",
                },
                "paymentMethod": "INVOICE",
            },
        },
    )["checkout"]
    assert checkout["userErrors"] == []
    return checkout["order"]["number"]


def sign_in_page(page: Page, base_url: str, email: str, password: str) -> None:
    """Signs in on the dashboard's own form, with the keyboard alone."""
    page.goto(f"{base_url}/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.keyboard.type(email)  # the e-mail field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.locator("#who-email")).to_contain_text(email)


def sections(page: Page) -> list[str]:
    return page.get_by_role("navigation", name="Sections").get_by_role("link").all_inner_texts()


@needs(*SERVICE, *PLACING)
def test_a_customer_service_user_cancels_an_order_from_the_dashboard(sample_hub_url: str, tab: Tab) -> None:
    number = place_order(sample_hub_url)
    email, password = new_user(sample_hub_url, "CUSTOMER_SERVICE")
    page = tab.page
    sign_in_page(page, sample_hub_url, email, password)
    assert sections(page) == ["Orders"]
    token = page.evaluate("sessionStorage.getItem('hub.admin.token')")
    assert token and token not in page.url

    # Find the order by its number.
    search = page.get_by_label("Order number or customer e-mail")
    search.fill(number)
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    expect(page.locator("#order-status")).to_have_text("PLACED")
    expect(page.get_by_role("button", name="Mark as fulfilled")).to_be_visible()

    # A note, written and sent with the keyboard.
    note = page.get_by_label("Note (seen by staff and the store's reseller)")
    tab_to(page, note)
    page.keyboard.type("Customer called: wants to cancel.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".notes")).to_contain_text("Customer called: wants to cancel.")
    expect(page.locator(".notes")).to_contain_text(email)

    # A cancellation needs a reason; with one, the order is cancelled and its history says why and who.
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_label("Reason (the customer's words or yours)")).to_have_attribute(
        "aria-invalid", "true"
    )
    page.get_by_label("Reason (the customer's words or yours)").fill("Ordered twice by mistake")
    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#order-status")).to_have_text("CANCELLED")
    expect(page.locator(".history")).to_contain_text("Ordered twice by mistake")
    expect(page.locator(".history")).to_contain_text(email)
    assert page.get_by_role("button", name="Cancel order").count() == 0

    page.get_by_role("button", name="Resend confirmation").click()
    expect(page.locator("#order-feedback")).to_contain_text("The confirmation e-mail is on its way again.")
    clean(tab)

    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    order = graphql(
        sample_hub_url,
        "query($n: String!) { order(number: $n) { status history { status by reason } notes { text by } } }",
        {"n": number},
        admin,
    )["order"]
    assert order["status"] == "CANCELLED"
    assert order["history"][-1] == {"status": "CANCELLED", "by": email, "reason": "Ordered twice by mistake"}
    assert order["notes"] == [{"text": "Customer called: wants to cancel.", "by": email}]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # Signed in, a user lands on the first section it may see: Sales for these three.
        pytest.param(
            SAMPLE_ADMIN, ["Sales", "Orders", "Marketing", "Demand"], marks=needs(*SALES), id="site-admin"
        ),
        pytest.param(
            RESELLER_ADMIN,
            ["Sales", "Orders", "Marketing", "Demand"],
            marks=needs(*SALES),
            id="reseller-admin",
        ),
        pytest.param(
            CHANNEL_MANAGER, ["Sales", "Orders", "Demand"], marks=needs(*SALES), id="channel-manager"
        ),
        pytest.param(CATALOG_MANAGER, [], id="catalog-manager"),
    ],
)
def test_each_role_sees_only_its_sections(
    sample_hub_url: str, tab: Tab, who: tuple[str, str], expected: list[str]
) -> None:
    page = tab.page

    sign_in_page(page, sample_hub_url, *who)

    assert sections(page) == expected
    if not expected:
        expect(page.get_by_role("main")).to_contain_text("Your roles see none of the dashboard's sections")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.evaluate("sessionStorage.getItem('hub.admin.token')") is None
    clean(tab)


@needs(*SALES, *DEMAND)
def test_a_wrong_password_and_a_refused_operation_show_the_hubs_message(
    sample_hub_url: str, tab: Tab
) -> None:
    page = tab.page
    page.goto(f"{sample_hub_url}/admin/")
    page.get_by_label("E-mail").fill(RESELLER_ADMIN[0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).not_to_be_empty()

    # A reseller's admin asking for another reseller's plan: the hub refuses, and says so.
    sign_in_page(page, sample_hub_url, *RESELLER_ADMIN)
    page.goto(f"{sample_hub_url}/admin/demand?plan=oakhouse&weeks=4")
    token = sign_in(sample_hub_url, *RESELLER_ADMIN)
    refused = httpx.post(
        f"{sample_hub_url}/graphql",
        json={"query": '{ demandPlan(resellerCode: "oakhouse", weeks: 4) { weeks } }'},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    expect(page.locator(".plan").get_by_role("alert")).to_have_text(refused["errors"][0]["message"])
    clean(tab)


@needs(*SALES)
def test_the_sales_report_shows_the_hubs_chart_totals_top_products_and_resellers(
    sample_hub_url: str, tab: Tab
) -> None:
    page = tab.page
    sign_in_page(page, sample_hub_url, *SAMPLE_ADMIN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales")
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=84), today + timedelta(days=1)

    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("To (not included)").fill(end.isoformat())
    page.get_by_label("Interval").select_option("WEEK")
    page.get_by_role("button", name="Show report").click()

    chart = page.get_by_role("img", name=re.compile("^Revenue per week"))
    expect(chart).to_be_visible()
    assert chart.get_attribute("src").startswith("data:image/svg+xml")
    assert chart.evaluate("image => image.naturalWidth") > 0  # the hub's SVG, drawn
    report = graphql(
        sample_hub_url,
        """query($input: SalesReportInput!) { salesReport(input: $input) {
          totals { orders } topProducts(limit: 10) { sku } byReseller { reseller { name } } } }""",
        {"input": {"from": f"{start}T00:00:00Z", "to": f"{end}T00:00:00Z", "interval": "WEEK"}},
        sign_in(sample_hub_url, *SAMPLE_ADMIN),
    )["salesReport"]
    assert report["totals"]["orders"] > 0
    expect(page.locator("#total-orders")).to_have_text(str(report["totals"]["orders"]))
    top = page.get_by_role("table", name="Top products by revenue")
    expect(top.get_by_role("row")).to_have_count(len(report["topProducts"]) + 1)
    by_reseller = page.get_by_role("table", name="Revenue by reseller, highest first")
    expect(by_reseller).to_contain_text(report["byReseller"][0]["reseller"]["name"])
    assert (
        "from=" in page.url and "interval=WEEK" in page.url
    )  # the settings are in the URL, the token is not
    clean(tab)


@needs(*SALES, *DEMAND)
def test_a_products_forecast_is_drawn_with_its_interval_and_a_resellers_plan_listed(
    sample_hub_url: str, tab: Tab
) -> None:
    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    today = datetime.now(UTC).date()
    top_sku = graphql(
        sample_hub_url,
        """query($input: SalesReportInput!) { salesReport(input: $input) { topProducts(limit: 1) { sku } } }""",
        {
            "input": {
                "from": f"{today - timedelta(days=90)}T00:00:00Z",
                "to": f"{today + timedelta(days=1)}T00:00:00Z",
            }
        },
        admin,
    )["salesReport"]["topProducts"][0]["sku"]
    page = tab.page
    sign_in_page(page, sample_hub_url, *SAMPLE_ADMIN)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Demand").click()

    page.get_by_label("Product SKU").fill(top_sku)
    page.get_by_label("Days ahead").fill("21")
    page.get_by_role("button", name="Show forecast").click()

    chart = page.get_by_role("img", name=re.compile("^Daily demand for"))
    expect(chart).to_be_visible()
    assert chart.locator("polyline.history").count() == 1
    assert chart.locator("polyline.forecast").count() == 1
    assert chart.locator("polygon.interval").count() == 1
    page.get_by_text("The forecast as a table").click()
    expect(page.get_by_role("table", name="Forecast by day").get_by_role("row")).to_have_count(22)

    page.get_by_label("Reseller", exact=True).last.select_option("brightbuild")
    page.get_by_label("Weeks").fill("2")
    page.get_by_role("button", name="Show plan").click()
    plan = page.get_by_role("table", name=re.compile("^Demand plan of BrightBuild Hardware for 2 weeks"))
    expect(plan).to_be_visible(timeout=90_000)  # a forecast for every product the reseller sold
    assert plan.get_by_role("row").count() > 1
    clean(tab)


@needs(*SALES, *ORDERS, *MARKETING, *DEMAND)
def test_the_dashboard_fits_a_phone(sample_hub_url: str, tab: Tab) -> None:
    page = tab.page
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in_page(page, sample_hub_url, *SAMPLE_ADMIN)

    for section in ["sales", "orders", "marketing", "demand"]:
        page.goto(f"{sample_hub_url}/admin/{section}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert fits_the_screen(page), section
    clean(tab)
