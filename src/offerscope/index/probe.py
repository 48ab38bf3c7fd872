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

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import asyncpg
from sqlalchemy import Engine

from offerscope.storage.changelog import REVISION_QUERY
from offerscope.storage.unavailable import StoreUnavailable


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
        held = self._connection is not None
        try:
            return self._query_once()
        except Exception:
            self._close_quietly()
            if not held:
                raise
        # The held connection died while idle (the database restarted, say): one fresh try,
        # so that no request fails for it once the database is back.
        try:
            return self._query_once()
        except Exception:
            self._close_quietly()
            raise

    def _query_once(self) -> int:
        if self._connection is None:
            self._connection = self._open()
        cursor = self._connection.cursor()
        cursor.execute(REVISION_QUERY)
        row = cursor.fetchone()
        cursor.close()
        return int(row[0]) if row else 0

    def _close_quietly(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to release
                connection.close()

    def close(self) -> None:
        with self._turn:
            self._close_quietly()


class AsyncRevisionProbe:
    """The same shared read for an event loop, so that a request waiting on the database does
    not hold up the loop (and the requests behind it) for a round trip.

    A request that arrives while a read is in flight waits for the next read, which starts as
    soon as that one ends and answers every request that arrived meanwhile: under load one
    round trip serves many requests, with the guarantee of `RevisionProbe`. PostgreSQL is read
    over an asyncio connection of its own (asyncpg: a prepared statement, a round trip within a
    few microseconds of a blocking read's); SQLite's read is a local file read, made directly.
    """

    def __init__(self, engine: Engine, sync: RevisionProbe) -> None:
        self._url = engine.url
        self._sync = sync if engine.dialect.name != "postgresql" else None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the state below
        self._connection: Any = None  # an asyncpg connection
        self._statement: Any = None
        self._session: AsyncIterator[tuple[Any, Any]] | None = None  # keeps it open
        self._inflight: asyncio.Future[int] | None = None
        self._waiting: asyncio.Future[int] | None = None

    async def read(self) -> int:
        """The newest revision, as read by a query that began after this call did."""
        if self._sync is not None:
            return self._sync.read()
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a server has one loop; a test client may start others
            self.close()
            self._loop, self._inflight, self._waiting = loop, None, None
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._run())
            return await asyncio.shield(self._inflight)
        if self._waiting is None:
            self._waiting = loop.create_future()
        # shield: a caller that gives up must not cancel the read the others wait on
        return await asyncio.shield(self._waiting)

    async def _run(self) -> int:
        try:
            return await self._query()
        finally:
            self._inflight = None
            waiting, self._waiting = self._waiting, None
            if waiting is not None:  # everyone who arrived during this read: the next one
                self._inflight = asyncio.ensure_future(self._run())
                self._inflight.add_done_callback(partial(_pass_on, waiting))

    async def _query(self) -> int:
        held = self._connection is not None
        try:
            return await self._query_once()
        except _CONNECTION_ERRORS as error:
            self.close()  # the next read connects again
            if not held:
                raise StoreUnavailable(f"the revision could not be read: {error}") from error
        try:  # the held connection died while idle: one fresh try (see `RevisionProbe`)
            return await self._query_once()
        except _CONNECTION_ERRORS as error:
            self.close()
            raise StoreUnavailable(f"the revision could not be read: {error}") from error

    async def _query_once(self) -> int:
        if self._connection is None:
            dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            session = _connected(dsn)
            self._connection, self._statement = await anext(session)
            self._session = session
        value = await self._statement.fetchval()
        return int(value) if value is not None else 0

    def close(self) -> None:
        """Close the connection, from its loop or from another thread while it runs (a loop
        that stops closes it itself: see `_connected`)."""
        connection, self._connection, self._session = self._connection, None, None
        loop = self._loop
        if connection is None or loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            connection.terminate()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(connection.terminate)


# What asyncpg raises when the database cannot be reached or drops the connection.
_CONNECTION_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def _connected(dsn: str) -> AsyncIterator[tuple[Any, Any]]:
    """An asyncpg connection and its prepared read, held open while this generator waits at
    its `yield`. An event loop closes the generators still waiting when it shuts down
    (`shutdown_asyncgens`), so the connection is closed in its own loop however the server
    stops, never left to a closed loop."""
    connection = await asyncpg.connect(dsn)
    try:
        yield connection, await connection.prepare(REVISION_QUERY)
    finally:
        if not connection.is_closed():
            connection.terminate()


def _pass_on(waiter: asyncio.Future[int], read: asyncio.Future[int]) -> None:
    """Hand a finished read's outcome to the requests that waited for it."""
    if waiter.done():
        return
    if read.cancelled():
        waiter.cancel()
    elif (error := read.exception()) is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(read.result())
