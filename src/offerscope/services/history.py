"""R13: every change to a target, list or association is recorded, and read per product."""

from __future__ import annotations

import json
from dataclasses import dataclass

from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.actors import Actor
from offerscope.services.ids import utcnow
from offerscope.services.ownership import own_product
from offerscope.services.paging import keyset_cursors, read_position
from offerscope.services.views import HistoryEntryView, Page
from offerscope.storage import history, products, sellers
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
    specification_id: str | None = None,
    account: str = "",
    count: bool = False,
) -> Page[HistoryEntryView]:
    """R13: a product's changes, newest first; only one specification's, or only those about
    one account (its ID or name, any case), when asked. `count` adds the total."""
    limit = check_page_size(limit)
    position = read_position(cursor, history.NEWEST_FIRST)
    about = account.strip().lower() or None
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        rows, keyset = history.history_page(
            uow.session,
            product.pk,
            specification_id=specification_id,
            account=about,
            limit=limit,
            after=position.after,
            before=position.before,
        )
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
        following, previous, start = keyset_cursors(keyset, position)
        total = None
        if count:
            total = history.count_entries(uow.session, product.pk, specification_id, about)
        return Page(items, following, previous, start, total)


@dataclass(frozen=True)
class HistoryNames:
    """Names for what history entries hold as IDs: who made them, and the products named."""

    actors: dict[str, str]
    products: dict[str, str]


def names_in_history(db: Database, actor: Actor, entries: list[HistoryEntryView]) -> HistoryNames:
    """The sellers' names behind `seller:` actors, and the names of the seller's own products
    that entries name (associations)."""
    sellers_named = {e.actor.removeprefix(SELLER) for e in entries if e.actor.startswith(SELLER)}
    subjects = {e.subject for e in entries if e.subject}
    with db.reading() as uow:
        by_seller = sellers.names_by_id(uow.session, sellers_named)
        named = products.names_of_own(uow.session, actor.seller_pk, subjects)
    return HistoryNames({SELLER + k: v for k, v in by_seller.items()}, named)


SELLER = "seller:"  # `Actor.label` of a seller
