"""Who may do what: the one place where the hub's authorisation is decided.

`OPERATIONS` maps every guarded operation (a root field or a non-public
object field, by its schema coordinate) to who may run it. The GraphQL layer
applies it through one permission class (hub_graphql/permissions.py),
docs/permissions.md is generated from it (`hub permissions-table`), and the
table-driven tests read it too. Object-level rules (a reseller sees only its
own data) are the `can_*` functions below, which resolvers call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from datasources.partners.models import STAFF_ROLES
from resolvers.errors import forbidden, unauthenticated


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the hub sees them on this request."""

    user_id: int
    email: str
    roles: frozenset[str]
    reseller_id: int | None = None
    reseller_status: str | None = None
    distributor_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)

    @property
    def reseller_approved(self) -> bool:
        return self.reseller_id is not None and self.reseller_status == "APPROVED"


class Audience(Enum):
    PUBLIC = "anyone"
    SIGNED_IN = "anyone signed in"


@dataclass(frozen=True)
class Rule:
    """Who may run an operation: a set of roles, or an audience."""

    roles: frozenset[str] = frozenset()
    audience: Audience | None = None
    approved_reseller: bool = False
    """RESELLER_ADMIN users additionally need their reseller APPROVED."""
    note: str = ""

    def describe(self) -> str:
        if self.audience is not None:
            return self.audience.value
        return ", ".join(sorted(self.roles))


def roles(*names: str, approved_reseller: bool = False, note: str = "") -> Rule:
    return Rule(roles=frozenset(names), approved_reseller=approved_reseller, note=note)


PUBLIC = Rule(audience=Audience.PUBLIC)
SIGNED_IN = Rule(audience=Audience.SIGNED_IN)
STAFF = frozenset(STAFF_ROLES)
STAFF_NAMES = tuple(sorted(STAFF_ROLES))
CATALOG_WRITERS = ("SITE_ADMIN", "CATALOG_MANAGER")
CHANNEL_MANAGERS = ("SITE_ADMIN", "CHANNEL_MANAGER")
STORE_MANAGERS = ("SITE_ADMIN", "CHANNEL_MANAGER", "RESELLER_ADMIN")
OWN_STORES = "a RESELLER_ADMIN only for the stores of its own reseller"
MARKETING_MANAGERS = ("SITE_ADMIN", "MARKETING_MANAGER", "RESELLER_ADMIN")
OWN_MARKETING = "marketing staff hub-wide and for any store; a RESELLER_ADMIN for its own stores only"
OWN_QUOTES = "a RESELLER_ADMIN its reseller's requests, a DISTRIBUTOR_REP those sent to its distributor"
OWN_PURCHASE_ORDERS = (
    "a RESELLER_ADMIN its reseller's orders, a DISTRIBUTOR_REP those sent to its distributor"
)
ANSWERS_PURCHASE_ORDERS = (
    "a DISTRIBUTOR_REP for orders sent to its distributor; a SITE_ADMIN for any (a distributor that answered "
    "by phone), recorded as who answered; only while SUBMITTED"
)
ORDER_STAFF = ("CHANNEL_MANAGER", "CUSTOMER_SERVICE", "SITE_ADMIN")
ORDER_SERVICE = ("CUSTOMER_SERVICE", "SITE_ADMIN")
OWN_ORDERS = "a RESELLER_ADMIN only the orders of its own reseller's stores"
CART_HOLDERS = "whoever holds a store cart's id"
CART_READERS = "a store cart for whoever holds its id; a plaza cart for its reseller's users and staff"
OWN_PLAZA_CART = "its own reseller's plaza cart"
REPORT_STAFF = frozenset({"SITE_ADMIN", "CHANNEL_MANAGER", "MARKETING_MANAGER"})
"""Staff who see the business results of every reseller and store."""
REPORT_STAFF_NAMES = tuple(sorted(REPORT_STAFF))
OWN_REPORTS = "a RESELLER_ADMIN only its own reseller and stores (naming none means its own)"

OPERATIONS: dict[str, Rule] = {
    "Mutation.upsertCategories": roles(*CATALOG_WRITERS),
    "Mutation.upsertProducts": roles(*CATALOG_WRITERS),
    "Mutation.upsertProductGroups": roles(*CATALOG_WRITERS),
    # Partners and access.
    "Mutation.login": PUBLIC,
    "Mutation.registerReseller": Rule(
        audience=Audience.PUBLIC, note="the reseller starts PENDING unless the hub approves automatically"
    ),
    "Mutation.createUser": roles("SITE_ADMIN"),
    "Mutation.createDistributor": roles(*CHANNEL_MANAGERS),
    "Mutation.approveReseller": roles(*CHANNEL_MANAGERS),
    "Mutation.rejectReseller": roles(*CHANNEL_MANAGERS),
    "Mutation.suspendReseller": roles(*CHANNEL_MANAGERS),
    "Mutation.connectReseller": roles(*CHANNEL_MANAGERS),
    "Mutation.updateHubPolicies": roles("SITE_ADMIN"),
    "Query.hubPolicies": Rule(
        audience=Audience.PUBLIC,
        note="currencies, defaultCurrency and paymentMethods only; its other fields need a sign-in",
    ),
    "HubPolicies.resellerApproval": SIGNED_IN,
    "HubPolicies.quoteValidityHours": SIGNED_IN,
    "HubPolicies.liveQuoteTimeoutMs": SIGNED_IN,
    # Public: a storefront's customer is anonymous and picks one of them at checkout.
    "HubPolicies.paymentMethods": Rule(audience=Audience.PUBLIC, note="storefronts offer them at checkout"),
    "Query.distributors": Rule(
        audience=Audience.SIGNED_IN, note="staff see every status; others the APPROVED ones and their own"
    ),
    "Query.distributor": Rule(
        audience=Audience.SIGNED_IN, note="staff see every status; others the APPROVED ones and their own"
    ),
    "Query.resellers": roles(*STAFF_NAMES),
    "Query.reseller": Rule(
        audience=Audience.SIGNED_IN,
        note="staff see any reseller, a reseller's users their own; null otherwise",
    ),
    "Reseller.statusHistory": roles(*STAFF_NAMES),
    "Reseller.distributors": roles(*STAFF_NAMES, "RESELLER_ADMIN", note="a reseller's users see their own"),
    "Distributor.resellers": roles(
        *STAFF_NAMES, "DISTRIBUTOR_REP", note="a distributor's reps see its own resellers; empty for others"
    ),
    # Stores: a RESELLER_ADMIN only for its own reseller's stores (can_manage_store).
    "Mutation.createStore": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    "Mutation.updateStore": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    "Mutation.setStoreAssortment": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    "Mutation.setStorePriceRules": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    "Mutation.setStoreProductContent": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    "Store.priceRules": roles(*STORE_MANAGERS, approved_reseller=True, note=OWN_STORES),
    # Quotes: a reseller sees its own requests, a distributor's reps those sent to it, staff all.
    "Product.liveQuotes": roles(
        *STAFF_NAMES,
        "RESELLER_ADMIN",
        approved_reseller=True,
        note="asks the reseller's connected APPROVED distributors; staff may ask any APPROVED distributor",
    ),
    "Query.quoteRequest": roles(*STAFF_NAMES, "RESELLER_ADMIN", "DISTRIBUTOR_REP", note=OWN_QUOTES),
    "Query.quoteRequests": roles(*STAFF_NAMES, "RESELLER_ADMIN", "DISTRIBUTOR_REP", note=OWN_QUOTES),
    "Mutation.requestQuote": roles("RESELLER_ADMIN", approved_reseller=True),
    "Mutation.refreshQuotes": roles(
        *CHANNEL_MANAGERS, "RESELLER_ADMIN", approved_reseller=True, note="a RESELLER_ADMIN its own requests"
    ),
    "Mutation.acceptQuote": roles(
        "RESELLER_ADMIN", approved_reseller=True, note="its own reseller's requests"
    ),
    "Mutation.cancelQuoteRequest": roles(
        "RESELLER_ADMIN", approved_reseller=True, note="its own reseller's requests"
    ),
    "Mutation.respondToQuoteRequest": roles(
        "DISTRIBUTOR_REP", note="for its own distributor, on requests sent to it"
    ),
    # Commerce Plaza purchase orders (resolvers/plaza.py): a reseller sees its own, a distributor's reps
    # those sent to it, staff all; a distributor's reps answer them in its proxy store.
    "Query.purchaseOrders": roles(
        *STAFF_NAMES, "RESELLER_ADMIN", "DISTRIBUTOR_REP", note=OWN_PURCHASE_ORDERS
    ),
    "Query.purchaseOrder": roles(*STAFF_NAMES, "RESELLER_ADMIN", "DISTRIBUTOR_REP", note=OWN_PURCHASE_ORDERS),
    "Mutation.submitPlazaCart": roles("RESELLER_ADMIN", approved_reseller=True, note="its own plaza cart"),
    "Mutation.confirmPurchaseOrder": roles("SITE_ADMIN", "DISTRIBUTOR_REP", note=ANSWERS_PURCHASE_ORDERS),
    "Mutation.rejectPurchaseOrder": roles("SITE_ADMIN", "DISTRIBUTOR_REP", note=ANSWERS_PURCHASE_ORDERS),
    # Carts, checkout and orders: a store cart is reached by its unguessable id alone; orders are seen
    # and served by the hub's order staff and by the store's own reseller (can_see_order, can_*_order).
    "Query.cart": Rule(audience=Audience.PUBLIC, note=CART_READERS),
    "Mutation.createCart": Rule(audience=Audience.PUBLIC, note="for an OPEN store"),
    "Mutation.addCartLines": Rule(audience=Audience.PUBLIC, note=CART_HOLDERS),
    "Mutation.updateCartLine": Rule(audience=Audience.PUBLIC, note=CART_HOLDERS),
    # Coupons (commerce meets marketing): like the other store cart mutations.
    "Mutation.applyCoupon": Rule(audience=Audience.PUBLIC, note=CART_HOLDERS),
    "Mutation.removeCoupon": Rule(audience=Audience.PUBLIC, note=CART_HOLDERS),
    "Mutation.checkout": Rule(
        audience=Audience.PUBLIC, note=CART_HOLDERS + "; a signed-in staff user is recorded as placedBy"
    ),
    "Query.order": roles(*ORDER_STAFF, "RESELLER_ADMIN", note=OWN_ORDERS),
    "Query.orders": roles(*ORDER_STAFF, "RESELLER_ADMIN", note=OWN_ORDERS),
    "Mutation.fulfillOrder": roles(*ORDER_STAFF, "RESELLER_ADMIN", approved_reseller=True, note=OWN_ORDERS),
    "Mutation.cancelOrder": roles(*ORDER_SERVICE, "RESELLER_ADMIN", approved_reseller=True, note=OWN_ORDERS),
    "Mutation.addOrderNote": roles(*ORDER_SERVICE, "RESELLER_ADMIN", approved_reseller=True, note=OWN_ORDERS),
    "Mutation.resendOrderConfirmation": roles(
        *ORDER_SERVICE, "RESELLER_ADMIN", approved_reseller=True, note=OWN_ORDERS
    ),
    "Query.plazaCart": roles("RESELLER_ADMIN", approved_reseller=True, note=OWN_PLAZA_CART),
    "Mutation.addQuoteToPlazaCart": roles(
        "RESELLER_ADMIN", approved_reseller=True, note="an ACCEPTED quote of its own reseller"
    ),
    "Mutation.removePlazaCartLine": roles("RESELLER_ADMIN", approved_reseller=True, note=OWN_PLAZA_CART),
    # ---------------------------------------------------------------- business results (reports)
    # Report staff over any reseller or store; a RESELLER_ADMIN over its own (can_report_on_reseller).
    "Query.salesReport": roles(*REPORT_STAFF_NAMES, "RESELLER_ADMIN", note=OWN_REPORTS),
    "Query.demandForecast": roles(*REPORT_STAFF_NAMES, "RESELLER_ADMIN", note=OWN_REPORTS),
    "Query.demandPlan": roles(*REPORT_STAFF_NAMES, "RESELLER_ADMIN", note=OWN_REPORTS),
    "Mutation.requestQuoteFromDemandPlan": roles(
        "RESELLER_ADMIN", approved_reseller=True, note="its own reseller's plan, as requestQuote"
    ),
    # ---------------------------------------------------------------- marketing (resolvers/marketing/)
    # Marketing staff (SITE_ADMIN, MARKETING_MANAGER) hub-wide and in every store; a RESELLER_ADMIN in its
    # own stores (resolvers.marketing.common.manages_reseller_marketing).
    "Mutation.recordActivity": Rule(audience=Audience.PUBLIC, note="storefronts; events of OPEN stores only"),
    "Query.resellerActivity": roles(
        "SITE_ADMIN",
        "CHANNEL_MANAGER",
        "MARKETING_MANAGER",
        "RESELLER_ADMIN",
        approved_reseller=True,
        note="a RESELLER_ADMIN its own reseller only",
    ),
    "Query.spot": Rule(audience=Audience.PUBLIC, note="live creatives of OPEN stores only"),
    "Mutation.upsertCreative": roles(*MARKETING_MANAGERS, approved_reseller=True, note=OWN_MARKETING),
    "Mutation.upsertPromotion": roles(*MARKETING_MANAGERS, approved_reseller=True, note=OWN_MARKETING),
    "Query.promotions": roles(
        *MARKETING_MANAGERS,
        approved_reseller=True,
        note="a RESELLER_ADMIN its stores' promotions and the hub-wide ones (read-only)",
    ),
    "Mutation.createCampaign": roles(*MARKETING_MANAGERS, approved_reseller=True, note=OWN_MARKETING),
    "Mutation.sendCampaign": roles(*MARKETING_MANAGERS, approved_reseller=True, note=OWN_MARKETING),
    "Query.campaigns": roles(
        *MARKETING_MANAGERS, approved_reseller=True, note="a RESELLER_ADMIN its stores' ones"
    ),
    "Query.campaign": roles(
        *MARKETING_MANAGERS,
        approved_reseller=True,
        note="a RESELLER_ADMIN its stores' ones (null for others)",
    ),
}

VISIBILITY: dict[str, str] = {
    "Distributor.quoteEndpoint": "site administrators and the distributor's own reps; null for everyone else",
    "Reseller (root field, node, federation entity)": (
        "staff and the reseller's own users; null for everyone else (anonymous callers included)"
    ),
    "Distributor (root fields, node, federation entity)": (
        "signed-in users: staff any, others APPROVED distributors and their own; null otherwise"
    ),
    "QuoteRequest (root fields, node)": (
        "staff, the reseller's own users, and the reps of a distributor it was sent to; null otherwise"
    ),
    "DistributorQuote (QuoteRequest.quotes, comparison, node)": (
        "staff and the asking reseller see every quote; a distributor's reps only their own"
    ),
    "PurchaseOrder (root fields, node)": (
        "staff, the reseller's own users, and the reps of the distributor it was sent to; null otherwise"
    ),
    "Business results (salesReport, demandForecast, demandPlan: resellerCode, storeSlug)": (
        "SITE_ADMIN, CHANNEL_MANAGER and MARKETING_MANAGER any reseller or store (or all); a RESELLER_ADMIN "
        "its own, naming none means its own, naming another's is FORBIDDEN"
    ),
    "Distributor credential": "write-only (`createDistributor` `input.quoteCredential`): never returned or logged",
    "Order (root fields, node, checkout's payload)": (
        "SITE_ADMIN, CHANNEL_MANAGER, CUSTOMER_SERVICE and the store's own RESELLER_ADMIN; null for "
        "everyone else (the customer sees the order once, in checkout's payload, without notes)"
    ),
    "Cart (root field, node)": "a STORE cart: whoever holds its id; a PLAZA cart: its reseller's users and staff",
    # Marketing (resolvers/marketing/).
    "Promotion (node)": "marketing staff any; a RESELLER_ADMIN the hub-wide ones and its stores'; null otherwise",
    "Creative (node)": "its managers always; anyone while it is live, hub-wide or in an OPEN store",
    "Campaign (campaign, campaigns, node)": "marketing staff any; a RESELLER_ADMIN its stores' ones; null otherwise",
    "Campaign tracking links (`/r/`, `/o/`, `/u/`)": "anyone holding the signed token; a bad token is a 404",
}
"""Object-level rules that resolvers apply with the `can_*` functions (listed in docs/permissions.md)."""


def check(rule: Rule, viewer: Viewer | None, *, token_given: bool = False) -> Viewer | None:
    """Raise UNAUTHENTICATED or FORBIDDEN unless the viewer satisfies the rule."""
    if rule.audience is Audience.PUBLIC:
        return viewer
    if viewer is None:
        raise unauthenticated(
            "The bearer token is invalid or expired: sign in again."
            if token_given
            else "Sign in first: this needs a valid bearer token."
        )
    if rule.audience is Audience.SIGNED_IN:
        return viewer
    if not viewer.has_any(rule.roles):
        raise forbidden()
    if rule.approved_reseller and "RESELLER_ADMIN" in viewer.roles and not viewer.is_staff:
        if not viewer.reseller_approved:
            raise forbidden("Your reseller is not approved: this needs an approved reseller.")
    return viewer


def rule_for(operation: str) -> Rule:
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise LookupError(f"{operation} has a guard but no entry in resolvers.access.OPERATIONS") from None


def can_see_reseller(viewer: Viewer | None, reseller_id: int) -> bool:
    return viewer is not None and (viewer.is_staff or viewer.reseller_id == reseller_id)


def can_see_distributor_links(viewer: Viewer | None, distributor_id: int) -> bool:
    """Which resellers a distributor serves: staff, and the distributor's own reps."""
    return viewer is not None and (viewer.is_staff or viewer.distributor_id == distributor_id)


def can_see_distributor_secrets(viewer: Viewer | None, distributor_id: int) -> bool:
    """The quote endpoint: site administrators and the distributor's own reps."""
    return viewer is not None and ("SITE_ADMIN" in viewer.roles or viewer.distributor_id == distributor_id)


def can_see_quote_request(viewer: Viewer | None, reseller_id: int, distributor_ids: list[int]) -> bool:
    """A quote request: staff, the reseller's own users, and the reps of a distributor it was sent to."""
    if viewer is None:
        return False
    if viewer.is_staff or viewer.reseller_id == reseller_id:
        return True
    return viewer.distributor_id is not None and viewer.distributor_id in distributor_ids


def can_see_quote(viewer: Viewer | None, reseller_id: int, distributor_id: int) -> bool:
    """A distributor's quote: staff, the asking reseller, and that distributor's reps (never a competitor)."""
    if viewer is None:
        return False
    return viewer.is_staff or viewer.reseller_id == reseller_id or viewer.distributor_id == distributor_id


def can_act_for_reseller(viewer: Viewer | None, reseller_id: int) -> bool:
    """Accept or cancel a quote request: the reseller's own RESELLER_ADMIN."""
    return viewer is not None and "RESELLER_ADMIN" in viewer.roles and viewer.reseller_id == reseller_id


def can_refresh_quotes(viewer: Viewer | None, reseller_id: int) -> bool:
    """Ask again: the reseller's own RESELLER_ADMIN, or a channel manager or site administrator."""
    if viewer is None:
        return False
    return viewer.has_any(frozenset({"SITE_ADMIN", "CHANNEL_MANAGER"})) or can_act_for_reseller(
        viewer, reseller_id
    )


def can_see_purchase_order(viewer: Viewer | None, reseller_id: int, distributor_id: int) -> bool:
    """A purchase order: staff, the ordering reseller's users, and the reps of the distributor it went to."""
    if viewer is None:
        return False
    return viewer.is_staff or viewer.reseller_id == reseller_id or viewer.distributor_id == distributor_id


def can_answer_purchase_order(viewer: Viewer | None, distributor_id: int) -> bool:
    """Confirm or reject in the proxy store: the distributor's own reps, or a site administrator for it."""
    if viewer is None:
        return False
    if "SITE_ADMIN" in viewer.roles:
        return True
    return "DISTRIBUTOR_REP" in viewer.roles and viewer.distributor_id == distributor_id


def can_see_store(
    viewer: Viewer | None, reseller_id: int, store_status: str, reseller_status: str | None
) -> bool:
    """An OPEN store of an APPROVED reseller is public; any other only for the hub's staff and its reseller."""
    if store_status == "OPEN" and reseller_status == "APPROVED":
        return True
    return viewer is not None and (viewer.is_staff or viewer.reseller_id == reseller_id)


def can_manage_store(viewer: Viewer | None, reseller_id: int) -> bool:
    """Change a store (or create one) of this reseller: SITE_ADMIN, CHANNEL_MANAGER, or its own approved RESELLER_ADMIN."""
    if viewer is None:
        return False
    if viewer.has_any(frozenset({"SITE_ADMIN", "CHANNEL_MANAGER"})):
        return True
    return "RESELLER_ADMIN" in viewer.roles and viewer.reseller_id == reseller_id and viewer.reseller_approved


def can_see_order(viewer: Viewer | None, reseller_id: int) -> bool:
    """An order: the hub's order staff (SITE_ADMIN, CHANNEL_MANAGER, CUSTOMER_SERVICE) and the store's
    own RESELLER_ADMIN."""
    if viewer is None:
        return False
    return viewer.has_any(frozenset(ORDER_STAFF)) or (
        "RESELLER_ADMIN" in viewer.roles and viewer.reseller_id == reseller_id
    )


def _own_approved_reseller(viewer: Viewer, reseller_id: int) -> bool:
    return "RESELLER_ADMIN" in viewer.roles and viewer.reseller_id == reseller_id and viewer.reseller_approved


def can_fulfil_order(viewer: Viewer | None, reseller_id: int) -> bool:
    """Fulfil an order: the hub's order staff, or the store's own approved RESELLER_ADMIN."""
    if viewer is None:
        return False
    return viewer.has_any(frozenset(ORDER_STAFF)) or _own_approved_reseller(viewer, reseller_id)


def can_serve_order(viewer: Viewer | None, reseller_id: int) -> bool:
    """Cancel an order, note on it, resend its confirmation: CUSTOMER_SERVICE, SITE_ADMIN, or the
    store's own approved RESELLER_ADMIN."""
    if viewer is None:
        return False
    return viewer.has_any(frozenset(ORDER_SERVICE)) or _own_approved_reseller(viewer, reseller_id)


def can_see_plaza_cart(viewer: Viewer | None, reseller_id: int | None) -> bool:
    """A plaza cart: its reseller's users and the hub's staff."""
    return viewer is not None and (
        viewer.is_staff or (reseller_id is not None and viewer.reseller_id == reseller_id)
    )


def can_report_on_reseller(viewer: Viewer | None, reseller_id: int | None) -> bool:
    """Sales reports, forecasts and plans of a reseller (None: of every reseller): report staff any,
    a RESELLER_ADMIN only its own."""
    if viewer is None:
        return False
    if viewer.has_any(REPORT_STAFF):
        return True
    return "RESELLER_ADMIN" in viewer.roles and reseller_id is not None and viewer.reseller_id == reseller_id


# ---------------------------------------------------------------- docs/permissions.md

ANONYMOUS = "anonymous"
TABLE_ROLES = (
    "SITE_ADMIN",
    "CATALOG_MANAGER",
    "CHANNEL_MANAGER",
    "MARKETING_MANAGER",
    "CUSTOMER_SERVICE",
    "RESELLER_ADMIN",
    "DISTRIBUTOR_REP",
    "CUSTOMER",
)


def allows(rule: Rule, role: str | None, *, reseller_approved: bool = True) -> bool:
    """Whether a caller with one role (None: anonymous) passes the rule's table check."""
    if rule.audience is Audience.PUBLIC:
        return True
    if role is None:
        return False
    if rule.audience is Audience.SIGNED_IN:
        return True
    if role not in rule.roles:
        return False
    return not (rule.approved_reseller and role == "RESELLER_ADMIN" and not reseller_approved)


def permissions_markdown() -> str:
    """docs/permissions.md: the access table, operation by role (`hub permissions-table`)."""
    header = ["operation", ANONYMOUS, *TABLE_ROLES, "note"]
    lines = [
        "# Permissions",
        "",
        "Generated from `resolvers.access.OPERATIONS` by `hub permissions-table -o docs/permissions.md`;",
        "a test fails when this file is out of date, and `tests/test_permissions.py` calls every",
        "operation below as every role and as an anonymous caller.",
        "",
        "yes: allowed; approved: only while the user's reseller is APPROVED; no: refused",
        "(UNAUTHENTICATED for an anonymous caller or a bad token, FORBIDDEN for a signed-in one),",
        "and nothing is written or revealed.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for operation in sorted(OPERATIONS):
        rule = OPERATIONS[operation]
        cells = [f"`{operation}`", _cell(rule, None), *(_cell(rule, role) for role in TABLE_ROLES), rule.note]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Object-level rules",
        "",
        "Applied by the resolvers (`can_*` in `resolvers/access.py`).",
        "",
    ]
    lines += ["| what | who sees it |", "|---|---|"]
    lines += [f"| {what} | {who} |" for what, who in sorted(VISIBILITY.items())]
    return "\n".join(lines) + "\n"


def _cell(rule: Rule, role: str | None) -> str:
    if not allows(rule, role):
        return "no"
    if role == "RESELLER_ADMIN" and not allows(rule, role, reseller_approved=False):
        return "approved"
    return "yes"
