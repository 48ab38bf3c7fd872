"""R19: a list made as a configuration document gives it, in bulk (R5, R6, R13, R16).

A document may add and remove thousands of a list's entries at once. They are carried out as
an import is: the accounts looked up a chunk at a time and each judged by the import's own
checks (the same rules as a single add: name and ID, type fit, the list open), one insert, one
delete, one window update, and the index told in as few changes as the import tells it.
"""

from __future__ import annotations

from dataclasses import dataclass

from offerscope.domain.lists import RegisteredAccount
from offerscope.domain.windows import ALWAYS, Window, describe
from offerscope.services.actors import Actor
from offerscope.services.history import record_on
from offerscope.services.imports import (
    CHUNK,
    entries_alike,
    insert_entries,
    judged,
    record_list_changes,
    registered,
)
from offerscope.services.ownership import ListHolder
from offerscope.storage import lists
from offerscope.storage.bulk import BulkIo
from offerscope.storage.unit_of_work import UnitOfWork

# A list change of at most this many accounts is recorded entry by entry, as single edits
# record it (R13); a larger one in one entry, as an import is.
DETAILED_HISTORY = 20


@dataclass(frozen=True)
class EntryEdit:
    """An account put on a list, or given another window: ID and name normalized."""

    account_id: str
    account_name: str
    window: Window
    before: Window | None = None  # the window it had, for an account already listed


@dataclass(frozen=True)
class EntryGone:
    account_pk: int
    account_id: str
    account_name: str  # as entered


def edit_entries(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    added: list[EntryEdit],
    rewindowed: list[EntryEdit],
    removed: list[EntryGone],
    named: list[EntryEdit] | None = None,
) -> None:
    """R5, R6, R16 in bulk within the caller's transaction: entries added (each judged as a
    single add judges it: the first refusal raises), windows changed, entries removed; one
    statement per kind, and R13's history as `DETAILED_HISTORY` says. `named`: entries left
    as they are, whose names are judged all the same."""
    session = uow.session
    session.flush()  # the driver's statements below see (and follow) the session's
    if added or rewindowed:
        found.check_open()  # R5, as for a single add (a window change is an add too)
    bulk = BulkIo(session)
    judging = [*added, *rewindowed, *(named or [])]
    by_id: dict[str, tuple[int, RegisteredAccount]] = {}
    for start in range(0, len(judging), CHUNK):
        ids = {e.account_id for e in judging[start : start + CHUNK]}
        by_id.update(registered(bulk, "account_id", ids))
    judged_pks = [judged(e.account_name, by_id.get(e.account_id), found.type_rule) for e in judging]
    wanted = judging[: len(added) + len(rewindowed)]  # what changes
    if not wanted and not removed:
        return
    pks = judged_pks[: len(wanted)]
    new_pks, moved_pks = pks[: len(added)], pks[len(added) :]
    lists.remove_entries(session, found.list_pk, [e.account_pk for e in removed])
    rows = [(pk, e.account_name, e.window) for pk, e in zip(new_pks, added, strict=True)]
    alike = entries_alike(bulk, found.list_pk)  # one change: one moment for all its entries
    for start in range(0, len(rows), CHUNK):
        insert_entries(bulk, alike, rows[start : start + CHUNK])
    lists.set_windows(
        session, found.list_pk, {pk: e.window for pk, e in zip(moved_pks, rewindowed, strict=True)}
    )
    edits: dict[Window, list[int]] = {}
    for pk, edit in zip(pks, wanted, strict=True):
        edits.setdefault(edit.window, []).append(pk)
    record_list_changes(uow, found.list_pk, edits, [e.account_pk for e in removed])
    _record_edits(uow, actor, found, added, rewindowed, removed)


def _record_edits(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    added: list[EntryEdit],
    rewindowed: list[EntryEdit],
    removed: list[EntryGone],
) -> None:
    count = len(added) + len(rewindowed) + len(removed)
    if count > DETAILED_HISTORY:
        summary = f"{len(added)} added, {len(removed)} removed, {len(rewindowed)} windows changed"
        record_on(
            uow,
            actor,
            found,
            "specified_users_configured",
            subject=f"{count} accounts",
            after=summary,
        )
        return
    for gone in removed:
        record_on(
            uow,
            actor,
            found,
            "specified_user_removed",
            subject=gone.account_id,
            before=gone.account_name,
        )
    for edit in added:
        window = edit.window
        after = (
            edit.account_name if not window.bounded else f"{edit.account_name} ({describe(window)})"
        )
        record_on(uow, actor, found, "specified_user_added", subject=edit.account_id, after=after)
    for edit in rewindowed:
        record_on(
            uow,
            actor,
            found,
            "specified_user_window_changed",
            subject=edit.account_id,
            before=describe(edit.before or ALWAYS),
            after=describe(edit.window),
        )
