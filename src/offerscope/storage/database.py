"""Engines for the two stores: an embedded SQLite file (default) and PostgreSQL.

SQLite writers take the database lock at BEGIN (`BEGIN IMMEDIATE`), so each use case's write
transaction is serialised whole and a decision made inside it (R11) cannot be overtaken.
PostgreSQL writers serialise per product with row locks instead (see `unit_of_work`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "offerscope_write"
BUSY_S = 30  # how long a SQLite writer waits for the write lock before it fails
MIGRATIONS = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_in_memory(url: str) -> bool:
    """A SQLite database that lives in its connections alone (no other engine can see it)."""
    return is_sqlite(url) and make_url(url).database in (None, "", ":memory:")


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` for psycopg 3, as operators write them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_database_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`, with the per-store settings offerscope relies on."""
    url = normalize_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, pool_size)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    database = make_url(url).database
    if not is_in_memory(url) and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A file keeps as many connections as PostgreSQL's pool: with SQLAlchemy's default of 5, a
    # server's threads opened (and configured) a new connection for most requests under load.
    # (An in-memory database has SQLAlchemy's one connection per thread instead.)
    pooling = {} if is_in_memory(url) else {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_S}, **pooling
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so that writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_S * 1000}")
        cursor.close()

    # This process's writers queue here for SQLite's write lock rather than in SQLite's busy
    # handler, which polls with sleeps of up to 100 ms: under concurrent writes a waiter could
    # sleep through many commits (seconds at the 99th percentile). The lock is taken before
    # BEGIN IMMEDIATE and given back when the connection returns to the pool, after its
    # COMMIT or ROLLBACK (a held commit, R15, keeps it until then). Other processes still
    # meet in the busy handler.
    writers = threading.Lock()
    holders: set[int] = set()  # the pool records (by identity) whose connection holds it

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        record = connection.connection._connection_record
        # Past SQLite's own busy timeout, leave the waiting (and its error) to SQLite.
        if writing and id(record) not in holders and writers.acquire(timeout=BUSY_S):
            holders.add(id(record))
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        except BaseException:
            _release(record)
            raise

    def _release(record: Any) -> None:
        if id(record) in holders:
            holders.discard(id(record))
            writers.release()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record)

    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (creating a SQLite file if needed)."""
    command.upgrade(alembic_config(url), "head")
