"""list search: indexes for finding list entries by the start of a name, in any case

A seller's search on a list of a million entries is one range of an index: the name as
entered, lower-cased, within the list; and an account's current name, lower-cased. On
PostgreSQL the name key compares in code-point order ("C"), like SQLite's, so that a prefix is
one range of the index whatever the database's collation.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    lowered = sa.func.lower(sa.column("entered_name"))
    postgresql = op.get_bind().dialect.name == "postgresql"
    name_key = lowered.collate("C") if postgresql else lowered
    op.create_index(
        "ix_list_entries_list_pk_name_key",
        "list_entries",
        [sa.column("list_pk"), name_key, sa.column("account_pk")],
    )
    op.create_index(
        "ix_accounts_lower_account_name", "accounts", [sa.func.lower(sa.column("account_name"))]
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_lower_account_name", table_name="accounts")
    op.drop_index("ix_list_entries_list_pk_name_key", table_name="list_entries")
