"""The daily sales rollup (sales_daily, sales_daily_products), filled from the orders already in the hub.

Revision ID: 0010_sales_rollup
Revises: 0009_reports
Create Date: 2026-11-29 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_sales_rollup"
down_revision: str | None = "0009_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "reseller_id", sa.Integer(), sa.ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("currency", sa.String(3), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "sales_daily",
        *_key_columns(),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "sales_daily_products",
        *_key_columns(),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
    )
    # Backfill: the counted orders already in the hub, as the writers would have added them
    # (a frozen copy of datasources/reports/rollup.py's SQL, so later edits there do not change history).
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(timezone('UTC', o.placed_at) AS DATE)"
    else:
        day = "substr(o.placed_at, 1, 10)"
    op.execute(
        f"""INSERT INTO sales_daily (day, store_id, reseller_id, currency, orders, units, revenue_minor,
                                     discount_minor)
            SELECT {day}, o.store_id, o.reseller_id, o.currency, count(*), coalesce(sum(l.units), 0),
                   sum(o.total_minor), sum(o.discount_minor)
            FROM orders o
            LEFT JOIN (SELECT order_id, sum(quantity) AS units FROM order_lines GROUP BY order_id) l
                   ON l.order_id = o.id
            WHERE o.status != 'CANCELLED'
            GROUP BY 1, 2, 3, 4"""
    )
    op.execute(
        f"""INSERT INTO sales_daily_products (day, store_id, reseller_id, currency, sku, units, revenue_minor)
            SELECT {day}, o.store_id, o.reseller_id, o.currency, ol.sku, sum(ol.quantity), sum(ol.total_minor)
            FROM order_lines ol JOIN orders o ON o.id = ol.order_id
            WHERE o.status != 'CANCELLED'
            GROUP BY 1, 2, 3, 4, 5"""
    )


def downgrade() -> None:
    op.drop_table("sales_daily_products")
    op.drop_table("sales_daily")
