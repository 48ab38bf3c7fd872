"""lists: one list table and one entries table for product and specification lists alike

A list is owned by a product or by a specification (exactly one); its entries are kept in one
table, so that every list operation is written once. Every existing product and
specification gets its list, and the entries of the two old tables move over unchanged.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = {"product": "product_specified_users", "specification": "specification_specified_users"}


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("product_pk", sa.Integer(), nullable=True),
        sa.Column("specification_pk", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(product_pk IS NULL) <> (specification_pk IS NULL)",
            name=op.f("ck_lists_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["product_pk"], ["products.pk"], name=op.f("fk_lists_product_pk_products")
        ),
        sa.ForeignKeyConstraint(
            ["specification_pk"],
            ["specifications.pk"],
            name=op.f("fk_lists_specification_pk_specifications"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_lists")),
        sa.UniqueConstraint("product_pk", name=op.f("uq_lists_product_pk")),
        sa.UniqueConstraint("specification_pk", name=op.f("uq_lists_specification_pk")),
    )
    op.create_table(
        "list_entries",
        sa.Column("list_pk", sa.Integer(), nullable=False),
        sa.Column("account_pk", sa.Integer(), nullable=False),
        sa.Column("entered_name", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_pk"], ["accounts.pk"], name=op.f("fk_list_entries_account_pk_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["list_pk"], ["lists.pk"], name=op.f("fk_list_entries_list_pk_lists")
        ),
        sa.PrimaryKeyConstraint("list_pk", "account_pk", name=op.f("pk_list_entries")),
    )
    op.create_index("ix_list_entries_account_pk", "list_entries", ["account_pk"], unique=False)
    op.execute("INSERT INTO lists (product_pk) SELECT pk FROM products ORDER BY pk")
    op.execute("INSERT INTO lists (specification_pk) SELECT pk FROM specifications ORDER BY pk")
    for owner, old in _OLD.items():
        op.execute(
            "INSERT INTO list_entries (list_pk, account_pk, entered_name, added_at) "  # noqa: S608 (fixed names)
            f"SELECT l.pk, u.account_pk, u.entered_name, u.added_at FROM {old} u "
            f"JOIN lists l ON l.{owner}_pk = u.{owner}_pk"
        )
        op.drop_table(old)


def downgrade() -> None:
    for owner, old in _OLD.items():
        op.create_table(
            old,
            sa.Column(f"{owner}_pk", sa.Integer(), nullable=False),
            sa.Column("account_pk", sa.Integer(), nullable=False),
            sa.Column("entered_name", sa.String(length=32), nullable=False),
            sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["account_pk"], ["accounts.pk"], name=op.f(f"fk_{old}_account_pk_accounts")
            ),
            sa.ForeignKeyConstraint(
                [f"{owner}_pk"],
                [f"{owner}s.pk"],
                name=op.f(f"fk_{old}_{owner}_pk_{owner}s"),
            ),
            sa.PrimaryKeyConstraint(f"{owner}_pk", "account_pk", name=op.f(f"pk_{old}")),
        )
        op.create_index(f"ix_{old}_account_pk", old, ["account_pk"], unique=False)
        op.execute(
            f"INSERT INTO {old} ({owner}_pk, account_pk, entered_name, added_at) "  # noqa: S608
            f"SELECT l.{owner}_pk, e.account_pk, e.entered_name, e.added_at "
            f"FROM list_entries e JOIN lists l ON l.pk = e.list_pk "
            f"WHERE l.{owner}_pk IS NOT NULL"
        )
    op.drop_index("ix_list_entries_account_pk", table_name="list_entries")
    op.drop_table("list_entries")
    op.drop_table("lists")
