"""`Product.liveQuotes`: which distributors to ask, and the offers (or failures) the fan-out brought back."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime

from datasources.partners.models import Distributor, HubPolicy
from datasources.quotes.clients import LIVE_TRANSPORTS
from datasources.quotes.contract import OfferedLine
from datasources.quotes.fanout import OfferKey, Outcome
from datasources.quotes.loaders import QuoteLoaders
from resolvers.access import Viewer
from resolvers.errors import HubError, bad_input, check_list_size

MAX_DISTRIBUTOR_CODES = 50


@dataclass(frozen=True)
class LiveOffer:
    distributor: Distributor
    sku: str
    quantity: int
    currency: str
    line: OfferedLine
    valid_until: datetime | None


@dataclass(frozen=True)
class DistributorFailure:
    code: str
    reason: str

    def error(self) -> HubError:
        """The GraphQL error that accompanies the data: DISTRIBUTOR_UNAVAILABLE, the code and the reason."""
        return HubError(
            f"Distributor {self.code} gave no live quote: it {self.reason}.",
            "DISTRIBUTOR_UNAVAILABLE",
            distributor=self.code,
            reason=self.reason,
        )


def check_currency(currency: str | None, policy: HubPolicy) -> str:
    wanted = currency or policy.default_currency
    if wanted not in policy.currencies:
        raise bad_input(f"`currency` is one of the hub's currencies ({', '.join(policy.currencies)}).")
    return wanted


async def askable_live_distributors(
    loaders: QuoteLoaders, viewer: Viewer, codes: Sequence[str] | None
) -> list[Distributor]:
    """The APPROVED live distributors this viewer may ask: its reseller's connected ones, or (staff) all."""
    if viewer.is_staff:
        key = 0
    elif viewer.reseller_id is not None:
        key = viewer.reseller_id
    else:
        return []
    distributors: list[Distributor] = await loaders.askable_distributors_by_reseller_id.load(key)
    live = [d for d in distributors if d.quote_transport in LIVE_TRANSPORTS and d.quote_endpoint]
    if codes is not None:
        wanted = set(codes)
        live = [d for d in live if d.code in wanted]
    return live


@dataclass(frozen=True)
class LiveQuoteArguments:
    """The arguments of one `liveQuotes` selection: what is asked for, whatever the SKU."""

    quantity: int
    currency: str | None = None
    distributor_codes: tuple[str, ...] | None = None


Answer = tuple[list[LiveOffer], list[DistributorFailure]]
"""A SKU's offers, and one failure per distributor that gave none."""


@dataclass(frozen=True)
class LivePlan:
    """Whom to ask, for what: everything of a `liveQuotes` selection but its SKUs."""

    distributors: list[Distributor]
    quantity: int
    currency: str
    reseller_code: str | None


async def live_plan(
    loaders: QuoteLoaders,
    viewer: Viewer,
    policy: HubPolicy,
    arguments: LiveQuoteArguments,
    *,
    reseller_code: str | None,
) -> LivePlan:
    """Check the arguments, choose the distributors, and have the fan-out's endpoints and settings loaded.

    Distributor codes the viewer may not ask are left out, as a storefront asks
    by name. With the endpoints loaded here, the calls go out as soon as the
    SKUs are known.
    """
    if arguments.quantity < 1:
        raise bad_input("`quantity` must be at least 1.")
    if arguments.distributor_codes is not None:
        check_list_size(arguments.distributor_codes, "distributorCodes", MAX_DISTRIBUTOR_CODES)
    wanted_currency = check_currency(arguments.currency, policy)
    distributors = await askable_live_distributors(loaders, viewer, arguments.distributor_codes)
    if distributors:
        await loaders.ready_to_fan_out([d.id for d in distributors])
    return LivePlan(distributors, arguments.quantity, wanted_currency, reseller_code)


def live_offers(loaders: QuoteLoaders, plan: LivePlan, skus: Sequence[str]) -> Awaitable[dict[str, Answer]]:
    """Every planned distributor's offer on each (SKU, quantity), and one failure per distributor that gave none.

    The keys are queued in the offers loader before this returns, all SKUs at
    once, so a page of products is one call per distributor, and the caller may
    send the batch at once (`loaders.offers.dispatch()`).
    """
    distributors, quantity, currency = plan.distributors, plan.quantity, plan.currency
    keys = [OfferKey(d.id, sku, quantity, currency, plan.reseller_code) for sku in skus for d in distributors]
    return _answers(plan, skus, loaders.offers.load_many(keys) if keys else None)


async def _answers(
    plan: LivePlan, skus: Sequence[str], loading: Awaitable[list[Outcome]] | None
) -> dict[str, Answer]:
    outcomes = await loading if loading is not None else []
    distributors, quantity, currency = plan.distributors, plan.quantity, plan.currency
    answers: dict[str, Answer] = {}
    position = 0
    for sku in skus:
        offers: list[LiveOffer] = []
        failures: list[DistributorFailure] = []
        for distributor in distributors:
            outcome = outcomes[position]
            position += 1
            if outcome.line is not None:
                offers.append(
                    LiveOffer(distributor, sku, quantity, currency, outcome.line, outcome.valid_until)
                )
            else:
                failures.append(DistributorFailure(distributor.code, outcome.failure or "gave no answer"))
        answers[sku] = (offers, failures)
    return answers
