"""Closed-loop attribution: which campaign an order is credited to (the checkout calls `campaign_for_order`).

An order is credited to a campaign when, within the attribution window before checkout (the hub
policy `attribution_window_days`, 7 unless changed), either the checkout's visitor id recorded an
activity event carrying one of the store's campaigns (the storefront passes on `?campaign=CODE`
from the tracked link), or a recipient with the order's e-mail clicked one of the store's
campaign links. The last such touch wins; on the same instant, the click. Touches in other stores
credit nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from datasources.marketing.attribution import last_click_touch, last_event_touch
from datasources.partners.queries import hub_policy_in
from resolvers.marketing.common import as_utc


async def campaign_for_order(
    session: AsyncSession,
    store_id: int,
    visitor_id: str | None,
    email_key: str | None,
    placed_at: datetime,
    window_days: int | None = None,
) -> int | None:
    """The id of the campaign to credit with an order placed at `placed_at`, or None.

    Call it inside the checkout's unit of work and store the answer in `orders.campaign_id`.
    `window_days` None reads the hub policy. The window runs from `placed_at` minus the window
    (inclusive) to `placed_at` (inclusive).
    """
    end = as_utc(placed_at)
    assert end is not None
    if window_days is None:
        window_days = (await hub_policy_in(session)).attribution_window_days
    start = end - timedelta(days=window_days)
    touches = []
    if visitor_id:
        event = await last_event_touch(session, store_id, visitor_id, start, end)
        if event is not None:
            touches.append((as_utc(event[1]), 0, event[0]))
    if email_key:
        click = await last_click_touch(session, store_id, email_key.strip().lower(), start, end)
        if click is not None:
            touches.append((as_utc(click[1]), 1, click[0]))
    if not touches:
        return None
    return max(touches)[2]
