"""Associations of products (R7) and of specifications (R8)."""

from __future__ import annotations

from offerscope.domain.errors import NotFound
from offerscope.domain.limits import MAX_IDS, check_count, check_page_size
from offerscope.domain.lists import (
    associations_are_active,
    check_association,
    check_association_open,
)
from offerscope.services.actors import Actor
from offerscope.services.history import record
from offerscope.services.ids import utcnow
from offerscope.services.ownership import Owner, owner
from offerscope.services.paging import key_cursor, read_key, scope_tag
from offerscope.services.views import AssociatedView, AssociationsView
from offerscope.storage import associations, changes, orders
from offerscope.storage.unit_of_work import Database, UnitOfWork


def _items(uow: UnitOfWork, found: Owner) -> list[AssociatedView]:
    rows, _ = associations.linked_page(uow.session, found.links, found.pk, after=None, limit=None)
    return [AssociatedView(public, name) for _pk, public, name in rows]


def list_associations(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None = None,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> AssociationsView:
    """The associations in creation order: a page of `limit` (SPEC.md §4), or all of them."""
    if limit is not None:
        limit = check_page_size(limit)
    scope = scope_tag("associations", product_id, specification_id)
    after = read_key(cursor, scope)
    with db.reading() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=False)
        rows, more = associations.linked_page(
            uow.session, found.links, found.pk, after=after, limit=limit
        )
        items = [AssociatedView(public, name) for _pk, public, name in rows]
        following = key_cursor(rows[-1][0] if rows else None, more, scope)
        return AssociationsView(
            items, associations_are_active(found.setting), next_cursor=following
        )


def add_associations(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, ids: list[str]
) -> AssociationsView:
    """R7, R8: associate other products (specifications); all of them or none."""
    check_count(ids, MAX_IDS, "ids")
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        created = link(uow, actor, found, ids)
        uow.session.flush()
        items = _items(uow, found)
        uow.commit()
        return AssociationsView(items, associations_are_active(found.setting), created)


def link(uow: UnitOfWork, actor: Actor, found: Owner, ids: list[str]) -> bool:
    """R7, R8 within the caller's transaction: whether any association was new."""
    check_association_open(found.setting)
    siblings = associations.siblings(uow.session, found.links, found.link_scope, ids)
    for candidate in ids:
        check_association(found.public_id, candidate, candidate in siblings)
    present = associations.linked_pks(uow.session, found.links, found.pk)
    if uow.locks_rows and found.kind == "product":
        # Orders and refunds of these products in flight commit first (their purchases are
        # read below) and new ones see this association (`services.orders`). Those of a
        # specification wait for its product's row, which `found` holds.
        orders.lock_purchases(uow.session, [siblings[c] for c in ids if siblings[c] not in present])
    created = False
    for candidate in dict.fromkeys(ids):
        other_pk = siblings[candidate]
        if other_pk in present:
            continue
        associations.add_link(uow.session, found.links, found.pk, other_pk, utcnow())
        # Purchases of it may have gone unlogged (`services.orders`): as of this revision.
        bought = orders.counted_purchases(uow.session, found.kind == "product", other_pk)
        uow.record_change(changes.PurchasesSet(found.kind, other_pk, *bought))
        uow.record_change(changes.LinkEdited(found.kind, found.pk, other_pk, True))
        record(
            uow,
            actor,
            found.product,
            "association_added",
            specification_id=found.spec_id,
            subject=candidate,
        )
        created = True
    return created


def remove_association(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, other_id: str
) -> AssociatedView:
    """R7, R8: remove an association; the answer names what is no longer associated."""
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        removed = unlink(uow, actor, found, other_id)
        uow.commit()
        return removed


def unlink(uow: UnitOfWork, actor: Actor, found: Owner, other_id: str) -> AssociatedView:
    """R7, R8 within the caller's transaction: remove one association (404 if absent)."""
    other_pk = associations.siblings(uow.session, found.links, found.link_scope, [other_id]).get(
        other_id
    )
    if other_pk is None or not associations.remove_link(
        uow.session, found.links, found.pk, other_pk
    ):
        raise NotFound(
            "association_not_found",
            "This product or specification is not associated.",
            id=other_id,
        )
    uow.record_change(changes.LinkEdited(found.kind, found.pk, other_pk, False))
    record(
        uow,
        actor,
        found.product,
        "association_removed",
        specification_id=found.spec_id,
        subject=other_id,
    )
    return AssociatedView(other_id, associations.name_of(uow.session, found.links, other_pk))
