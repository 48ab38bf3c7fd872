"""Customer accounts: looked up by ID or name, registered, and locked for a change of type."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from offerscope.storage.tables import AccountRow


def find_account(session: Session, account_id: str, *, lock: bool = False) -> AccountRow | None:
    """The account with this ID; with `lock`, locked for update on PostgreSQL (R11: a change
    of type waits for the orders deciding on the old one)."""
    query = select(AccountRow).where(AccountRow.account_id == account_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def names_by_id(session: Session, account_ids: Collection[str]) -> dict[str, str]:
    """The names of the accounts with these IDs (unknown IDs are left out)."""
    if not account_ids:
        return {}
    query = select(AccountRow.account_id, AccountRow.account_name).where(
        AccountRow.account_id.in_(list(account_ids))
    )
    return {account_id: name for account_id, name in session.execute(query)}


def name_taken(session: Session, account_name: str) -> bool:
    return bool(session.scalar(select(exists().where(AccountRow.account_name == account_name))))


def add_account(
    session: Session, account_id: str, account_name: str, account_type: str, now: datetime
) -> AccountRow:
    row = AccountRow(
        account_id=account_id, account_name=account_name, account_type=account_type, created_at=now
    )
    session.add(row)
    return row


def flushed_unique(session: Session) -> bool:
    """Write the pending account; False if a concurrent writer took its ID or name first."""
    try:
        session.flush()
    except IntegrityError:
        return False
    return True


def last_pk(session: Session) -> int:
    """The newest account's key (0 when there is none): bulk registrations follow it."""
    return int(session.scalar(select(func.max(AccountRow.pk))) or 0)


def exported(session: Session, chunk: int) -> Iterator[tuple[str, str, str]]:
    """(ID, name, type) of every account in registration order, read as consumed."""
    rows = session.execute(
        select(AccountRow.account_id, AccountRow.account_name, AccountRow.account_type)
        .order_by(AccountRow.pk)
        .execution_options(yield_per=chunk)
    )
    yield from ((account_id, name, account_type) for account_id, name, account_type in rows)
