"""R18 webhooks in the database: endpoints, their leases, and the delivery log.

A process delivers to an endpoint only while it holds the endpoint's lease, taken in a short
transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so processes claim different endpoints
without waiting on each other; SQLite: under its write lock). No transaction stays open
while a request is out; a process killed mid-delivery leaves a lease that runs out, and the
next process delivers again from the endpoint's cursor (at least once, in order).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    and_,
    bindparam,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from offerscope.storage.paging import KeysetPage, Mark, Phase, keyset_page
from offerscope.storage.tables import ChangeFeedRow, WebhookDeliveryRow, WebhookRow

DELIVERED, RETRYING = "delivered", "retrying"


def add(
    session: Session,
    webhook_id: str,
    url: str,
    events: str,
    secret: str,
    now: datetime,
    start: tuple[int, int],
) -> WebhookRow:
    row = WebhookRow(
        webhook_id=webhook_id,
        url=url,
        events=events,
        secret=secret,
        created_at=now,
        after_revision=start[0],
        after_pk=start[1],
        next_try_at=now,
        failing=False,
    )
    session.add(row)
    session.flush()
    return row


def webhooks_page(session: Session, limit: int, after: int | None = None) -> list[WebhookRow]:
    """Up to `limit` webhooks in creation order, after the one of pk `after`."""
    query = select(WebhookRow).where(WebhookRow.pk > (after or 0))
    return list(session.scalars(query.order_by(WebhookRow.pk).limit(limit)))


def find(session: Session, webhook_id: str) -> WebhookRow | None:
    return session.scalars(
        select(WebhookRow).where(WebhookRow.webhook_id == webhook_id)
    ).one_or_none()


def _pending() -> Exists:
    """An endpoint has a change after its cursor."""
    return exists().where(
        or_(
            ChangeFeedRow.revision > WebhookRow.after_revision,
            and_(
                ChangeFeedRow.revision == WebhookRow.after_revision,
                ChangeFeedRow.pk > WebhookRow.after_pk,
            ),
        )
    )


def _due(now: datetime | BindParameter[datetime]) -> list[ColumnElement[bool]]:
    free = or_(WebhookRow.lease_until.is_(None), WebhookRow.lease_until < now)
    return [WebhookRow.next_try_at <= now, free, _pending()]


# Built once: delivery threads ask at every new revision of any process.
_ANYTHING_DUE = select(WebhookRow.pk).where(*_due(bindparam("now"))).limit(1)


def anything_due(session: Session, now: datetime) -> bool:
    """A read that tells whether `claim` would find work (so idle polls write nothing)."""
    return session.scalar(_ANYTHING_DUE, {"now": now}) is not None


def claim(session: Session, owner: str, now: datetime, until: datetime) -> WebhookRow | None:
    """Lease one due endpoint to `owner` until `until`, in the caller's transaction."""
    query = select(WebhookRow).where(*_due(now)).order_by(WebhookRow.next_try_at).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).one_or_none()
    if row is None:
        return None
    row.lease_owner, row.lease_until = owner, until
    session.flush()
    return row


def held(session: Session, webhook_pk: int, owner: str) -> WebhookRow | None:
    """The endpoint, locked, if `owner` still holds its lease (else another took over)."""
    query = select(WebhookRow).where(WebhookRow.pk == webhook_pk, WebhookRow.lease_owner == owner)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def release(session: Session, webhook_pk: int, owner: str) -> None:
    session.execute(
        update(WebhookRow)
        .where(WebhookRow.pk == webhook_pk, WebhookRow.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def delivery(session: Session, webhook_pk: int, feed_pk: int) -> WebhookDeliveryRow | None:
    return session.scalars(
        select(WebhookDeliveryRow).where(
            WebhookDeliveryRow.webhook_pk == webhook_pk, WebhookDeliveryRow.feed_pk == feed_pk
        )
    ).one_or_none()


NEWEST_FIRST = [Phase(None, (WebhookDeliveryRow.pk,), (int,), descending=True)]


def deliveries_page(
    session: Session,
    webhook_pk: int,
    *,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> tuple[list[WebhookDeliveryRow], KeysetPage]:
    """An endpoint's delivery log, newest first."""
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_pk == webhook_pk)
    page = keyset_page(session, query, NEWEST_FIRST, limit=limit, after=after, before=before)
    return [row[0] for row in page.rows], page
