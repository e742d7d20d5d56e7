"""The app's lifespan: what start-up made is kept out of the cyclic GC's passes while the app serves."""

from __future__ import annotations

import gc

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
