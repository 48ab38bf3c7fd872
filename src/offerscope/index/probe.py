"""The one cheap read that keeps every process's index fresh: the change log's revision.

A dedicated DBAPI connection in autocommit mode, so each read is one primary-key SELECT with
no pool checkout and no transaction around it (a few microseconds on SQLite, one round trip
on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine

from offerscope.storage.changelog import REVISION_QUERY


class RevisionProbe:
    """Reads the newest committed revision; thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None

    def _open(self) -> Any:
        fairy = self._engine.raw_connection()
        fairy.detach()  # ours alone, and never handed back to the pool in autocommit
        connection: Any = fairy.dbapi_connection
        if self._engine.dialect.name == "postgresql":
            connection.autocommit = True
        # SQLite connections come from the engine already in autocommit (isolation_level None).
        return connection

    def read(self) -> int:
        with self._lock:
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
        with self._lock:
            self._close_quietly()
