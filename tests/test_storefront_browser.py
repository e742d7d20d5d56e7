"""The sample storefront in Debian's Chromium against a real hub on the sample data: browse, search, cart, coupon, checkout.

Each test drives the pages as a customer does (links, the search box, forms, the keyboard for the main
actions), then checks what the hub recorded through its API or the dashboard. Every page is served
under the hub's Content-Security-Policy, so an inline script or a request to another host would show
up as a console error or an outside request, and both must stay empty.
"""

from __future__ import annotations

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser import SAMPLE_ADMIN, Tab, fits_the_screen, graphql, needs, sign_in, tab_to

pytestmark = pytest.mark.browser

STORE = "brightbuild-store"
# What the storefront's pages ask of the hub beyond the catalog and stores (every page shows the cart's count).
HOME = ("Query.spot", "Mutation.recordActivity", "Query.cart")
CHECKOUT = (
    *HOME,
    "Mutation.createCart",
    "Mutation.addCartLines",
    "Mutation.updateCartLine",
    "Mutation.checkout",
)
PROMOTION = """mutation($input: PromotionInput!) { upsertPromotion(input: $input) { promotion { code } userErrors { message } } }"""
CAMPAIGN = """mutation($input: CampaignInput!) { createCampaign(input: $input) { campaign { code } userErrors { message } } }"""
CAMPAIGN_RESULTS = (
    "query($code: String!) { campaign(code: $code) { results { visits orders revenue { amount } } } }"
)
PRODUCT = """query($slug: String!, $sku: String!) {
  store(slug: $slug) { product(sku: $sku) { name description price { amount } listPrice { amount } } }
}"""
ORDER = "query($n: String!) { order(number: $n) { status customerEmail paymentMethod total { amount } lines { sku quantity } } }"
ORDER_DISCOUNTS = "query($n: String!) { order(number: $n) { subtotal { amount } discounts { couponCode amount { amount } } total { amount } } }"
ORDER_CAMPAIGN = "query($n: String!) { order(number: $n) { campaign { code } } }"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}".upper()


def money(amount: str) -> str:
    """An amount in US dollars as the pages show it in an en-US browser: $1,234.50."""
    return f"${Decimal(amount):,.2f}"


def clean(tab: Tab) -> None:
    assert tab.outside_requests == []
    assert tab.console_errors == []


def fill_checkout(page: Page, email: str) -> None:
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Full name").fill("Ada Byron")
    page.get_by_label("Address", exact=True).fill("12 Engine Row")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("Country (two-letter code, e.g. DE)").fill("GB")


@needs(*CHECKOUT, "Query.orders", "Query.order")
def test_a_customer_browses_searches_adds_to_cart_and_checks_out(sample_hub_url: str, tab: Tab) -> None:
    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    email = f"ada-{uuid.uuid4().hex[:6]}@customers.example"
    page = tab.page

    # The home page: the store's name and welcome text, its root categories, featured products.
    page.goto(f"{sample_hub_url}/shop/{STORE}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("BrightBuild Hardware Store")
    expect(page.get_by_text("Tools for every trade, delivered next day.")).to_be_visible()
    featured = page.get_by_role("list", name="Featured products").get_by_role("listitem")
    expect(featured.first).to_be_visible()

    # A category, then its next page (keyset paging).
    page.get_by_role("main").get_by_role("link", name="Power Tools").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Power Tools")
    first_page = page.get_by_role("list", name="Products in Power Tools").locator(".sku").all_inner_texts()
    page.get_by_role("link", name="Next page →").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    second_page = page.get_by_role("list", name="Products in Power Tools").locator(".sku").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)

    # A search from the header's box, with the keyboard.
    search = page.get_by_role("searchbox", name="Search products")
    tab_to(page, search)
    page.keyboard.type("cordless drill")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “cordless drill”")
    results = page.get_by_role("list", name="Search results")
    sku = results.locator(".sku").first.inner_text().removeprefix("SKU ")
    results.get_by_role("link").first.click()

    # The product page: the store's price beside the list price, the description; two into the cart.
    product = graphql(sample_hub_url, PRODUCT, {"slug": STORE, "sku": sku})["store"]["product"]
    expect(page.get_by_role("heading", level=1)).to_have_text(product["name"])
    expect(page.locator(".product .store-price")).to_have_text(money(product["price"]["amount"]))
    if product["description"]:
        expect(page.locator(".product .description")).to_have_text(product["description"])
    expect(page.locator(".product .list-price-note")).to_contain_text(money(product["listPrice"]["amount"]))
    product_name = product["name"]
    quantity = page.get_by_label("Quantity")
    quantity.fill("2")
    tab_to(page, page.get_by_role("button", name="Add to cart"))
    page.keyboard.press("Enter")
    expect(page.locator("#add-message")).to_contain_text(f"Added 2 \u00d7 {product_name} to your cart")
    expect(page.locator("#cart-count")).to_have_text("2")

    # The cart: the quantity changes.
    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    page.get_by_label(f"Quantity of {product_name}").fill("3")
    page.get_by_role("button", name=f"Update {product_name}").click()
    expect(page.get_by_label(f"Quantity of {product_name}")).to_have_value("3")
    expect(page.locator("#cart-count")).to_have_text("3")

    # Checkout: e-mail, address, a payment method of the hub's policies, the marketing opt-in.
    tab_to(page, page.get_by_role("link", name="Check out"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    expect(page.get_by_role("radio", name="Invoice")).to_be_checked()
    fill_checkout(page, email)
    page.get_by_role("radio", name="Credit card").check()
    page.get_by_label(re.compile("^Send me news and offers")).check()
    tab_to(page, page.get_by_role("button", name=re.compile("^Place order")))
    page.keyboard.press("Enter")

    # The confirmation shows the order's number; the cart is emptied.
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
    number = page.locator("#order-number").inner_text()
    assert re.fullmatch(r"ORD-[0-9A-Z-]+", number), number
    expect(page.locator("#cart-count")).to_have_text("0")
    clean(tab)

    # The hub has it as the customer placed it.
    order = graphql(sample_hub_url, ORDER, {"n": number}, admin)["order"]
    assert order["status"] == "PLACED"
    assert order["customerEmail"] == email
    assert order["paymentMethod"] == "CREDIT_CARD"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(sku, 3)]

    # And it shows up in the dashboard, found by the customer's e-mail.
    page.goto(f"{sample_hub_url}/admin/")
    page.get_by_label("E-mail").fill(SAMPLE_ADMIN[0])
    page.get_by_label("Password").fill(SAMPLE_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Orders").click()
    page.get_by_label("Order number or customer e-mail").fill(email)
    page.get_by_role("button", name="Find orders").click()
    expect(page.get_by_role("table", name="Orders, newest first")).to_contain_text(number)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    expect(page.locator("#order-status")).to_have_text("PLACED")
    assert "token" not in page.url
    clean(tab)


@needs(*CHECKOUT, "Mutation.createCampaign", "Mutation.recordActivity", "Query.campaign", "Order.campaign")
def test_a_visitor_from_a_campaign_link_is_credited_in_the_campaigns_results(
    sample_hub_url: str, tab: Tab
) -> None:
    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    code = unique("SPRING")
    graphql(
        sample_hub_url,
        CAMPAIGN,
        {
            "input": {
                "code": code,
                "name": "Spring tools",
                "storeSlug": STORE,
                "subject": "Spring is here",
                "body": "Our spring range: {{link}}",
                "landingPath": "/category/power-tools",
            }
        },
        admin,
    )
    page = tab.page

    # The visitor lands from the campaign's link, wanders off the landing page, then buys.
    page.goto(f"{sample_hub_url}/shop/{STORE}/category/power-tools?campaign={code}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Power Tools")
    page.get_by_role("list", name="Products in Power Tools").get_by_role("link").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    page.goto(
        f"{sample_hub_url}/shop/{STORE}/checkout"
    )  # a new page load: the campaign is kept for the visit
    fill_checkout(page, f"visitor-{uuid.uuid4().hex[:6]}@customers.example")
    page.get_by_role("button", name=re.compile("^Place order")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
    number = page.locator("#order-number").inner_text()
    clean(tab)

    # The order is credited to the campaign, and its results count the visit and the order.
    assert graphql(sample_hub_url, ORDER_CAMPAIGN, {"n": number}, admin)["order"]["campaign"] == {
        "code": code
    }
    results = graphql(sample_hub_url, CAMPAIGN_RESULTS, {"code": code}, admin)["campaign"]["results"]
    assert results["visits"] == 1  # one visitor (the hub counts distinct visitors with the campaign)
    assert results["orders"] == 1

    # The dashboard's marketing section shows the same.
    page.goto(f"{sample_hub_url}/admin/")
    page.get_by_label("E-mail").fill(SAMPLE_ADMIN[0])
    page.get_by_label("Password").fill(SAMPLE_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Marketing").click()
    row = page.get_by_role("row", name=re.compile(code))
    # The campaign's name is the row's header (a th), so the cells start at Store: Visits is the 7th.
    expect(row.get_by_role("cell").nth(6)).to_have_text(str(results["visits"]))  # Visits
    expect(row.get_by_role("cell").nth(7)).to_have_text("1")  # Orders
    clean(tab)


@needs(*CHECKOUT)
def test_the_storefront_fits_a_phone_and_says_when_a_store_is_not_open(sample_hub_url: str, tab: Tab) -> None:
    page = tab.page
    page.set_viewport_size({"width": 375, "height": 740})

    for path in ["/", "/category/power-tools", "/search?q=drill", "/cart", "/checkout"]:
        page.goto(f"{sample_hub_url}/shop/{STORE}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert fits_the_screen(page), path
    page.goto(f"{sample_hub_url}/shop/{STORE}/search?q=drill")
    page.get_by_role("list", name="Search results").get_by_role("link").first.click()
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"{sample_hub_url}/shop/{STORE}/cart")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    assert fits_the_screen(page)

    page.goto(f"{sample_hub_url}/shop/no-such-store/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This store is not open")
    clean(tab)


@needs(*HOME)
def test_every_text_of_a_store_is_shown_as_text(sample_hub_url: str, tab: Tab) -> None:
    # A store's texts are the reseller's to write: markup in them is shown, never run or parsed.
    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    slug = f"markup-{uuid.uuid4().hex[:8]}"
    markup = "<img src=x onerror=\"document.title='owned'\"><b>Bold</b>"
    graphql(
        sample_hub_url,
        """mutation($slug: String!) {
          createStore(input: {resellerCode: "oakhouse", slug: $slug, name: "<i>Markup</i> & Co"}) { userErrors { message } }
        }""",
        {"slug": slug},
        admin,
    )
    graphql(
        sample_hub_url,
        """mutation($slug: String!, $input: UpdateStoreInput!) {
          updateStore(slug: $slug, input: $input) { store { status } userErrors { message } }
        }""",
        {"slug": slug, "input": {"status": "OPEN", "texts": [{"key": "welcome", "value": markup}]}},
        admin,
    )
    page = tab.page

    page.goto(f"{sample_hub_url}/shop/{slug}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("<i>Markup</i> & Co")
    expect(page.locator(".welcome")).to_have_text(markup)
    assert page.locator("main img, main b, main i, header i").count() == 0
    assert page.title() != "owned"
    clean(tab)


@needs(*CHECKOUT)
def test_checkout_says_what_is_missing_and_shows_the_hubs_refusal_beside_its_field(
    sample_hub_url: str, tab: Tab
) -> None:
    page = tab.page
    page.goto(f"{sample_hub_url}/shop/{STORE}/search?q=drill")
    page.get_by_role("list", name="Search results").get_by_role("link").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    page.goto(f"{sample_hub_url}/shop/{STORE}/checkout")

    # Nothing filled in: the page lists what is missing, and the focus goes to that list.
    page.get_by_role("button", name=re.compile("^Place order")).click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("E-mail")
    expect(summary).to_contain_text("City")
    assert page.evaluate("document.activeElement.id") == "checkout-errors"
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("aria-invalid", "true")

    # A country the hub does not know: its message, beside the field; no order placed.
    fill_checkout(page, "lin@customers.example")
    page.get_by_label("Country (two-letter code, e.g. DE)").fill("ZZ")
    page.get_by_role("button", name=re.compile("^Place order")).click()
    country = page.get_by_label("Country (two-letter code, e.g. DE)")
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#country-error")).to_contain_text("ISO 3166-1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    expect(page.locator("#cart-count")).to_have_text("1")
    clean(tab)


@needs(*CHECKOUT, "Mutation.upsertPromotion", "Mutation.applyCoupon", "Mutation.removeCoupon")
def test_a_coupon_takes_its_discount_in_the_cart_and_the_order_keeps_it(
    sample_hub_url: str, tab: Tab
) -> None:
    admin = sign_in(sample_hub_url, *SAMPLE_ADMIN)
    coupon = unique("SAVE")
    promotion = {
        "code": coupon,
        "name": "Ten off",
        "storeSlug": STORE,
        "scope": "ALL",
        "percentOff": "10",
        "couponCode": coupon,
    }
    graphql(sample_hub_url, PROMOTION, {"input": promotion}, admin)
    page = tab.page
    page.goto(f"{sample_hub_url}/shop/{STORE}/search?q=drill")
    page.get_by_role("list", name="Search results").get_by_role("link").first.click()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("2")
    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")

    # A coupon the hub does not know: its message, beside the field, and the field marked.
    coupon_field = page.get_by_label("Coupon code")
    coupon_field.fill("NO-SUCH-COUPON")
    coupon_field.press("Enter")
    expect(page.locator("#coupon-error")).not_to_be_empty()
    expect(coupon_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".totals")).not_to_contain_text("Ten off")

    # The right one, entered with the keyboard: 10 % off, and it can be taken off and put back.
    coupon_field.fill(coupon)
    coupon_field.press("Enter")
    expect(page.locator(".coupon-code")).to_have_text(coupon)
    expect(page.locator(".totals")).to_contain_text("Ten off")
    page.get_by_role("button", name="Remove coupon").click()
    expect(page.locator(".totals")).not_to_contain_text("Ten off")
    page.get_by_label("Coupon code").fill(coupon)
    page.get_by_label("Coupon code").press("Enter")
    expect(page.locator(".coupon-code")).to_have_text(coupon)
    shown_total = page.locator("#cart-total").inner_text()

    page.get_by_role("link", name="Check out").click()
    fill_checkout(page, f"cora-{uuid.uuid4().hex[:6]}@customers.example")
    page.get_by_role("button", name=re.compile("^Place order")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
    number = page.locator("#order-number").inner_text()
    clean(tab)

    # The order keeps the coupon's discount, at the total the cart showed.
    order = graphql(sample_hub_url, ORDER_DISCOUNTS, {"n": number}, admin)["order"]
    assert [d["couponCode"] for d in order["discounts"]] == [coupon]
    subtotal = Decimal(order["subtotal"]["amount"])
    discount = (subtotal / 10).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(order["discounts"][0]["amount"]["amount"]) == discount
    assert Decimal(order["total"]["amount"]) == subtotal - discount
    assert shown_total == money(order["total"]["amount"])
