// The sample storefront: a reseller's store at /shop/<slug>/…, in the browser, over the hub's public GraphQL API.
// Routes (after /shop/<slug>): /  /category/<code>  /search?q=  /product/<sku>  /cart  /checkout  /order/<number>
// Every text from the hub goes in with textContent (dom.js's h), never as HTML.

import { run } from "../common/graphql.js";
import { h, money, replace, safeUrl } from "../common/dom.js";
import { Activity, visitorId } from "./activity.js";
import * as ops from "./operations.js";

const PAGE_SIZE = 12;
const FEATURED = 8;
const MAX_QUANTITY = 999;
const PAYMENT_NAMES = { INVOICE: "Invoice", CREDIT_CARD: "Credit card", PAYPAL: "PayPal", BANK_TRANSFER: "Bank transfer" };

const slug = decodeURIComponent(window.location.pathname.split("/")[2] || "");
const base = `/shop/${encodeURIComponent(slug)}`;
const main = document.getElementById("main");
const statusRegion = document.getElementById("status");
const activity = new Activity(slug);

let store = null;
let renderCount = 0;
let firstRender = true;

// ---------------------------------------------------------------- small parts

function url(path) {
  return base + path;
}

function link(path, ...children) {
  return h("a", { href: url(path) }, ...children);
}

function text(key) {
  const found = (store && store.texts.find((t) => t.key === key)) || null;
  return found ? found.value : null;
}

function announce(message) {
  statusRegion.textContent = "";
  // A fresh text node each time, so screen readers read a repeated message again.
  setTimeout(() => {
    statusRegion.textContent = message;
  }, 50);
}

function errorBox(message, id) {
  return h("p", { class: "error", role: "alert", id }, message);
}

function heading(title) {
  document.title = store ? `${title} · ${store.name}` : title;
  return h("h1", { tabindex: "-1", id: "page-title" }, title);
}

function productPath(sku) {
  return `/product/${encodeURIComponent(sku)}`;
}

function priceBlock(product, { struck = true } = {}) {
  const showList =
    struck &&
    product.listPrice &&
    product.listPrice.currency === product.price.currency &&
    Number(product.listPrice.amount) > Number(product.price.amount);
  return h(
    "p",
    { class: "price" },
    h("span", { class: "visually-hidden" }, "Price: "),
    h("strong", { class: "store-price" }, money(product.price)),
    showList ? [" ", h("span", { class: "visually-hidden" }, "List price: "), h("s", { class: "list-price" }, money(product.listPrice))] : null,
  );
}

function productCard(product) {
  return h(
    "li",
    { class: "card" },
    h("h3", { class: "card-title" }, link(productPath(product.sku), product.name)),
    h("p", { class: "sku" }, `SKU ${product.sku}`),
    priceBlock(product),
  );
}

function productGrid(edges, label) {
  if (!edges.length) return h("p", {}, "No products here.");
  return h("ul", { class: "grid", "aria-label": label }, edges.map((edge) => productCard(edge.node)));
}

/** Keyset paging: the next page starts after the last cursor of this one; the first page has none. */
function pager(path, params, connection) {
  const page = Number(params.get("page") || "1");
  const items = [];
  if (params.get("after")) {
    const first = new URLSearchParams(params);
    first.delete("after");
    first.delete("page");
    const query = first.toString();
    items.push(h("li", {}, link(`${path}${query ? `?${query}` : ""}`, "← First page")));
  }
  items.push(h("li", { class: "page-number" }, `Page ${page}`));
  if (connection.pageInfo.hasNextPage) {
    const next = new URLSearchParams(params);
    next.set("after", connection.pageInfo.endCursor);
    next.set("page", String(page + 1));
    items.push(h("li", {}, h("a", { href: url(`${path}?${next}`), rel: "next" }, "Next page →")));
  }
  return h("nav", { class: "pager", "aria-label": "Pages" }, h("ul", {}, items));
}

async function productsPage(filter, params) {
  const data = await run(ops.STORE_PRODUCTS, {
    slug,
    first: PAGE_SIZE,
    after: params.get("after") || null,
    filter,
  });
  return data.store.products;
}

// ---------------------------------------------------------------- the cart id (localStorage, per store)

const CART_KEY = `hub.cart.${slug}`;

function cartId() {
  try {
    return localStorage.getItem(CART_KEY);
  } catch (error) {
    return null;
  }
}

function keepCartId(id) {
  try {
    if (id) localStorage.setItem(CART_KEY, id);
    else localStorage.removeItem(CART_KEY);
  } catch (error) {
    // storage refused: the cart lasts as long as the page
  }
}

function showCartCount(cart) {
  const count = cart ? cart.itemCount : 0;
  document.getElementById("cart-count").textContent = String(count);
}

async function loadCart() {
  const id = cartId();
  if (!id) return null;
  const data = await run(ops.CART, { id });
  if (!data.cart) keepCartId(null); // checked out, or gone: the next add starts a new one
  return data.cart;
}

/** Runs a cart mutation on the stored cart, making a cart first when there is none (or it is gone). */
async function changeCart(document_, variables, field) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let id = cartId();
    if (!id) {
      const created = (await run(ops.CREATE_CART, { slug })).createCart;
      if (!created.cart) return created;
      id = created.cart.id;
      keepCartId(id);
    }
    const payload = (await run(document_, { cartId: id, ...variables }))[field];
    // Checked out in another tab, or unknown: forget it, and the change goes to a new cart.
    const gone = payload.userErrors.some((e) => ["NOT_FOUND", "CART_CLOSED"].includes(e.code) && (e.field || []).includes("cartId"));
    if (!gone) {
      if (payload.cart) showCartCount(payload.cart);
      return payload;
    }
    keepCartId(null);
    showCartCount(null);
    // Only an addition starts again in a new cart; a change to lines of the old one cannot.
    if (field !== "addCartLines") return payload;
  }
  return { cart: null, userErrors: [{ message: "Your cart could not be found.", code: "NOT_FOUND" }] };
}

// ---------------------------------------------------------------- pages

async function homePage() {
  const welcome = text("welcome");
  const featuredSkus = (text("featured") || "").split(",").map((s) => s.trim()).filter(Boolean);
  const [hero, featured] = await Promise.all([
    run(ops.HOME_HERO, { slug }, { partial: true }),
    run(ops.STORE_PRODUCTS, {
      slug,
      first: FEATURED,
      after: null,
      filter: featuredSkus.length ? { skus: featuredSkus } : null,
    }),
  ]);
  activity.record("PAGE_VIEW");
  const creatives = (hero.data && hero.data.spot) || [];
  return [
    heading(store.name),
    welcome ? h("p", { class: "welcome" }, welcome) : null,
    creatives.length
      ? h("section", { class: "hero", "aria-label": "Highlights" }, creatives.map(creative))
      : null,
    h(
      "section",
      { "aria-labelledby": "categories-title" },
      h("h2", { id: "categories-title" }, "Shop by category"),
      h("ul", { class: "tiles" }, store.categories.map((c) => h("li", {}, link(`/category/${encodeURIComponent(c.code)}`, c.name)))),
    ),
    h(
      "section",
      { "aria-labelledby": "featured-title" },
      h("h2", { id: "featured-title" }, "Featured products"),
      productGrid(featured.store.products.edges, "Featured products"),
    ),
  ];
}

function creative(item) {
  const image = safeUrl(item.imageUrl);
  const target = safeUrl(item.linkUrl);
  return h(
    "article",
    { class: "creative" },
    image ? h("img", { src: image, alt: "", loading: "lazy" }) : null,
    h("div", { class: "creative-text" }, h("h2", {}, item.title), item.body ? h("p", {}, item.body) : null, target ? h("a", { href: target, class: "button" }, "See more", h("span", { class: "visually-hidden" }, `: ${item.title}`)) : null),
  );
}

async function categoryPage(code, params) {
  const [data, products] = await Promise.all([run(ops.CATEGORY, { code }), productsPage({ categoryCode: code }, params)]);
  const category = data.category;
  if (!category) return notFound("No such category.");
  activity.record("PAGE_VIEW");
  const path = `/category/${encodeURIComponent(code)}`;
  return [
    h(
      "nav",
      { "aria-label": "Breadcrumb", class: "breadcrumb" },
      h("ol", {}, h("li", {}, link("/", "Home")), category.parent ? h("li", {}, link(`/category/${encodeURIComponent(category.parent.code)}`, category.parent.name)) : null, h("li", { "aria-current": "page" }, category.name)),
    ),
    heading(category.name),
    category.children.length
      ? h("ul", { class: "tiles", "aria-label": "Subcategories" }, category.children.map((c) => h("li", {}, link(`/category/${encodeURIComponent(c.code)}`, c.name))))
      : null,
    h("p", { class: "count" }, `${products.totalCount} products`),
    productGrid(products.edges, `Products in ${category.name}`),
    pager(path, params, products),
  ];
}

async function searchPage(params) {
  const term = (params.get("q") || "").trim();
  document.getElementById("search-q").value = term;
  if (!term) {
    activity.record("PAGE_VIEW");
    return [heading("Search"), h("p", {}, "Type what you are looking for in the search box above.")];
  }
  const products = await productsPage({ search: term }, params);
  if (!params.get("after")) activity.record("SEARCH", { searchTerm: term });
  else activity.record("PAGE_VIEW");
  return [
    heading(`Search results for “${term}”`),
    h("p", { class: "count" }, `${products.totalCount} products found`),
    productGrid(products.edges, "Search results"),
    pager("/search", params, products),
  ];
}

async function productPage(sku) {
  const data = await run(ops.PRODUCT, { slug, sku });
  const product = data.store && data.store.product;
  if (!product) return notFound("This store does not sell that product.");
  activity.record("PRODUCT_VIEW", { sku: product.sku });
  const message = h("p", { class: "added", id: "add-message" });
  const quantity = h("input", { id: "quantity", name: "quantity", type: "number", min: "1", max: String(MAX_QUANTITY), value: "1", inputmode: "numeric", required: true });
  const form = h(
    "form",
    { class: "add-to-cart", "aria-label": "Add to cart" },
    h("label", { for: "quantity" }, "Quantity"),
    quantity,
    h("button", { type: "submit", class: "primary" }, "Add to cart"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const count = Number(quantity.value);
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const payload = await changeCart(ops.ADD_TO_CART, { lines: [{ sku: product.sku, quantity: count }] }, "addCartLines");
      if (payload.userErrors.length) {
        replace(message, errorBox(payload.userErrors.map((e) => e.message).join(" ")));
      } else {
        activity.record("ADD_TO_CART", { sku: product.sku });
        replace(message, `Added ${count} × ${product.name} to your cart. `, link("/cart", "View cart"));
        announce(`Added ${count} × ${product.name} to your cart.`);
      }
    } catch (error) {
      replace(message, errorBox(error.message));
    } finally {
      button.disabled = false;
    }
  });
  return [
    h(
      "nav",
      { "aria-label": "Breadcrumb", class: "breadcrumb" },
      h("ol", {}, h("li", {}, link("/", "Home")), product.category ? h("li", {}, link(`/category/${encodeURIComponent(product.category.code)}`, product.category.name)) : null, h("li", { "aria-current": "page" }, product.name)),
    ),
    h(
      "article",
      { class: "product" },
      heading(product.name),
      h("p", { class: "sku" }, `SKU ${product.sku}`),
      priceBlock(product, { struck: false }),
      product.listPrice ? h("p", { class: "list-price-note" }, `List price ${money(product.listPrice)}`) : null,
      product.description ? h("p", { class: "description" }, product.description) : null,
      product.product.attributes.length
        ? h("dl", { class: "attributes" }, product.product.attributes.map((a) => [h("dt", {}, a.name), h("dd", {}, a.value)]))
        : null,
      form,
      message,
    ),
  ];
}

async function cartPage() {
  activity.record("PAGE_VIEW");
  const cart = await loadCart();
  showCartCount(cart);
  const view = h("div", { id: "cart-view" });
  renderCart(view, cart);
  return [heading("Your cart"), view];
}

function renderCart(view, cart, couponError = null) {
  if (!cart || !cart.lines.length) {
    replace(view, h("p", {}, "Your cart is empty. "), h("p", {}, link("/", "Continue shopping")));
    return;
  }
  const rows = cart.lines.map((line) => cartRow(view, line));
  const table = h(
    "table",
    { class: "cart-lines" },
    h("caption", { class: "visually-hidden" }, "Products in your cart"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col" }, "Unit price"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col" }, "Total"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
    h("tbody", {}, rows),
  );
  replace(view, table, couponForm(view, cart, couponError), totals(cart), h("p", { class: "actions" }, link("/", "Continue shopping"), " ", h("a", { href: url("/checkout"), class: "button primary" }, "Check out")));
}

function cartRow(view, line) {
  const inputId = `qty-${line.id}`;
  const quantity = h("input", { id: inputId, type: "number", min: "0", max: String(MAX_QUANTITY), value: String(line.quantity), inputmode: "numeric" });
  const update = h("button", { type: "submit" }, "Update", h("span", { class: "visually-hidden" }, ` ${line.product.name}`));
  const form = h("form", { class: "quantity" }, h("label", { for: inputId, class: "visually-hidden" }, `Quantity of ${line.product.name}`), quantity, update);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    changeLine(view, line, Number(quantity.value));
  });
  const remove = h("button", { type: "button", class: "link-button", onclick: () => changeLine(view, line, 0) }, "Remove", h("span", { class: "visually-hidden" }, ` ${line.product.name}`));
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, link(productPath(line.sku), line.product.name), h("div", { class: "sku" }, line.sku)),
    h("td", { "data-label": "Unit price" }, money(line.unitPrice)),
    h("td", { "data-label": "Quantity" }, form),
    h("td", { "data-label": "Total" }, money(line.total), Number(line.discount.amount) > 0 ? h("div", { class: "saving" }, `You save ${money(line.discount)}`) : null),
    h("td", {}, remove),
  );
}

async function changeLine(view, line, quantity) {
  try {
    const payload = await changeCart(ops.UPDATE_CART_LINE, { lineId: line.id, quantity }, "updateCartLine");
    if (payload.userErrors.length) {
      announce(payload.userErrors.map((e) => e.message).join(" "));
      view.prepend(errorBox(payload.userErrors.map((e) => e.message).join(" ")));
      return;
    }
    renderCart(view, payload.cart);
    announce(quantity === 0 ? `Removed ${line.product.name}.` : `${line.product.name}: quantity ${quantity}.`);
    const focus = view.querySelector(`#qty-${CSS.escape(line.id)}`) || view.querySelector("#coupon-code") || view.querySelector("a");
    if (focus) focus.focus();
  } catch (error) {
    view.prepend(errorBox(error.message));
  }
}

function couponForm(view, cart, couponError) {
  if (cart.couponCode) {
    const remove = h("button", { type: "button", class: "link-button" }, "Remove coupon");
    remove.addEventListener("click", async () => {
      try {
        const payload = await changeCart(ops.REMOVE_COUPON, {}, "removeCoupon");
        renderCart(view, payload.cart || cart, payload.userErrors.map((e) => e.message).join(" ") || null);
        announce("Coupon removed.");
        const input = view.querySelector("#coupon-code");
        if (input) input.focus();
      } catch (error) {
        renderCart(view, cart, error.message);
      }
    });
    return h("div", { class: "coupon" }, h("p", {}, "Coupon ", h("strong", { class: "coupon-code" }, cart.couponCode), " applied. "), remove);
  }
  const input = h("input", { id: "coupon-code", name: "code", autocomplete: "off", required: true, "aria-invalid": couponError ? "true" : null, "aria-describedby": couponError ? "coupon-error" : null });
  const form = h("form", { class: "coupon" }, h("label", { for: "coupon-code" }, "Coupon code"), input, h("button", { type: "submit" }, "Apply"), couponError ? errorBox(couponError, "coupon-error") : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) return;
    try {
      const payload = await changeCart(ops.APPLY_COUPON, { code }, "applyCoupon");
      if (payload.userErrors.length) {
        renderCart(view, cart, payload.userErrors.map((e) => e.message).join(" "));
        const again = view.querySelector("#coupon-code");
        again.value = code;
        again.focus();
      } else {
        renderCart(view, payload.cart);
        announce(`Coupon ${code} applied.`);
        const removeButton = view.querySelector(".coupon button");
        if (removeButton) removeButton.focus();
      }
    } catch (error) {
      renderCart(view, cart, error.message);
    }
  });
  return form;
}

function totals(cart) {
  return h(
    "dl",
    { class: "totals" },
    h("dt", {}, "Subtotal"),
    h("dd", {}, money(cart.subtotal)),
    cart.discounts.map((d) => [h("dt", {}, d.name, d.couponCode ? ` (${d.couponCode})` : ""), h("dd", { class: "saving" }, `−${money(d.amount)}`)]),
    h("dt", { class: "grand" }, "Total"),
    h("dd", { class: "grand", id: "cart-total" }, money(cart.total)),
  );
}

async function checkoutPage() {
  activity.record("PAGE_VIEW");
  const [cart, policies] = await Promise.all([loadCart(), run(ops.PAYMENT_METHODS)]);
  if (!cart || !cart.lines.length) {
    return [heading("Checkout"), h("p", {}, "Your cart is empty. "), h("p", {}, link("/", "Continue shopping"))];
  }
  const methods = policies.hubPolicies.paymentMethods;
  const field = (id, label, attributes = {}) =>
    h("div", { class: "field" }, h("label", { for: id }, label, attributes.required ? null : h("span", { class: "optional" }, " (optional)")), h("input", { id, name: id, ...attributes }), h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
  const summary = h("div", { id: "checkout-errors", tabindex: "-1" });
  const form = h(
    "form",
    { class: "checkout", novalidate: true },
    summary,
    h("fieldset", {}, h("legend", {}, "Contact"), field("email", "E-mail", { type: "email", autocomplete: "email", required: true })),
    h(
      "fieldset",
      {},
      h("legend", {}, "Shipping address"),
      field("name", "Full name", { autocomplete: "name", required: true }),
      field("line1", "Address", { autocomplete: "address-line1", required: true }),
      field("line2", "Address line 2", { autocomplete: "address-line2" }),
      field("city", "City", { autocomplete: "address-level2", required: true }),
      field("postalCode", "Postal code", { autocomplete: "postal-code", required: true }),
      field("region", "Region or state", { autocomplete: "address-level1" }),
      field("country", "Country (two-letter code, e.g. DE)", { autocomplete: "country", required: true, maxlength: "2", size: "3" }),
    ),
    h(
      "fieldset",
      { id: "paymentMethod" },
      h("legend", {}, "Payment method"),
      methods.map((method, index) =>
        h("div", { class: "choice" }, h("input", { type: "radio", name: "paymentMethod", id: `pay-${method}`, value: method, checked: index === 0 }), h("label", { for: `pay-${method}` }, PAYMENT_NAMES[method] || method)),
      ),
    ),
    h("div", { class: "choice" }, h("input", { type: "checkbox", id: "marketingOptIn", name: "marketingOptIn" }), h("label", { for: "marketingOptIn" }, `Send me news and offers from ${store.name} by e-mail`)),
    h("p", {}, h("button", { type: "submit", class: "primary" }, `Place order · ${money(cart.total)}`)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    placeOrder(form, summary, cart);
  });
  return [
    heading("Checkout"),
    h("div", { class: "checkout-layout" }, form, h("aside", { class: "order-summary", "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Your order"), h("ul", {}, cart.lines.map((l) => h("li", {}, `${l.quantity} × ${l.product.name}`, " ", h("span", { class: "amount" }, money(l.total))))), totals(cart))),
  ];
}

const FIELD_IDS = new Set(["email", "name", "line1", "line2", "city", "postalCode", "region", "country", "paymentMethod"]);

async function placeOrder(form, summary, cart) {
  const value = (id) => form.querySelector(`#${id}`).value.trim();
  const optional = (id) => value(id) || null;
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  for (const element of form.querySelectorAll(".field-error")) element.hidden = true;
  // The browser's own checks first (required fields, an e-mail's shape), in its words.
  const missing = [...form.querySelectorAll("input")].filter((input) => !input.checkValidity());
  if (missing.length) {
    showErrors(form, summary, missing.map((input) => ({ field: [input.id], message: `${form.querySelector(`label[for="${input.id}"]`).firstChild.textContent}: ${input.validationMessage}` })));
    return;
  }
  const payment = form.querySelector("input[name=paymentMethod]:checked");
  const input = {
    email: value("email"),
    shippingAddress: {
      name: value("name"),
      line1: value("line1"),
      line2: optional("line2"),
      city: value("city"),
      postalCode: value("postalCode"),
      region: optional("region"),
      country: value("country").toUpperCase(),
    },
    paymentMethod: payment ? payment.value : "",
    marketingOptIn: form.querySelector("#marketingOptIn").checked,
    visitorId: visitorId(),
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    // The visit's events reach the hub before the order, so the order is credited to its campaign.
    await activity.flush();
    const payload = (await run(ops.CHECKOUT, { cartId: cart.id, input })).checkout;
    if (payload.userErrors.length) {
      showErrors(form, summary, payload.userErrors);
      return;
    }
    keepCartId(null);
    showCartCount(null);
    try {
      sessionStorage.setItem(`hub.order.${payload.order.number}`, JSON.stringify(payload.order));
    } catch (error) {
      // the confirmation page then shows the number alone
    }
    navigate(url(`/order/${encodeURIComponent(payload.order.number)}`));
  } catch (error) {
    showErrors(form, summary, [{ message: error.message }]);
  } finally {
    button.disabled = false;
  }
}

function showErrors(form, summary, errors) {
  const items = errors.map((error) => {
    const id = [...(error.field || [])].reverse().find((name) => FIELD_IDS.has(name));
    if (id) {
      const target = form.querySelector(`#${id}`);
      target.setAttribute("aria-invalid", "true");
      const message = form.querySelector(`#${id}-error`);
      if (message) {
        message.textContent = error.message;
        message.hidden = false;
        target.setAttribute("aria-describedby", `${id}-error`);
      }
      return h("li", {}, h("a", { href: `#${id}`, onclick: (event) => { event.preventDefault(); (form.querySelector(`#${id}`) || target).focus(); } }, error.message));
    }
    return h("li", {}, error.message);
  });
  replace(summary, h("div", { class: "error-summary", role: "alert" }, h("h2", {}, "Please check your order"), h("ul", {}, items)));
  summary.focus();
}

function confirmationPage(number) {
  activity.record("PAGE_VIEW");
  let order = null;
  try {
    order = JSON.parse(sessionStorage.getItem(`hub.order.${number}`) || "null");
  } catch (error) {
    order = null;
  }
  const parts = [heading("Thank you for your order"), h("p", { class: "order-number" }, "Your order number is ", h("strong", { id: "order-number" }, number), ".")];
  if (order) {
    parts.push(
      h("p", {}, `A confirmation goes to ${order.customerEmail}.`),
      h("ul", { class: "order-lines" }, order.lines.map((l) => h("li", {}, `${l.quantity} × ${l.name}`, " ", h("span", { class: "amount" }, money(l.total))))),
      h("dl", { class: "totals" }, h("dt", {}, "Subtotal"), h("dd", {}, money(order.subtotal)), order.discounts.map((d) => [h("dt", {}, d.name), h("dd", {}, `−${money(d.amount)}`)]), h("dt", { class: "grand" }, "Total"), h("dd", { class: "grand" }, money(order.total))),
    );
  }
  parts.push(h("p", {}, link("/", "Continue shopping")));
  return parts;
}

function notFound(message = "There is no such page in this store.") {
  return [heading("Not found"), h("p", {}, message), h("p", {}, link("/", "Back to the store"))];
}

// ---------------------------------------------------------------- routing

function route(path, params) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return homePage();
  if (parts[0] === "category" && parts.length === 2) return categoryPage(parts[1], params);
  if (parts[0] === "search" && parts.length === 1) return searchPage(params);
  if (parts[0] === "product" && parts.length === 2) return productPage(parts[1]);
  if (parts[0] === "cart" && parts.length === 1) return cartPage();
  if (parts[0] === "checkout" && parts.length === 1) return checkoutPage();
  if (parts[0] === "order" && parts.length === 2) return confirmationPage(parts[1]);
  activity.record("PAGE_VIEW");
  return notFound();
}

async function render() {
  const mine = ++renderCount;
  const path = window.location.pathname.slice(base.length) || "/";
  const params = new URLSearchParams(window.location.search);
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    content = await route(path, params);
  } catch (error) {
    content = [heading("Something went wrong"), errorBox(error.message), h("p", {}, link("/", "Back to the store"))];
  }
  if (mine !== renderCount) return; // a later navigation won
  replace(main, content);
  main.removeAttribute("aria-busy");
  if (!firstRender) {
    // Where a person on a keyboard or a screen reader expects to be after following a link.
    const title = document.getElementById("page-title");
    (title || main).focus();
    window.scrollTo(0, 0);
  }
  firstRender = false;
}

function navigate(target) {
  window.history.pushState({}, "", target);
  render();
}

function followLinks(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const target = new URL(anchor.href);
  if (target.origin !== window.location.origin || !(target.pathname === base || target.pathname.startsWith(`${base}/`))) return;
  if (target.pathname === window.location.pathname && target.search === window.location.search && target.hash) return;
  event.preventDefault();
  navigate(target.pathname + target.search);
}

// ---------------------------------------------------------------- the store's frame

function frame() {
  document.title = store.name;
  const brand = document.getElementById("brand");
  brand.textContent = store.name;
  brand.href = url("/");
  const cartLink = document.getElementById("cart-link");
  cartLink.href = url("/cart");
  cartLink.hidden = false;
  const search = document.getElementById("search-form");
  search.hidden = false;
  search.action = url("/search");
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const term = document.getElementById("search-q").value.trim();
    navigate(url(`/search?${new URLSearchParams({ q: term })}`));
  });
  replace(
    document.getElementById("categories"),
    h("ul", {}, store.categories.map((c) => h("li", {}, link(`/category/${encodeURIComponent(c.code)}`, c.name)))),
  );
  const footerTexts = store.texts.filter((t) => !["welcome", "featured"].includes(t.key));
  replace(document.getElementById("footer"), footerTexts.map((t) => h("p", { class: `text-${t.key}` }, t.value)), h("p", { class: "small" }, `${store.name} · prices in ${store.currency}`));
}

async function start() {
  document.addEventListener("click", followLinks);
  window.addEventListener("popstate", render);
  try {
    store = slug ? (await run(ops.STORE_SHELL, { slug })).store : null;
  } catch (error) {
    replace(main, h("h1", {}, "The store cannot be shown"), errorBox(error.message));
    return;
  }
  if (!store) {
    document.title = "Store not open";
    replace(main, h("h1", {}, "This store is not open"), h("p", {}, "There is no open store at this address."));
    return;
  }
  frame();
  render();
  loadCart().then(showCartCount, () => {});
}

start();
