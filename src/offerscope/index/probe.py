"""The one cheap read that keeps every process's index fresh: the change log's revision.

A dedicated DBAPI connection in autocommit mode, so each read is one primary-key SELECT with
no pool checkout and no transaction around it (a few microseconds on SQLite, one round trip
on PostgreSQL).

Reads are shared: a caller may use the answer of any read that *started after it arrived*,
since that read saw every commit acknowledged before the caller's request began. So callers
that arrive while a read is in flight wait for the next one, and that one read answers all of
them: under load one round trip serves many requests, and the guarantee is unchanged.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine

from offerscope.storage.changelog import REVISION_QUERY


class RevisionProbe:
    """Reads the newest committed revision; thread-safe, with reads shared as above."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._turn = threading.Condition()
        self._connection: Any = None
        self._started = 0  # reads begun so far, numbered from 1
        self._finished = 0  # the number of the last read that ended
        self._value = 0  # what it read
        self._busy = False
        self._error: BaseException | None = None

    def _open(self) -> Any:
        fairy = self._engine.raw_connection()
        fairy.detach()  # ours alone, and never handed back to the pool in autocommit
        connection: Any = fairy.dbapi_connection
        if self._engine.dialect.name == "postgresql":
            connection.autocommit = True
        # SQLite connections come from the engine already in autocommit (isolation_level None).
        return connection

    def read(self) -> int:
        """The newest revision, as read by a query that began after this call did."""
        with self._turn:
            needed = self._started + 1  # the first read to begin after this call arrived
            while self._finished < needed:
                if self._busy:
                    self._turn.wait()
                    continue
                self._busy = True
                self._started += 1
                number = self._started
                try:
                    self._turn.release()
                    try:
                        value, error = self._query(), None
                    except BaseException as failure:  # handed to everyone waiting on it
                        value, error = 0, failure
                finally:
                    self._turn.acquire()
                    self._busy = False
                self._finished, self._value, self._error = number, value, error
                self._turn.notify_all()
            if self._error is not None:
                raise self._error
            return self._value

    def _query(self) -> int:
        if self._connection is None:
            self._connection = self._open()
        try:
            cursor = self._connection.cursor()
            cursor.execute(REVISION_QUERY)
            row = cursor.fetchone()
            cursor.close()
        except Exception:
            self._close_quietly()
            raise
        return int(row[0]) if row else 0

    def _close_quietly(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to release
                connection.close()

    def close(self) -> None:
        with self._turn:
            self._close_quietly()
