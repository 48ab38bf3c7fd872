"""Specified-user lists of products and specifications (R5, R6), and the member lists of
customer groups (R17): one set of use cases for every list of accounts."""

from __future__ import annotations

from datetime import datetime

from offerscope.domain.errors import NotFound
from offerscope.domain.limits import DEFAULT_PAGE, check_page_size
from offerscope.domain.lists import (
    RegisteredAccount,
    check_type_fit,
    list_is_active,
    match_account,
)
from offerscope.domain.names import account_id_key, normalize_account_id, normalize_account_name
from offerscope.domain.targets import LABELS, AccountType, Target
from offerscope.domain.windows import ALWAYS, EntryStatus, Window, check_window, describe
from offerscope.services.actors import Actor
from offerscope.services.history import record_on
from offerscope.services.ids import utcnow
from offerscope.services.ownership import GroupHolder, ListHolder, Owner, owner
from offerscope.services.paging import keyset_cursors, read_position, scope_tag
from offerscope.services.views import (
    AddedUser,
    AttachedGroupView,
    Page,
    RemovedUser,
    SpecifiedUsersView,
    SpecifiedUserView,
)
from offerscope.storage import accounts, changes, groups, lists
from offerscope.storage.tables import AccountRow, ListEntryRow
from offerscope.storage.unit_of_work import Database, UnitOfWork


def window_of(entry: ListEntryRow) -> Window:
    return Window(entry.valid_from, entry.valid_until)


def user_view(
    entry: ListEntryRow, account: AccountRow, found: ListHolder, now: datetime
) -> SpecifiedUserView:
    account_type = AccountType(account.account_type)
    window = window_of(entry)
    why = found.why_not(account_type, window, now)
    return SpecifiedUserView(
        account_id=account.account_id,
        account_name=entry.entered_name,
        current_account_name=account.account_name,
        account_type=account_type,
        added_at=entry.added_at,
        counts=why is None,
        why=why,
        valid_from=entry.valid_from,
        valid_until=entry.valid_until,
        status=window.status(now),
    )


def registered(row: AccountRow | None) -> RegisteredAccount | None:
    """An account row as the rules of R5 and R6 see it."""
    if row is None:
        return None
    return RegisteredAccount(row.account_id, row.account_name, AccountType(row.account_type))


def list_specified_users(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None = None,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    search: str = "",
    status: EntryStatus | None = None,
    count: bool = False,
) -> SpecifiedUsersView:
    """A page of a list in the order accounts were registered. With `search`, the entries whose
    names or ID start with it come first (in name, then ID order), then those containing it;
    in any case; with `status`, only the entries that are active, scheduled or expired now
    (R16). `count` adds the total (an indexed count: the list's, or the best matches')."""
    with db.reading() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=False)
        page = entries_page(uow, found, limit, cursor, search, status, count)
        return SpecifiedUsersView(page, list_is_active(found.setting), attached_groups(uow, found))


def attached_groups(uow: UnitOfWork, found: Owner) -> list[AttachedGroupView]:
    """R17: the groups on a specified-user list, each with its member count and, R6 at check
    time, how many of its members are of the wrong type to count on this list, and why."""
    rule = found.type_rule
    typed = rule if rule in (Target.ENTERPRISE, Target.INDIVIDUAL) else None
    views = []
    for group, pk in groups.groups_on(uow.session, found.list_pk):
        members = lists.count_entries(uow.session, pk)
        wrong = 0 if typed is None else lists.count_not_of_type(uow.session, pk, typed.value)
        why = None
        if wrong:
            assert typed is not None
            why = (
                f"{wrong} of its members are not {typed.value} accounts and do not count here: "
                f"the product is sold only to {LABELS[typed].lower()}."
            )
        views.append(AttachedGroupView(group.group_id, group.name, members, wrong, why))
    return views


def entries_page(
    uow: UnitOfWork,
    found: ListHolder,
    limit: int,
    cursor: str | None,
    search: str,
    status: EntryStatus | None,
    count: bool,
) -> Page[SpecifiedUserView]:
    """A page of the list `found` holds (see `list_specified_users`)."""
    limit = check_page_size(limit)
    now = utcnow()
    query = lists.entries_query(uow.session, found.list_pk, search, status, now)
    scope = scope_tag("entries", found.list_pk, search, status)
    position = read_position(cursor, query.phases, scope)
    rows, keyset = lists.entries_page(
        uow.session, query, limit=limit, after=position.after, before=position.before
    )
    following, previous, start = keyset_cursors(keyset, position, scope)
    total = lists.count_matches(uow.session, query) if count else None
    return Page(
        [user_view(entry, account, found, now) for entry, account in rows],
        following,
        previous,
        start,
        total,
        partial_total=query.searching,
        looked_in_part=keyset.short,
    )


def add_specified_user(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None,
    account_id: str,
    account_name: str,
    window: Window = ALWAYS,
) -> AddedUser:
    """R5, R6: add an account, named by both its ID and its name, to a list; R16: counting
    only within `window`. The account already on the list keeps its entry, with this window
    (`created` False; a changed window is recorded in history)."""
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        added = add_entry(uow, actor, found, account_id, account_name, window)
        uow.commit()
        return added


def add_entry(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    account_id: str,
    account_name: str,
    window: Window = ALWAYS,
) -> AddedUser:
    """`add_specified_user` on the list `found` holds, within the caller's transaction."""
    account_id = normalize_account_id(account_id)
    account_name = normalize_account_name(account_name)
    window = check_window(window.valid_from, window.valid_until)
    now = utcnow()
    found.check_open()
    by_id = accounts.find_account(uow.session, account_id)
    account = match_account(account_name, registered(by_id))
    assert by_id is not None
    if found.type_rule is not None:
        check_type_fit(found.type_rule, account)
    existing = lists.entry(uow.session, found.list_pk, by_id.pk)
    if existing is not None:
        if window_of(existing) != window:
            _change_window(uow, actor, found, existing, account_id, window)
        return AddedUser(user_view(existing, by_id, found, now), created=False)
    entry = lists.add_entry(uow.session, found.list_pk, by_id.pk, account_name, now, window)
    uow.record_change(changes.list_edited(found.list_pk, [by_id.pk], window))
    record_on(
        uow,
        actor,
        found,
        "specified_user_added",
        subject=account_id,
        after=account_name if not window.bounded else f"{account_name} ({describe(window)})",
    )
    uow.session.flush()
    return AddedUser(user_view(entry, by_id, found, now), created=True)


def _change_window(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    entry: ListEntryRow,
    account_id: str,
    window: Window,
) -> None:
    """R16: an account added again with another window keeps its entry, with the new window."""
    before = window_of(entry)
    entry.valid_from, entry.valid_until = window.valid_from, window.valid_until
    uow.record_change(changes.list_edited(found.list_pk, [entry.account_pk], window))
    record_on(
        uow,
        actor,
        found,
        "specified_user_window_changed",
        subject=account_id,
        before=describe(before),
        after=describe(window),
    )
    uow.session.flush()


def remove_specified_user(
    db: Database, actor: Actor, product_id: str, specification_id: str | None, account_id: str
) -> RemovedUser:
    """R5: remove an account from a list; 404 if it is not on it. The answer names it as the
    list did."""
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        removed = remove_entry(uow, actor, found, account_id)
        uow.commit()
        return removed


def remove_entry(uow: UnitOfWork, actor: Actor, found: ListHolder, account_id: str) -> RemovedUser:
    """`remove_specified_user` from the list `found` holds, within the caller's transaction."""
    key = account_id_key(account_id)
    entry = lists.entry_of_account(uow.session, found.list_pk, key) if key else None
    if entry is None or key is None:
        raise NotFound(
            "user_not_found",
            "This account is not a member of this group."
            if isinstance(found, GroupHolder)
            else "This account is not on the specified-user list.",
            account_id=account_id,
        )
    lists.remove_entry(uow.session, found.list_pk, entry.account_pk)
    uow.record_change(changes.ListEdited(found.list_pk, (entry.account_pk,), False))
    record_on(uow, actor, found, "specified_user_removed", subject=key, before=entry.entered_name)
    return RemovedUser(key, entry.entered_name)
