"""customer groups: a seller's named groups of accounts, put on specified-user lists (R17)

A group's members are the entries of a list of its own (so that they are added, searched,
windowed, imported and exported exactly as R5's entries); `list_groups` puts a group on a
specified-user list. A list now has one owner of three kinds, and the history one book of
two: a product's or a group's.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OWNER = (
    "(CASE WHEN product_pk IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN specification_pk IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN group_pk IS NULL THEN 0 ELSE 1 END) = 1"
)
TWO_OWNERS = "(product_pk IS NULL) <> (specification_pk IS NULL)"


def upgrade() -> None:
    op.create_table(
        "customer_groups",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("seller_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_pk"], ["sellers.pk"], name=op.f("fk_customer_groups_seller_pk_sellers")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_customer_groups")),
        sa.UniqueConstraint("group_id", name=op.f("uq_customer_groups_group_id")),
        sa.UniqueConstraint("seller_pk", "name", name=op.f("uq_customer_groups_seller_pk_name")),
    )
    op.create_index("ix_customer_groups_seller_pk_pk", "customer_groups", ["seller_pk", "pk"])
    with op.batch_alter_table("lists") as batch:
        batch.add_column(sa.Column("group_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_lists_group_pk_customer_groups"), "customer_groups", ["group_pk"], ["pk"]
        )
        batch.create_unique_constraint(op.f("uq_lists_group_pk"), ["group_pk"])
        batch.drop_constraint(op.f("ck_lists_one_owner"), type_="check")
        batch.create_check_constraint(op.f("ck_lists_one_owner"), ONE_OWNER)
    op.create_table(
        "list_groups",
        sa.Column("list_pk", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_pk"],
            ["customer_groups.pk"],
            name=op.f("fk_list_groups_group_pk_customer_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["list_pk"], ["lists.pk"], name=op.f("fk_list_groups_list_pk_lists")
        ),
        sa.PrimaryKeyConstraint("list_pk", "group_pk", name=op.f("pk_list_groups")),
    )
    op.create_index("ix_list_groups_group_pk", "list_groups", ["group_pk"])
    with op.batch_alter_table("history") as batch:
        batch.alter_column("product_pk", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("group_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_history_group_pk_customer_groups"), "customer_groups", ["group_pk"], ["pk"]
        )
        batch.create_index("ix_history_group_pk_pk", ["group_pk", "pk"])
        batch.create_check_constraint(
            op.f("ck_history_one_book"), "(product_pk IS NULL) <> (group_pk IS NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM history WHERE group_pk IS NOT NULL")
    with op.batch_alter_table("history") as batch:
        batch.drop_constraint(op.f("ck_history_one_book"), type_="check")
        batch.drop_index("ix_history_group_pk_pk")
        batch.drop_constraint(op.f("fk_history_group_pk_customer_groups"), type_="foreignkey")
        batch.drop_column("group_pk")
        batch.alter_column("product_pk", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_list_groups_group_pk", table_name="list_groups")
    op.drop_table("list_groups")
    op.execute(
        "DELETE FROM list_entries "
        "WHERE list_pk IN (SELECT pk FROM lists WHERE group_pk IS NOT NULL)"
    )
    op.execute("DELETE FROM lists WHERE group_pk IS NOT NULL")
    with op.batch_alter_table("lists") as batch:
        batch.drop_constraint(op.f("ck_lists_one_owner"), type_="check")
        batch.create_check_constraint(op.f("ck_lists_one_owner"), TWO_OWNERS)
        batch.drop_constraint(op.f("uq_lists_group_pk"), type_="unique")
        batch.drop_constraint(op.f("fk_lists_group_pk_customer_groups"), type_="foreignkey")
        batch.drop_column("group_pk")
    op.drop_index("ix_customer_groups_seller_pk_pk", table_name="customer_groups")
    op.drop_table("customer_groups")
