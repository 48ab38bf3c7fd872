"""R13: every change to a target, list or association is recorded, and read per product."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement

from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.services.actors import Actor
from offerscope.services.ids import utcnow
from offerscope.services.ownership import GroupHolder, ListHolder, own_group, own_product
from offerscope.services.paging import keyset_cursors, read_position, scope_tag
from offerscope.services.views import HistoryEntryView, Page
from offerscope.storage import history, products, sellers
from offerscope.storage.tables import CustomerGroupRow, ProductRow
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


def record_group(
    uow: UnitOfWork,
    actor: Actor,
    group: CustomerGroupRow,
    action: str,
    *,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> None:
    """R17: one entry in a customer group's own history."""
    row = history.append(
        uow.session,
        None,
        actor.label,
        action,
        utcnow(),
        subject=subject,
        before=before,
        after=after,
        group_pk=group.pk,
    )
    uow.history.append(row)


def record_on(
    uow: UnitOfWork,
    actor: Actor,
    holder: ListHolder,
    action: str,
    *,
    subject: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> None:
    """A list's change, in the history of what holds the list: its product, or its group."""
    if isinstance(holder, GroupHolder):
        record_group(uow, actor, holder.group, action, subject=subject, before=before, after=after)
    else:
        record(
            uow,
            actor,
            holder.product,
            action,
            specification_id=holder.spec_id,
            subject=subject,
            before=before,
            after=after,
        )


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
    with db.reading() as uow:
        product = own_product(uow, actor, product_id)
        book = history.of_product(product.pk)
        owner = f"product:{product.pk}"
        return _history_page(uow, book, owner, limit, cursor, specification_id, account, count)


def group_history(
    db: Database,
    actor: Actor,
    group_id: str,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    account: str = "",
    count: bool = False,
) -> Page[HistoryEntryView]:
    """R17: a customer group's own changes, newest first (R9: only the seller's own)."""
    with db.reading() as uow:
        group = own_group(uow, actor, group_id)
        book = history.of_group(group.pk)
        owner = f"group:{group.pk}"
        return _history_page(uow, book, owner, limit, cursor, None, account, count)


def _history_page(
    uow: UnitOfWork,
    book: ColumnElement[bool],
    owner: str,
    limit: int,
    cursor: str | None,
    specification_id: str | None,
    account: str,
    count: bool,
) -> Page[HistoryEntryView]:
    limit = check_page_size(limit)
    about = account.strip().lower() or None
    scope = scope_tag("history", owner, specification_id, about)
    position = read_position(cursor, history.NEWEST_FIRST, scope)
    rows, keyset = history.history_page(
        uow.session,
        book,
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
    following, previous, start = keyset_cursors(keyset, position, scope)
    total = None
    if count:
        total = history.count_entries(uow.session, book, specification_id, about)
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
