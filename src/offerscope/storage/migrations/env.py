"""Alembic environment: the URL comes from offerscope's settings, never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

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
            # Take the file's write lock at BEGIN: two processes migrating a new file at once
            # then take turns, where deferred transactions would both read, then fail to write.
            connection.execution_options(**{WRITE_OPTION: True})
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run_migrations_online()
