"""Tables and columns of reseller stores (issue 4).

Revision ID: 0003_stores
Revises: 0002_partners
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0003_stores"
down_revision: str | None = "0002_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
