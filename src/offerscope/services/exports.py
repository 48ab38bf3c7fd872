"""Bulk exports as CSV: the accounts, and a list with its names as entered (so it imports
again). Rows are read as the response consumes them, a block at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from offerscope.services.actors import Actor
from offerscope.services.imports import ACCOUNT_COLUMNS, CHUNK, WINDOWED_USER_COLUMNS
from offerscope.services.ownership import owner
from offerscope.storage import accounts, lists
from offerscope.storage.unit_of_work import Database


def _csv_lines(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> Iterator[str]:
    """CSV text, a block of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_accounts(db: Database) -> Iterator[str]:
    """Every account as `account_id,account_name,account_type` CSV, in registration order."""
    with db.reading() as uow:
        yield from _csv_lines(ACCOUNT_COLUMNS, accounts.exported(uow.session, CHUNK))


def export_specified_users(
    db: Database, actor: Actor, product_id: str, specification_id: str | None
) -> Iterator[str]:
    """A list as `account_id,account_name,valid_from,valid_until` CSV (names as entered;
    R16's window, empty where open), ready to import again.

    The owner is checked now (R9: 404 before any byte is sent); rows are read as consumed.
    """
    with db.reading() as uow:
        list_pk = owner(uow, actor, product_id, specification_id, lock=False).list_pk
    return export_list(db, list_pk)


def export_list(db: Database, list_pk: int) -> Iterator[str]:
    """Any list of accounts (its holder checked by the caller) as the CSV above."""

    def rows() -> Iterator[str]:
        with db.reading() as uow:
            rows = lists.exported(uow.session, list_pk, CHUNK)
            yield from _csv_lines(WINDOWED_USER_COLUMNS, rows)

    return rows()
