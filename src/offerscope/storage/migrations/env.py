"""Alembic environment: the URL comes from offerscope's settings, never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from offerscope.storage.database import WRITE_OPTION, create_database_engine
from offerscope.storage.tables import Base

# Any 64-bit number of our own: PostgreSQL servers migrating at once take turns.
_MIGRATION_LOCK = 7_420_196_311


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_database_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            _migrate_sqlite(connection)
        else:
            _migrate_postgresql(connection)
    engine.dispose()


def _migrate_sqlite(connection: Connection) -> None:
    # A batch migration copies a table and drops the old one: with foreign keys on, dropping
    # a table that others refer to would fail or empty them. Off for the migration (the
    # pragma only takes effect outside a transaction), checked before the commit.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    # One transaction that takes the file's write lock at BEGIN, before Alembic reads the
    # version: processes migrating a new file at once take turns, and the second finds the
    # first one's work done (SQLite has no transactional DDL to Alembic, which would
    # otherwise read the version outside the lock and run each revision in its own commit).
    connection.execution_options(**{WRITE_OPTION: True})
    with connection.begin():
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        _check_foreign_keys(connection)


def _migrate_postgresql(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
    connection.commit()
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
    connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse (roll back) a migration that left a row referring to nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")


run_migrations_online()
