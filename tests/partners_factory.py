"""Test data for the partner tests: resellers, distributors and their links, written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from datasources.partners.models import Distributor, Reseller, ResellerDistributor
from tests.harness import Hub


@dataclass
class PartnerWorld:
    """Codes to ids of what `partner_world` made."""

    resellers: dict[str, int] = field(default_factory=dict)
    distributors: dict[str, int] = field(default_factory=dict)


RESELLERS = {
    "R-APPROVED": "APPROVED",
    "R-SUSPENDED": "SUSPENDED",
    "R-PENDING": "PENDING",
    "R-OTHER": "APPROVED",
}
DISTRIBUTORS = {
    "D-ONE": ("APPROVED", "REST_JSON", "http://127.0.0.1:9/quote"),
    "D-TWO": ("APPROVED", "MANUAL", None),
    "D-HIDDEN": ("SUSPENDED", "MANUAL", None),
}
LINKS = [("R-APPROVED", "D-ONE"), ("R-SUSPENDED", "D-ONE"), ("R-OTHER", "D-TWO")]


async def partner_world(hub: Hub) -> PartnerWorld:
    """Four resellers (approved, suspended, pending, another approved), three distributors, links."""
    world = PartnerWorld()
    async with hub.resources.session_factory() as session, session.begin():
        for code, status in RESELLERS.items():
            session.add(
                Reseller(
                    code=code,
                    name=f"Reseller {code}",
                    status=status,
                    contact_email=f"{code.lower()}@r.example",
                )
            )
        for code, (status, transport, endpoint) in DISTRIBUTORS.items():
            session.add(
                Distributor(
                    code=code,
                    name=f"Distributor {code}",
                    status=status,
                    regions=["EU"],
                    quote_transport=transport,
                    quote_endpoint=endpoint,
                )
            )
        await session.flush()
        world.resellers = dict((await session.execute(select(Reseller.code, Reseller.id))).all())
        world.distributors = dict((await session.execute(select(Distributor.code, Distributor.id))).all())
        for reseller, distributor in LINKS:
            session.add(
                ResellerDistributor(
                    reseller_id=world.resellers[reseller], distributor_id=world.distributors[distributor]
                )
            )
    return world
