"""Tables and columns of quotes (issue 5).

Revision ID: 0004_quotes
Revises: 0003_stores
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_quotes"
down_revision: str | None = "0003_stores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("accepted_quote_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_quote_requests_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quote_requests_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_requests")),
    )
    op.create_index(op.f("ix_quote_requests_reseller_id"), "quote_requests", ["reseller_id"])
    op.create_index("ix_quote_requests_status_id", "quote_requests", ["status", "id"])

    op.create_table(
        "quote_request_items",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["quote_requests.id"],
            name=op.f("fk_quote_request_items_request_id_quote_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "position", name=op.f("pk_quote_request_items")),
    )

    op.create_table(
        "quote_request_distributors",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["quote_requests.id"],
            name=op.f("fk_quote_request_distributors_request_id_quote_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_quote_request_distributors_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "distributor_id", name=op.f("pk_quote_request_distributors")),
    )
    op.create_index(
        op.f("ix_quote_request_distributors_distributor_id"), "quote_request_distributors", ["distributor_id"]
    )

    op.create_table(
        "distributor_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["quote_requests.id"],
            name=op.f("fk_distributor_quotes_request_id_quote_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_distributor_quotes_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distributor_quotes")),
    )
    op.create_index(op.f("ix_distributor_quotes_distributor_id"), "distributor_quotes", ["distributor_id"])
    op.create_index(
        "uq_distributor_quotes_request_distributor",
        "distributor_quotes",
        ["request_id", "distributor_id"],
        unique=True,
    )

    op.create_table(
        "distributor_quote_lines",
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("available_quantity", sa.Integer(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["distributor_quotes.id"],
            name=op.f("fk_distributor_quote_lines_quote_id_distributor_quotes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quote_id", "position", name=op.f("pk_distributor_quote_lines")),
    )


def downgrade() -> None:
    op.drop_table("distributor_quote_lines")
    op.drop_index("uq_distributor_quotes_request_distributor", table_name="distributor_quotes")
    op.drop_index(op.f("ix_distributor_quotes_distributor_id"), table_name="distributor_quotes")
    op.drop_table("distributor_quotes")
    op.drop_index(
        op.f("ix_quote_request_distributors_distributor_id"), table_name="quote_request_distributors"
    )
    op.drop_table("quote_request_distributors")
    op.drop_table("quote_request_items")
    op.drop_index("ix_quote_requests_status_id", table_name="quote_requests")
    op.drop_index(op.f("ix_quote_requests_reseller_id"), table_name="quote_requests")
    op.drop_table("quote_requests")
