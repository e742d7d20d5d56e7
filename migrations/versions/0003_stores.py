"""Tables and columns of reseller stores (issue 4).

Revision ID: 0003_stores
Revises: 0002_partners
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_stores"
down_revision: str | None = "0002_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_stores_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("slug", name=op.f("uq_stores_slug")),
    )
    op.create_index(op.f("ix_stores_reseller_id"), "stores", ["reseller_id"], unique=False)

    op.create_table(
        "store_texts",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_store_texts_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("store_id", "key", name=op.f("pk_store_texts")),
    )

    op.create_table(
        "store_assortment_rules",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_assortment_rules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "mode", "scope", "target_id", name=op.f("pk_store_assortment_rules")
        ),
    )

    op.create_table(
        "store_price_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("markup_bp", sa.Integer(), nullable=True),
        sa.Column("fixed_minor", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_price_rules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_price_rules")),
    )
    op.create_index(
        "ix_store_price_rules_store_scope_target",
        "store_price_rules",
        ["store_id", "scope", "target_id"],
        unique=False,
    )

    op.create_table(
        "store_product_contents",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_store_product_contents_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_product_contents_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "product_id", name=op.f("pk_store_product_contents")),
    )
    op.create_index(
        op.f("ix_store_product_contents_product_id"), "store_product_contents", ["product_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_store_product_contents_product_id"), table_name="store_product_contents")
    op.drop_table("store_product_contents")
    op.drop_index("ix_store_price_rules_store_scope_target", table_name="store_price_rules")
    op.drop_table("store_price_rules")
    op.drop_table("store_assortment_rules")
    op.drop_table("store_texts")
    op.drop_index(op.f("ix_stores_reseller_id"), table_name="stores")
    op.drop_table("stores")
