// The storefront's web activity: page views, product views, searches and add-to-carts, sent to the hub in
// batches with recordActivity, and with navigator.sendBeacon('/activity') when the page is left, so that
// the reseller's activity report and the campaigns' results see them.

import { run } from "../common/graphql.js";
import { RECORD_ACTIVITY } from "./operations.js";

const VISITOR_KEY = "hub.visitor";
const BATCH_SIZE = 10; // sent at once when this many are waiting
const FLUSH_AFTER_MS = 4000; // else a few seconds after the first one
const MAX_EVENTS = 100; // the hub takes at most 100 in one call

function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function stored(storage, key, make) {
  try {
    let value = storage.getItem(key);
    if (!value && make) {
      value = make();
      storage.setItem(key, value);
    }
    return value;
  } catch (error) {
    return make ? make() : null; // storage refused (private mode): this page view only
  }
}

/** The visitor id this browser keeps (localStorage), made on first use; the checkout sends it too. */
export function visitorId() {
  return stored(localStorage, VISITOR_KEY, randomId);
}

/**
 * The campaign code of this visit: `?campaign=` of the landing URL, kept (sessionStorage, per store)
 * while the visit lasts, so every later event of the visit carries it.
 */
export function campaignCode(slug) {
  const key = `hub.campaign.${slug}`;
  const fromUrl = new URLSearchParams(window.location.search).get("campaign");
  if (fromUrl) {
    try {
      sessionStorage.setItem(key, fromUrl);
    } catch (error) {
      return fromUrl;
    }
    return fromUrl;
  }
  return stored(sessionStorage, key, null);
}

export class Activity {
  constructor(slug) {
    this.slug = slug;
    this.queue = [];
    this.timer = null;
    this.campaign = campaignCode(slug);
    const leave = () => this.beacon();
    window.addEventListener("pagehide", leave);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") leave();
    });
  }

  /** Queues one event ({type, sku?, searchTerm?}); the path is the page's own. */
  record(type, details = {}) {
    const event = {
      visitorId: visitorId(),
      storeSlug: this.slug,
      type,
      path: window.location.pathname.slice(`/shop/${this.slug}`.length) || "/",
      ...details,
    };
    if (this.campaign) event.campaignCode = this.campaign;
    this.queue.push(event);
    if (this.queue.length >= BATCH_SIZE) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  take() {
    clearTimeout(this.timer);
    this.timer = null;
    return this.queue.splice(0, MAX_EVENTS);
  }

  /** Sends what is waiting with recordActivity; resolves once the hub has it (the checkout waits for it). */
  async flush() {
    const events = this.take();
    if (!events.length) return;
    try {
      await run(RECORD_ACTIVITY, { events });
    } catch (error) {
      // Activity is best effort: a page never fails because its statistics could not be sent.
    }
    if (this.queue.length) await this.flush();
  }

  /** The page is being left: what is waiting goes with sendBeacon, which outlives the page. */
  beacon() {
    const events = this.take();
    if (!events.length) return;
    const body = JSON.stringify({ events });
    if (!(navigator.sendBeacon && navigator.sendBeacon("/activity", body))) {
      fetch("/activity", { method: "POST", body, keepalive: true }).catch(() => {});
    }
  }
}
