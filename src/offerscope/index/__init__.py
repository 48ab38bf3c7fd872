"""The decision index: every R12 decision answered from memory, fresh on every process.

`current(db)` is the seam the use cases use: the index of this `Database`, made on first use
and caught up with every change committed so far.
"""

from __future__ import annotations

import threading

from offerscope.index.index import CatalogRow, DecisionIndex, IndexStats
from offerscope.storage.unit_of_work import Database

__all__ = ["CatalogRow", "DecisionIndex", "IndexStats", "current", "index_of"]

_creating = threading.Lock()


def index_of(db: Database) -> DecisionIndex:
    """This database's index (one per `Database`, i.e. per process), made on first use.

    It registers as the database's change listener, so this process's commits reach it
    as soon as they are made.
    """
    for listener in db.listeners:
        if isinstance(listener, DecisionIndex):
            return listener
    with _creating:
        for listener in db.listeners:
            if isinstance(listener, DecisionIndex):
                return listener
        index = DecisionIndex(db)
        db.listeners.append(index)
        return index


def current(db: Database) -> DecisionIndex:
    """The index with every change committed so far (on any process) applied."""
    return index_of(db).refresh()
