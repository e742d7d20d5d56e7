"""Screenshots of the hub's pages for the README: the sample hub served, each page shot in Debian's Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only graphiql]

It migrates and seeds a throwaway SQLite database with the sample hub, serves it with `hub serve` on a
free loopback port (tests/browser.py, as the browser tests do), and writes one PNG per page:

- graphiql.png: GraphiQL at /graphql after running the CatalogRoots example.
- shop-*.png: the sample storefront of brightbuild-store (home with a home-hero creative, a category,
  a product, the cart with a coupon, checkout, the confirmation, and the cart on a phone).
- admin-*.png: the dashboard signed in as the sample's site administrator (sales, orders, an order,
  marketing with a campaign and promotions, demand with a forecast and a plan).

The shop and admin pictures first make what they show through the hub's API (a creative, a coupon
promotion, a campaign, an order), in the throwaway database.

Needs GraphiQL's npm packages (./scripts/setup.sh with Node.js 20+) and Chromium (Debian's `chromium`,
or PLAYWRIGHT_CHROMIUM_EXECUTABLE). A page that asks anything of a host other than loopback fails.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.browser import (  # noqa: E402
    SAMPLE_ADMIN,
    Tab,
    graphql,
    launch_chromium,
    open_tab,
    sample_hub,
    sign_in,
)

STORE = "brightbuild-store"
PHONE = {"width": 390, "height": 844}
# The cart's pictures show a coupon once the hub has applyCoupon (off tests/contract_pending.txt).
COUPONS_BUILT = "Field Mutation.applyCoupon was removed." not in (
    ROOT / "tests" / "contract_pending.txt"
).read_text(encoding="utf-8")


def graphiql(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor.locator(".CodeMirror-line").get_by_text("query CatalogRoots")).to_be_visible()
    editor.locator(".CodeMirror-line span", has_text="productGroups").first.click()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".result-window")).to_contain_text('"data"')
    page.mouse.move(0, 0)  # no hover tooltip in the picture


def prepare_sample(base_url: str) -> None:
    """What the pictures show beyond the sample: a home-hero creative, a coupon, a campaign, a few orders."""
    token = sign_in(base_url, *SAMPLE_ADMIN)
    graphql(
        base_url,
        """mutation($input: CreativeInput!) { upsertCreative(input: $input) { userErrors { message } } }""",
        {
            "input": {
                "code": "spring-hero",
                "spot": "home-hero",
                "storeSlug": STORE,
                "title": "Spring tool days",
                "body": "Ten percent off every drill with the coupon SPRING10, until the end of the month.",
                "imageUrl": f"{base_url}/web/shop/sample-hero.svg",
                "linkUrl": f"{base_url}/shop/{STORE}/category/power-tools-drills",
                "priority": 10,
            }
        },
        token,
    )
    graphql(
        base_url,
        """mutation($input: PromotionInput!) { upsertPromotion(input: $input) { userErrors { message } } }""",
        {
            "input": {
                "code": "spring10",
                "name": "Spring tool days",
                "storeSlug": STORE,
                "scope": "CATEGORY",
                "target": "power-tools",
                "percentOff": "10",
                "couponCode": "SPRING10",
            }
        },
        token,
    )
    graphql(
        base_url,
        """mutation($input: CampaignInput!) { createCampaign(input: $input) { userErrors { message } } }""",
        {
            "input": {
                "code": "SPRING",
                "name": "Spring tool days",
                "storeSlug": STORE,
                "subject": "Spring tool days: 10 % off drills",
                "body": "Our spring range is in: {{link}}",
                "landingPath": "/category/power-tools",
            }
        },
        token,
    )


def add_to_cart(page: Page, base_url: str, path: str, quantity: int = 1) -> None:
    page.goto(f"{base_url}/shop/{STORE}{path}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#add-message")).to_contain_text("Added")


def first_product(page: Page, base_url: str, category: str) -> str:
    page.goto(f"{base_url}/shop/{STORE}/category/{category}")
    return page.locator(".grid .sku").first.inner_text().removeprefix("SKU ")


def fill_checkout(page: Page) -> None:
    page.get_by_label("E-mail", exact=True).fill("ada@customers.example")
    page.get_by_label("Full name").fill("Ada Byron")
    page.get_by_label("Address", exact=True).fill("12 Engine Row")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("Country (two-letter code, e.g. DE)").fill("GB")
    page.get_by_label("Send me news and offers from BrightBuild Hardware Store by e-mail").check()


def fill_cart(page: Page, base_url: str) -> None:
    drill = first_product(page, base_url, "power-tools-drills")
    spanner = first_product(page, base_url, "hand-tools")
    add_to_cart(page, base_url, f"/product/{drill}", 2)
    add_to_cart(page, base_url, f"/product/{spanner}", 1)
    page.goto(f"{base_url}/shop/{STORE}/cart")
    if COUPONS_BUILT:
        page.get_by_label("Coupon code").fill("SPRING10")
        page.get_by_label("Coupon code").press("Enter")
        expect(page.locator(".coupon-code")).to_have_text("SPRING10")


def shop_home(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/shop/{STORE}/?campaign=SPRING")
    expect(page.locator(".creative")).to_be_visible()


def shop_category(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/shop/{STORE}/category/power-tools")
    expect(page.get_by_text("Page 1")).to_be_visible()


def shop_product(page: Page, base_url: str) -> None:
    sku = first_product(page, base_url, "power-tools-drills")
    add_to_cart(page, base_url, f"/product/{sku}", 2)


def shop_cart(page: Page, base_url: str) -> None:
    fill_cart(page, base_url)


def shop_checkout(page: Page, base_url: str) -> None:
    fill_cart(page, base_url)
    page.get_by_role("link", name="Check out").click()
    fill_checkout(page)


def shop_confirmation(page: Page, base_url: str) -> None:
    shop_checkout(page, base_url)
    page.get_by_role("button", name=re.compile("^Place order")).click()
    expect(page.locator("#order-number")).to_be_visible()


def shop_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    fill_cart(page, base_url)


def admin_sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/")
    page.get_by_label("E-mail").fill(SAMPLE_ADMIN[0])
    page.get_by_label("Password").fill(SAMPLE_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-email")).to_contain_text(SAMPLE_ADMIN[0])


def admin_sales(page: Page, base_url: str) -> None:
    admin_sign_in(page, base_url)
    page.goto(f"{base_url}/admin/sales")
    page.get_by_label("Interval").select_option("WEEK")
    start = (datetime.now(UTC) - timedelta(days=180)).date().isoformat()
    page.get_by_label("From").fill(start)
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_role("img", name=re.compile("^Revenue per week"))).to_be_visible()


def admin_orders(page: Page, base_url: str) -> None:
    admin_sign_in(page, base_url)
    page.goto(f"{base_url}/admin/orders")
    expect(page.get_by_role("table", name="Orders, newest first")).to_be_visible()


def admin_order(page: Page, base_url: str) -> None:
    admin_orders(page, base_url)
    page.get_by_role("table", name="Orders, newest first").get_by_role("link").first.click()
    page.get_by_label("Note (seen by staff and the store's reseller)").fill(
        "Customer asked for delivery after 10:00."
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes")).to_contain_text("after 10:00")


def admin_marketing(page: Page, base_url: str) -> None:
    admin_sign_in(page, base_url)
    page.goto(f"{base_url}/admin/marketing")
    expect(page.get_by_role("table", name="Campaigns and their results")).to_be_visible()


def admin_demand(page: Page, base_url: str) -> None:
    admin_sign_in(page, base_url)
    token = sign_in(base_url, *SAMPLE_ADMIN)
    today = datetime.now(UTC).date()
    top = graphql(
        base_url,
        """query($input: SalesReportInput!) { salesReport(input: $input) { topProducts(limit: 1) { sku } } }""",
        {
            "input": {
                "from": f"{today - timedelta(days=90)}T00:00:00Z",
                "to": f"{today}T00:00:00Z",
                "resellerCode": "brightbuild",
            }
        },
        token,
    )["salesReport"]["topProducts"][0]["sku"]
    page.goto(f"{base_url}/admin/demand?sku={top}&days=28&reseller=brightbuild&plan=brightbuild&weeks=2")
    expect(page.get_by_role("img", name=re.compile("^Daily demand for"))).to_be_visible(timeout=60_000)
    expect(page.get_by_role("table", name=re.compile("^Demand plan of"))).to_be_visible(timeout=60_000)


SHOTS: dict[str, Callable[[Page, str], None]] = {
    "graphiql": graphiql,
    "shop-home": shop_home,
    "shop-category": shop_category,
    "shop-product": shop_product,
    "shop-cart": shop_cart,
    "shop-checkout": shop_checkout,
    "shop-confirmation": shop_confirmation,
    "shop-phone": shop_phone,
    "admin-sales": admin_sales,
    "admin-orders": admin_orders,
    "admin-order": admin_order,
    "admin-marketing": admin_marketing,
    "admin-demand": admin_demand,
}
FULL_PAGE = {
    "shop-home",
    "shop-cart",
    "shop-checkout",
    "shop-phone",
    "admin-sales",
    "admin-order",
}
"""Pictures of the whole page, not only the window."""


def take(tab: Tab, name: str, base_url: str, out: Path) -> Path:
    SHOTS[name](tab.page, base_url)
    if tab.outside_requests:
        raise SystemExit(f"{name}: the page asked other hosts: {tab.outside_requests}")
    path = out / f"{name}.png"
    if tab.console_errors:
        raise SystemExit(f"{name}: the page logged errors: {tab.console_errors}")
    tab.page.mouse.move(0, 0)
    tab.page.screenshot(path=str(path), full_page=name in FULL_PAGE)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=sorted(SHOTS), action="append", help="one page (repeatable)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-screenshots-") as workdir:
        # As the browser tests' hub: a demand plan may pass 10 s on a busy machine (tests/conftest.py).
        with (
            sample_hub(Path(workdir), HUB_MAX_EXECUTION_MS="60000") as base_url,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            names = args.only or list(SHOTS)
            if any(name != "graphiql" for name in names):
                prepare_sample(base_url)
            try:
                for name in names:
                    tab = open_tab(browser)
                    try:
                        print(take(tab, name, base_url, args.out))
                    finally:
                        tab.close()
            finally:
                browser.close()


if __name__ == "__main__":
    main()
