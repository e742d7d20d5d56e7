// Building the pages' DOM: text always goes in as text nodes (textContent), never as HTML.

/**
 * h("a", {href: "/x", class: "btn"}, "text", child) makes an element. String children become text
 * nodes; attributes starting with "on" take a function (addEventListener), never a string of code.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) {
      // A handler is a function; a string here would be code in an attribute, which the pages never make.
      if (typeof value !== "function") throw new TypeError(`${name} takes a function`);
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.appendChild(child);
    else element.appendChild(document.createTextNode(String(child)));
  }
}

/** Empties an element and puts the children in. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Money as the hub sends it ({amount: "12.50", currency: "EUR"}), formatted for people. */
export function money(value) {
  if (!value) return "";
  const amount = Number(value.amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: value.currency }).format(amount);
  } catch (error) {
    return `${value.amount} ${value.currency}`;
  }
}

/** A link URL from data, or null when it is not http(s) or a path of this site (no javascript: links). */
export function safeUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value, window.location.origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (error) {
    return null;
  }
}

/** A date-time from the hub, shown in the reader's locale. */
export function when(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
