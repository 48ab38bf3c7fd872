"""entry windows: when a specified-user entry counts (R16)

Two nullable moments on every list entry; an entry without them counts always, as before.
Partial indexes on each serve the windows that open or close in a span of time.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both stores: a list of a million entries is not copied.
    for column in ("valid_from", "valid_until"):
        op.add_column("list_entries", sa.Column(column, sa.DateTime(timezone=True)))
    for column in ("valid_from", "valid_until"):
        present = sa.column(column).isnot(None)
        op.create_index(
            f"ix_list_entries_{column}",
            "list_entries",
            [column],
            sqlite_where=present,
            postgresql_where=present,
        )


def downgrade() -> None:
    op.drop_index("ix_list_entries_valid_until", table_name="list_entries")
    op.drop_index("ix_list_entries_valid_from", table_name="list_entries")
    # SQLite drops a column in place (3.35+) once no index names it; a batch copy would lose
    # the expression index of list search.
    op.drop_column("list_entries", "valid_until")
    op.drop_column("list_entries", "valid_from")
