// The administrator's dashboard at /admin/: sign in, then sales, orders, marketing and demand, each shown
// only to the roles that may see it (access.js); the hub decides every call and its refusals are shown.
// The sign-in token lives in sessionStorage (this tab only), never in a URL.
// Routes: /admin/sales  /admin/orders  /admin/orders/<number>  /admin/marketing  /admin/demand

import { run, useToken } from "../common/graphql.js";
import { h, money, replace, when } from "../common/dom.js";
import { may } from "./access.js";
import { demandChart } from "./charts.js";
import * as ops from "./operations.js";

const TOKEN_KEY = "hub.admin.token";
const ORDERS_PAGE = 20;
const CHART_HISTORY_DAYS = 84;
const SECTIONS = [
  { key: "sales", title: "Sales", parts: ["sales"] },
  { key: "orders", title: "Orders", parts: ["orders"] },
  { key: "marketing", title: "Marketing", parts: ["campaigns", "promotions"] },
  { key: "demand", title: "Demand", parts: ["forecast", "plan"] },
];

const main = document.getElementById("main");
const statusRegion = document.getElementById("status");
let viewer = null;
let resellers = null;
let renderCount = 0;

// ---------------------------------------------------------------- small parts

function announce(message) {
  statusRegion.textContent = "";
  setTimeout(() => {
    statusRegion.textContent = message;
  }, 50);
}

function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}

function heading(title) {
  document.title = `${title} · Dashboard`;
  return h("h1", { tabindex: "-1", id: "page-title" }, title);
}

function can(part) {
  return viewer !== null && may(viewer.roles, part);
}

function field(id, label, control) {
  control.id = id;
  if (!control.name) control.name = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function select(options, value) {
  return h("select", {}, options.map(([optionValue, label]) => h("option", { value: optionValue, selected: optionValue === value }, label)));
}

function table(caption, headers, rows) {
  if (!rows.length) return h("p", { class: "empty" }, `${caption}: none.`);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, index) => (index === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))),
    ),
  );
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function percent(value) {
  return `${(value * 100).toFixed(1)} %`;
}

/** Runs an operation; a refusal or failure shows the hub's message in `where` and answers null. */
async function attempt(where, document_, variables) {
  try {
    return await run(document_, variables);
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") {
      signOut("Your sign-in has expired: sign in again.");
      return null;
    }
    replace(where, errorBox(error.message));
    return null;
  }
}

async function resellerOptions() {
  if (!can("resellers")) {
    return viewer.reseller ? [[viewer.reseller.code, viewer.reseller.name]] : [];
  }
  if (resellers === null) {
    const data = await run(ops.RESELLERS);
    resellers = data.resellers.edges.map((e) => [e.node.code, e.node.name]);
  }
  return resellers;
}

// ---------------------------------------------------------------- sign-in

function signInPage(message = null) {
  document.title = "Sign in · Dashboard";
  document.getElementById("who").hidden = true;
  document.getElementById("sections").hidden = true;
  const feedback = h("div", { id: "sign-in-feedback" }, message ? errorBox(message) : null);
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "sign-in", "aria-labelledby": "page-title" },
    h("h1", { id: "page-title", tabindex: "-1" }, "Sign in"),
    h("p", {}, "Sign in with your hub account."),
    feedback,
    field("email", "E-mail", email),
    field("password", "Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const payload = (await run(ops.LOGIN, { email: email.value.trim(), password: password.value })).login;
      if (!payload.token) {
        replace(feedback, errorBox(payload.userErrors.map((e) => e.message).join(" ") || "The sign-in was refused."));
        password.value = "";
        password.focus();
        return;
      }
      try {
        sessionStorage.setItem(TOKEN_KEY, payload.token);
      } catch (error) {
        // no session storage: the token lives in memory for this page
      }
      useToken(payload.token);
      viewer = payload.viewer;
      signedIn();
    } catch (error) {
      replace(feedback, errorBox(error.message));
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  email.focus();
}

function signOut(message = null) {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch (error) {
    // nothing stored
  }
  useToken(null);
  viewer = null;
  resellers = null;
  window.history.replaceState({}, "", "/admin/");
  signInPage(message);
}

function signedIn(focus = true) {
  document.getElementById("who").hidden = false;
  document.getElementById("who-email").textContent = `${viewer.email} (${viewer.roles.join(", ")})`;
  const nav = document.getElementById("sections");
  const visible = SECTIONS.filter((s) => s.parts.some(can));
  replace(nav, h("ul", {}, visible.map((s) => h("li", {}, h("a", { href: `/admin/${s.key}`, dataset: { section: s.key } }, s.title)))));
  nav.hidden = false;
  render(focus);
}

// ---------------------------------------------------------------- sales

async function salesPage(params) {
  const today = new Date();
  const to = params.get("to") || isoDay(new Date(today.getTime() + 86400000));
  const from = params.get("from") || isoDay(new Date(today.getTime() - 30 * 86400000));
  const interval = params.get("interval") || "DAY";
  const reseller = params.get("reseller") || "";
  const options = await resellerOptions();
  const controls = h(
    "form",
    { class: "controls", "aria-label": "Report settings" },
    field("from", "From", h("input", { type: "date", value: from, required: true })),
    field("to", "To (not included)", h("input", { type: "date", value: to, required: true })),
    field("interval", "Interval", select([["DAY", "Day"], ["WEEK", "Week"], ["MONTH", "Month"]], interval)),
    can("resellers") ? field("reseller", "Reseller", select([["", "All resellers"], ...options], reseller)) : null,
    h("button", { type: "submit", class: "primary" }, "Show report"),
  );
  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["from", "to", "interval", "reseller"]) {
      const control = controls.querySelector(`#${name}`);
      if (control && control.value) next.set(name, control.value);
    }
    navigate(`/admin/sales?${next}`);
  });
  const results = h("div", { class: "report" });
  const data = await attempt(results, ops.SALES_REPORT, {
    input: { from: `${from}T00:00:00Z`, to: `${to}T00:00:00Z`, interval, resellerCode: reseller || null },
    top: 10,
  });
  if (data) {
    const report = data.salesReport;
    const chart = h("img", {
      class: "chart",
      // The hub's chart is SVG text; as an image it is shown, never run (no script in an <img>).
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(report.chartSvg)}`,
      alt: `Revenue per ${report.interval.toLowerCase()} from ${from} to ${to}: ${money(report.totals.revenue)} in all.`,
    });
    replace(
      results,
      h("figure", {}, chart, h("figcaption", {}, `Revenue per ${report.interval.toLowerCase()} (${report.currency})`)),
      h("h2", {}, "Totals"),
      h(
        "dl",
        { class: "figures" },
        h("div", {}, h("dt", {}, "Orders"), h("dd", { id: "total-orders" }, String(report.totals.orders))),
        h("div", {}, h("dt", {}, "Units"), h("dd", {}, String(report.totals.units))),
        h("div", {}, h("dt", {}, "Revenue"), h("dd", { id: "total-revenue" }, money(report.totals.revenue))),
        h("div", {}, h("dt", {}, "Discounts"), h("dd", {}, money(report.totals.discounts))),
      ),
      h("h2", {}, "Top products"),
      table("Top products by revenue", ["Product", "SKU", "Units", "Revenue"], report.topProducts.map((p) => [p.name, p.sku, String(p.units), money(p.revenue)])),
      h("h2", {}, "Revenue by reseller"),
      table("Revenue by reseller, highest first", ["Reseller", "Orders", "Units", "Revenue"], report.byReseller.map((r) => [r.reseller.name, String(r.orders), String(r.units), money(r.revenue)])),
    );
  }
  return [heading("Sales"), controls, results];
}

// ---------------------------------------------------------------- orders

const STATUS_OPTIONS = [["", "Any status"], ["PLACED", "Placed"], ["FULFILLED", "Fulfilled"], ["CANCELLED", "Cancelled"]];

async function ordersPage(params) {
  const term = (params.get("q") || "").trim();
  const status = params.get("status") || "";
  const search = h(
    "form",
    { class: "controls", role: "search", "aria-label": "Find orders" },
    field("order-search", "Order number or customer e-mail", h("input", { type: "search", value: term, autocomplete: "off" })),
    field("order-status", "Status", select(STATUS_OPTIONS, status)),
    h("button", { type: "submit", class: "primary" }, "Find orders"),
  );
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const q = search.querySelector("#order-search").value.trim();
    if (q) next.set("q", q);
    const s = search.querySelector("#order-status").value;
    if (s) next.set("status", s);
    navigate(`/admin/orders${next.toString() ? `?${next}` : ""}`);
  });
  const results = h("div", { class: "orders", id: "order-results" });
  if (term && !term.includes("@")) {
    // A number: straight to the order, when there is one.
    const data = await attempt(results, ops.ORDER, { number: term });
    if (data && data.order) {
      window.history.replaceState({}, "", `/admin/orders/${encodeURIComponent(data.order.number)}`);
      return orderPage(data.order.number, data.order);
    }
    if (data) replace(results, h("p", { role: "alert" }, `No order has the number ${term}.`));
    return [heading("Orders"), search, results];
  }
  const filter = {};
  if (term) filter.customerEmail = term;
  if (status) filter.status = status;
  await loadOrders(results, filter, null);
  return [heading("Orders"), search, results];
}

async function loadOrders(results, filter, after) {
  const data = await attempt(results, ops.ORDERS, { filter, first: ORDERS_PAGE, after });
  if (!data) return;
  const connection = data.orders;
  const rows = connection.edges.map(({ node }) => [
    h("a", { href: `/admin/orders/${encodeURIComponent(node.number)}` }, node.number),
    when(node.placedAt),
    node.store.name,
    node.customerEmail,
    h("span", { class: `status status-${node.status.toLowerCase()}` }, node.status),
    money(node.total),
  ]);
  const more = connection.pageInfo.hasNextPage
    ? h("button", { type: "button", onclick: () => loadOrders(results, filter, connection.pageInfo.endCursor) }, "Next page")
    : null;
  replace(results, h("p", { class: "count" }, `${connection.totalCount} orders`), table("Orders, newest first", ["Number", "Placed", "Store", "Customer", "Status", "Total"], rows), more);
}

async function orderPage(number, known = null) {
  const view = h("div", { id: "order-view" });
  let order = known;
  if (!order) {
    const data = await attempt(view, ops.ORDER, { number });
    if (!data) return [heading(`Order ${number}`), view];
    order = data.order;
    if (!order) return [heading(`Order ${number}`), h("p", {}, "No order has this number, or you may not see it."), h("p", {}, h("a", { href: "/admin/orders" }, "Back to orders"))];
  }
  renderOrder(view, order);
  return [h("p", {}, h("a", { href: "/admin/orders" }, "← Orders")), heading(`Order ${order.number}`), view];
}

function renderOrder(view, order, feedback = null) {
  const address = order.shippingAddress;
  replace(
    view,
    h("div", { id: "order-feedback" }, feedback),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, "Status"), h("dd", {}, h("span", { class: `status status-${order.status.toLowerCase()}`, id: "order-status" }, order.status))),
      h("div", {}, h("dt", {}, "Store"), h("dd", {}, order.store.name)),
      h("div", {}, h("dt", {}, "Customer"), h("dd", {}, order.customerEmail)),
      h("div", {}, h("dt", {}, "Placed"), h("dd", {}, when(order.placedAt), order.placedBy ? ` by ${order.placedBy}` : "")),
      h("div", {}, h("dt", {}, "Payment"), h("dd", {}, order.paymentMethod)),
      "campaign" in order ? h("div", {}, h("dt", {}, "Campaign"), h("dd", {}, order.campaign ? `${order.campaign.name} (${order.campaign.code})` : "none")) : null,
      h("div", {}, h("dt", {}, "Ship to"), h("dd", {}, [address.name, address.line1, address.line2, `${address.postalCode} ${address.city}`, address.region, address.country].filter(Boolean).join(", "))),
    ),
    table("Lines", ["Product", "SKU", "Quantity", "Unit price", "Discount", "Total"], order.lines.map((l) => [l.name, l.sku, String(l.quantity), money(l.unitPrice), money(l.discount), money(l.total)])),
    h(
      "dl",
      { class: "totals" },
      h("dt", {}, "Subtotal"),
      h("dd", {}, money(order.subtotal)),
      order.discounts.map((d) => [h("dt", {}, d.name, d.couponCode ? ` (coupon ${d.couponCode})` : ""), h("dd", {}, `−${money(d.amount)}`)]),
      h("dt", { class: "grand" }, "Total"),
      h("dd", { class: "grand" }, money(order.total)),
    ),
    h("h2", {}, "History"),
    h("ol", { class: "history" }, order.history.map((e) => h("li", {}, h("strong", {}, e.status), ` ${when(e.at)}`, e.by ? ` by ${e.by}` : " by the customer", e.reason ? ` — ${e.reason}` : ""))),
    h("h2", {}, "Notes"),
    order.notes.length ? h("ul", { class: "notes" }, order.notes.map((n) => h("li", {}, h("p", {}, n.text), h("p", { class: "meta" }, `${n.by}, ${when(n.at)}`)))) : h("p", { class: "empty" }, "No notes yet."),
    orderActions(view, order),
  );
}

function orderActions(view, order) {
  const act = async (document_, variables, field, done) => {
    const feedback = view.querySelector("#order-feedback");
    try {
      const payload = (await run(document_, { number: order.number, ...variables }))[field];
      if (payload.userErrors.length || !payload.order) {
        replace(feedback, errorBox(payload.userErrors.map((e) => e.message).join(" ") || "The hub refused."));
        return;
      }
      renderOrder(view, payload.order, h("p", { class: "ok", role: "status" }, done));
      announce(done);
      const title = document.getElementById("page-title");
      if (title) title.focus();
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return signOut("Your sign-in has expired: sign in again.");
      replace(feedback, errorBox(error.message));
    }
  };
  const parts = [];
  const buttons = [];
  if (can("fulfil") && order.status === "PLACED") {
    buttons.push(h("button", { type: "button", onclick: () => act(ops.FULFILL_ORDER, {}, "fulfillOrder", "The order is fulfilled.") }, "Mark as fulfilled"));
  }
  if (can("resend")) {
    buttons.push(h("button", { type: "button", onclick: () => act(ops.RESEND_ORDER_CONFIRMATION, {}, "resendOrderConfirmation", "The confirmation e-mail is on its way again.") }, "Resend confirmation"));
  }
  if (buttons.length) parts.push(h("div", { class: "buttons" }, buttons));
  if (can("cancel") && order.status !== "CANCELLED") {
    const reason = h("textarea", { rows: "2", required: true });
    const missing = h("p", { class: "error", id: "cancel-reason-error", hidden: true }, "Give the reason for cancelling.");
    const form = h("form", { class: "action-form", novalidate: true, "aria-labelledby": "cancel-title" }, h("h3", { id: "cancel-title" }, "Cancel the order"), field("cancel-reason", "Reason (the customer's words or yours)", reason), missing, h("button", { type: "submit", class: "danger" }, "Cancel order"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        reason.setAttribute("aria-invalid", "true");
        reason.setAttribute("aria-describedby", "cancel-reason-error");
        missing.hidden = false;
        reason.focus();
        return;
      }
      act(ops.CANCEL_ORDER, { reason: reason.value.trim() }, "cancelOrder", "The order is cancelled.");
    });
    parts.push(form);
  }
  if (can("note")) {
    const text = h("textarea", { rows: "3", required: true });
    const empty = h("p", { class: "error", id: "note-text-error", hidden: true }, "Write the note first.");
    const form = h("form", { class: "action-form", novalidate: true, "aria-labelledby": "note-title" }, h("h3", { id: "note-title" }, "Add a note"), field("note-text", "Note (seen by staff and the store's reseller)", text), empty, h("button", { type: "submit" }, "Add note"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!text.value.trim()) {
        text.setAttribute("aria-invalid", "true");
        text.setAttribute("aria-describedby", "note-text-error");
        empty.hidden = false;
        text.focus();
        return;
      }
      act(ops.ADD_ORDER_NOTE, { text: text.value.trim() }, "addOrderNote", "The note is added.");
    });
    parts.push(form);
  }
  return parts.length ? h("section", { class: "actions", "aria-labelledby": "actions-title" }, h("h2", { id: "actions-title" }, "Customer service"), parts) : null;
}

// ---------------------------------------------------------------- marketing

async function marketingPage() {
  const parts = [heading("Marketing")];
  if (can("campaigns")) {
    const box = h("section", { "aria-labelledby": "campaigns-title", id: "campaigns" }, h("h2", { id: "campaigns-title" }, "Campaigns"));
    const data = await attempt(box, ops.CAMPAIGNS, {});
    if (data) {
      box.appendChild(
        table(
          "Campaigns and their results",
          ["Campaign", "Store", "Status", "Recipients", "Sent", "Opened", "Clicked", "Visits", "Orders", "Revenue", "Conversion"],
          data.campaigns.map((c) => [
            h("span", { dataset: { campaign: c.code } }, `${c.name} (${c.code})`),
            c.store.name,
            c.status,
            String(c.results.recipients),
            String(c.results.sent),
            String(c.results.opened),
            String(c.results.clicked),
            String(c.results.visits),
            String(c.results.orders),
            money(c.results.revenue),
            percent(c.results.conversionRate),
          ]),
        ),
      );
    }
    parts.push(box);
  }
  if (can("promotions")) {
    const box = h("section", { "aria-labelledby": "promotions-title", id: "promotions" }, h("h2", { id: "promotions-title" }, "Promotions"));
    const data = await attempt(box, ops.PROMOTIONS, { storeSlug: null });
    if (data) {
      const discount = (p) => (p.percentOff !== null ? `${p.percentOff} % off` : `${p.amountOff} ${p.currency || ""} off`);
      const period = (p) => (p.startsAt || p.endsAt ? `${p.startsAt ? when(p.startsAt) : "…"} – ${p.endsAt ? when(p.endsAt) : "…"}` : "always");
      box.appendChild(
        table(
          "Promotions",
          ["Promotion", "Store", "Discount", "Applies to", "Coupon", "Active", "Enabled", "Used"],
          data.promotions.map((p) => [
            `${p.name} (${p.code})`,
            p.store ? p.store.name : "Every store",
            discount(p),
            p.scope === "ALL" ? "everything" : `${p.scope.toLowerCase()} ${p.target}`,
            p.couponCode || "automatic",
            period(p),
            p.enabled ? "yes" : "no",
            p.usageLimit !== null ? `${p.timesUsed} of ${p.usageLimit}` : String(p.timesUsed),
          ]),
        ),
      );
    }
    parts.push(box);
  }
  return parts;
}

// ---------------------------------------------------------------- demand

async function demandPage(params) {
  const options = await resellerOptions();
  // The two parts ask the hub at once: a plan forecasts every product of the reseller, and takes a while.
  const parts = await Promise.all([can("forecast") ? forecastPart(params, options) : null, can("plan") ? planPart(params, options) : null]);
  return [heading("Demand"), ...parts];
}

async function forecastPart(params, options) {
  const sku = params.get("sku") || "";
  const reseller = params.get("reseller") || (can("resellers") ? "" : (options[0] || [""])[0]);
  const days = params.get("days") || "28";
  const form = h(
    "form",
    { class: "controls", "aria-labelledby": "forecast-title" },
    field("forecast-sku", "Product SKU", h("input", { value: sku, required: true, autocomplete: "off" })),
    can("resellers") ? field("forecast-reseller", "Reseller", select([["", "All stores"], ...options], reseller)) : null,
    field("forecast-days", "Days ahead", h("input", { type: "number", min: "1", max: "90", value: days, required: true })),
    h("button", { type: "submit", class: "primary" }, "Show forecast"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    next.set("sku", form.querySelector("#forecast-sku").value.trim());
    next.set("days", form.querySelector("#forecast-days").value);
    const chosen = form.querySelector("#forecast-reseller");
    if (chosen) next.set("reseller", chosen.value);
    navigate(`/admin/demand?${next}`);
  });
  const result = h("div", { class: "forecast" });
  if (sku) {
    const data = await attempt(result, ops.DEMAND_FORECAST, { sku, resellerCode: reseller || null, days: Number(days) });
    if (data && !data.demandForecast) replace(result, h("p", { role: "alert" }, `No product has the SKU ${sku}.`));
    else if (data) showForecast(result, data.demandForecast);
  }
  return h("section", { "aria-labelledby": "forecast-title" }, h("h2", { id: "forecast-title" }, "A product's demand and forecast"), form, result);
}

async function planPart(params, options) {
  const reseller = params.get("plan") || (options[0] || [""])[0];
  const weeks = params.get("weeks") || "4";
  const form = h(
    "form",
    { class: "controls", "aria-labelledby": "plan-title" },
    field("plan-reseller", "Reseller", select(options, reseller)),
    field("plan-weeks", "Weeks", h("input", { type: "number", min: "1", max: "12", value: weeks, required: true })),
    h("button", { type: "submit", class: "primary" }, "Show plan"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    next.set("plan", form.querySelector("#plan-reseller").value);
    next.set("weeks", form.querySelector("#plan-weeks").value);
    navigate(`/admin/demand?${next}`);
  });
  const result = h("div", { class: "plan" });
  if (params.get("plan") && reseller) {
    const data = await attempt(result, ops.DEMAND_PLAN, { resellerCode: reseller, weeks: Number(weeks) });
    if (data) {
      const plan = data.demandPlan;
      replace(
        result,
        table(`Demand plan of ${plan.reseller.name} for ${plan.weeks} weeks`, ["Product", "SKU", "Forecast units", "Suggested order"], plan.lines.map((l) => [l.product.name, l.sku, l.forecastUnits.toFixed(1), String(l.suggestedQuantity)])),
      );
    }
  }
  return h("section", { "aria-labelledby": "plan-title" }, h("h2", { id: "plan-title" }, "A reseller's demand plan"), form, result);
}

function showForecast(result, forecast) {
  const total = forecast.forecast.reduce((sum, p) => sum + p.units, 0);
  const mase = (value) => (value === null ? "n/a" : value.toFixed(2));
  replace(
    result,
    h("h3", {}, `${forecast.product.name} (${forecast.sku})`),
    h(
      "dl",
      { class: "figures" },
      h("div", {}, h("dt", {}, "Method"), h("dd", {}, forecast.method)),
      h("div", {}, h("dt", {}, `Forecast, ${forecast.forecast.length} days`), h("dd", {}, `${total.toFixed(1)} units`)),
      h("div", {}, h("dt", {}, "Backtest MASE"), h("dd", {}, mase(forecast.backtestMase))),
      h("div", {}, h("dt", {}, "Seasonal-naive MASE"), h("dd", {}, mase(forecast.naiveMase))),
    ),
    h(
      "figure",
      {},
      // The last twelve weeks of history: enough to see the weekly rhythm, and the forecast keeps its room.
      demandChart(forecast.history.slice(-CHART_HISTORY_DAYS), forecast.forecast, {
        title: `Daily demand for ${forecast.product.name}`,
        description: `The last ${Math.min(CHART_HISTORY_DAYS, forecast.history.length)} days of history and ${forecast.forecast.length} days of forecast with its 80 % interval; ${total.toFixed(1)} units forecast.`,
      }),
      h("figcaption", {}, h("span", { class: "key key-history" }, "history"), " ", h("span", { class: "key key-forecast" }, "forecast"), " ", h("span", { class: "key key-interval" }, "80 % interval")),
    ),
    h(
      "details",
      {},
      h("summary", {}, "The forecast as a table"),
      table("Forecast by day", ["Day", "Units", "Low", "High"], forecast.forecast.map((p) => [p.date.slice(0, 10), p.units.toFixed(1), p.low === null ? "" : p.low.toFixed(1), p.high === null ? "" : p.high.toFixed(1)])),
    ),
  );
}

// ---------------------------------------------------------------- routing

function route(parts, params) {
  const section = parts[0];
  const allowed = SECTIONS.filter((s) => s.parts.some(can));
  if (!section) {
    if (!allowed.length) return [heading("Dashboard"), h("p", {}, "Your roles see none of the dashboard's sections: sales, orders, marketing and demand are for the hub's staff and resellers.")];
    window.history.replaceState({}, "", `/admin/${allowed[0].key}`);
    return route([allowed[0].key], params);
  }
  const known = SECTIONS.find((s) => s.key === section);
  if (known && !allowed.includes(known)) return [heading(known.title), errorBox("Your roles may not see this section.")];
  if (section === "sales") return salesPage(params);
  if (section === "orders" && parts.length === 2) return orderPage(parts[1]);
  if (section === "orders") return ordersPage(params);
  if (section === "marketing") return marketingPage();
  if (section === "demand") return demandPage(params);
  return [heading("Not found"), h("p", {}, "The dashboard has no such page.")];
}

async function render(focus = true) {
  if (!viewer) return;
  const mine = ++renderCount;
  const parts = window.location.pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
  const params = new URLSearchParams(window.location.search);
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    content = await route(parts, params);
  } catch (error) {
    content = [heading("Something went wrong"), errorBox(error.message)];
  }
  if (mine !== renderCount || !viewer) return;
  replace(main, content);
  main.removeAttribute("aria-busy");
  const current = window.location.pathname.split("/")[2] || "";
  for (const a of document.querySelectorAll("#sections a")) {
    if (a.dataset.section === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (focus) {
    const title = document.getElementById("page-title");
    if (title) title.focus();
  }
}

function navigate(target) {
  window.history.pushState({}, "", target);
  render();
}

function followLinks(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target) return;
  const target = new URL(anchor.href);
  if (target.origin !== window.location.origin || !target.pathname.startsWith("/admin/") || target.hash) return;
  event.preventDefault();
  navigate(target.pathname + target.search);
}

async function start() {
  document.addEventListener("click", followLinks);
  window.addEventListener("popstate", () => render());
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  let token = null;
  try {
    token = sessionStorage.getItem(TOKEN_KEY);
  } catch (error) {
    token = null;
  }
  if (!token) return signInPage();
  useToken(token);
  try {
    viewer = (await run(ops.VIEWER)).viewer;
  } catch (error) {
    viewer = null;
  }
  if (!viewer) return signOut("Your sign-in has expired: sign in again.");
  signedIn(false);
}

start();
