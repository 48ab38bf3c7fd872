"""R18: the change feed: committed decision-affecting changes in commit order.

Reading is one snapshot (the head revision and the rows up to it together), so a page never
shows a revision half, and `next_after` never skips one. The background work that keeps the
feed complete lives here too: R16's windows published as they pass, and pruning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from offerscope.domain.errors import Gone
from offerscope.services.actors import Actor, Role
from offerscope.services.ids import utcnow
from offerscope.storage import feed
from offerscope.storage.tables import ChangeFeedRow
from offerscope.storage.unit_of_work import Database

MAX_WAIT_SECONDS = 30.0
PUBLISH_LAG = timedelta(seconds=1)


@dataclass(frozen=True)
class ChangeView:
    """One change: `granted`/`revoked` are None when more than 1,000 (counts only)."""

    revision: int
    time: datetime
    actor: str
    product_id: str | None
    specification_id: str | None
    group_id: str | None
    kind: str
    granted: list[str] | None
    revoked: list[str] | None
    granted_count: int
    revoked_count: int
    impact: dict[str, int] | None


@dataclass(frozen=True)
class ChangesView:
    items: list[ChangeView]
    next_after: int  # ask with after=next_after for what follows
    revision: int  # the newest committed revision when read


def change_view(row: ChangeFeedRow) -> ChangeView:
    return ChangeView(
        revision=row.revision,
        time=row.at,
        actor=row.actor,
        product_id=row.product_id,
        specification_id=row.specification_id,
        group_id=row.group_id,
        kind=row.kind,
        granted=None if row.granted is None else json.loads(row.granted),
        revoked=None if row.revoked is None else json.loads(row.revoked),
        granted_count=row.granted_count,
        revoked_count=row.revoked_count,
        impact=json.loads(row.impact) if row.impact else None,
    )


def read_changes(db: Database, actor: Actor, after: int, limit: int) -> ChangesView:
    """Changes after revision `after`: a seller's own products' only (R9), an operator's all.
    410 `changes_pruned` when changes after `after` were pruned."""
    seller_pk = None if actor.role is Role.OPERATOR else actor.seller_pk
    assert actor.role is Role.OPERATOR or seller_pk is not None
    with db.reading() as uow:
        found = feed.page(uow.session, after, limit, seller_pk)
        uow.session.expunge_all()  # the rows outlive the read (its rollback would expire them)
    if after < found.pruned_through:
        raise Gone(
            "changes_pruned",
            f"Changes up to revision {found.pruned_through} are no longer kept; start again "
            f"from after={found.pruned_through} (after reading the current state).",
            oldest_after=found.pruned_through,
        )
    items = [change_view(row) for row in found.rows]
    full = len(items) >= limit
    next_after = items[-1].revision if full else max(found.head, after)
    return ChangesView(items, next_after, found.head)


def publish_windows(db: Database, now: datetime | None = None) -> int | None:
    """R16 + R18: publish the window openings and closings that passed `PUBLISH_LAG` ago;
    their revision.

    The lag covers a write still in flight at the boundary: one that judged its entry before
    the moment commits before the moment is published, so the publication sees it (one that
    judged it after says so in its own change)."""
    moment = (now or utcnow()) - PUBLISH_LAG
    with db.reading() as uow:
        if not feed.windows_due(uow.session, moment):
            return None
    with db.writing() as uow:
        revision = feed.publish_windows(uow.session, moment)
        uow.session.commit()  # a revision of its own, taken in `publish_windows`
    if revision is not None:
        for listener in db.listeners:
            listener.changes_committed(revision, [])
    return revision


def prune(db: Database, retention_days: float, now: datetime | None = None) -> int:
    """Drop changes older than the retention; the revision pruned through."""
    moment = now or utcnow()
    with db.writing() as uow:
        through = feed.prune(uow.session, moment - timedelta(days=retention_days), moment)
        uow.session.commit()
    return through
