"""Order history as the bulk writer takes it: checked orders with their lines, plain data, no database code.

The import's reader process builds them and sends them to the writer (pickled), so this module
imports nothing heavier than the standard library: the reader starts in tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("PLACED", "FULFILLED", "CANCELLED")
"""`datasources.orders.models.ORDER_STATUSES` (a test keeps them equal), without importing the models."""

IMPORTED_PAYMENT_METHOD = "IMPORTED"
UNKNOWN_COUNTRY = "ZZ"
"""ISO 3166-1 alpha-2 leaves ZZ to its users; CLDR and others use it for "unknown region"."""


@dataclass(slots=True, frozen=True)
class ShippingAddress:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str


IMPORTED_ADDRESS = ShippingAddress("(imported)", "", None, "", "", None, UNKNOWN_COUNTRY)
"""The previous system's files carry no address: an imported order says so, rather than inventing one."""


@dataclass(slots=True)
class HistoricalLine:
    sku: str
    name: str
    """The product's name in the store when the order was placed."""
    quantity: int
    unit_price_minor: int

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(slots=True)
class HistoricalOrder:
    """One checked order of the past with its lines, ready to write (no discounts: none are known)."""

    number: str
    store_id: int
    reseller_id: int
    currency: str
    customer_email: str
    placed_at: datetime
    """Timezone-aware."""
    status: str
    """PLACED, FULFILLED or CANCELLED."""
    lines: list[HistoricalLine]
    address: ShippingAddress = IMPORTED_ADDRESS
    payment_method: str = IMPORTED_PAYMENT_METHOD
    marketing_opt_in: bool = False
    placed_reason: str | None = None
    """The reason on the PLACED event ("imported" for an import)."""
    status_at: datetime | None = None
    """When a FULFILLED or CANCELLED order reached that status; `placed_at` when not known."""
    status_by: str | None = None
    status_reason: str | None = None

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    def history(self) -> list[tuple[str, datetime, str | None, str | None]]:
        """(status, at, by, reason) of each status the order reached, PLACED first."""
        placed = ("PLACED", self.placed_at, None, self.placed_reason)
        if self.status == "PLACED":
            return [placed]
        return [placed, (self.status, self.status_at or self.placed_at, self.status_by, self.status_reason)]
