"""Covering indexes for sales reports on orders and order lines (issue 12).

Revision ID: 0009_reports
Revises: 0008_marketing
Create Date: 2026-11-29 19:25:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_reports"
down_revision: str | None = "0008_marketing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_reports",
        "orders",
        ["placed_at", "status", "currency", "reseller_id", "store_id", "id", "total_minor", "discount_minor"],
    )
    op.create_index("ix_order_lines_reports", "order_lines", ["order_id", "sku", "quantity", "total_minor"])


def downgrade() -> None:
    op.drop_index("ix_order_lines_reports", table_name="order_lines")
    op.drop_index("ix_orders_reports", table_name="orders")
