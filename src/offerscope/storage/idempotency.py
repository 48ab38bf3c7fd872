"""R15's keys: the claim of a running request and the answer it stored, per caller and key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from offerscope.storage.tables import IdempotencyKeyRow


def sweep(session: Session, older_than: datetime) -> None:
    """Forget the keys created before `older_than`."""
    session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < older_than))


def insert_claim(session: Session, values: dict[str, Any]) -> bool:
    """Claim a key unless it is taken; whether this claim went in."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = IdempotencyKeyRow.__table__
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING says whether the row went in (a driver's row count may be -1 here).
    return session.execute(statement.returning(table.c.claim)).first() is not None


def key_row(session: Session, scope: str, key: str, *, lock: bool) -> IdempotencyKeyRow:
    """The row of a key known to exist; with `lock`, locked for update (PostgreSQL)."""
    query = select(IdempotencyKeyRow).where(
        IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one()


def complete(
    session: Session,
    scope: str,
    key: str,
    claim: str,
    *,
    status: int,
    headers: str,
    body: bytes | None,
) -> bool:
    """Store the answer of the request holding `claim`; False if the claim is no longer its."""
    result = session.execute(
        update(IdempotencyKeyRow)
        .where(
            IdempotencyKeyRow.scope == scope,
            IdempotencyKeyRow.key == key,
            IdempotencyKeyRow.claim == claim,
        )
        .values(state="done", status=status, headers=headers, body=body)
        # A plain UPDATE whose row count tells whether the claim is still ours.
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def release(session: Session, scope: str, key: str, claim: str) -> None:
    session.execute(
        delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.scope == scope,
            IdempotencyKeyRow.key == key,
            IdempotencyKeyRow.claim == claim,
            # A commit that landed with its answer lost keeps that answer for the retry.
            IdempotencyKeyRow.state == "running",
        )
    )
