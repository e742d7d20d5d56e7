"""How tests/test_permissions.py calls each operation of resolvers.access.OPERATIONS.

One `Case` per entry of OPERATIONS: a GraphQL document that reaches the
operation (for a nested field, by every path a caller might have to its parent
object), the variables for one caller, and the response key of the field under
test. Each caller runs the document once, in the order of CALLERS; mutations
get variables of their own per caller, so that every allowed call has
something to do. A domain that adds an OPERATIONS entry adds its case here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hub_graphql.types.common import global_id
from tests.marketing_factory import permission_campaign
from tests.orders_factory import PERMISSION_ORDER, permission_cart, permission_orders
from tests.plaza_factory import purchase_order_world
from tests.quote_data import quote_world
from tests.reports_factory import add_products
from tests.stores_factory import permission_store


@dataclass(frozen=True)
class Caller:
    """Who calls: `key` is unique (a role, `anonymous`, or a variant such as a suspended reseller's admin)."""

    key: str
    role: str | None
    reseller_code: str | None = None
    distributor_code: str | None = None
    reseller_approved: bool = True

    @property
    def own_reseller(self) -> str:
        return self.reseller_code or "R-APPROVED"

    @property
    def own_distributor(self) -> str:
        return self.distributor_code or "D-ONE"


Variables = Callable[[Caller], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    document: str
    field: str
    """The response key of the operation under test (a root field, or a field of a nested object)."""
    variables: Variables = lambda caller: {}
    setup: Callable[[Any, Any], Awaitable[None]] | None = None
    """Rows the case needs beyond partner_world (called with the hub and the world)."""


# Quote request 1 and quote 1 of tests/quote_data.py quote_world, by their global ids.
QUOTE_REQUEST = {"id": global_id("QuoteRequest", 1)}
QUOTE = {"id": global_id("DistributorQuote", 1)}


def _reseller_field(selection: str) -> str:
    # Staff and a reseller's users reach a reseller by code; a distributor's reps through their distributor.
    return f"""query($reseller: String!, $distributor: String!) {{
  reseller(code: $reseller) {{ code {selection} }}
  distributor(code: $distributor) {{ code resellers {{ code {selection} }} }}
}}"""


def _partner_vars(caller: Caller) -> dict[str, Any]:
    return {"reseller": caller.own_reseller, "distributor": caller.own_distributor}


def _slug(caller: Caller) -> str:
    return caller.key.lower().replace("_", "-").replace("@", "-")


def _own_cart(caller: Caller) -> dict[str, Any]:
    return {"cart": global_id("Cart", permission_cart(_slug(caller)))}


def _order(caller: Caller) -> dict[str, Any]:
    return {"n": PERMISSION_ORDER}


async def _forecast_product(hub: Any, world: Any) -> None:
    await add_products(hub, ["P-FORECAST"])


CASES: dict[str, Case] = {
    # ---------------------------------------------------------------- catalog
    "Mutation.upsertCategories": Case(
        'mutation($code: String!) { upsertCategories(input: [{code: $code, name: "C"}]) { userErrors { code } } }',
        "upsertCategories",
        lambda c: {"code": f"cat-{_slug(c)}"},
    ),
    "Mutation.upsertProducts": Case(
        'mutation($sku: String!) { upsertProducts(input: [{sku: $sku, name: "P"}]) { userErrors { code } } }',
        "upsertProducts",
        lambda c: {"sku": f"SKU-{_slug(c)}"},
    ),
    "Mutation.upsertProductGroups": Case(
        'mutation($code: String!) { upsertProductGroups(input: [{code: $code, name: "G"}]) { userErrors { code } } }',
        "upsertProductGroups",
        lambda c: {"code": f"grp-{_slug(c)}"},
    ),
    # ---------------------------------------------------------------- partners and access
    "Mutation.login": Case(
        # An e-mail per caller: failed sign-ins for one e-mail are slowed down (resolvers/limits.py).
        'mutation($email: String!) { login(email: $email, password: "wrong-password") { token userErrors { code } } }',
        "login",
        lambda c: {"email": f"{_slug(c)}@nobody.example"},
    ),
    "Mutation.registerReseller": Case(
        """mutation($code: String!, $email: String!) {
  registerReseller(input: {code: $code, name: "New", contactEmail: $email, password: "long-enough-pw"}) {
    reseller { code status } userErrors { code }
  }
}""",
        "registerReseller",
        lambda c: {"code": f"NEW-{_slug(c)}", "email": f"{_slug(c)}@new-reseller.example"},
    ),
    "Mutation.createUser": Case(
        """mutation($email: String!) {
  createUser(input: {email: $email, password: "long-enough-pw", roles: [CATALOG_MANAGER]}) {
    viewer { email } userErrors { code }
  }
}""",
        "createUser",
        lambda c: {"email": f"{_slug(c)}@new-user.example"},
    ),
    "Mutation.createDistributor": Case(
        """mutation($code: String!) {
  createDistributor(input: {code: $code, name: "New", quoteTransport: MANUAL}) {
    distributor { code } userErrors { code }
  }
}""",
        "createDistributor",
        lambda c: {"code": f"NEWD-{_slug(c)}"},
    ),
    "Mutation.approveReseller": Case(
        'mutation { approveReseller(code: "R-PENDING") { reseller { status } userErrors { code } } }',
        "approveReseller",
    ),
    "Mutation.rejectReseller": Case(
        'mutation { rejectReseller(code: "R-PENDING", reason: "no") { reseller { status } userErrors { code } } }',
        "rejectReseller",
    ),
    "Mutation.suspendReseller": Case(
        'mutation { suspendReseller(code: "R-OTHER", reason: "late") { reseller { status } userErrors { code } } }',
        "suspendReseller",
    ),
    "Mutation.connectReseller": Case(
        """mutation {
  connectReseller(resellerCode: "R-OTHER", distributorCode: "D-ONE") { reseller { code } userErrors { code } }
}""",
        "connectReseller",
    ),
    "Mutation.updateHubPolicies": Case(
        "mutation { updateHubPolicies(input: {quoteValidityHours: 48}) { hubPolicies { currencies } userErrors { code } } }",
        "updateHubPolicies",
    ),
    "Query.hubPolicies": Case("{ hubPolicies { currencies defaultCurrency } }", "hubPolicies"),
    "HubPolicies.resellerApproval": Case("{ hubPolicies { resellerApproval } }", "resellerApproval"),
    "HubPolicies.quoteValidityHours": Case("{ hubPolicies { quoteValidityHours } }", "quoteValidityHours"),
    "HubPolicies.liveQuoteTimeoutMs": Case("{ hubPolicies { liveQuoteTimeoutMs } }", "liveQuoteTimeoutMs"),
    "HubPolicies.paymentMethods": Case("{ hubPolicies { paymentMethods } }", "paymentMethods"),
    "Query.distributors": Case("{ distributors { code } }", "distributors"),
    "Query.distributor": Case(
        "query($d: String!) { distributor(code: $d) { code } }",
        "distributor",
        lambda c: {"d": c.own_distributor},
    ),
    "Query.resellers": Case("{ resellers { totalCount edges { node { code } } } }", "resellers"),
    "Query.reseller": Case(
        "query($r: String!) { reseller(code: $r) { code } }", "reseller", lambda c: {"r": c.own_reseller}
    ),
    "Reseller.statusHistory": Case(
        _reseller_field("statusHistory { toStatus }"), "statusHistory", _partner_vars
    ),
    "Reseller.distributors": Case(_reseller_field("distributors { code }"), "distributors", _partner_vars),
    "Distributor.resellers": Case(
        "query($d: String!) { distributor(code: $d) { resellers { code } } }",
        "resellers",
        lambda c: {"d": c.own_distributor},
    ),
    # ---------------------------------------------------------------- stores (tests/stores_factory.py)
    "Mutation.createStore": Case(
        """mutation($reseller: String!, $slug: String!) {
  createStore(input: {resellerCode: $reseller, slug: $slug, name: "New"}) { store { slug } userErrors { code } }
}""",
        "createStore",
        lambda c: {"reseller": c.own_reseller, "slug": f"new-{_slug(c)}"},
        permission_store,
    ),
    "Mutation.updateStore": Case(
        """mutation($name: String!) {
  updateStore(slug: "perm-shop", input: {name: $name}) { store { name } userErrors { code } }
}""",
        "updateStore",
        lambda c: {"name": f"Renamed by {c.key}"},
        permission_store,
    ),
    "Mutation.setStoreAssortment": Case(
        """mutation {
  setStoreAssortment(slug: "perm-shop", input: {excludeSkus: ["P-STORE"]}) { store { slug } userErrors { code } }
}""",
        "setStoreAssortment",
        setup=permission_store,
    ),
    "Mutation.setStorePriceRules": Case(
        """mutation {
  setStorePriceRules(slug: "perm-shop", rules: [{scope: ALL, markupPercent: "10"}]) {
    store { slug } userErrors { code }
  }
}""",
        "setStorePriceRules",
        setup=permission_store,
    ),
    "Mutation.setStoreProductContent": Case(
        """mutation($name: String!) {
  setStoreProductContent(slug: "perm-shop", sku: "P-STORE", input: {name: $name}) { store { slug } userErrors { code } }
}""",
        "setStoreProductContent",
        lambda c: {"name": f"Named by {c.key}"},
        permission_store,
    ),
    "Store.priceRules": Case(
        '{ store(slug: "perm-shop") { slug priceRules { scope } } }', "priceRules", setup=permission_store
    ),
    # ---------------------------------------------------------------- quotes (tests/quote_data.py quote_world)
    "Product.liveQuotes": Case(
        '{ product(sku: "P-ONE") { liveQuotes(quantity: 1) { sku } } }', "liveQuotes", setup=quote_world
    ),
    "Query.quoteRequest": Case(
        "query($id: ID!) { quoteRequest(id: $id) { id } }",
        "quoteRequest",
        lambda c: QUOTE_REQUEST,
        quote_world,
    ),
    "Query.quoteRequests": Case("{ quoteRequests { totalCount } }", "quoteRequests", setup=quote_world),
    "Mutation.requestQuote": Case(
        """mutation {
  requestQuote(input: {items: [{sku: "P-ONE", quantity: 1}]}) { quoteRequest { id } userErrors { code } }
}""",
        "requestQuote",
        setup=quote_world,
    ),
    "Mutation.refreshQuotes": Case(
        "mutation($id: ID!) { refreshQuotes(quoteRequestId: $id) { quoteRequest { id } userErrors { code } } }",
        "refreshQuotes",
        lambda c: QUOTE_REQUEST,
        quote_world,
    ),
    "Mutation.acceptQuote": Case(
        "mutation($id: ID!) { acceptQuote(id: $id) { quote { id } userErrors { code } } }",
        "acceptQuote",
        lambda c: QUOTE,
        quote_world,
    ),
    "Mutation.cancelQuoteRequest": Case(
        "mutation($id: ID!) { cancelQuoteRequest(id: $id) { quoteRequest { id } userErrors { code } } }",
        "cancelQuoteRequest",
        lambda c: QUOTE_REQUEST,
        quote_world,
    ),
    "Mutation.respondToQuoteRequest": Case(
        """mutation($id: ID!) {
  respondToQuoteRequest(input: {quoteRequestId: $id, lines: [{sku: "P-ONE", quantity: 1, available: false}]}) {
    quote { id } userErrors { code }
  }
}""",
        "respondToQuoteRequest",
        lambda c: QUOTE_REQUEST,
        quote_world,
    ),
    # ---------------------------------------------------------------- Commerce Plaza purchase orders
    "Query.purchaseOrders": Case(
        "{ purchaseOrders { totalCount edges { node { number } } } }",
        "purchaseOrders",
        setup=purchase_order_world,
    ),
    "Query.purchaseOrder": Case(
        '{ purchaseOrder(number: "PO-PERM-0001") { number status } }',
        "purchaseOrder",
        setup=purchase_order_world,
    ),
    "Mutation.submitPlazaCart": Case(
        "mutation { submitPlazaCart { purchaseOrders { number } userErrors { code } } }", "submitPlazaCart"
    ),
    "Mutation.confirmPurchaseOrder": Case(
        """mutation {
  confirmPurchaseOrder(number: "PO-PERM-0001", distributorReference: "REF-1") {
    purchaseOrder { number status } userErrors { code }
  }
}""",
        "confirmPurchaseOrder",
        setup=purchase_order_world,
    ),
    "Mutation.rejectPurchaseOrder": Case(
        """mutation {
  rejectPurchaseOrder(number: "PO-PERM-0001", reason: "out of stock") {
    purchaseOrder { number status } userErrors { code }
  }
}""",
        "rejectPurchaseOrder",
        setup=purchase_order_world,
    ),
    # ---------------------------------------------------------------- carts and orders (tests/orders_factory.py)
    "Query.cart": Case(
        "query($cart: ID!) { cart(id: $cart) { id lines { sku } } }", "cart", _own_cart, permission_orders
    ),
    "Mutation.createCart": Case(
        'mutation { createCart(storeSlug: "perm-shop") { cart { id } userErrors { code } } }',
        "createCart",
        setup=permission_orders,
    ),
    "Mutation.addCartLines": Case(
        """mutation($cart: ID!) {
  addCartLines(cartId: $cart, lines: [{sku: "P-STORE", quantity: 2}]) { cart { itemCount } userErrors { code } }
}""",
        "addCartLines",
        _own_cart,
        permission_orders,
    ),
    "Mutation.updateCartLine": Case(
        """mutation($cart: ID!) {
  updateCartLine(cartId: $cart, lineId: "Q2FydExpbmU6MQ", quantity: 3) { cart { itemCount } userErrors { code } }
}""",
        "updateCartLine",
        _own_cart,
        permission_orders,
    ),
    "Mutation.applyCoupon": Case(
        """mutation($cart: ID!) {
  applyCoupon(cartId: $cart, code: "NO-SUCH-COUPON") { cart { couponCode } userErrors { code } }
}""",
        "applyCoupon",
        _own_cart,
        permission_orders,
    ),
    "Mutation.removeCoupon": Case(
        """mutation($cart: ID!) {
  removeCoupon(cartId: $cart) { cart { couponCode } userErrors { code } }
}""",
        "removeCoupon",
        _own_cart,
        permission_orders,
    ),
    "Mutation.checkout": Case(
        """mutation($cart: ID!) {
  checkout(cartId: $cart, input: {email: "buyer@x.example", paymentMethod: "INVOICE",
    shippingAddress: {name: "B", line1: "1 Road", city: "Town", postalCode: "1000", country: "DE"}}) {
    order { number } userErrors { code }
  }
}""",
        "checkout",
        _own_cart,
        permission_orders,
    ),
    "Query.order": Case(
        "query($n: String!) { order(number: $n) { number notes { text } } }",
        "order",
        _order,
        permission_orders,
    ),
    "Query.orders": Case("{ orders { totalCount } }", "orders", setup=permission_orders),
    "Mutation.fulfillOrder": Case(
        "mutation($n: String!) { fulfillOrder(number: $n) { order { status } userErrors { code } } }",
        "fulfillOrder",
        _order,
        permission_orders,
    ),
    "Mutation.cancelOrder": Case(
        'mutation($n: String!) { cancelOrder(number: $n, reason: "asked") { order { status } userErrors { code } } }',
        "cancelOrder",
        _order,
        permission_orders,
    ),
    "Mutation.addOrderNote": Case(
        """mutation($n: String!, $text: String!) {
  addOrderNote(number: $n, text: $text) { order { number } userErrors { code } }
}""",
        "addOrderNote",
        lambda c: {**_order(c), "text": f"Note by {c.key}"},
        permission_orders,
    ),
    "Mutation.resendOrderConfirmation": Case(
        "mutation($n: String!) { resendOrderConfirmation(number: $n) { order { number } userErrors { code } } }",
        "resendOrderConfirmation",
        _order,
        permission_orders,
    ),
    "Query.plazaCart": Case("{ plazaCart { id kind } }", "plazaCart", setup=permission_orders),
    "Mutation.addQuoteToPlazaCart": Case(
        "mutation($id: ID!) { addQuoteToPlazaCart(quoteId: $id) { cart { id } userErrors { code } } }",
        "addQuoteToPlazaCart",
        lambda c: QUOTE,
        permission_orders,
    ),
    "Mutation.removePlazaCartLine": Case(
        """mutation {
  removePlazaCartLine(lineId: "Q2FydExpbmU6MQ") { cart { id } userErrors { code } }
}""",
        "removePlazaCartLine",
        setup=permission_orders,
    ),
    # ---------------------------------------------------------------- business results (reports)
    "Query.salesReport": Case(
        """query {
  salesReport(input: {from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z"}) { currency totals { orders } }
}""",
        "salesReport",
    ),
    "Query.demandForecast": Case(
        'query { demandForecast(sku: "P-FORECAST", days: 7) { sku method } }',
        "demandForecast",
        setup=_forecast_product,
    ),
    "Query.demandPlan": Case(
        "query($r: String!) { demandPlan(resellerCode: $r) { weeks lines { sku } } }",
        "demandPlan",
        lambda c: {"r": c.own_reseller},
    ),
    "Mutation.requestQuoteFromDemandPlan": Case(
        "mutation { requestQuoteFromDemandPlan { quoteRequest { id } userErrors { code } } }",
        "requestQuoteFromDemandPlan",
    ),
    # ---------------------------------------------------------------- marketing (tests/marketing_factory.py)
    "Mutation.recordActivity": Case(
        """mutation($visitor: String!) {
  recordActivity(events: [{visitorId: $visitor, storeSlug: "perm-shop", type: PAGE_VIEW}]) { accepted userErrors { code } }
}""",
        "recordActivity",
        lambda c: {"visitor": f"visitor-{_slug(c)}"},
        permission_store,
    ),
    "Query.resellerActivity": Case(
        """query($reseller: String!) {
  resellerActivity(resellerCode: $reseller, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { visitors }
}""",
        "resellerActivity",
        lambda c: {"reseller": c.own_reseller},
    ),
    "Query.spot": Case(
        '{ spot(storeSlug: "perm-shop", spot: "home-hero") { code } }', "spot", setup=permission_store
    ),
    "Mutation.upsertCreative": Case(
        """mutation($code: String!) {
  upsertCreative(input: {code: $code, spot: "home-hero", storeSlug: "perm-shop", title: "Sale"}) {
    creative { code } userErrors { code }
  }
}""",
        "upsertCreative",
        lambda c: {"code": f"creative-{_slug(c)}"},
        permission_store,
    ),
    "Mutation.upsertPromotion": Case(
        """mutation($code: String!) {
  upsertPromotion(input: {code: $code, name: "Ten off", storeSlug: "perm-shop", scope: ALL, percentOff: "10"}) {
    promotion { code } userErrors { code }
  }
}""",
        "upsertPromotion",
        lambda c: {"code": f"promo-{_slug(c)}"},
        permission_store,
    ),
    "Query.promotions": Case(
        '{ promotions(storeSlug: "perm-shop") { code } }', "promotions", setup=permission_store
    ),
    "Mutation.createCampaign": Case(
        """mutation($code: String!) {
  createCampaign(input: {code: $code, name: "C", storeSlug: "perm-shop", subject: "S", body: "See {{link}}"}) {
    campaign { code } userErrors { code }
  }
}""",
        "createCampaign",
        lambda c: {"code": f"campaign-{_slug(c)}"},
        permission_store,
    ),
    "Mutation.sendCampaign": Case(
        'mutation { sendCampaign(code: "PERM") { campaign { status } userErrors { code } } }',
        "sendCampaign",
        setup=permission_campaign,
    ),
    "Query.campaigns": Case(
        "{ campaigns { code results { recipients } } }", "campaigns", setup=permission_campaign
    ),
    "Query.campaign": Case(
        '{ campaign(code: "PERM") { code status results { recipients } } }',
        "campaign",
        setup=permission_campaign,
    ),
}
