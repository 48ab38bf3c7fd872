"""R17: customer groups, reusable lists of accounts that count on every list holding them.

A group's members are the entries of its own list, so adding, removing, importing and
exporting members are R5's use cases on a `GroupHolder` (`services.specified_users`,
`services.imports`); here are the group itself and its place on specified-user lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO

from offerscope.domain.errors import Conflict, Invalid, NotFound
from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.domain.names import check_display_name, shows_nothing
from offerscope.domain.windows import ALWAYS, EntryStatus, Window
from offerscope.services import exports, imports, specified_users
from offerscope.services.actors import Actor
from offerscope.services.history import record, record_group
from offerscope.services.ids import new_id, utcnow
from offerscope.services.imports import ErrorSink, ImportReport
from offerscope.services.ownership import GroupHolder, Owner, group_holder, owner
from offerscope.services.paging import key_cursor, read_key, scope_tag
from offerscope.services.views import (
    AddedUser,
    AttachedGroupView,
    Page,
    RemovedUser,
    SpecifiedUserView,
)
from offerscope.storage import changes, groups, lists, products
from offerscope.storage.unit_of_work import Database, UnitOfWork

# The most groups one answer lists (a seller keeps a handful; more is a mistake to show).
MOST_GROUPS = 1000


@dataclass(frozen=True)
class HoldingList:
    """A specified-user list holding a group."""

    product_id: str
    product_name: str
    specification_id: str | None
    specification_name: str | None


@dataclass(frozen=True)
class GroupView:
    group_id: str
    name: str
    created_at: datetime
    members: int
    lists: list[HoldingList]


@dataclass(frozen=True)
class GroupSummaryView:
    group_id: str
    name: str
    created_at: datetime
    members: int
    lists: int


def group_name(name: str) -> str:
    """A display name (1-100 characters, no control characters) with something to show: a
    seller picks a group by its name from a list."""
    name = check_display_name(name)
    if shows_nothing(name):
        raise Invalid("invalid_request", "A group's name cannot be blank.", field="name")
    return name


def create_group(db: Database, actor: Actor, name: str) -> GroupView:
    """A new, empty group; names are unique among the seller's groups."""
    with db.writing() as uow:
        found = create_in(uow, actor, name)
        uow.commit()
        group = found.group
        return GroupView(group.group_id, group.name, group.created_at, 0, [])


def create_in(uow: UnitOfWork, actor: Actor, name: str) -> GroupHolder:
    """`create_group` within the caller's transaction: the new group as its list's holder."""
    name = group_name(name)
    _check_name_free(uow, actor, name)
    group, list_pk = groups.add_group(uow.session, _seller(actor), new_id("grp"), name, utcnow())
    record_group(uow, actor, group, "group_created", after=name)
    return GroupHolder(group, list_pk)


def list_groups(
    db: Database, actor: Actor, *, limit: int = MOST_GROUPS, cursor: str | None = None
) -> Page[GroupSummaryView]:
    """A page of the seller's groups in creation order, with member and list counts."""
    limit = check_page_size(limit)
    scope = scope_tag("groups", actor.seller_pk)
    after = read_key(cursor, scope)
    with db.reading() as uow:
        found = groups.seller_groups(uow.session, actor.seller_pk, limit + 1, after)
        shown = found[:limit]
        items = [
            GroupSummaryView(s.group.group_id, s.group.name, s.group.created_at, s.members, s.lists)
            for s in shown
        ]
        last = shown[-1].group.pk if shown else None
    return Page(items, key_cursor(last, len(found) > limit, scope))


def get_group(db: Database, actor: Actor, group_id: str) -> GroupView:
    with db.reading() as uow:
        return _view(uow, actor, group_id)


def rename_group(db: Database, actor: Actor, group_id: str, name: str) -> GroupView:
    name = group_name(name)
    with db.writing() as uow:
        found = group_holder(uow, actor, group_id, lock=True)
        if found.group.name != name:
            _check_name_free(uow, actor, name)
            record_group(
                uow, actor, found.group, "group_renamed", before=found.group.name, after=name
            )
            found.group.name = name
            uow.session.flush()
            uow.commit()
        return _view(uow, actor, group_id)


def delete_group(db: Database, actor: Actor, group_id: str) -> None:
    """A group no list holds, with its members; 409 naming the lists that hold it."""
    with db.writing() as uow:
        found = group_holder(uow, actor, group_id, lock=True)
        holding = groups.holders(uow.session, found.group.pk)
        if holding:
            named = "; ".join(h.describe() for h in holding[:10])
            more = f" and {len(holding) - 10} more" if len(holding) > 10 else ""
            raise Conflict(
                "group_in_use",
                f"This group is on {len(holding)} specified-user list(s): {named}{more}. "
                "Take it off them first.",
                lists=[asdict(_holding(h)) for h in holding],
            )
        groups.delete_group(uow.session, found.group, found.list_pk)
        # Empty the deleted list in every index: a list's key may be given again later.
        uow.record_change(changes.ListReloaded(found.list_pk))
        uow.commit()


def attach_group(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, group_id: str
) -> tuple[AttachedGroupView, bool]:
    """R17: put the seller's group on a specified-user list (R5: while the list takes users);
    its members count there from this commit. True if it was not there yet."""
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        found.check_open()
        group = group_holder(uow, actor, group_id, lock=False)
        view = AttachedGroupView(
            group.group.group_id, group.group.name, lists.count_entries(uow.session, group.list_pk)
        )
        attached = attach_in(uow, actor, found, group)
        if attached:
            uow.commit()
        return view, attached


def attach_in(uow: UnitOfWork, actor: Actor, found: Owner, group: GroupHolder) -> bool:
    """`attach_group` within the caller's transaction: False if the group was there."""
    found.check_open()
    if groups.is_attached(uow.session, found.list_pk, group.group.pk):
        return False
    groups.attach(uow.session, found.list_pk, group.group.pk, utcnow())
    uow.record_change(changes.GroupAttached(found.list_pk, group.list_pk, True))
    record(
        uow,
        actor,
        found.product,
        "group_attached",
        specification_id=found.spec_id,
        subject=group.group.group_id,
        after=group.group.name,
    )
    return True


def detach_group(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, group_id: str
) -> None:
    """R17: take a group off a specified-user list; 404 if it is not on it."""
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        group = group_holder(uow, actor, group_id, lock=False)
        detach_in(uow, actor, found, group)
        uow.commit()


def detach_in(uow: UnitOfWork, actor: Actor, found: Owner, group: GroupHolder) -> None:
    """`detach_group` within the caller's transaction."""
    if not groups.is_attached(uow.session, found.list_pk, group.group.pk):
        raise NotFound(
            "group_not_on_list", "This group is not on the list.", group_id=group.group.group_id
        )
    groups.detach(uow.session, found.list_pk, group.group.pk)
    uow.record_change(changes.GroupAttached(found.list_pk, group.list_pk, False))
    record(
        uow,
        actor,
        found.product,
        "group_detached",
        specification_id=found.spec_id,
        subject=group.group.group_id,
        before=group.group.name,
    )


def specification_names(db: Database, actor: Actor, specification_ids: list[str]) -> dict[str, str]:
    """Names for the specifications an impact names ("Product / Specification"), the seller's
    own only: a group's change reaches every list holding it, across products."""
    with db.reading() as uow:
        return products.specification_names_of_own(uow.session, actor.seller_pk, specification_ids)


def _view(uow: UnitOfWork, actor: Actor, group_id: str) -> GroupView:
    found = group_holder(uow, actor, group_id, lock=False)
    group = found.group
    members = lists.count_entries(uow.session, found.list_pk)
    holding = [_holding(h) for h in groups.holders(uow.session, group.pk)]
    return GroupView(group.group_id, group.name, group.created_at, members, holding)


def _holding(found: groups.Holder) -> HoldingList:
    return HoldingList(
        found.product_id, found.product_name, found.specification_id, found.specification_name
    )


def _seller(actor: Actor) -> int:
    assert actor.seller_pk is not None, "groups are a seller's (the routes admit sellers only)"
    return actor.seller_pk


def _check_name_free(uow: UnitOfWork, actor: Actor, name: str) -> None:
    if groups.named(uow.session, _seller(actor), name) is not None:
        raise Conflict(
            "group_name_taken",
            "You already have a customer group with this name. Choose another name.",
            field="name",
        )


# --- members: R5's use cases on the group's own list -----------------------------------------


def list_members(
    db: Database,
    actor: Actor,
    group_id: str,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    search: str = "",
    status: EntryStatus | None = None,
    count: bool = False,
) -> Page[SpecifiedUserView]:
    """A page of a group's members, searched and filtered as a specified-user list is."""
    with db.reading() as uow:
        found = group_holder(uow, actor, group_id, lock=False)
        return specified_users.entries_page(uow, found, limit, cursor, search, status, count)


def add_member(
    db: Database,
    actor: Actor,
    group_id: str,
    account_id: str,
    account_name: str,
    window: Window = ALWAYS,
) -> AddedUser:
    """R5's checks of name and ID, R16's window; the change reaches every list holding the
    group in this one commit."""
    with db.writing() as uow:
        found = group_holder(uow, actor, group_id, lock=True)
        added = specified_users.add_entry(uow, actor, found, account_id, account_name, window)
        uow.commit()
        return added


def remove_member(db: Database, actor: Actor, group_id: str, account_id: str) -> RemovedUser:
    with db.writing() as uow:
        found = group_holder(uow, actor, group_id, lock=True)
        removed = specified_users.remove_entry(uow, actor, found, account_id)
        uow.commit()
        return removed


def import_members(
    db: Database,
    actor: Actor,
    group_id: str,
    source: IO[bytes],
    *,
    skip_invalid: bool = False,
    errors: ErrorSink | None = None,
) -> ImportReport:
    """R5's CSV import (R16's window columns included) into a group, all or none."""
    with db.writing() as uow:
        found = group_holder(uow, actor, group_id, lock=True)
        return imports.import_entries(
            uow, actor, found, source, skip_invalid=skip_invalid, errors=errors
        )


def export_members(db: Database, actor: Actor, group_id: str) -> Iterator[str]:
    """A group's members as the list export's CSV (R9: 404 before any byte is sent)."""
    with db.reading() as uow:
        list_pk = group_holder(uow, actor, group_id, lock=False).list_pk
    return exports.export_list(db, list_pk)
