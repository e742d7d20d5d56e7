"""Tables and columns of quotes (issue 5).

Revision ID: 0004_quotes
Revises: 0003_stores
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0004_quotes"
down_revision: str | None = "0003_stores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
