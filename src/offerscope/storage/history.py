"""R13: the append-only history of a product's target-customer changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from offerscope.storage.paging import KeysetPage, Mark, Phase, keyset_page
from offerscope.storage.tables import HistoryRow


def append(
    session: Session,
    product_pk: int | None,
    actor: str,
    action: str,
    at: datetime,
    *,
    specification_id: str | None = None,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
    group_pk: int | None = None,
) -> HistoryRow:
    """One entry in a product's history, or (`group_pk`, R17) in a group's."""
    row = HistoryRow(
        product_pk=product_pk,
        group_pk=group_pk,
        specification_id=specification_id,
        actor=actor,
        action=action,
        subject=subject,
        before=before,
        after=after,
        at=at,
    )
    session.add(row)
    return row


NEWEST_FIRST = [Phase(None, (HistoryRow.pk,), (int,), descending=True)]

# Entries about one account: its subject is the account ID, its before or after the name.
ACCOUNT_ACTIONS = ("specified_user_added", "specified_user_removed")


def of_product(product_pk: int) -> ColumnElement[bool]:
    return HistoryRow.product_pk == product_pk


def of_group(group_pk: int) -> ColumnElement[bool]:
    """R17: a customer group's own history (`ix_history_group_pk_pk`)."""
    return HistoryRow.group_pk == group_pk


def _entries(
    book: ColumnElement[bool], specification_id: str | None, account: str | None
) -> Select[HistoryRow]:
    """A product's (or a group's) history, as `book` names it; with `specification_id` that
    specification's entries only; with `account` (a lower-case ID or name) the entries about
    that account only."""
    query = select(HistoryRow).where(book)
    if specification_id is not None:
        query = query.where(HistoryRow.specification_id == specification_id)
    if account:
        named = or_(
            func.lower(HistoryRow.before) == account, func.lower(HistoryRow.after) == account
        )
        query = query.where(
            HistoryRow.action.in_(ACCOUNT_ACTIONS), or_(HistoryRow.subject == account, named)
        )
    return query


def history_page(
    session: Session,
    book: ColumnElement[bool],
    *,
    specification_id: str | None = None,
    account: str | None = None,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> tuple[list[HistoryRow], KeysetPage]:
    """A page of a product's history (see `_entries`), newest first."""
    query = _entries(book, specification_id, account)
    page = keyset_page(session, query, NEWEST_FIRST, limit=limit, after=after, before=before)
    return [row[0] for row in page.rows], page


def count_entries(
    session: Session, book: ColumnElement[bool], specification_id: str | None, account: str | None
) -> int:
    """How many entries `history_page` pages through (indexed by book, then pk)."""
    counted = _entries(book, specification_id, account).with_only_columns(func.count())
    return session.scalar(counted) or 0
