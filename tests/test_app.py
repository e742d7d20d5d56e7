"""The app's lifespan: what start-up made is kept out of the cyclic GC's passes while the app serves."""

from __future__ import annotations

import gc
from typing import Any, cast

from hub_graphql.settings import Settings
from tests.harness import open_hub


async def test_start_up_objects_are_frozen_while_the_app_serves_and_released_after(
    settings: Settings,
) -> None:
    assert gc.get_freeze_count() == 0
    async with open_hub(settings) as hub:
        # the schema, the models and the engine: far more than a request makes
        assert gc.get_freeze_count() > 50_000
        assert (await hub.query("{ __typename }")) == {"__typename": "Query"}
    assert gc.get_freeze_count() == 0


async def test_a_request_makes_only_the_loader_groups_it_uses() -> None:
    # Making every group's loaders for each request cost about 0.2 ms, the floor of `{ __typename }`.
    from hub_graphql.context import Loaders

    loaders = Loaders.create(db=cast(Any, None), resources=cast(Any, None))  # neither is touched until a load
    made = lambda: {name for name in Loaders.GROUPS if name in vars(loaders)}  # noqa: E731
    assert made() == set()
    by_slug = loaders.stores.store_by_slug
    assert loaders.stores.store_by_slug is by_slug  # one group, one set of loaders, per request
    assert made() == {"stores"}
    loaders.clear_all()  # clears what was made, makes nothing
    assert made() == {"stores"}
