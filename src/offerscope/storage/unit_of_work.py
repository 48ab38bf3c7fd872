"""One transaction per use case: committed once by the use case, rolled back otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from offerscope.storage.database import WRITE_OPTION, create_database_engine, is_sqlite


class UnitOfWork:
    """A session in one transaction. Leaving without `commit()` rolls everything back."""

    def __init__(self, session: Session, *, writing: bool, dialect: str) -> None:
        self.session = session
        self.writing = writing
        self.dialect = dialect
        self._committed = False

    @property
    def locks_rows(self) -> bool:
        """PostgreSQL serialises writers per row; SQLite has already locked the whole file."""
        return self.dialect == "postgresql"

    def commit(self) -> None:
        self.session.commit()
        self._committed = True


@dataclass
class Database:
    """The engine and the two kinds of transaction offerscope opens on it."""

    url: str
    engine: Engine

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(url=url, engine=create_database_engine(url, pool_size=pool_size))

    def __post_init__(self) -> None:
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
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
        """A read-only transaction: one consistent snapshot (SQLite) or statement-fresh reads."""
        with self._reader() as session:
            yield UnitOfWork(session, writing=False, dialect=self.dialect)
            session.rollback()

    @contextmanager
    def writing(self) -> Iterator[UnitOfWork]:
        """A write transaction. The use case calls `commit()` once, at its very end."""
        with self._writer() as session:
            uow = UnitOfWork(session, writing=True, dialect=self.dialect)
            try:
                yield uow
            finally:
                if not uow._committed:
                    session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
