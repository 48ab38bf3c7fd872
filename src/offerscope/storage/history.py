"""R13: the append-only history of a product's target-customer changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerscope.storage.paging import paginate
from offerscope.storage.tables import HistoryRow


def append(
    session: Session,
    product_pk: int,
    actor: str,
    action: str,
    at: datetime,
    *,
    specification_id: str | None = None,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> HistoryRow:
    row = HistoryRow(
        product_pk=product_pk,
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


def history_page(
    session: Session, product_pk: int, *, before: int | None, limit: int
) -> tuple[list[HistoryRow], bool]:
    """A page of a product's history, newest first, starting before the entry `before`."""
    query = select(HistoryRow).where(HistoryRow.product_pk == product_pk)
    rows, more = paginate(session, query, HistoryRow.pk, after=before, limit=limit, descending=True)
    return [row[0] for row in rows], more
