"""Tables and columns of partners (issue 3).

The partner tables (users, resellers, reseller_status_changes, distributors,
distributor_credentials, reseller_distributors, hub_policies) came with
0001_initial, and issue 3 needed no change to them: this revision is empty, and
`alembic check` (tests/test_schema.py) proves the models agree with the chain.

Revision ID: 0002_partners
Revises: 0001_initial
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0002_partners"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
