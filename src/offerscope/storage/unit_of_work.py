"""One transaction per use case: committed once by the use case, rolled back otherwise."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from offerscope.storage import changelog
from offerscope.storage.changelog import Change
from offerscope.storage.database import WRITE_OPTION, create_database_engine, is_sqlite

_log = logging.getLogger(__name__)


class ChangeListener(Protocol):
    """Told of every decision-affecting commit made through one `Database` (the index)."""

    def changes_committed(self, revision: int, changes: Sequence[Change]) -> None: ...

    def close(self) -> None: ...


class UnitOfWork:
    """A session in one transaction. Leaving without `commit()` rolls everything back."""

    def __init__(
        self,
        session: Session,
        *,
        writing: bool,
        dialect: str,
        listeners: Sequence[ChangeListener] = (),
    ) -> None:
        self.session = session
        self.writing = writing
        self.dialect = dialect
        self._committed = False
        self._changes: list[Change] = []
        self._listeners = listeners

    @property
    def locks_rows(self) -> bool:
        """PostgreSQL serialises writers per row; SQLite has already locked the whole file."""
        return self.dialect == "postgresql"

    def record_change(self, change: Change) -> None:
        """Note a change that decisions depend on; it is logged with this transaction."""
        assert self.writing, "only a write transaction changes decisions"
        self._changes.append(change)

    def commit(self) -> None:
        # The change log's counter is taken last, just before COMMIT (see `changelog`).
        revision = changelog.append(self.session, self._changes) if self._changes else None
        self.session.commit()
        self._committed = True
        if revision is not None:
            for listener in self._listeners:
                try:
                    listener.changes_committed(revision, self._changes)
                except Exception:  # committed already: a listener catches up from the log
                    _log.exception("a change listener failed on revision %s", revision)


@dataclass
class Database:
    """The engine and the two kinds of transaction offerscope opens on it."""

    url: str
    engine: Engine
    # In-memory views kept current by this process's commits (the decision index).
    listeners: list[ChangeListener] = field(default_factory=list)

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(url=url, engine=create_database_engine(url, pool_size=pool_size))

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

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A read-only transaction: one consistent snapshot, taken at its first statement."""
        with self._reader() as session:
            yield UnitOfWork(session, writing=False, dialect=self.dialect)
            session.rollback()

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        """A write transaction. The use case calls `commit()` once, at its very end."""
        with self._writer() as session:
            uow = UnitOfWork(session, writing=True, dialect=self.dialect, listeners=self.listeners)
            try:
                yield uow
            finally:
                if not uow._committed:
                    session.rollback()

    def dispose(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.engine.dispose()
