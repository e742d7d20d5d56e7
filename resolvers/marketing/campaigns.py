"""E-mail campaigns: createCampaign, sendCampaign through the outbox, the messages, and the tracking links.

Sending (decided here): `sendCampaign` moves the campaign from DRAFT to SENDING, writes its
recipients (the store's opted-in customers less the unsubscribed, by lower-cased e-mail) and one
outbox e-mail per recipient, all in the mutation's one transaction, in bulk. Either all of it
commits or none: a hub that stops while sending has either queued every message or none (the
campaign is then still DRAFT), and the outbox's idempotency key `campaign:<id>:<email key>` holds
one message per recipient. The mail worker delivers them; the campaign reads SENT once none of its
messages is PENDING (each DONE or FAILED).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from datasources.db import RequestDatabase
from datasources.marketing import campaigns as queries
from datasources.marketing.campaigns import CampaignFigures
from datasources.marketing.models import Campaign
from datasources.stores.models import Store
from resolvers.access import Viewer
from resolvers.errors import UserErrors
from resolvers.marketing.common import CODE_PATTERN, is_marketing_staff, manages_reseller_marketing, utcnow
from resolvers.marketing.creatives import marketing_store
from resolvers.marketing.tracking import make_token, read_token

NAME_MAX = 200
SUBJECT_MAX = 200
BODY_MAX = 100_000
LANDING_PATH_MAX = 500
LINK = "{{link}}"


@dataclass
class CampaignData:
    code: str
    name: str
    store_slug: str
    subject: str
    body: str
    landing_path: str = "/"


@dataclass
class CampaignResult:
    errors: UserErrors = field(default_factory=UserErrors)
    campaign: Campaign | None = None


def check_landing_path(value: str, errors: UserErrors) -> str | None:
    """A path inside the store (`/`, `/product/SKU`, `/search?q=saw`): never an address elsewhere."""
    path = value.strip()
    parts = urlsplit(path) if path else None
    if (
        parts is None
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or parts.scheme
        or parts.netloc
        or parts.fragment
        or len(path) > LANDING_PATH_MAX
        or any(c.isspace() or not c.isprintable() for c in path)
    ):
        errors.add(
            "INVALID_PATH",
            f"A landing path is a path in the store starting with / (at most {LANDING_PATH_MAX} characters, "
            "no spaces, no address of another site).",
            "input",
            "landingPath",
        )
        return None
    return path


async def create_campaign(session: AsyncSession, viewer: Viewer | None, data: CampaignData) -> CampaignResult:
    """A DRAFT campaign of one store: marketing staff for any store, a RESELLER_ADMIN for its own."""
    result = CampaignResult()
    errors = result.errors
    code = data.code.strip()
    if not CODE_PATTERN.match(code):
        errors.add("INVALID_CODE", "A code is 1 to 64 letters, digits, `_`, `.` and `-`.", "input", "code")
    elif await queries.campaign_by_code(session, code) is not None:
        errors.add("DUPLICATE", f"A campaign has the code {code} already.", "input", "code")
    name = data.name.strip()
    if not name or len(name) > NAME_MAX:
        errors.add(
            "REQUIRED" if not name else "TOO_LONG", f"A name is 1 to {NAME_MAX} characters.", "input", "name"
        )
    store = await marketing_store(session, viewer, data.store_slug, errors, "campaign")
    subject = data.subject.strip()
    if not subject or len(subject) > SUBJECT_MAX:
        errors.add(
            "REQUIRED" if not subject else "TOO_LONG",
            f"A subject is 1 to {SUBJECT_MAX} characters.",
            "input",
            "subject",
        )
    elif not subject.isprintable():
        # a line break in a subject would be a header of its own
        errors.add("INVALID", "A subject is one line of printable characters.", "input", "subject")
    if not data.body.strip() or len(data.body) > BODY_MAX:
        errors.add(
            "REQUIRED" if not data.body.strip() else "TOO_LONG",
            f"A body is 1 to {BODY_MAX} characters.",
            "input",
            "body",
        )
    elif LINK not in data.body:
        errors.add(
            "MISSING_LINK", f"The body marks where the tracked link goes with {LINK}.", "input", "body"
        )
    landing_path = check_landing_path(data.landing_path, errors)
    if errors or store is None:
        return result
    campaign = Campaign(
        code=code,
        name=name,
        store_id=store.id,
        subject=subject,
        body=data.body,
        landing_path=landing_path,
        status="DRAFT",
        created_by=viewer.email if viewer else None,
    )
    session.add(campaign)
    await session.flush()
    result.campaign = campaign
    return result


@dataclass(frozen=True)
class Links:
    click: str
    open: str
    unsubscribe: str


def links_for(public_url: str, secret: str, recipient_id: int) -> Links:
    return Links(
        click=f"{public_url}/r/{make_token(secret, 'click', recipient_id)}",
        open=f"{public_url}/o/{make_token(secret, 'open', recipient_id)}",
        unsubscribe=f"{public_url}/u/{make_token(secret, 'unsubscribe', recipient_id)}",
    )


def render_message(campaign: Campaign, store_name: str, to: str, links: Links) -> dict[str, Any]:
    """One recipient's e-mail, as `enqueue_email` puts it on the outbox (to, subject, text, html, headers).

    The text part is the body with {{link}} replaced by the personal tracked link, and an unsubscribe
    line; the HTML part the same, escaped (only the hub's own markup is markup), with the open pixel.
    List-Unsubscribe and List-Unsubscribe-Post make it a one-click unsubscription (RFC 8058).
    """
    footer = f"You receive this because you agreed to news from {store_name} when you ordered."
    text = f"{campaign.body.replace(LINK, links.click)}\n\n-- \n{footer}\nUnsubscribe: {links.unsubscribe}\n"
    link = f'<a href="{html.escape(links.click)}">{html.escape(links.click)}</a>'
    paragraphs = "".join(
        f"<p>{html.escape(part).replace(LINK, link).replace(chr(10), '<br>')}</p>"
        for part in campaign.body.split("\n\n")
    )
    body_html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(campaign.subject)}</title></head><body>{paragraphs}"
        f'<p style="font-size:small;color:#666">{html.escape(footer)} '
        f'<a href="{html.escape(links.unsubscribe)}">Unsubscribe</a></p>'
        f'<img src="{html.escape(links.open)}" width="1" height="1" alt="" style="display:block;border:0">'
        "</body></html>"
    )
    return {
        "to": to,
        "subject": campaign.subject,
        "text": text,
        "html": body_html,
        "headers": {
            "List-Unsubscribe": f"<{links.unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


async def send_campaign(
    session: AsyncSession, viewer: Viewer | None, code: str, *, public_url: str, secret: str
) -> CampaignResult:
    """DRAFT -> SENDING, with one outbox e-mail per recipient in the same transaction (module docstring)."""
    result = CampaignResult()
    errors = result.errors
    campaign = await queries.campaign_by_code(session, code)
    store = await session.get(Store, campaign.store_id) if campaign else None
    if campaign is None or store is None or not manages_reseller_marketing(viewer, store.reseller_id):
        errors.add("NOT_FOUND", f"No campaign of yours has the code {code}.", "code")
        return result
    now = utcnow()
    if campaign.status != "DRAFT" or not await queries.start_sending(
        session, campaign.id, now, viewer.email if viewer else None
    ):
        errors.add("INVALID_STATE", f"Campaign {code} was sent already.", "code")
        return result
    recipients = await queries.add_recipients(session, campaign)
    if not recipients:
        errors.add(
            "NO_RECIPIENTS", "No customer of this store opted in to news (or all unsubscribed).", "code"
        )
        return result
    messages = [
        (key, render_message(campaign, store.name, email, links_for(public_url, secret, recipient_id)))
        for recipient_id, email, key in recipients
    ]
    await queries.enqueue_campaign_emails(session, campaign.id, messages, now)
    campaign.status = "SENDING"
    result.campaign = campaign
    return result


# ---------------------------------------------------------------- reads


def effective_status(campaign: Campaign, figures: CampaignFigures) -> str:
    """SENDING reads SENT once every message was tried (DONE or FAILED)."""
    if campaign.status == "SENDING" and figures.pending == 0:
        return "SENT"
    return campaign.status


async def campaigns_list(db: RequestDatabase, viewer: Viewer | None) -> Sequence[Campaign]:
    """Marketing staff: every campaign; a RESELLER_ADMIN: its stores' campaigns. Newest first."""
    query = select(Campaign).order_by(Campaign.id.desc())
    if is_marketing_staff(viewer):
        return await db.scalars(query)
    own = select(Store.id).where(Store.reseller_id == (viewer.reseller_id if viewer else None))
    return await db.scalars(query.where(Campaign.store_id.in_(own)))


async def campaign_for(db: RequestDatabase, viewer: Viewer | None, code: str) -> Campaign | None:
    """A campaign its managers may see; None for anyone else."""
    campaign = await queries.campaign_by_code(db, code)
    if campaign is None:
        return None
    store = await db.scalar(select(Store).where(Store.id == campaign.store_id))
    if store is None or not manages_reseller_marketing(viewer, store.reseller_id):
        return None
    return campaign


# ---------------------------------------------------------------- tracking links


def storefront_url(public_url: str, store_slug: str, campaign: Campaign) -> str:
    """The hub's own storefront of the store, at the campaign's landing path, with `?campaign=CODE`."""
    path = campaign.landing_path or "/"
    separator = "&" if "?" in path else "?"
    return f"{public_url}/shop/{store_slug}{path}{separator}{urlencode({'campaign': campaign.code})}"


async def _recipient(session: AsyncSession, secret: str, kind: str, token: str) -> Any:
    recipient_id = read_token(secret, kind, token)
    if recipient_id is None:
        return None
    return await queries.recipient(session, recipient_id)


async def follow_click(session: AsyncSession, secret: str, public_url: str, token: str) -> str | None:
    """Record a click and answer where it leads; None (a 404, nothing recorded) for a bad token."""
    found = await _recipient(session, secret, "click", token)
    if found is None:
        return None
    recipient, campaign = found
    store = await session.get(Store, campaign.store_id)
    if store is None:
        return None
    await queries.record_interaction(session, campaign.id, recipient.id, "CLICK", utcnow())
    return storefront_url(public_url, store.slug, campaign)


async def record_open(session: AsyncSession, secret: str, token: str) -> bool:
    found = await _recipient(session, secret, "open", token)
    if found is None:
        return False
    recipient, campaign = found
    await queries.record_interaction(session, campaign.id, recipient.id, "OPEN", utcnow())
    return True


async def unsubscribe_store_name(session: AsyncSession, secret: str, token: str) -> str | None:
    """The store an unsubscribe link is for (the page names it); None for a bad token."""
    found = await _recipient(session, secret, "unsubscribe", token)
    if found is None:
        return None
    store = await session.get(Store, found[1].store_id)
    return store.name if store else None


async def unsubscribe(session: AsyncSession, secret: str, token: str) -> str | None:
    """Unsubscribe the link's recipient from the store's campaigns; answers the store's name, None for a bad token."""
    found = await _recipient(session, secret, "unsubscribe", token)
    if found is None:
        return None
    recipient, campaign = found
    store = await session.get(Store, campaign.store_id)
    if store is None:
        return None
    await queries.unsubscribe(session, store.id, recipient.email_key, campaign.id, utcnow())
    return store.name
