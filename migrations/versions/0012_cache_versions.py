"""The public response cache's version counters (cache_versions), one row per scope, bumped by writes.

Revision ID: 0012_cache_versions
Revises: 0011_sales_monthly_products
Create Date: 2026-11-29 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_cache_versions"
down_revision: str | None = "0011_sales_monthly_products"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No rows: a scope never written reads as version 0 (datasources/cache_versions.py).
    op.create_table(
        "cache_versions",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cache_versions")
