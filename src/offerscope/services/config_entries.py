"""R19: how a document's entries differ from a list's (a product's, a specification's or a
customer group's), worked out without the database: each entry the document changes is judged
as a single add judges its ID, name and window; R5's and R6's checks of the account itself
come when the change is carried out (`list_edits.edit_entries`).

Entries given exactly as the export gives them are told apart by set look-ups: a document of
200,000 entries mostly repeats the state, and judging each again was most of a plan's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any, Literal

from offerscope.domain.errors import Invalid
from offerscope.domain.names import normalize_account_id, normalize_account_name
from offerscope.domain.windows import ALWAYS, Window, read_window
from offerscope.services.list_edits import EntryEdit, EntryGone
from offerscope.storage import config as stored
from offerscope.storage.config import ACCOUNT_ID, ACCOUNT_PK, VALID_FROM, VALID_UNTIL
from offerscope.storage.config import ENTERED_NAME as NAME

Op = Literal["add", "remove", "change"]

EntryDoc = tuple[str, str, str | None, str | None]
"""One specified user as a document gives it: (account_id, account_name, valid_from,
valid_until), R5 with R16's window as text. A plain tuple: a document holds 100,000s, and an
entry given as the export gives it compares equal to the stored entry's `_entry_key`."""


def moment_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def duplicate(what: str, key: str) -> Invalid:
    return Invalid(
        "duplicate_in_config", f"The document names {what} {key} twice; name it once.", id=key
    )


@dataclass
class ListDiff:
    """What a document's entries change on one list."""

    added: list[EntryEdit] = field(default_factory=list)
    rewindowed: list[EntryEdit] = field(default_factory=list)
    removed: list[EntryGone] = field(default_factory=list)
    # Entries left as they are that the document names otherwise than as entered: their name
    # is judged as a single add judges it (R5), and nothing of them changes.
    named: list[EntryEdit] = field(default_factory=list)
    # The changes in the plan's order: removals, then additions and window changes as the
    # document gives them.
    lines: list[tuple[Op, str, Any, Any]] = field(default_factory=list)


def _window_json(window: Window) -> dict[str, str | None]:
    return {
        "valid_from": moment_text(window.valid_from),
        "valid_until": moment_text(window.valid_until),
    }


def _stored_window(entry: stored.StoredEntry) -> Window:
    return Window(entry[VALID_FROM], entry[VALID_UNTIL])


# An entry as the export gives it when it has no window: (ID, name, None, None); one with a
# window never equals a document's entry this way (its ends are datetimes, not text).
_entry_key = itemgetter(ACCOUNT_ID, NAME, VALID_FROM, VALID_UNTIL)


def diff_entries(
    present: list[stored.StoredEntry], entries: list[EntryDoc], prune: bool
) -> ListDiff:
    """The document's entries against the list's, each one the document changes judged as a
    single add judges it (ID, name, window; R5's and R6's checks of the account come when
    it is carried out). Entries given exactly as exported are told apart by set look-ups."""
    diff = ListDiff()
    # Entries given exactly as exported are unchanged: their ID and name were normalized
    # when they were added.
    as_exported: set[object] = set(map(_entry_key, present))
    kept = [e for e in entries if e in as_exported]
    seen = {e[0] for e in kept}
    if len(seen) < len(kept):
        _raise_first_duplicate(kept)
    by_id = {e[ACCOUNT_ID]: e for e in present}
    additions: list[tuple[Op, str, Any, Any]] = []
    for doc in entries if len(kept) < len(entries) else ():
        if doc in as_exported:
            continue
        raw_id, raw_name, valid_from, valid_until = doc
        account_id = normalize_account_id(raw_id)
        if account_id in seen:
            raise duplicate("account", account_id)
        seen.add(account_id)
        name = normalize_account_name(raw_name)
        window = (
            ALWAYS
            if valid_from is None and valid_until is None
            else read_window(valid_from, valid_until)
        )
        entry = by_id.get(account_id)
        after = {"account_name": name, **_window_json(window)}
        if entry is None:
            diff.added.append(EntryEdit(account_id, name, window))
            additions.append(("add", account_id, None, after))
        elif _stored_window(entry) != window:
            before = {"account_name": entry[NAME], **_window_json(_stored_window(entry))}
            after["account_name"] = entry[NAME]  # kept as entered (R5)
            diff.rewindowed.append(EntryEdit(account_id, name, window, _stored_window(entry)))
            additions.append(("change", account_id, before, after))
        elif name != entry[NAME]:
            diff.named.append(EntryEdit(account_id, name, window))
    if prune and len(seen & by_id.keys()) < len(present):
        for entry in present:
            if entry[ACCOUNT_ID] not in seen:
                diff.removed.append(EntryGone(entry[ACCOUNT_PK], entry[ACCOUNT_ID], entry[NAME]))
                before = {"account_name": entry[NAME], **_window_json(_stored_window(entry))}
                diff.lines.append(("remove", entry[ACCOUNT_ID], before, None))
    diff.lines += additions
    return diff


def _raise_first_duplicate(entries: list[EntryDoc]) -> None:
    seen: set[str] = set()
    for account_id, *_ in entries:
        if account_id in seen:
            raise duplicate("account", account_id)
        seen.add(account_id)
