"""`QuoteRequest.comparison`: for each line every distributor's offer side by side, cheapest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from datasources.quotes.models import DistributorQuote, DistributorQuoteLine, QuoteRequestItem
from resolvers.quotes.reads import quote_status

COMPARABLE = ("OFFERED", "ACCEPTED")
"""A line can be bought from a quote in one of these (effective) statuses."""


@dataclass(frozen=True)
class ComparedOffer:
    quote: DistributorQuote
    line: DistributorQuoteLine | None
    """None: the distributor's quote has no line for this item."""
    quote_status: str

    @property
    def buyable(self) -> bool:
        return (
            self.quote_status in COMPARABLE
            and self.line is not None
            and self.line.available
            and self.line.unit_price_minor is not None
        )

    @property
    def line_total_minor(self) -> int | None:
        if not self.buyable or self.line is None or self.line.unit_price_minor is None:
            return None
        return self.line.unit_price_minor * self.line.quantity


@dataclass(frozen=True)
class ComparedLine:
    sku: str
    quantity: int
    offers: list[ComparedOffer]

    @property
    def best(self) -> ComparedOffer | None:
        return self.offers[0] if self.offers and self.offers[0].buyable else None


@dataclass(frozen=True)
class Comparison:
    currency: str
    lines: list[ComparedLine]

    @property
    def best_total_minor(self) -> int | None:
        """Each line bought where it is cheapest, over the lines some distributor offers."""
        totals = [line.best.line_total_minor for line in self.lines if line.best is not None]
        return sum(t for t in totals if t is not None) if totals else None

    @property
    def lines_without_offer(self) -> int:
        return sum(1 for line in self.lines if line.best is None)


def compare(
    currency: str,
    items: Sequence[QuoteRequestItem],
    quotes: Sequence[DistributorQuote],
    lines_by_quote: dict[int, Sequence[DistributorQuoteLine]],
    now: datetime,
) -> Comparison:
    """Offers per item: buyable ones by unit price (then lead time), the others after them."""
    by_quote = {
        q.id: {(line.sku, line.quantity): line for line in lines_by_quote.get(q.id, ())} for q in quotes
    }
    statuses = {q.id: quote_status(q, now) for q in quotes}
    compared: list[ComparedLine] = []
    for item in items:
        offers = [
            ComparedOffer(
                quote=q, line=by_quote[q.id].get((item.sku, item.quantity)), quote_status=statuses[q.id]
            )
            for q in quotes
        ]
        offers.sort(key=_rank)
        compared.append(ComparedLine(sku=item.sku, quantity=item.quantity, offers=offers))
    return Comparison(currency=currency, lines=compared)


def _rank(offer: ComparedOffer) -> tuple[int, int, int, int]:
    if offer.buyable and offer.line is not None and offer.line.unit_price_minor is not None:
        lead = offer.line.lead_time_days if offer.line.lead_time_days is not None else 1 << 30
        return (0, offer.line.unit_price_minor, lead, offer.quote.distributor_id)
    return (1, 0, 0, offer.quote.distributor_id)
