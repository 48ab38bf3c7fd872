"""Specified-user lists (R5): a product's or a specification's, one table of entries for both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from offerscope.storage.paging import paginate
from offerscope.storage.tables import AccountRow, ListEntryRow, ListRow

ENTRIES = cast(Table, ListEntryRow.__table__)


def list_of(
    session: Session, *, product_pk: int | None = None, specification_pk: int | None = None
) -> int:
    """The pk of a product's or a specification's list (every one has its list)."""
    if specification_pk is not None:
        condition = ListRow.specification_pk == specification_pk
    else:
        condition = ListRow.product_pk == product_pk
    found = session.scalar(select(ListRow.pk).where(condition))
    assert found is not None, "every product and specification has its list"
    return found


def entries_page(
    session: Session, list_pk: int, *, after: int | None, limit: int, search: str
) -> tuple[list[tuple[ListEntryRow, AccountRow]], bool]:
    """A page of a list in the order accounts were registered, with each entry's account;
    `search` matches the ID (in lower case), the account's name or the name entered."""
    query = (
        select(ListEntryRow, AccountRow)
        .join(AccountRow, AccountRow.pk == ListEntryRow.account_pk)
        .where(ListEntryRow.list_pk == list_pk)
    )
    if search:
        query = query.where(
            (AccountRow.account_id == search.lower())
            | (AccountRow.account_name == search)
            | (ListEntryRow.entered_name == search)
        )
    rows, more = paginate(session, query, ListEntryRow.account_pk, after=after, limit=limit)
    return [(row[0], row[1]) for row in rows], more


def entry(session: Session, list_pk: int, account_pk: int) -> ListEntryRow | None:
    return session.get(ListEntryRow, (list_pk, account_pk))


def entry_of_account(session: Session, list_pk: int, account_id: str) -> ListEntryRow | None:
    """The list's entry of the account with this public ID."""
    return session.scalar(
        select(ListEntryRow)
        .join(AccountRow, AccountRow.pk == ListEntryRow.account_pk)
        .where(ListEntryRow.list_pk == list_pk, AccountRow.account_id == account_id)
    )


def add_entry(
    session: Session, list_pk: int, account_pk: int, entered_name: str, now: datetime
) -> ListEntryRow:
    row = ListEntryRow(
        list_pk=list_pk, account_pk=account_pk, entered_name=entered_name, added_at=now
    )
    session.add(row)
    return row


def remove_entry(session: Session, list_pk: int, account_pk: int) -> None:
    session.execute(
        delete(ListEntryRow).where(
            ListEntryRow.list_pk == list_pk, ListEntryRow.account_pk == account_pk
        )
    )


def member_pks(session: Session, list_pk: int) -> set[int]:
    """The account keys on a list."""
    return set(
        session.scalars(select(ListEntryRow.account_pk).where(ListEntryRow.list_pk == list_pk))
    )


def exported(session: Session, list_pk: int, chunk: int) -> Iterator[tuple[str, str]]:
    """(account ID, name as entered) of every entry, in registration order, read as consumed."""
    rows = session.execute(
        select(AccountRow.account_id, ListEntryRow.entered_name)
        .join(AccountRow, AccountRow.pk == ListEntryRow.account_pk)
        .where(ListEntryRow.list_pk == list_pk)
        .order_by(ListEntryRow.account_pk)
        .execution_options(yield_per=chunk)
    )
    yield from ((account_id, entered_name) for account_id, entered_name in rows)
