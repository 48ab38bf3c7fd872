"""The composition root of a process's backend: the database and its decision index, wired.

The web app (`offerscope.app`), the command line and the benchmark each open a `Backend` and
pass its parts to the use cases that need them; nothing looks anything up by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from offerscope.index.index import DecisionIndex
from offerscope.storage.unit_of_work import Database


@dataclass(frozen=True)
class Backend:
    """One process's view of one database: transactions, and decisions answered from memory."""

    db: Database
    index: DecisionIndex

    @classmethod
    def on(cls, db: Database) -> Backend:
        """The backend of an open database; the index hears of every commit made through it."""
        index = DecisionIndex(db)
        db.listeners.append(index)
        db.estimator = index  # works out each write's impact (R14)
        return cls(db, index)

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Backend:
        return cls.on(Database.connect(url, pool_size=pool_size))

    def close(self) -> None:
        self.db.dispose()  # closes the index's own connection with it
