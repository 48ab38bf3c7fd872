"""change feed and webhooks (R18)

`change_feed`: what each decision-affecting commit changed, as the feed and webhooks give it,
written in the commit's own transaction under its change-log revision. `feed_marks`: one row,
how far window boundaries have been published (R16 openings and closings are changes when
their moment passes) and through which revision the feed was pruned. `webhooks` and
`webhook_deliveries`: operators' endpoints, each following the feed with its own cursor, and
the log of every attempt.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_feed",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("seller_pk", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("specification_id", sa.String(length=40), nullable=True),
        sa.Column("group_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Text(), nullable=True),
        sa.Column("revoked", sa.Text(), nullable=True),
        sa.Column("granted_count", sa.Integer(), nullable=False),
        sa.Column("revoked_count", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_change_feed")),
    )
    op.create_index("ix_change_feed_revision_pk", "change_feed", ["revision", "pk"])
    op.create_index(
        "ix_change_feed_seller_pk_revision_pk", "change_feed", ["seller_pk", "revision", "pk"]
    )
    op.create_index("ix_change_feed_at", "change_feed", ["at"])
    op.create_table(
        "feed_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("windows_published_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_marks")),
    )
    op.create_table(
        "webhooks",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_revision", sa.BigInteger(), nullable=False),
        sa.Column("after_pk", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=40), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_webhooks_webhook_id")),
    )
    op.create_index("ix_webhooks_next_try_at", "webhooks", ["next_try_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("webhook_pk", sa.Integer(), nullable=False),
        sa.Column("feed_pk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_pk"],
            ["webhooks.pk"],
            name=op.f("fk_webhook_deliveries_webhook_pk_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webhook_pk", "feed_pk", name=op.f("uq_webhook_deliveries_webhook_pk_feed_pk")
        ),
        sa.CheckConstraint(
            "status in ('retrying', 'delivered')", name=op.f("ck_webhook_deliveries_status")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_pk_pk", "webhook_deliveries", ["webhook_pk", "pk"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("feed_marks")
    op.drop_table("change_feed")
