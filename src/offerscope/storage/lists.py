"""Specified-user lists (R5): a product's or a specification's, one table of entries for both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import QueryableAttribute, Session

from offerscope.domain.windows import ALWAYS, EntryStatus
from offerscope.domain.windows import Window as EntryWindow
from offerscope.storage.paging import KeysetPage, Mark, Phase, Window, keyset_page
from offerscope.storage.tables import AccountRow, ListEntryRow, ListRow

ENTRIES = cast(Table, ListEntryRow.__table__)

# R16: entries with a window at all (few; partial indexes serve them).
WINDOWED = or_(ListEntryRow.valid_from.isnot(None), ListEntryRow.valid_until.isnot(None))


def counts_at(now: datetime) -> ColumnElement[bool]:
    """R16: the entries whose window holds `now` (valid_from <= now < valid_until)."""
    return and_(
        or_(ListEntryRow.valid_from.is_(None), ListEntryRow.valid_from <= now),
        or_(ListEntryRow.valid_until.is_(None), ListEntryRow.valid_until > now),
    )


# Every list edit looks its list up: built once, on the session's connection.
_LIST_OF_PRODUCT = select(ListRow.pk).where(ListRow.product_pk == bindparam("pk"))
_LIST_OF_SPECIFICATION = select(ListRow.pk).where(ListRow.specification_pk == bindparam("pk"))


def list_of(
    session: Session, *, product_pk: int | None = None, specification_pk: int | None = None
) -> int:
    """The pk of a product's or a specification's list (every one has its list)."""
    if specification_pk is not None:
        found = session.connection().scalar(_LIST_OF_SPECIFICATION, {"pk": specification_pk})
    else:
        found = session.connection().scalar(_LIST_OF_PRODUCT, {"pk": product_pk})
    assert found is not None, "every product and specification has its list"
    return found


def _name_key(session: Session) -> ColumnElement[str]:
    """The name entered, lower-cased, as `ix_list_entries_list_pk_name_key` holds it."""
    key = func.lower(ListEntryRow.entered_name)
    return key.collate("C") if session.get_bind().dialect.name == "postgresql" else key


def _starting(
    column: ColumnElement[str] | QueryableAttribute[str], prefix: str
) -> ColumnElement[bool]:
    """`column` starts with `prefix`: one range of an index in code-point order."""
    above = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < above)


BY_REGISTRATION = Phase(None, (ListEntryRow.account_pk,), (int,))


# The most entries one request's fallback looks through (tens of milliseconds on either store).
FALLBACK_WINDOW = 20_000


def _search_phases(session: Session, list_pk: int, term: str) -> tuple[list[Phase], int]:
    """A search's parts, best matches first; and how many of them `count_matches` counts
    (all but the fallback).

    1. the name entered starts with `term` (in name order: one range of the list's index);
    2. the account's current name is `term` (a renamed account: one row of an index);
    3. the account ID starts with `term` (one range of the accounts' unique index);
    4. the fallback: either name or the ID contains `term`, read in the list's order until a
       page is full or FALLBACK_WINDOW entries have been looked through (then the page ends
       short, and the next looks on from there).
    Parts 2 and 3 find their accounts first and then look each up on the list, so that their
    cost follows the matches, whatever the planner knows of the tables. Every part leaves out
    what an earlier one has shown. `term` is lower case and not empty.
    """
    name_key = _name_key(session)
    named = _starting(name_key, term)
    renamed = ListEntryRow.account_pk.in_(
        select(AccountRow.pk).where(func.lower(AccountRow.account_name) == term)
    )
    phases = [
        Phase(named, (name_key, ListEntryRow.account_pk), (str, int)),
        Phase(and_(renamed, not_(named)), (ListEntryRow.account_pk,), (int,)),
    ]
    shown = or_(named, renamed)
    if HEX.fullmatch(term):  # only then can an account ID start with it
        by_id = ListEntryRow.account_pk.in_(
            select(AccountRow.pk).where(_starting(AccountRow.account_id, term))
        )
        phases.append(Phase(and_(by_id, not_(shown)), (ListEntryRow.account_pk,), (int,)))
        shown = or_(shown, by_id)
    counted = len(phases)
    # The account's names, looked up row by row: a subquery in the condition keeps both
    # planners reading the list in order within the window (a join would let PostgreSQL
    # read the accounts from their first).
    account = (
        select(func.lower(AccountRow.account_name) + " " + AccountRow.account_id)
        .where(AccountRow.pk == ListEntryRow.account_pk)
        .scalar_subquery()
    )
    containing = or_(
        func.lower(ListEntryRow.entered_name).contains(term, autoescape=True),
        account.contains(term, autoescape=True),
    )
    keys = select(ListEntryRow.account_pk).where(ListEntryRow.list_pk == list_pk)
    fallback = Phase(
        and_(containing, not_(shown)),
        (ListEntryRow.account_pk,),
        (int,),
        window=Window(keys, FALLBACK_WINDOW),
    )
    return [*phases, fallback], counted


HEX = re.compile(r"[0-9a-f]{1,32}")


@dataclass(frozen=True)
class EntriesQuery:
    """What a page of a list is read from: the list, its search term (lower case), its parts,
    and which entries (R16: by their status now)."""

    list_pk: int
    term: str
    phases: list[Phase]
    counted: int  # the first `counted` phases are what `count_matches` counts
    only: ColumnElement[bool] | None = None

    @property
    def searching(self) -> bool:
        return bool(self.term)


def with_status(status: EntryStatus, now: datetime) -> ColumnElement[bool]:
    """R16: the entries that are active, scheduled or expired at `now`."""
    if status is EntryStatus.ACTIVE:
        return counts_at(now)
    if status is EntryStatus.SCHEDULED:
        return ListEntryRow.valid_from > now
    return ListEntryRow.valid_until <= now  # a window ends after it starts: not scheduled


def entries_query(
    session: Session,
    list_pk: int,
    search: str,
    status: EntryStatus | None = None,
    now: datetime | None = None,
) -> EntriesQuery:
    """A list in the order accounts were registered; with `search`, its matches (see
    `_search_phases`): the start of either name or of the ID, or a part of them, any case;
    with `status`, only the entries in that state at `now`."""
    term = search.strip().lower()
    only = None if status is None or now is None else with_status(status, now)
    if not term:
        return EntriesQuery(list_pk, "", [BY_REGISTRATION], 1, only)
    phases, counted = _search_phases(session, list_pk, term)
    return EntriesQuery(list_pk, term, phases, counted, only)


def entries_page(
    session: Session,
    query: EntriesQuery,
    *,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> tuple[list[tuple[ListEntryRow, AccountRow]], KeysetPage]:
    """A page of the list's entries, each with its account (read after the page, by key)."""
    entries = select(ListEntryRow).where(ListEntryRow.list_pk == query.list_pk)
    if query.only is not None:
        entries = entries.where(query.only)
    page = keyset_page(session, entries, query.phases, limit=limit, after=after, before=before)
    rows: list[ListEntryRow] = [row[0] for row in page.rows]
    accounts = {
        account.pk: account
        for account in session.scalars(
            select(AccountRow).where(AccountRow.pk.in_([row.account_pk for row in rows]))
        )
    }
    return [(row, accounts[row.account_pk]) for row in rows], page


def count_matches(session: Session, query: EntriesQuery) -> int:
    """The entries of the list, or those a search's counted parts hold: indexed counts.

    The whole list counts the entries of its primary key's range; a search counts the index
    ranges its first parts read, so the cost grows with the matches, not with the list.
    None of them needs the accounts' rows themselves.
    """
    total = 0
    for phase in query.phases[: query.counted]:
        counting = select(func.count()).select_from(ListEntryRow)
        if phase.where is not None:
            counting = counting.where(phase.where)
        if query.only is not None:
            counting = counting.where(query.only)
        total += session.scalar(counting.where(ListEntryRow.list_pk == query.list_pk)) or 0
    return total


def count_entries(session: Session, list_pk: int) -> int:
    """A list's entries (its primary key's range)."""
    counting = select(func.count()).select_from(ListEntryRow)
    return session.scalar(counting.where(ListEntryRow.list_pk == list_pk)) or 0


def count_not_of_type(session: Session, list_pk: int, account_type: str) -> int:
    """A list's entries whose account is not of `account_type` (R6 for a group's members)."""
    counting = (
        select(func.count())
        .select_from(ListEntryRow)
        .join(AccountRow, AccountRow.pk == ListEntryRow.account_pk)
        .where(ListEntryRow.list_pk == list_pk, AccountRow.account_type != account_type)
    )
    return session.scalar(counting) or 0


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
    session: Session,
    list_pk: int,
    account_pk: int,
    entered_name: str,
    now: datetime,
    window: EntryWindow = ALWAYS,
) -> ListEntryRow:
    row = ListEntryRow(
        list_pk=list_pk,
        account_pk=account_pk,
        entered_name=entered_name,
        added_at=now,
        valid_from=window.valid_from,
        valid_until=window.valid_until,
    )
    session.add(row)
    return row


def remove_entry(session: Session, list_pk: int, account_pk: int) -> None:
    session.execute(
        delete(ListEntryRow).where(
            ListEntryRow.list_pk == list_pk, ListEntryRow.account_pk == account_pk
        )
    )


def remove_entries(session: Session, list_pk: int, account_pks: list[int]) -> None:
    """Take these accounts off a list, a few thousand per statement."""
    for start in range(0, len(account_pks), REMOVED_PER_STATEMENT):
        session.execute(
            delete(ListEntryRow).where(
                ListEntryRow.list_pk == list_pk,
                ListEntryRow.account_pk.in_(account_pks[start : start + REMOVED_PER_STATEMENT]),
            )
        )


REMOVED_PER_STATEMENT = 5000


def entry_windows(session: Session, list_pk: int) -> dict[int, EntryWindow]:
    """R16: the windows of a list's entries that have one, by account key."""
    rows = session.execute(
        select(ListEntryRow.account_pk, ListEntryRow.valid_from, ListEntryRow.valid_until)
        .where(ListEntryRow.list_pk == list_pk)
        .where(WINDOWED)
    )
    return {pk: EntryWindow(start, end) for pk, start, end in rows}


def set_windows(session: Session, list_pk: int, windows: dict[int, EntryWindow]) -> None:
    """R16: give entries of a list new windows (one statement, many rows)."""
    if not windows:
        return
    session.execute(
        update(ListEntryRow),
        [
            {
                "list_pk": list_pk,
                "account_pk": pk,
                "valid_from": window.valid_from,
                "valid_until": window.valid_until,
            }
            for pk, window in windows.items()
        ],
    )


def member_pks(session: Session, list_pk: int) -> set[int]:
    """The account keys on a list."""
    return set(
        session.scalars(select(ListEntryRow.account_pk).where(ListEntryRow.list_pk == list_pk))
    )


def exported(session: Session, list_pk: int, chunk: int) -> Iterator[tuple[str, str, str, str]]:
    """(account ID, name as entered, valid_from, valid_until) of every entry, in registration
    order, read as consumed; an open end of a window (R16) is empty."""
    rows = session.execute(
        select(
            AccountRow.account_id,
            ListEntryRow.entered_name,
            ListEntryRow.valid_from,
            ListEntryRow.valid_until,
        )
        .join(AccountRow, AccountRow.pk == ListEntryRow.account_pk)
        .where(ListEntryRow.list_pk == list_pk)
        .order_by(ListEntryRow.account_pk)
        .execution_options(yield_per=chunk)
    )
    for account_id, entered_name, start, end in rows:
        yield account_id, entered_name, _rfc3339(start), _rfc3339(end)


def _rfc3339(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat().replace("+00:00", "Z")
