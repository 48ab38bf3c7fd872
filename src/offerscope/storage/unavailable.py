"""When the database cannot be used right now: the errors that say so, in one place.

A connection refused or lost, a server shutting down, SQLite's write lock held past its wait:
the DB-API calls these OperationalError (or InterfaceError, for a connection already gone),
SQLAlchemy wraps them as its own, and the revision probe's asyncio connection reports them
as `StoreUnavailable`. None of them is the caller's mistake or a defect to hide: the edge
answers 503 with Retry-After, and a retry with the same Idempotency-Key is never applied
twice. Whether a write whose commit failed this way landed cannot be known from here.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc


class StoreUnavailable(Exception):
    """The database could not be read or written just now (see the module)."""


UNAVAILABLE: tuple[type[Exception], ...] = (
    StoreUnavailable,
    exc.OperationalError,
    exc.InterfaceError,
    sqlite3.OperationalError,  # the bulk paths call the drivers directly (`storage.bulk`)
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
