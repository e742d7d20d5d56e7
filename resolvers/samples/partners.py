"""The sample partners: hub staff, three distributors (one per transport) and five resellers in various states.

The GRAPHQL_SUBGRAPH and REST_JSON distributors point at the sample
distributor services (`hub sample-distributor` serves them on 127.0.0.1:9101
and :9102); they are written straight to the database, so seeding needs no
live endpoint. Every sample user's sign-in is printed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from datasources.partners.models import (
    Distributor,
    Reseller,
    ResellerDistributor,
    ResellerStatusChange,
)
from resolvers.users import create_user

STAFF = [
    ("admin@hub.example", "admin-sample-pw", "SITE_ADMIN"),
    ("channel@hub.example", "channel-sample-pw", "CHANNEL_MANAGER"),
    ("catalog@hub.example", "catalog-sample-pw", "CATALOG_MANAGER"),
]

# code: (name, regions, transport, endpoint, rep e-mail)
DISTRIBUTORS = {
    "northwind": (
        "Northwind Supply",
        ["EU", "UK"],
        "GRAPHQL_SUBGRAPH",
        "http://127.0.0.1:9101/graphql",
        "rep@northwind.example",
    ),
    "eastline": (
        "Eastline Wholesale",
        ["EU"],
        "REST_JSON",
        "http://127.0.0.1:9102/quote",
        "rep@eastline.example",
    ),
    "southgate": ("Southgate Trading", ["US"], "MANUAL", None, "rep@southgate.example"),
}

# code: (name, region, status history after registration (status, reason), connected distributors)
RESELLERS: dict[str, tuple[str, str, list[tuple[str, str | None]], list[str]]] = {
    "brightbuild": (
        "BrightBuild Hardware",
        "EU",
        [("APPROVED", None)],
        ["northwind", "eastline", "southgate"],
    ),
    "oakhouse": ("Oakhouse Tools", "UK", [("APPROVED", None)], ["northwind"]),
    "tinkertown": ("Tinker Town", "US", [], []),
    "redline": (
        "Redline DIY",
        "EU",
        [("APPROVED", None), ("SUSPENDED", "Invoices overdue for 90 days")],
        ["eastline"],
    ),
    "lowcost": ("LowCost Bits", "US", [("REJECTED", "No trade registration given")], []),
}
SAMPLE_CHANNEL_MANAGER = "channel@hub.example"


def _password_of(email: str) -> str:
    return email.split("@", 1)[0].replace(".", "-") + "-" + email.split("@", 1)[1].split(".", 1)[0] + "-pw"


async def _user(session: AsyncSession, report, email: str, password: str, role: str, **partner: int) -> None:  # type: ignore[no-untyped-def]
    errors = await create_user(session, email, password, [role], **partner)
    if errors:
        raise RuntimeError(f"sample user {email}: {errors.errors}")
    report(f"  {role:<16} {email:<28} password {password}")


async def seed(session_factory: async_sessionmaker[AsyncSession], report) -> None:  # type: ignore[no-untyped-def]
    """Write the sample partners in one transaction and print each sample sign-in."""
    report("sample sign-ins:")
    async with session_factory() as session, session.begin():
        for email, password, role in STAFF:
            await _user(session, report, email, password, role)
        distributor_ids: dict[str, int] = {}
        for code, (name, regions, transport, endpoint, rep) in DISTRIBUTORS.items():
            distributor = Distributor(
                code=code,
                name=name,
                status="APPROVED",
                regions=regions,
                quote_transport=transport,
                quote_endpoint=endpoint,
            )
            session.add(distributor)
            await session.flush()
            distributor_ids[code] = distributor.id
            await _user(
                session, report, rep, _password_of(rep), "DISTRIBUTOR_REP", distributor_id=distributor.id
            )
        for code, (name, region, history, links) in RESELLERS.items():
            email = f"owner@{code}.example"
            status = history[-1][0] if history else "PENDING"
            reseller = Reseller(code=code, name=name, status=status, region=region, contact_email=email)
            session.add(reseller)
            await session.flush()
            session.add(
                ResellerStatusChange(
                    reseller_id=reseller.id,
                    from_status=None,
                    to_status="PENDING",
                    changed_by_email=email,
                    reason="registered",
                )
            )
            previous = "PENDING"
            for to_status, reason in history:
                session.add(
                    ResellerStatusChange(
                        reseller_id=reseller.id,
                        from_status=previous,
                        to_status=to_status,
                        changed_by_email=SAMPLE_CHANNEL_MANAGER,
                        reason=reason,
                    )
                )
                previous = to_status
            for distributor in links:
                session.add(
                    ResellerDistributor(reseller_id=reseller.id, distributor_id=distributor_ids[distributor])
                )
            await _user(
                session, report, email, _password_of(email), "RESELLER_ADMIN", reseller_id=reseller.id
            )
