"""The database schema (SQLAlchemy 2). Table classes never leave the storage package.

Every row has an integer surrogate key (`pk`) that joins and indexes use; the public string
IDs of SPEC.md are unique columns beside them. Each index below names the lookup it serves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    exists,
    or_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import func

from offerscope.domain.decision import OrderStatus, counts_as_purchase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC on every store: SQLite keeps no zone, so one is put back on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AccountRow(Base):
    __tablename__ = "accounts"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32), unique=True)
    # Unique: a cloud account name names one account; lookups by name serve R5's check.
    account_name: Mapped[str] = mapped_column(String(32), unique=True)
    account_type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("account_type in ('enterprise', 'individual')", name="account_type"),
        # A list's search by an account's current name, in any case (`storage.lists`).
        Index("ix_accounts_lower_account_name", func.lower(account_name)),
    )


class SellerRow(Base):
    __tablename__ = "sellers"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProductRow(Base):
    __tablename__ = "products"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_pk: Mapped[int] = mapped_column(ForeignKey("sellers.pk"))
    name: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(16))
    # Bumped by every change to the product's target customers (ETag, and the row lock that
    # orders share with seller writes on PostgreSQL).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        # A seller's product table, paged in creation order.
        Index("ix_products_seller_pk_pk", "seller_pk", "pk"),
    )


class SpecificationRow(Base):
    __tablename__ = "specifications"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    specification_id: Mapped[str] = mapped_column(String(40), unique=True)
    product_pk: Mapped[int] = mapped_column(ForeignKey("products.pk"))
    name: Mapped[str] = mapped_column(String(100))
    setting: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_specifications_product_pk_pk", "product_pk", "pk"),)


# A list has exactly one owner: a product, a specification or a customer group.
ONE_OWNER = (
    "(CASE WHEN product_pk IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN specification_pk IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN group_pk IS NULL THEN 0 ELSE 1 END) = 1"
)


class CustomerGroupRow(Base):
    """R17: a seller's named group of accounts; its members are the entries of its own list."""

    __tablename__ = "customer_groups"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(40), unique=True)
    seller_pk: Mapped[int] = mapped_column(ForeignKey("sellers.pk"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        # A seller's group names are unique; its groups are paged in creation order.
        UniqueConstraint("seller_pk", "name"),
        Index("ix_customer_groups_seller_pk_pk", "seller_pk", "pk"),
    )


class ListRow(Base):
    """A list of accounts: a product's or a specification's specified users (R5), or a
    customer group's members (R17); exactly one owner.

    Every product and every specification has its list from creation on, whether or not its
    setting makes the list count (R5: an inactive list is kept).
    """

    __tablename__ = "lists"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_pk: Mapped[int | None] = mapped_column(
        ForeignKey("products.pk"), unique=True, nullable=True
    )
    specification_pk: Mapped[int | None] = mapped_column(
        ForeignKey("specifications.pk"), unique=True, nullable=True
    )
    group_pk: Mapped[int | None] = mapped_column(
        ForeignKey("customer_groups.pk"), unique=True, nullable=True
    )
    __table_args__ = (CheckConstraint(ONE_OWNER, name="one_owner"),)


class ListGroupRow(Base):
    """R17: a customer group on a specified-user list: its members count there too."""

    __tablename__ = "list_groups"
    list_pk: Mapped[int] = mapped_column(ForeignKey("lists.pk"), primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("customer_groups.pk"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Which lists hold a group: its deletion, a membership change's reach.
    __table_args__ = (Index("ix_list_groups_group_pk", "group_pk"),)


class ListEntryRow(Base):
    """An account on a list, with the name it was entered by (R5, R6).

    The primary key serves membership and paging in the order accounts were registered.
    """

    __tablename__ = "list_entries"
    list_pk: Mapped[int] = mapped_column(ForeignKey("lists.pk"), primary_key=True)
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.pk"), primary_key=True)
    entered_name: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # R16: the entry counts only while valid_from <= now < valid_until (None: open).
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    __table_args__ = (
        # Which lists hold an account: a buyer's facts, an account's removal.
        Index("ix_list_entries_account_pk", "account_pk"),
        # The windows that open or close in a span of time (the change feed), and the
        # windowed entries of a list (the index); few entries have one, so only those.
        Index(
            "ix_list_entries_valid_from",
            "valid_from",
            sqlite_where=valid_from.isnot(None),
            postgresql_where=valid_from.isnot(None),
        ),
        Index(
            "ix_list_entries_valid_until",
            "valid_until",
            sqlite_where=valid_until.isnot(None),
            postgresql_where=valid_until.isnot(None),
        ),
        # A list's search by the start of a name, in any case: one range of this index, in
        # name order (then registration order). PostgreSQL compares in code-point order
        # ("C"), as SQLite does, so that a prefix is one range whatever the database's
        # collation (`storage.lists`).
        Index(
            "ix_list_entries_list_pk_name_key", "list_pk", func.lower(entered_name), "account_pk"
        ).ddl_if(dialect="sqlite"),
        Index(
            "ix_list_entries_list_pk_name_key",
            "list_pk",
            func.lower(entered_name).collate("C"),
            "account_pk",
        ).ddl_if(dialect="postgresql"),
    )


class ProductAssociationRow(Base):
    """R7: buyers of `associated_product_pk` may buy `product_pk` when it targets them."""

    __tablename__ = "product_associations"
    product_pk: Mapped[int] = mapped_column(ForeignKey("products.pk"), primary_key=True)
    associated_product_pk: Mapped[int] = mapped_column(ForeignKey("products.pk"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SpecificationAssociationRow(Base):
    """R8: the specification twin of `ProductAssociationRow`."""

    __tablename__ = "specification_associations"
    specification_pk: Mapped[int] = mapped_column(ForeignKey("specifications.pk"), primary_key=True)
    associated_specification_pk: Mapped[int] = mapped_column(
        ForeignKey("specifications.pk"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderRow(Base):
    __tablename__ = "orders"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.pk"))
    specification_pk: Mapped[int] = mapped_column(ForeignKey("specifications.pk"))
    # Denormalised from the specification: R10 counts a specification's purchase as its
    # product's, and R3's associated audience asks by product.
    product_pk: Mapped[int] = mapped_column(ForeignKey("products.pk"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("status in ('paid', 'refunded')", name="status"),
        # R3 associated audiences: "has this account a paid order of any of these ...".
        Index("ix_orders_account_pk_product_pk_status", "account_pk", "product_pk", "status"),
        Index(
            "ix_orders_account_pk_specification_pk_status",
            "account_pk",
            "specification_pk",
            "status",
        ),
        # A buyer's own orders, newest first.
        Index("ix_orders_account_pk_pk", "account_pk", "pk"),
    )


COUNTED_STATUSES = tuple(s.value for s in OrderStatus if counts_as_purchase(s))


def counted_purchase() -> ColumnElement[bool]:
    """R10 in SQL: the orders that count as a purchase (`decision.counts_as_purchase`)."""
    return OrderRow.status.in_(COUNTED_STATUSES)


def purchase_matters(
    product_pk: Mapped[int] | int, specification_pk: Mapped[int] | int
) -> ColumnElement[bool]:
    """R3 + R10 in SQL: some association names the product or the specification, so a
    purchase of it (or its refund) can change a decision."""
    return or_(
        exists().where(ProductAssociationRow.associated_product_pk == product_pk),
        exists().where(SpecificationAssociationRow.associated_specification_pk == specification_pk),
    )


class TokenRow(Base):
    """An access token, kept only as its SHA-256 digest."""

    __tablename__ = "tokens"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    seller_pk: Mapped[int | None] = mapped_column(ForeignKey("sellers.pk"), nullable=True)
    account_pk: Mapped[int | None] = mapped_column(ForeignKey("accounts.pk"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("role in ('operator', 'seller', 'buyer')", name="role"),)


class HistoryRow(Base):
    """R13: append-only record of every change to a target, list or association; R17: and of
    a customer group (its own history: exactly one of product and group)."""

    __tablename__ = "history"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_pk: Mapped[int | None] = mapped_column(ForeignKey("products.pk"), nullable=True)
    group_pk: Mapped[int | None] = mapped_column(ForeignKey("customer_groups.pk"), nullable=True)
    specification_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # R14: the change's impact counts (JSON: gains, losses, customers_losing), if it had one.
    impact: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A product's (a group's) history, newest first.
    __table_args__ = (
        Index("ix_history_product_pk_pk", "product_pk", "pk"),
        Index("ix_history_group_pk_pk", "group_pk", "pk"),
        CheckConstraint("(product_pk IS NULL) <> (group_pk IS NULL)", name="one_book"),
    )


class IndexRevisionRow(Base):
    """The decision index's revision counter: one row, bumped by every decision-affecting write.

    Writers bump it last in their transaction, so revisions are gapless and in commit order.
    """

    __tablename__ = "index_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class IndexChangeRow(Base):
    """What one revision changed, for other processes' indexes to catch up (JSON list)."""

    __tablename__ = "index_changes"
    revision: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)


class WebSessionRow(Base):
    """A signed-in console or store session; deleting the row ends it on every process.

    The browser's cookie holds a random key; only its SHA-256 digest is kept here.
    """

    __tablename__ = "web_sessions"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_pk: Mapped[int] = mapped_column(ForeignKey("tokens.pk"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Expired sessions are swept at each sign-in.
    __table_args__ = (Index("ix_web_sessions_expires_at", "expires_at"),)


class IdempotencyKeyRow(Base):
    """R15: one caller's Idempotency-Key and the answer its first 2xx gave.

    `scope` is a digest of the caller's credential, `request_digest` of the method, path and
    body. While the first request runs, `state` is 'running' under a `claim` leased until
    `lease_until`; its answer is stored in the same transaction as its write.
    """

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    request_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    claim: Mapped[str] = mapped_column(String(32))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("state in ('running', 'done')", name="state"),
        # Keys older than the retention are swept.
        Index("ix_idempotency_keys_created_at", "created_at"),
    )


class ChangeFeedRow(Base):
    """R18: one change of the feed, written in its commit's transaction under its revision.

    One commit may give several (a target change that resets specifications); the feed orders
    them by (revision, pk). `granted`/`revoked` hold account IDs as JSON while there are at most
    1,000 of them, else NULL beside the counts.
    """

    __tablename__ = "change_feed"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    # R9: whose change it is; a seller reads only its own.
    seller_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    product_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    specification_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    granted: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked: Mapped[str | None] = mapped_column(Text, nullable=True)
    granted_count: Mapped[int] = mapped_column(Integer)
    revoked_count: Mapped[int] = mapped_column(Integer)
    impact: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        # The operator's feed, a webhook's cursor; a seller's feed; pruning by age.
        Index("ix_change_feed_revision_pk", "revision", "pk"),
        Index("ix_change_feed_seller_pk_revision_pk", "seller_pk", "revision", "pk"),
        Index("ix_change_feed_at", "at"),
    )


class FeedMarkRow(Base):
    """R18: one row. Window boundaries up to `windows_published_until` are in the feed (R16);
    revisions up to `pruned_through` are no longer."""

    __tablename__ = "feed_marks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    windows_published_until: Mapped[datetime] = mapped_column(UtcDateTime)
    pruned_through: Mapped[int] = mapped_column(BigInteger)


class WebhookRow(Base):
    """R18: an operator's endpoint, following the feed from its cursor (`after_revision`,
    `after_pk`: the last change delivered or skipped). A process delivers to it only while it
    holds the lease; `next_try_at` is when it is due (backoff after a failure)."""

    __tablename__ = "webhooks"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(Text)  # JSON list of kinds, or ["*"]
    # Kept as given: it must sign every delivery (README: Webhooks); never answered.
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    after_revision: Mapped[int] = mapped_column(BigInteger)
    after_pk: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(40), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failing: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_webhooks_next_try_at", "next_try_at"),)


class WebhookDeliveryRow(Base):
    """R18: the delivery log: one row per endpoint and change attempted."""

    __tablename__ = "webhook_deliveries"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_pk: Mapped[int] = mapped_column(ForeignKey("webhooks.pk", ondelete="CASCADE"))
    feed_pk: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("webhook_pk", "feed_pk"),
        CheckConstraint("status in ('retrying', 'delivered')", name="status"),
        # An endpoint's log, newest first.
        Index("ix_webhook_deliveries_webhook_pk_pk", "webhook_pk", "pk"),
    )
