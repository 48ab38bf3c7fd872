"""One transaction per use case: committed once by the use case, rolled back otherwise.

A request that carries an idempotency key (R15) holds its use case's commit (`holding`):
`commit()` then flushes everything but leaves the transaction open, so that the request's
answer is stored in the very transaction of its write, and only then commits.

A dry run (R14, `dry_running`) goes through the very same use case: `commit()` then works out
the impact of the changes recorded, rolls everything back and returns as if it had committed.
Every write passes through here, so none can forget its dry run. An applied write records its
impact counts on the last history entry it wrote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from offerscope.domain.impact import NO_IMPACT, Impact
from offerscope.storage import changelog, feed
from offerscope.storage.changes import Change
from offerscope.storage.database import WRITE_OPTION, create_database_engine, is_in_memory
from offerscope.storage.tables import HistoryRow

_log = logging.getLogger(__name__)


class ChangeListener(Protocol):
    """Told of every decision-affecting commit made through one `Database` (the index)."""

    def changes_committed(self, revision: int, changes: Sequence[Change]) -> None: ...

    def close(self) -> None: ...


class ImpactEstimator(Protocol):
    """Works out what recorded changes would do to decisions (R14): the decision index."""

    def impact(self, session: Session, changes: Sequence[Change]) -> Impact | None:
        """The impact of `changes` (made in `session`'s transaction), or None if unknowable."""
        ...


@dataclass
class DryRun:
    """The outcome of a dry run: whether a write reached its commit, and its impact."""

    reached_commit: bool = False
    impact: Impact | None = None
    changes: list[Change] = field(default_factory=list)


class UnitOfWork:
    """A session in one transaction. Leaving without `commit()` rolls everything back."""

    def __init__(
        self,
        session: Session,
        *,
        writing: bool,
        dialect: str,
        listeners: Sequence[ChangeListener] = (),
        estimator: ImpactEstimator | None = None,
    ) -> None:
        self.session = session
        self.writing = writing
        self.dialect = dialect
        self._committed = False
        self._changes: list[Change] = []
        self._listeners = listeners
        self._estimator = estimator
        self.history: list[HistoryRow] = []  # this write's R13 entries, in order
        self.impact: Impact | None = None  # R14: what the committed changes did, once known

    @property
    def locks_rows(self) -> bool:
        """PostgreSQL serialises writers per row; SQLite has already locked the whole file."""
        return self.dialect == "postgresql"

    def record_change(self, change: Change) -> None:
        """Note a change that decisions depend on; it is logged with this transaction."""
        assert self.writing, "only a write transaction changes decisions"
        self._changes.append(change)

    def commit(self) -> None:
        dry = _DRY.get()
        if dry is not None:
            self._pretend(dry)
            return
        if self.history and self._changes:
            impact = self.impact = self._impact()
            if impact is not None:
                self.history[-1].impact = json.dumps(impact.counts())
        # R18: the feed's rows of this commit, read before the change log's lock is taken.
        fed = feed.prepare(self.session, self.history, self._changes) if self._changes else []
        # The change log's counter is taken last, just before COMMIT (see `changelog`).
        revision = changelog.append(self.session, self._changes) if self._changes else None
        if revision is not None:
            feed.record(self.session, revision, fed)
        hold = _HOLD.get()
        if hold is not None:
            self.session.flush()
            self._committed = True
            hold.keep(self, revision)
            return
        self.session.commit()
        self._committed = True
        self.notify(revision)

    def _impact(self) -> Impact | None:
        if self._estimator is None:
            return None
        self.session.flush()  # a bulk change's impact reads this transaction's own rows
        return self._estimator.impact(self.session, self._changes)

    def _pretend(self, dry: DryRun) -> None:
        """A dry run's commit: the impact of what it would commit, then nothing of it."""
        dry.reached_commit = True
        dry.changes = list(self._changes)
        dry.impact = self.impact = self._impact() if self._changes else NO_IMPACT
        self.session.rollback()
        self._committed = True

    def notify(self, revision: int | None) -> None:
        """Tell the listeners of a revision this transaction committed."""
        if revision is None:
            return
        for listener in self._listeners:
            try:
                listener.changes_committed(revision, self._changes)
            except Exception:  # committed already: a listener catches up from the log
                _log.exception("a change listener failed on revision %s", revision)


class HeldCommit:
    """The write transaction of one request, held open after its use case's `commit()`.

    `finish` adds what `store` writes (the request's stored answer) to that transaction and
    commits both at once; `abandon` rolls it back. A request holds at most one write: a
    second would wait for the first's locks forever.
    """

    def __init__(self) -> None:
        self._uow: UnitOfWork | None = None
        self._revision: int | None = None

    @property
    def holds_write(self) -> bool:
        return self._uow is not None

    def holds(self, uow: UnitOfWork) -> bool:
        return self._uow is uow

    def keep(self, uow: UnitOfWork, revision: int | None) -> None:
        if self._uow is not None:
            raise RuntimeError("a request with an idempotency key made a second write")
        self._uow, self._revision = uow, revision

    def finish(self, db: Database, store: Callable[[Session], bool]) -> bool:
        """Commit the held write with what `store` adds (in a new transaction if the request
        wrote nothing). `store` answers False to roll everything back instead."""
        uow, self._uow = self._uow, None
        if uow is None:
            with unheld(), db.writing() as fresh:
                if store(fresh.session):
                    fresh.commit()
                    return True
                return False
        session = uow.session
        try:
            if not store(session):
                session.rollback()
                return False
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        uow.notify(self._revision)
        return True

    def abandon(self) -> None:
        """Roll back a held write (the request failed after its use case committed)."""
        uow, self._uow = self._uow, None
        if uow is not None:
            uow.session.rollback()
            uow.session.close()


_HOLD: ContextVar[HeldCommit | None] = ContextVar("offerscope_held_commit", default=None)
_DRY: ContextVar[DryRun | None] = ContextVar("offerscope_dry_run", default=None)


def is_dry_run() -> bool:
    """True inside `dry_running`: what a write makes (e.g. a new ID) will not exist."""
    return _DRY.get() is not None


@contextmanager
def dry_running() -> Iterator[DryRun]:
    """Run the write inside the block as a dry run (R14): it is judged exactly as the write,
    its commit rolls back, and the outcome says what it would have done."""
    dry = DryRun()
    token = _DRY.set(dry)
    try:
        yield dry
    finally:
        _DRY.reset(token)


@contextmanager
def unheld() -> Iterator[None]:
    """Commit what is written inside the block at once, even within `holding()` (the
    bookkeeping of the hold itself)."""
    token = _HOLD.set(None)
    try:
        yield
    finally:
        _HOLD.reset(token)


@contextmanager
def holding() -> Iterator[HeldCommit]:
    """Hold the commit of the write made inside the block (in this task and the threads it
    starts); whatever is still held when the block ends is rolled back."""
    hold = HeldCommit()
    token = _HOLD.set(hold)
    try:
        yield hold
    finally:
        _HOLD.reset(token)
        hold.abandon()


@dataclass(eq=False)  # one object per connection pool: compared (and hashed) by identity
class Database:
    """The engine and the two kinds of transaction offerscope opens on it."""

    url: str
    engine: Engine
    # In-memory views kept current by this process's commits (the decision index).
    listeners: list[ChangeListener] = field(default_factory=list)
    # What works out a write's impact (R14): the decision index, once one is attached.
    estimator: ImpactEstimator | None = None

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(url=url, engine=create_database_engine(url, pool_size=pool_size))

    def private_reader(self) -> Database:
        """The same database through connections of its own, for readers that must never
        wait for the shared pool: one that holds a lock writers wait for (the decision
        index) would otherwise wait for connections those writers hold. An in-memory SQLite
        database is itself (another engine would open another, empty, database)."""
        url = self.engine.url.render_as_string(hide_password=False)
        if is_in_memory(url):
            return self
        return Database.connect(url, pool_size=1)

    def __post_init__(self) -> None:
        reader = self.engine
        if self.dialect == "postgresql":
            # One snapshot for the whole read, as SQLite's WAL gives: under READ COMMITTED
            # each statement would see newer commits, and a decision could combine an offer
            # read before a seller's change with buyer facts read after another one.
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
        self._reader = sessionmaker(reader, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A read-only transaction: one consistent snapshot, taken at its first statement."""
        with self._reader() as session:
            yield UnitOfWork(session, writing=False, dialect=self.dialect)
            session.rollback()

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        """A write transaction. The use case calls `commit()` once, at its very end.

        Under `holding()`, a committed transaction stays open for the hold to finish.
        """
        session = self._writer()
        uow = UnitOfWork(
            session,
            writing=True,
            dialect=self.dialect,
            listeners=self.listeners,
            estimator=self.estimator,
        )
        hold = _HOLD.get()
        try:
            yield uow
        except BaseException:
            if hold is not None and hold.holds(uow):
                hold.abandon()  # failed after its commit: nothing of it may be stored
            raise
        finally:
            if hold is None or not hold.holds(uow):
                if not uow._committed:
                    session.rollback()
                session.close()

    def dispose(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.engine.dispose()
