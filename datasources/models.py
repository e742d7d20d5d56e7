"""Every model of the hub, imported so that Base.metadata is complete (Alembic, tests)."""

from datasources.cache_versions import CacheVersion  # noqa: F401
from datasources.catalog.models import *  # noqa: F403
from datasources.db import Base
from datasources.marketing.models import *  # noqa: F403
from datasources.orders.models import *  # noqa: F403
from datasources.outbox.models import *  # noqa: F403
from datasources.partners.models import *  # noqa: F403
from datasources.plaza.models import *  # noqa: F403
from datasources.quotes.models import *  # noqa: F403
from datasources.reports.models import *  # noqa: F403
from datasources.stores.models import *  # noqa: F403

metadata = Base.metadata
