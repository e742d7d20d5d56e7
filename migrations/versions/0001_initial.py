"""initial: catalog and partners

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27 17:24:16.196500
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The trigram indexes this revision made (0005 and 0006 replace them); frozen here, as they were.
PG_SEARCH_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
SQLITE_TRIGRAM_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS product_search USING fts5("
    "search_text, content='products', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS products_search_ai AFTER INSERT ON products BEGIN "
    "INSERT INTO product_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS products_search_ad AFTER DELETE ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS products_search_au AFTER UPDATE OF search_text ON products BEGIN "
    "INSERT INTO product_search(product_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO product_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_SEARCH_EXTENSION)
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_categories_code")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_categories_path"), ["path"], unique=False)

    op.create_table(
        "distributors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("quote_transport", sa.String(length=32), nullable=False),
        sa.Column("quote_endpoint", sa.String(length=2000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distributors")),
        sa.UniqueConstraint("code", name=op.f("uq_distributors_code")),
    )
    with op.batch_alter_table("distributors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distributors_status"), ["status"], unique=False)

    op.create_table(
        "hub_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_approval", sa.String(length=16), nullable=False),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("currencies", sa.JSON(), nullable=False),
        sa.Column("quote_validity_hours", sa.Integer(), nullable=False),
        sa.Column("live_quote_timeout_ms", sa.Integer(), nullable=False),
        sa.Column("live_quote_cache_seconds", sa.Integer(), nullable=False),
        sa.Column("payment_methods", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_policies")),
    )
    op.create_table(
        "product_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_groups")),
        sa.UniqueConstraint("code", name=op.f("uq_product_groups_code")),
    )
    op.create_table(
        "resellers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resellers")),
        sa.UniqueConstraint("code", name=op.f("uq_resellers_code")),
    )
    with op.batch_alter_table("resellers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resellers_status"), ["status"], unique=False)

    op.create_table(
        "distributor_credentials",
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("header_name", sa.String(length=100), nullable=False),
        sa.Column("header_value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_distributor_credentials_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("distributor_id", name=op.f("pk_distributor_credentials")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_category_sku", ["category_id", "sku"], unique=False)
        if dialect == "postgresql":
            batch_op.create_index(
                "ix_products_search_trgm",
                ["search_text"],
                unique=False,
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )

    op.create_table(
        "reseller_distributors",
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_reseller_distributors_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_reseller_distributors_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reseller_id", "distributor_id", name=op.f("pk_reseller_distributors")),
    )
    with op.batch_alter_table("reseller_distributors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reseller_distributors_distributor_id"), ["distributor_id"], unique=False
        )

    op.create_table(
        "reseller_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("changed_by_email", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_reseller_status_changes_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reseller_status_changes")),
    )
    with op.batch_alter_table("reseller_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reseller_status_changes_reseller_id"), ["reseller_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=True),
        sa.Column("distributor_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"], ["distributors.id"], name=op.f("fk_users_distributor_id_distributors")
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["resellers.id"], name=op.f("fk_users_reseller_id_resellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_distributor_id"), ["distributor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_reseller_id"), ["reseller_id"], unique=False)

    op.create_table(
        "product_attributes",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_attributes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "position", name=op.f("pk_product_attributes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "product_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["product_groups.id"],
            name=op.f("fk_product_group_members_group_id_product_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_group_members_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "product_id", name=op.f("pk_product_group_members")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("product_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_group_members_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_prices",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_prices_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_product_prices")),
        sqlite_with_rowid=False,
    )
    if dialect == "sqlite":
        for statement in SQLITE_TRIGRAM_SEARCH_DDL:
            op.execute(statement)
    # ### end Alembic commands ###


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS product_search")
    op.drop_table("product_prices")
    with op.batch_alter_table("product_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_group_members_product_id"))

    op.drop_table("product_group_members")
    op.drop_table("product_attributes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_reseller_id"))
        batch_op.drop_index(batch_op.f("ix_users_distributor_id"))

    op.drop_table("users")
    with op.batch_alter_table("reseller_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reseller_status_changes_reseller_id"))

    op.drop_table("reseller_status_changes")
    with op.batch_alter_table("reseller_distributors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reseller_distributors_distributor_id"))

    op.drop_table("reseller_distributors")
    with op.batch_alter_table("products", schema=None) as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_index(
                "ix_products_search_trgm",
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )
        batch_op.drop_index("ix_products_category_sku")

    op.drop_table("products")
    op.drop_table("distributor_credentials")
    with op.batch_alter_table("resellers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resellers_status"))

    op.drop_table("resellers")
    op.drop_table("product_groups")
    op.drop_table("hub_policies")
    with op.batch_alter_table("distributors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distributors_status"))

    op.drop_table("distributors")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_path"))
        batch_op.drop_index(batch_op.f("ix_categories_parent_id"))

    op.drop_table("categories")
    # ### end Alembic commands ###
