"""Bulk lists: CSV imports and exports of accounts and of specified users (R5, R6, R13).

One transaction per import: every row or none. Each row is judged by the same rules as a
single add (`names.normalize_*`, `lists.match_account`, `lists.check_type_fit`,
`lists.check_list_open`); every bad row is reported with its line, its value and why. With
`skip_invalid` the good rows are imported and the bad ones reported.

Rows are read and written in chunks, so a million rows take seconds: a list import resolves a
chunk's account IDs with one query and stages its entries with one driver call (executemany on
SQLite, COPY on PostgreSQL), then moves them all into the list in key order (`BulkIo.staged`);
an accounts import inserts a well-formed chunk at once and lets the unique constraints say
whether any row is already there, judging the chunk row by row only then. Rows already in
normal form are checked with one C call per value; the others, and every row that fails, go
through the rules' own functions, which word the error. Memory holds one chunk of rows at a
time, besides keys: the accounts on the list (a list import), or the new rows of an accounts
file already rejected (checked for repeats).
"""

from __future__ import annotations

import csv
import gc
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from offerscope.domain.errors import Invalid, OfferscopeError
from offerscope.domain.lists import (
    RegisteredAccount,
    check_type_fit,
    match_account,
    names_the_account,
    required_account_type,
    type_fits,
)
from offerscope.domain.names import (
    is_normal_account_id,
    is_normal_account_name,
    normalize_account_id,
    normalize_account_name,
    parse_account_type,
)
from offerscope.domain.targets import AccountType, Target
from offerscope.domain.windows import ALWAYS, Window, read_window
from offerscope.services.accounts import account_exists, name_taken
from offerscope.services.actors import Actor
from offerscope.services.history import record_on
from offerscope.services.ids import utcnow
from offerscope.services.ownership import ListHolder, owner
from offerscope.storage import accounts, changes, lists
from offerscope.storage.bulk import ACCOUNTS, NEW_ACCOUNT_COLUMNS, AccountKey, BulkIo
from offerscope.storage.unit_of_work import Database, UnitOfWork

CHUNK = 10_000
# A list import this large tells other processes to read the list again rather than
# sending every key through the change log.
RELOAD_THRESHOLD = 10_000
ACCOUNT_COLUMNS = ("account_id", "account_name", "account_type")
USER_COLUMNS = ("account_id", "account_name")
# R16: a list's rows may carry a window; a file has the two columns or the four throughout.
WINDOWED_USER_COLUMNS = (*USER_COLUMNS, "valid_from", "valid_until")

_TYPES = {kind.value: kind for kind in AccountType}

Progress = Callable[[int], None]
"""Called with the number of bytes read since the last call."""


# A rejected import's answer carries this many bad rows, in line order, and a count per code;
# every bad row goes to the report's sink (a CSV file) when the caller asks for all of them.
REPORTED_ERRORS = 100
# A row is shown as read, cut to this many characters: a report must not echo a huge field.
SHOWN_VALUE = 200


@dataclass(frozen=True)
class RowError:
    """One bad row: its line in the file, the row as read, and the rule it breaks."""

    line: int
    value: str
    code: str
    message: str


ErrorSink = Callable[[RowError], None]
"""Receives every bad row, in line order (e.g. written to a CSV file)."""


@dataclass
class ImportReport:
    """What an import did: rows imported, rows already there, and the bad rows.

    Memory stays bounded whatever the upload: every bad row is counted and passed to `sink`,
    but only the first `REPORTED_ERRORS` are kept.
    """

    imported: int = 0
    unchanged: int = 0
    windows_changed: int = 0  # R16: accounts already listed, now with another window
    error_count: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    sink: ErrorSink | None = None

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def add_errors(self, errors: list[RowError]) -> None:
        """Bad rows of one chunk (chunks come in file order)."""
        for error in sorted(errors, key=lambda e: e.line):
            self.error_count += 1
            self.error_counts[error.code] = self.error_counts.get(error.code, 0) + 1
            if len(self.errors) < REPORTED_ERRORS:
                self.errors.append(error)
            if self.sink is not None:
                self.sink(error)


def row_error(line: int, fields: list[str], error: OfferscopeError) -> RowError:
    value = ",".join(fields)
    if len(value) > SHOWN_VALUE:
        value = value[:SHOWN_VALUE] + "…"
    return RowError(line, value, error.code, error.message)


def _rejected(report: ImportReport) -> Invalid:
    count = report.error_count
    return Invalid(
        "import_rejected",
        f"{count} row(s) are invalid, so nothing was imported. Correct them, or import with "
        "skip_invalid to import the valid rows only.",
        error_count=count,
        error_counts=dict(report.error_counts),
        errors=[vars(e) for e in report.errors],
        errors_truncated=report.errors_truncated,
    )


# --- the cycle collector -------------------------------------------------------------------

_paused = 0  # imports running in this process with the collector paused
_paused_lock = threading.Lock()
_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while an import runs.

    An import makes millions of short-lived lists and tuples (CSV records, rows, driver
    parameters), many alive at once in a chunk: they set off collections of the whole heap
    again and again, which cost two thirds of reading a file. None of them is in a cycle, so
    reference counting frees every one as before; the collector resumes (if it ran before)
    when the last import running in this process ends.
    """
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


# --- reading CSV ----------------------------------------------------------------------------


def _chunks(
    source: IO[bytes], headers: tuple[tuple[str, ...], ...], progress: Progress | None
) -> Iterator[list[tuple[int, list[str]]]]:
    """(line number, fields) of each non-blank record, CHUNK at a time; a header (one of
    `headers`) is skipped.

    A UTF-8 byte order mark is forgiven; a byte that is not UTF-8 fails its row's checks.
    A parser error (a field over the parser's limit, a NUL, ...) is bad input naming its
    line, never a crash.
    """
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    chunk: list[tuple[int, list[str]]] = []
    append = chunk.append
    reported = 0
    try:
        for fields in reader:
            if len(fields) < 2 and (not fields or not fields[0].strip()):
                continue
            line = reader.line_num
            if line == 1 and tuple(f.strip().lower() for f in fields) in headers:
                continue
            append((line, fields))
            if len(chunk) == CHUNK:
                reported = _report_progress(source, progress, reported)
                yield chunk
                chunk = []
                append = chunk.append
        _report_progress(source, progress, reported)
        if chunk:
            yield chunk
    except csv.Error as error:
        raise Invalid(
            "invalid_csv",
            f"The file cannot be read as CSV at line {reader.line_num}: {error}. "
            "Nothing was imported.",
            line=reader.line_num,
        ) from error
    finally:
        text.detach()  # the caller owns (and closes) the byte stream


def _report_progress(source: IO[bytes], progress: Progress | None, reported: int) -> int:
    if progress is None:
        return reported
    position: int = source.tell()
    progress(position - reported)
    return position


def _shape(fields: list[str], *headers: tuple[str, ...]) -> None:
    if all(len(fields) != len(header) for header in headers):
        shapes = " or ".join(",".join(header) for header in headers)
        raise Invalid(
            "invalid_request",
            f"A row has {' or '.join(str(len(h)) for h in headers)} comma-separated values: "
            f"{shapes}.",
        )


def registered(
    bulk: BulkIo, key: AccountKey, values: Iterable[str]
) -> dict[str, tuple[int, RegisteredAccount]]:
    """Accounts whose `key` is one of `values`: value -> (pk, RegisteredAccount)."""
    found = (_registered(row) for row in bulk.accounts(key, list(values)))
    if key == "account_id":
        return {account.account_id: (pk, account) for pk, account in found}
    return {account.account_name: (pk, account) for pk, account in found}


# --- specified users ------------------------------------------------------------------------


@dataclass
class _UserImport:
    """The running state of one list import."""

    owner: ListHolder
    existing: set[int]
    windows: dict[int, Window]  # R16: the windows of the entries that have one, by account
    bulk: BulkIo
    report: ImportReport = field(default_factory=ImportReport)
    added: dict[Window, list[int]] = field(default_factory=dict)  # new entries, by window
    fresh: set[int] = field(default_factory=set)  # the accounts this file adds
    rewindowed: dict[int, Window] = field(default_factory=dict)  # listed, now another window

    @property
    def added_count(self) -> int:
        return sum(len(pks) for pks in self.added.values())

    @property
    def product_target(self) -> Target | None:
        """R6 applies to a specification's list, under its product's target."""
        return self.owner.type_rule


def import_specified_users(
    db: Database,
    actor: Actor,
    product_id: str,
    specification_id: str | None,
    source: IO[bytes],
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    errors: ErrorSink | None = None,
) -> ImportReport:
    """R5, R6: add every `account_id,account_name` row of a CSV to a list, or none of them;
    R16: rows of `account_id,account_name,valid_from,valid_until` carry a window (either end
    may be empty), which replaces the window of an account already listed.

    `errors` receives every bad row; the report keeps only the first ones.
    """
    with db.writing() as uow:
        found = owner(uow, actor, product_id, specification_id, lock=True)
        return import_entries(
            uow, actor, found, source, skip_invalid=skip_invalid, progress=progress, errors=errors
        )


def import_entries(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    source: IO[bytes],
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    errors: ErrorSink | None = None,
) -> ImportReport:
    """`import_specified_users` into the list `found` holds, in `uow` (which it commits)."""
    with _collector_paused():
        return _import_entries(uow, actor, found, source, skip_invalid, progress, errors)


def _import_entries(
    uow: UnitOfWork,
    actor: Actor,
    found: ListHolder,
    source: IO[bytes],
    skip_invalid: bool,
    progress: Progress | None,
    errors: ErrorSink | None,
) -> ImportReport:
    found.check_open()
    existing = lists.member_pks(uow.session, found.list_pk)
    windows = lists.entry_windows(uow.session, found.list_pk)
    bulk = BulkIo(uow.session)
    job = _UserImport(found, existing, windows, bulk, ImportReport(sink=errors))
    with bulk.roomy_cache():
        same = entries_alike(bulk, found.list_pk)
        staged = bulk.staged(lists.ENTRIES, ENTRY_VALUES, order="account_pk", same=same)
        for chunk in _chunks(source, (USER_COLUMNS, WINDOWED_USER_COLUMNS), progress):
            rows = _judge_users(job, chunk)
            if skip_invalid or not job.report.error_count:
                staged.add(entry_values(bulk, rows))
        if job.report.error_count and not skip_invalid:
            raise _rejected(job.report)
        staged.move()
    if _finish_users(uow, actor, job):
        uow.commit()
    return job.report


NewEntry = tuple[int, str, Window]  # account pk, name as entered, window


def _judge_users(job: _UserImport, chunk: list[tuple[int, list[str]]]) -> list[NewEntry]:
    """The chunk's new entries; bad rows go to the report, new windows of listed accounts
    to `job.rewindowed`.

    A row whose values are already normal, of an account whose registered name is the one
    entered and whose type the list takes, is taken with a few C calls; any other row goes
    through the rules' own checks (`judged`), which say what is wrong with it.
    """
    report = job.report
    bad: list[RowError] = []
    shaped: list[tuple[int, list[str], str, str, Window]] = []
    good_id, good_name = is_normal_account_id, is_normal_account_name
    for line, fields in chunk:
        width = len(fields)
        if width == 2 or (width == 4 and not fields[2] and not fields[3]):
            account_id, name = fields[0], fields[1]
            if good_id(account_id) and good_name(name):
                shaped.append((line, fields, account_id, name, ALWAYS))
                continue
        try:
            _shape(fields, USER_COLUMNS, WINDOWED_USER_COLUMNS)
            account_id = normalize_account_id(fields[0])
            name = normalize_account_name(fields[1])
            window = read_window(*fields[2:]) if len(fields) == 4 else ALWAYS
            shaped.append((line, fields, account_id, name, window))
        except OfferscopeError as error:
            bad.append(row_error(line, fields, error))
    by_id = job.bulk.accounts_by_id([row[2] for row in shaped])
    target = job.product_target
    required = required_account_type(target)
    existing, fresh, added = job.existing, job.fresh, job.added
    new: list[NewEntry] = []
    for line, fields, account_id, name, window in shaped:
        found = by_id.get(account_id)
        if (
            found is not None
            and names_the_account(name, found[2])
            and type_fits(required, found[3])
        ):
            pk = found[0]  # R5 and R6 asked of the row as read; `judged` says what fails
        else:
            try:
                pk = judged(name, None if found is None else _registered(found), target)
            except OfferscopeError as error:
                bad.append(row_error(line, fields, error))
                continue
        if pk in existing:  # R5: already on the list (or earlier in the file)
            _listed_again(job, pk, window)
            continue
        existing.add(pk)
        fresh.add(pk)
        pks = added.get(window)
        if pks is None:
            pks = added[window] = []
        pks.append(pk)
        new.append((pk, name, window))
    report.add_errors(bad)
    return new


def _registered(row: tuple[int, str, str, str]) -> tuple[int, RegisteredAccount]:
    """An account row as `BulkIo.accounts` reads it, as the rules take it."""
    pk, account_id, name, kind = row
    return pk, RegisteredAccount(account_id, name, _TYPES[kind])


def judged(name: str, found: tuple[int, RegisteredAccount] | None, target: Target | None) -> int:
    """R5: the name and ID name one registered account; R6: of a type the list takes. The
    account's pk."""
    account = match_account(name, found[1] if found else None)
    if target is not None:
        check_type_fit(target, account)
    assert found is not None
    return found[0]


def _listed_again(job: _UserImport, pk: int, window: Window) -> None:
    """R16: a row for an account already listed replaces its window; the same window (or
    a second row for an account the file adds) changes nothing."""
    if pk in job.fresh or job.windows.get(pk, ALWAYS) == window:
        job.report.unchanged += 1
        return
    job.windows[pk] = window
    job.rewindowed[pk] = window
    job.report.windows_changed = len(job.rewindowed)


# An entry's own values; the others are its list's and the moment of the change
# (`entries_alike`).
ENTRY_VALUES = ("account_pk", "entered_name", "valid_from", "valid_until")


def entries_alike(bulk: BulkIo, list_pk: int) -> dict[str, Any]:
    """What every entry one change adds to a list has alike: the list, and the moment of the
    change (`added_at` as stored)."""
    return {"list_pk": list_pk, "added_at": bulk.stored(lists.ENTRIES.c.added_at, utcnow())}


def insert_entries(bulk: BulkIo, alike: dict[str, Any], rows: list[NewEntry]) -> None:
    bulk.insert(lists.ENTRIES, ENTRY_VALUES, entry_values(bulk, rows), same=alike)


def entry_values(bulk: BulkIo, rows: list[NewEntry]) -> list[tuple[Any, ...]]:
    """New entries' own values as stored, in `ENTRY_VALUES` order."""
    moment = lists.ENTRIES.c.valid_from

    def stored(value: datetime | None) -> Any:
        return None if value is None else bulk.stored(moment, value)

    return [
        (pk, name, None, None)
        if w is ALWAYS
        else (pk, name, stored(w.valid_from), stored(w.valid_until))
        for pk, name, w in rows
    ]


def _finish_users(uow: UnitOfWork, actor: Actor, job: _UserImport) -> bool:
    """R13: one history entry for the whole import; the index learns of the new entries.
    True if anything changed."""
    found = job.owner
    count = job.added_count
    job.report.imported = count
    if count == 0 and not job.rewindowed:
        return False
    lists.set_windows(uow.session, found.list_pk, job.rewindowed)
    record_on(
        uow,
        actor,
        found,
        "specified_users_imported",
        subject=f"{count} accounts",
        after=str(count)
        if not job.rewindowed
        else f"{count}; {len(job.rewindowed)} windows changed",
    )
    edits: dict[Window, list[int]] = {w: list(pks) for w, pks in job.added.items()}
    for pk, window in job.rewindowed.items():
        edits.setdefault(window, []).append(pk)
    record_list_changes(uow, found.list_pk, edits, [])
    return True


def record_list_changes(
    uow: UnitOfWork, list_pk: int, edits: dict[Window, list[int]], removed: list[int]
) -> None:
    """The index learns of a bulk change: accounts put on the list (by window) and taken off;
    past `RELOAD_THRESHOLD`, other processes read the list again instead."""
    if len(removed) + sum(len(pks) for pks in edits.values()) > RELOAD_THRESHOLD:
        uow.record_change(changes.ListReloaded(list_pk))
        return
    if removed:
        uow.record_change(changes.ListEdited(list_pk, tuple(removed), False))
    for window, pks in edits.items():
        uow.record_change(changes.list_edited(list_pk, pks, window))


# --- accounts -------------------------------------------------------------------------------


@dataclass
class _AccountImport:
    bulk: BulkIo
    report: ImportReport = field(default_factory=ImportReport)
    # Rows judged new but not (yet) in the database: those of the chunk being judged, and
    # those of a rejected import (not inserted) whose later rows are still judged. Rows in
    # the database are found there.
    seen_ids: dict[str, tuple[str, AccountType]] = field(default_factory=dict)
    seen_names: set[str] = field(default_factory=set)


AccountRowValues = tuple[str, str, str]  # account ID, name, type (its value)


def import_accounts(
    db: Database,
    source: IO[bytes],
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    errors: ErrorSink | None = None,
) -> ImportReport:
    """Register every `account_id,account_name,account_type` row of a CSV, or none of them.

    A row identical to an account already registered changes nothing; an ID registered with
    another name or type, or a name taken by another account, is a bad row.

    A chunk whose rows are all well formed is inserted at once, the table's unique
    constraints telling whether any ID or name is already there (the usual case: none is);
    only a chunk with a bad or known row is judged row by row against the accounts its IDs
    and names find.
    """
    with db.writing() as uow, _collector_paused():
        session = uow.session
        job = _AccountImport(BulkIo(session), ImportReport(sink=errors))
        with job.bulk.roomy_cache():
            first, last = _import_accounts(uow, job, source, skip_invalid, progress)
        if job.report.imported:
            uow.record_change(changes.AccountsReloaded(first, last))
            uow.commit()
        return job.report


def _import_accounts(
    uow: UnitOfWork,
    job: _AccountImport,
    source: IO[bytes],
    skip_invalid: bool,
    progress: Progress | None,
) -> tuple[int, int]:
    """Insert the file's new accounts, or raise; the first and last pk it inserted."""
    session = uow.session
    report = job.report
    before = accounts.last_pk(session)
    created_at = job.bulk.stored(ACCOUNTS.c.created_at, utcnow())
    for chunk in _chunks(source, (ACCOUNT_COLUMNS,), progress):
        inserting = skip_invalid or not report.error_count
        shaped, bad = _shape_accounts(chunk)
        if inserting and not bad:
            rows = [(i, name, kind, created_at) for _, _, i, name, kind in shaped]
            if job.bulk.insert_accounts(rows):
                report.imported += len(rows)
                continue
        new = _judge_accounts(job, shaped, bad)
        if new and (skip_invalid or not report.error_count):
            job.bulk.insert(ACCOUNTS, NEW_ACCOUNT_COLUMNS, [(*row, created_at) for row in new])
            report.imported += len(new)
            job.seen_ids.clear()  # in the database now
            job.seen_names.clear()
    if report.error_count and not skip_invalid:
        raise _rejected(report)
    return before + 1, accounts.last_pk(session)


ShapedAccount = tuple[int, list[str], str, str, str]  # line, fields, ID, name, type


def _shape_accounts(
    chunk: list[tuple[int, list[str]]],
) -> tuple[list[ShapedAccount], list[RowError]]:
    """Each row's normalized values, or why it is malformed. Values that are already normal
    are taken as they are; the others go through the normalizers (which trim them, or say
    what is wrong)."""
    shaped: list[ShapedAccount] = []
    bad: list[RowError] = []
    good_id, good_name, types = is_normal_account_id, is_normal_account_name, _TYPES
    for line, fields in chunk:
        if len(fields) == 3:
            account_id, name, kind = fields
            if good_id(account_id) and good_name(name) and kind in types:
                shaped.append((line, fields, account_id, name, kind))
                continue
        try:
            _shape(fields, ACCOUNT_COLUMNS)
            shaped.append(
                (
                    line,
                    fields,
                    normalize_account_id(fields[0]),
                    normalize_account_name(fields[1]),
                    parse_account_type(fields[2]).value,
                )
            )
        except OfferscopeError as error:
            bad.append(row_error(line, fields, error))
    return shaped, bad


def _judge_accounts(
    job: _AccountImport, shaped: list[ShapedAccount], bad: list[RowError]
) -> list[AccountRowValues]:
    """The new rows of a chunk, judged against the accounts registered and the rows before;
    bad rows (`bad`: the malformed ones) go to the report."""
    report = job.report
    by_id = registered(job.bulk, "account_id", {row[2] for row in shaped})
    by_name = registered(job.bulk, "account_name", {row[3] for row in shaped})
    new: list[AccountRowValues] = []
    for line, fields, account_id, name, kind in shaped:
        account_type = _TYPES[kind]
        try:
            if _alreadyregistered(job, by_id, account_id, name, account_type):
                report.unchanged += 1
                continue
            if name in by_name or name in job.seen_names:
                raise name_taken(name)
        except OfferscopeError as error:
            bad.append(row_error(line, fields, error))
            continue
        job.seen_ids[account_id] = (name, account_type)
        job.seen_names.add(name)
        new.append((account_id, name, kind))
    report.add_errors(bad)
    return new


def _alreadyregistered(
    job: _AccountImport,
    by_id: dict[str, tuple[int, RegisteredAccount]],
    account_id: str,
    name: str,
    account_type: AccountType,
) -> bool:
    """True for a row identical to its registered account; raise if the ID is taken."""
    if account_id in by_id:
        known = by_id[account_id][1]
        same = (known.account_name, known.account_type) == (name, account_type)
    elif account_id in job.seen_ids:
        same = job.seen_ids[account_id] == (name, account_type)
    else:
        return False
    if not same:
        raise account_exists(account_id)
    return True
