"""The hub-wide monthly per-product sales rollup (sales_monthly_products), filled from the orders already in
the hub.

Revision ID: 0011_sales_monthly_products
Revises: 0010_sales_rollup
Create Date: 2026-11-29 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sales_monthly_products"
down_revision: str | None = "0010_sales_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_monthly_products",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
    )
    # Backfill: the counted orders already in the hub, as the writers would have added them
    # (a frozen copy of datasources/reports/rollup.py's SQL, so later edits there do not change history).
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', timezone('UTC', o.placed_at)) AS DATE)"
    else:
        month = "substr(o.placed_at, 1, 7) || '-01'"
    op.execute(
        f"""INSERT INTO sales_monthly_products (month, currency, sku, units, revenue_minor)
            SELECT {month}, o.currency, ol.sku, sum(ol.quantity), sum(ol.total_minor)
            FROM order_lines ol JOIN orders o ON o.id = ol.order_id
            WHERE o.status != 'CANCELLED'
            GROUP BY 1, 2, 3"""
    )


def downgrade() -> None:
    op.drop_table("sales_monthly_products")
