"""R18: the change feed, written in each decision-affecting commit's own transaction.

A write's history entries (R13) say who changed what and when; its change-log records say
which accounts it put on or took off which list. At commit (`UnitOfWork.commit`, after the
revision is taken) the two become feed rows under the commit's revision, so the feed holds
exactly what committed, in commit order. R16's window openings and closings are published
by `publish_windows` when their moment passes, each publication a commit with a revision.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from offerscope.storage import changelog
from offerscope.storage.changes import Change, ListEdited, ListReloaded, WindowsPassed
from offerscope.storage.tables import (
    AccountRow,
    ChangeFeedRow,
    CustomerGroupRow,
    FeedMarkRow,
    HistoryRow,
    ListEntryRow,
    ListRow,
    ProductRow,
    SpecificationRow,
)

# R18: account IDs are listed up to this many per side; above it, only counts.
MAX_LISTED = 1_000
# History actions about one account of a list (the entry's subject is its ID): the feed item
# names what the commit's list edits did to that account.
ACCOUNT_ACTIONS = frozenset(
    {"specified_user_added", "specified_user_removed", "specified_user_window_changed"}
)
# History actions about a list in bulk: the item names every account the commit's edits of
# that list granted or revoked.
BULK_ACTIONS = frozenset({"specified_users_imported", "specified_users_configured"})
LIST_ACTIONS = ACCOUNT_ACTIONS | BULK_ACTIONS
WINDOW_OPENED = "window_opened"
WINDOW_CLOSED = "window_closed"
SYSTEM_ACTOR = "system"

# A list's place: (product_pk, specification_id) or (None, group_id).
Place = tuple[int | None, str | None]


@dataclass
class _Accounts:
    granted: list[int] = field(default_factory=list)
    revoked: list[int] = field(default_factory=list)
    reloaded: bool = False


# --- writing at commit ---------------------------------------------------------------------

# Every write with a history entry runs these: built once and run on the session's
# connection, they skip the statement building and the ORM's result set-up, which cost more
# than the queries themselves (about a third of a list edit's time went to `prepare`).
_PKS: BindParameter[list[int]] = bindparam("pks", expanding=True)
_INSERT = insert(ChangeFeedRow)
_ACCOUNT_IDS = select(AccountRow.pk, AccountRow.account_id).where(AccountRow.pk.in_(_PKS))
_PRODUCTS = select(ProductRow.pk, ProductRow.seller_pk, ProductRow.product_id).where(
    ProductRow.pk.in_(_PKS)
)
_GROUPS = select(CustomerGroupRow.pk, CustomerGroupRow.seller_pk, CustomerGroupRow.group_id).where(
    CustomerGroupRow.pk.in_(_PKS)
)
_PLACES = (
    select(
        ListRow.pk,
        ListRow.product_pk,
        SpecificationRow.product_pk,
        SpecificationRow.specification_id,
        CustomerGroupRow.group_id,
    )
    .outerjoin(SpecificationRow, SpecificationRow.pk == ListRow.specification_pk)
    .outerjoin(CustomerGroupRow, CustomerGroupRow.pk == ListRow.group_pk)
    .where(ListRow.pk.in_(_PKS))
)


def prepare(
    session: Session, entries: Sequence[HistoryRow], changes: Sequence[Change]
) -> list[dict[str, Any]]:
    """The feed rows of one commit, but their revision: one per history entry, with the
    accounts its list edits granted or revoked (R16: an entry whose window does not hold now
    grants nothing yet). Read before the revision is taken, so that the change log's lock is
    held no longer for them."""
    if not entries:
        return []
    session.flush()
    now = time.time()
    places = _list_places(session, changes)
    edits: dict[Place, list[ListEdited | ListReloaded]] = defaultdict(list)
    for change in changes:
        if isinstance(change, ListEdited | ListReloaded) and change.list_pk in places:
            edits[places[change.list_pk]].append(change)
    owners = _owners(session, entries)
    place_of = {id(e): _place(e, owners[(e.product_pk, e.group_pk)][2]) for e in entries}
    # One commit may record several accounts of one list (a config apply): each entry about
    # one account then names that account only (looked up by its ID, the entry's subject).
    # A single edit, the usual commit, needs no look-up.
    per_place = Counter(place_of[id(e)] for e in entries if e.action in ACCOUNT_ACTIONS)
    shared = {
        e.subject for e in entries if e.action in ACCOUNT_ACTIONS and per_place[place_of[id(e)]] > 1
    }
    subjects = _pks_of(session, shared)
    rows = []
    for entry in entries:
        seller_pk, product_id, group_id = owners[(entry.product_pk, entry.group_pk)]
        accounts = _Accounts()
        place = place_of[id(entry)]
        if entry.action in BULK_ACTIONS or (
            entry.action in ACCOUNT_ACTIONS and per_place[place] == 1
        ):
            accounts = _accounts_of(entry.action, edits.get(place, []), now)
        elif entry.action in ACCOUNT_ACTIONS and entry.subject in subjects:
            only = subjects[entry.subject]
            accounts = _accounts_of(entry.action, edits.get(place, []), now, only)
        granted_count = len(accounts.granted)
        if accounts.reloaded:
            granted_count = _counted(entry.subject)
        rows.append(
            {
                "at": entry.at,
                "actor": entry.actor,
                "seller_pk": seller_pk,
                "product_id": product_id,
                "specification_id": entry.specification_id,
                "group_id": group_id,
                "kind": entry.action,
                "granted": _listed(session, accounts.granted, accounts.reloaded),
                "revoked": _listed(session, accounts.revoked, False),
                "granted_count": granted_count,
                "revoked_count": len(accounts.revoked),
                "impact": entry.impact,
            }
        )
    return rows


def record(session: Session, revision: int, rows: list[dict[str, Any]]) -> None:
    """Store `prepare`'s rows under the revision just taken (keys in revision order: they are
    drawn under the change log's lock)."""
    if rows:
        session.connection().execute(_INSERT, [{**row, "revision": revision} for row in rows])


def _accounts_of(
    action: str, edits: list[ListEdited | ListReloaded], now: float, only: int | None = None
) -> _Accounts:
    """What `edits` granted and revoked; with `only`, of that account alone."""
    found = _Accounts()
    for edit in edits:
        if isinstance(edit, ListReloaded):
            found.reloaded = only is None
            continue
        pks = edit.account_pks if only is None else [pk for pk in edit.account_pks if pk == only]
        holds = (edit.valid_from is None or edit.valid_from <= now) and (
            edit.valid_until is None or now < edit.valid_until
        )
        if edit.present and holds:
            found.granted.extend(pks)
        elif not edit.present or action == "specified_user_window_changed":
            found.revoked.extend(pks)
    return found


def _place(entry: HistoryRow, group_id: str | None) -> Place:
    """The list a history entry is about: its product's or specification's, or its group's."""
    if entry.product_pk is not None:
        return (entry.product_pk, entry.specification_id)
    return (None, group_id)


def _pks_of(session: Session, account_ids: set[str | None]) -> dict[str | None, int]:
    """account_id -> pk of these accounts (the subjects of entries about one account)."""
    wanted = [a for a in account_ids if a]
    if not wanted:
        return {}
    query = select(AccountRow.account_id, AccountRow.pk).where(AccountRow.account_id.in_(wanted))
    return {account_id: pk for account_id, pk in session.execute(query)}


def _counted(subject: str | None) -> int:
    """How many accounts a bulk import added: its history subject reads "N accounts"."""
    try:
        return int((subject or "0").split()[0])
    except ValueError:
        return 0


def _listed(session: Session, account_pks: list[int], reloaded: bool) -> str | None:
    """The account IDs as JSON, or None when there are more than R18 lists."""
    if reloaded or len(account_pks) > MAX_LISTED:
        return None
    if not account_pks:
        return "[]"
    ids = dict(session.connection().execute(_ACCOUNT_IDS, {"pks": account_pks}).all())
    return json.dumps([ids[pk] for pk in account_pks if pk in ids])


def _list_places(session: Session, changes: Sequence[Change]) -> dict[int, Place]:
    list_pks = {c.list_pk for c in changes if isinstance(c, ListEdited | ListReloaded)}
    if not list_pks:
        return {}
    return places_of(session, list_pks)


def places_of(session: Session, list_pks: set[int]) -> dict[int, Place]:
    """Where each list belongs: a product, a specification of one, or a customer group."""
    found: dict[int, Place] = {}
    rows = session.connection().execute(_PLACES, {"pks": sorted(list_pks)})
    for list_pk, product_pk, spec_product_pk, spec_id, group_id in rows:
        if product_pk is not None:
            found[list_pk] = (product_pk, None)
        elif spec_product_pk is not None:
            found[list_pk] = (spec_product_pk, spec_id)
        else:
            found[list_pk] = (None, group_id)
    return found


def _owners(
    session: Session, entries: Sequence[HistoryRow]
) -> dict[tuple[int | None, int | None], tuple[int | None, str | None, str | None]]:
    """(seller_pk, product_id, group_id) of each entry's book: a product's or a group's."""
    found: dict[tuple[int | None, int | None], tuple[int | None, str | None, str | None]] = {}
    product_pks = {e.product_pk for e in entries if e.product_pk is not None}
    group_pks = {e.group_pk for e in entries if e.group_pk is not None}
    connection = session.connection()
    if product_pks:
        for pk, seller_pk, product_id in connection.execute(
            _PRODUCTS, {"pks": sorted(product_pks)}
        ):
            found[(pk, None)] = (seller_pk, product_id, None)
    if group_pks:
        for pk, seller_pk, group_id in connection.execute(_GROUPS, {"pks": sorted(group_pks)}):
            found[(None, pk)] = (seller_pk, None, group_id)
    for entry in entries:
        found.setdefault((entry.product_pk, entry.group_pk), (None, None, None))
    return found


# --- R16: windows opening and closing ------------------------------------------------------


def _marks(session: Session, *, lock: bool) -> FeedMarkRow | None:
    query = select(FeedMarkRow).where(FeedMarkRow.id == 1)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def ensure_marks(session: Session, now: datetime) -> FeedMarkRow:
    """The marks row, created if there is none yet: windows are published from when the feed
    began (its first change, else `now`)."""
    marks = _marks(session, lock=True)
    if marks is None:
        began = session.scalar(select(func.min(ChangeFeedRow.at)))
        start = min(began, now) if began is not None else now
        marks = FeedMarkRow(id=1, windows_published_until=start, pruned_through=0)
        session.add(marks)
        session.flush()
    return marks


def windows_due(session: Session, now: datetime) -> bool:
    """Whether a window boundary passed since the last publication (a cheap read first)."""
    marks = _marks(session, lock=False)
    if marks is None:
        return True
    since = marks.windows_published_until
    return session.scalar(_boundaries(since, now).limit(1).with_only_columns(func.count())) != 0


def _boundaries(since: datetime, now: datetime) -> Select[ListEntryRow]:
    return select(ListEntryRow).where(
        or_(
            and_(ListEntryRow.valid_from > since, ListEntryRow.valid_from <= now),
            and_(ListEntryRow.valid_until > since, ListEntryRow.valid_until <= now),
        )
    )


def publish_windows(session: Session, now: datetime) -> int | None:
    """R16 + R18: every window that opened or closed since the last publication, as feed rows
    under a new revision, and the mark moved to `now`; all in the caller's write transaction.

    The marks row is locked first (SQLite: the write lock), so two processes never publish
    the same boundary; a publication that does not commit is made again by the next. Returns
    the revision, or None if nothing was due.
    """
    marks = ensure_marks(session, now)
    since = marks.windows_published_until
    if now <= since:
        return None
    by_list: dict[tuple[int, str], list[int]] = defaultdict(list)
    for entry in session.scalars(_boundaries(since, now)):
        if entry.valid_from is not None and since < entry.valid_from <= now:
            by_list[(entry.list_pk, WINDOW_OPENED)].append(entry.account_pk)
        if entry.valid_until is not None and since < entry.valid_until <= now:
            by_list[(entry.list_pk, WINDOW_CLOSED)].append(entry.account_pk)
    marks.windows_published_until = now
    if not by_list:
        session.flush()
        return None
    revision = changelog.append(session, [WindowsPassed(int(now.timestamp() * 1000))])
    places = places_of(session, {list_pk for list_pk, _ in by_list})
    sellers = _sellers_of(session, places)
    rows = []
    for (list_pk, kind), account_pks in sorted(by_list.items()):
        product_pk, second = places.get(list_pk, (None, None))
        opened = kind == WINDOW_OPENED
        listed = _listed(session, account_pks, False)
        rows.append(
            {
                "revision": revision,
                "at": now,
                "actor": SYSTEM_ACTOR,
                "seller_pk": sellers.get(list_pk),
                "product_id": _product_id(session, product_pk),
                "specification_id": second if product_pk is not None else None,
                "group_id": second if product_pk is None else None,
                "kind": kind,
                "granted": listed if opened else "[]",
                "revoked": "[]" if opened else listed,
                "granted_count": len(account_pks) if opened else 0,
                "revoked_count": 0 if opened else len(account_pks),
                "impact": None,
            }
        )
    session.execute(insert(ChangeFeedRow), rows)
    return revision


def _product_id(session: Session, product_pk: int | None) -> str | None:
    if product_pk is None:
        return None
    return session.scalar(select(ProductRow.product_id).where(ProductRow.pk == product_pk))


def _sellers_of(session: Session, places: dict[int, Place]) -> dict[int, int]:
    found: dict[int, int] = {}
    for list_pk, (product_pk, second) in places.items():
        if product_pk is not None:
            query = select(ProductRow.seller_pk).where(ProductRow.pk == product_pk)
        else:
            query = select(CustomerGroupRow.seller_pk).where(CustomerGroupRow.group_id == second)
        seller_pk = session.scalar(query)
        if seller_pk is not None:
            found[list_pk] = seller_pk
    return found


# --- reading and pruning -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    rows: list[ChangeFeedRow]
    head: int  # the newest committed revision this read saw
    pruned_through: int


def pruned_through(session: Session) -> int:
    marks = _marks(session, lock=False)
    return marks.pruned_through if marks is not None else 0


def page(session: Session, after: int, limit: int, seller_pk: int | None) -> FeedPage:
    """The changes after revision `after`, in commit order; a seller's own only (R9).

    A page never ends inside a revision: when the limit falls within one, the rest of that
    revision comes along (a page may then hold a few more than `limit`).
    """
    head = changelog.current_revision(session)
    query = select(ChangeFeedRow).where(
        ChangeFeedRow.revision > after, ChangeFeedRow.revision <= head
    )
    if seller_pk is not None:
        query = query.where(ChangeFeedRow.seller_pk == seller_pk)
    ordered = query.order_by(ChangeFeedRow.revision, ChangeFeedRow.pk)
    rows = list(session.scalars(ordered.limit(limit)))
    if len(rows) == limit:
        last = rows[-1]
        rest = query.where(ChangeFeedRow.revision == last.revision, ChangeFeedRow.pk > last.pk)
        rows += session.scalars(rest.order_by(ChangeFeedRow.pk))
    return FeedPage(rows, head, pruned_through(session))


def head_cursor(session: Session) -> tuple[int, int]:
    """The cursor just after everything committed so far (a new webhook's start)."""
    revision = changelog.current_revision(session)
    last = session.scalar(select(func.max(ChangeFeedRow.pk)))
    return revision, int(last or 0)


def after_cursor(
    session: Session, after_revision: int, after_pk: int, limit: int
) -> list[ChangeFeedRow]:
    """The changes after one (a webhook's cursor), every seller's, in commit order."""
    head = changelog.current_revision(session)
    later = or_(
        ChangeFeedRow.revision > after_revision,
        and_(ChangeFeedRow.revision == after_revision, ChangeFeedRow.pk > after_pk),
    )
    query = (
        select(ChangeFeedRow)
        .where(later, ChangeFeedRow.revision <= head)
        .order_by(ChangeFeedRow.revision, ChangeFeedRow.pk)
        .limit(limit)
    )
    return list(session.scalars(query))


def prune(session: Session, older_than: datetime, now: datetime) -> int:
    """Drop the changes made before `older_than`, whole revisions at a time; the revision
    pruned through (readers behind it get 410 `changes_pruned`)."""
    marks = ensure_marks(session, now)
    newest_old = session.scalar(
        select(func.max(ChangeFeedRow.revision)).where(ChangeFeedRow.at < older_than)
    )
    if newest_old is None or newest_old <= marks.pruned_through:
        return marks.pruned_through
    session.execute(delete(ChangeFeedRow).where(ChangeFeedRow.revision <= newest_old))
    session.execute(
        update(FeedMarkRow).where(FeedMarkRow.id == 1).values(pruned_through=newest_old)
    )
    return int(newest_old)
