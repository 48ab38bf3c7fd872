"""R13: every change to a target, list or association is recorded, and read per product."""

from __future__ import annotations

import json

from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.actors import Actor
from offerscope.services.ids import utcnow
from offerscope.services.ownership import own_product
from offerscope.services.paging import int_cursor, next_cursor
from offerscope.services.views import HistoryEntryView, Page
from offerscope.storage import history
from offerscope.storage.tables import ProductRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


def record(
    uow: UnitOfWork,
    actor: Actor,
    product: ProductRow,
    action: str,
    *,
    specification_id: str | None = None,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> None:
    """R13: append one history entry in the caller's transaction (R14: the write's last entry
    gets its impact counts at commit)."""
    row = history.append(
        uow.session,
        product.pk,
        actor.label,
        action,
        utcnow(),
        specification_id=specification_id,
        subject=subject,
        before=before,
        after=after,
    )
    uow.history.append(row)


def product_history(
    db: Database,
    actor: Actor,
    product_id: str,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[HistoryEntryView]:
    """R13: a product's changes, newest first."""
    limit = check_page_size(limit)
    before = int_cursor(cursor)
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        rows, more = history.history_page(uow.session, product.pk, before=before, limit=limit)
        items = [
            HistoryEntryView(
                r.at,
                r.actor,
                r.action,
                r.specification_id,
                r.subject,
                r.before,
                r.after,
                json.loads(r.impact) if r.impact else None,
            )
            for r in rows
        ]
        return Page(items, next_cursor(rows[-1].pk if rows else None, more))
