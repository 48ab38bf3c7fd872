"""index change log: the decision index's revision counter and per-revision changes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_revision")),
    )
    op.create_table(
        "index_changes",
        sa.Column("revision", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_index_changes")),
    )
    op.execute("INSERT INTO index_revision (id, revision) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("index_changes")
    op.drop_table("index_revision")
