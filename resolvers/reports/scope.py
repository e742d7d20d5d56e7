"""Whose results a report covers: the reseller and store it names, checked against the viewer."""

from __future__ import annotations

from dataclasses import dataclass

from datasources.partners.loaders import PartnerLoaders
from datasources.partners.models import Reseller
from datasources.stores.loaders import StoreLoaders
from datasources.stores.models import Store
from resolvers.access import Viewer, can_report_on_reseller
from resolvers.errors import bad_input, forbidden


@dataclass(frozen=True)
class Scope:
    """The orders a report covers: one store, one reseller's stores, or (staff only) every store."""

    reseller: Reseller | None = None
    store: Store | None = None

    @property
    def reseller_id(self) -> int | None:
        return self.reseller.id if self.reseller else None

    @property
    def store_id(self) -> int | None:
        return self.store.id if self.store else None

    def title(self) -> str:
        if self.store is not None:
            return self.store.name
        if self.reseller is not None:
            return self.reseller.name
        return "All resellers"


async def resolve_scope(
    partners: PartnerLoaders,
    stores: StoreLoaders,
    viewer: Viewer,
    reseller_code: str | None,
    store_slug: str | None = None,
) -> Scope:
    """The scope a viewer asked for, or FORBIDDEN / BAD_USER_INPUT.

    Report staff may name any reseller and store, or none (every store). A RESELLER_ADMIN naming no
    reseller means its own; naming another reseller, or another reseller's store, is FORBIDDEN (an
    unknown code too: it is not theirs, and the answer must not tell which codes exist).
    """
    reseller: Reseller | None = None
    if reseller_code is not None:
        reseller = await partners.reseller_by_code.load(reseller_code)
        if reseller is None:
            if not can_report_on_reseller(viewer, None):
                raise forbidden("You may only see the results of your own reseller.")
            raise bad_input(f"No reseller has the code {reseller_code}.")
    elif not can_report_on_reseller(viewer, None):
        if viewer.reseller_id is None:
            raise forbidden("Only report staff and a reseller's users see sales results.")
        reseller = await partners.reseller_by_id.load(viewer.reseller_id)
    if reseller is not None and not can_report_on_reseller(viewer, reseller.id):
        raise forbidden("You may only see the results of your own reseller.")
    store: Store | None = None
    if store_slug is not None:
        store = await stores.store_by_slug.load(store_slug)
        if store is None:
            raise bad_input(f"No store has the slug {store_slug}.")
        if not can_report_on_reseller(viewer, store.reseller_id):
            raise forbidden("You may only see the results of your own stores.")
        if reseller is not None and store.reseller_id != reseller.id:
            raise bad_input(f"The store {store_slug} is not a store of the reseller {reseller.code}.")
    return Scope(reseller=reseller, store=store)
