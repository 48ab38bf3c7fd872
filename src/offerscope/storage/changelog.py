"""The decision index's change log: a gapless revision counter and what each revision changed.

Every write use case that changes a decision records its changes in its own transaction
(`UnitOfWork.record_change`); at commit the unit of work bumps the counter and stores the
changes under the new revision. The counter row is locked as late as possible, just before
COMMIT, so writers hold it only briefly and revisions follow commit order. Any process can
then bring its in-memory index up to date by reading the counter (one primary-key read) and
the changes since the revision it has.

The changes are `storage.changes` records, encoded and decoded there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from offerscope.storage import changes
from offerscope.storage.changes import Change, Rebuild
from offerscope.storage.tables import IndexChangeRow, IndexRevisionRow

_log = logging.getLogger(__name__)

# How many revisions other processes may fall behind before they rebuild instead.
KEEP_REVISIONS = 100_000
PRUNE_EVERY = 1_000

# Insert-or-bump in one statement (PostgreSQL and SQLite >= 3.35 alike): it takes the row lock,
# and it recreates the row should the table have been emptied (TRUNCATE in tests).
_BUMP = text(
    "INSERT INTO index_revision (id, revision) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET revision = index_revision.revision + 1 "
    "RETURNING revision"
)
REVISION_QUERY = "SELECT revision FROM index_revision WHERE id = 1"
# Every write that changes decisions runs it: built once, on the session's connection (an ORM
# object and its flush cost several times the statement).
_INSERT = insert(IndexChangeRow)


def append(session: Session, changes_made: Sequence[Change]) -> int:
    """Store the changes under the next revision, in the session's transaction; the revision."""
    connection = session.connection()
    revision = int(connection.execute(_BUMP).scalar_one())
    connection.execute(_INSERT, {"revision": revision, "payload": changes.encode(changes_made)})
    if revision % PRUNE_EVERY == 0:
        session.execute(
            delete(IndexChangeRow).where(IndexChangeRow.revision <= revision - KEEP_REVISIONS)
        )
    session.flush()
    return revision


def current_revision(session: Session) -> int:
    """The newest committed revision as this session's transaction sees it (0 if none)."""
    value = session.scalar(select(IndexRevisionRow.revision).where(IndexRevisionRow.id == 1))
    return int(value or 0)


def changes_after(session: Session, revision: int, upto: int) -> list[tuple[int, list[Change]]]:
    """The changes of revisions `revision + 1 .. upto`, in order (fewer if pruned)."""
    rows = session.execute(
        select(IndexChangeRow.revision, IndexChangeRow.payload)
        .where(IndexChangeRow.revision > revision, IndexChangeRow.revision <= upto)
        .order_by(IndexChangeRow.revision)
    )
    return [(int(number), _decoded(int(number), payload)) for number, payload in rows]


def _decoded(revision: int, payload: str) -> list[Change]:
    """A revision's changes; one this version cannot read (written by another release during
    an upgrade) says "rebuild", which reads the tables instead."""
    try:
        return changes.decode(payload)
    except (ValueError, KeyError, TypeError):
        _log.warning("revision %s is not in this release's change format; rebuilding", revision)
        return [Rebuild()]
