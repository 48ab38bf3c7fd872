"""Bulk reads and writes for imports of millions of rows, inside a session's transaction.

The ORM and even Core's executemany cost tens of microseconds a row in parameter handling;
these go to the driver directly: one `IN (...)` (`= ANY(...)`) query per chunk of keys, and
`executemany` on SQLite or `COPY` on PostgreSQL for inserts. Table and column names come
from the schema, never from input; values are always bound.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import Session

from offerscope.storage.tables import AccountRow, ListEntryRow

AccountKey = Literal["account_id", "account_name"]


# SQLite's page cache while an import runs (its default is 2 MiB). The rows of a seller's file
# land all over the tables' indexes (IDs and names in no order), so a small cache re-reads
# pages for every row and spills dirty ones to the WAL mid-transaction: a file of 1,000,000
# accounts took 25 s with the default and 16 s with this. The cache holds only pages the
# import touched and shrinks back when it ends, so it bounds memory whatever the file's size.
IMPORT_CACHE_KIB = 256 * 1024


class BulkIo:
    """Driver-level access on the connection (and in the transaction) of one session."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self._dialect = connection.dialect
        self._raw: Any = connection.connection.dbapi_connection
        self._dbapi: Any = self._dialect.loaded_dbapi
        self.postgres = self._dialect.name == "postgresql"

    @contextmanager
    def roomy_cache(self) -> Iterator[None]:
        """SQLite: a page cache of `IMPORT_CACHE_KIB` on this connection while the block runs
        (PostgreSQL's buffers are the server's)."""
        if self.postgres:
            yield
            return
        ((before,),) = self._fetch("PRAGMA cache_size", ())
        self.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
        try:
            yield
        finally:
            self.execute(f"PRAGMA cache_size={int(before)}")

    def stored(self, column: ColumnElement[Any], value: datetime) -> Any:
        """`value` as the store keeps it in `column` (SQLite has no timestamp type)."""
        processor = column.type.dialect_impl(self._dialect).bind_processor(self._dialect)
        return processor(value) if processor else value

    def accounts(self, key: AccountKey, values: Sequence[str]) -> list[tuple[int, str, str, str]]:
        """(pk, account_id, account_name, account_type) of the accounts whose `key` is listed."""
        if not values:
            return []
        where, params = self._among(key, values)
        return self._fetch(
            f"SELECT pk, account_id, account_name, account_type FROM accounts WHERE {where}",  # noqa: S608 (names from the schema)
            params,
        )

    def accounts_by_id(self, account_ids: Sequence[str]) -> dict[str, tuple[int, str, str, str]]:
        """account_id -> (pk, account_id, account_name, account_type) of the accounts listed
        that exist (the rows as read: no tuple made per row)."""
        return {row[1]: row for row in self.accounts("account_id", account_ids)}

    def moment(self, value: Any) -> datetime | None:
        """A list entry's window end as the driver gave it, as a datetime (the inverse of
        `stored`; SQLite keeps text)."""
        if value is None:
            return None
        column = ENTRIES.c.valid_from
        processor = column.type.dialect_impl(self._dialect).result_processor(self._dialect, None)
        found: datetime | None = processor(value) if processor else value
        return found

    def list_entries(self, list_pks: Sequence[int]) -> list[tuple[Any, ...]]:
        """(list_pk, account_pk, account_id, entered_name, valid_from, valid_until) of the
        entries of these lists, in list then account order; window ends as the driver gives
        them (see `moment`)."""
        if not list_pks:
            return []
        where, params = self._among("e.list_pk", list_pks)
        return self._fetch(
            "SELECT e.list_pk, e.account_pk, a.account_id, e.entered_name, e.valid_from, "  # noqa: S608 (names from the schema)
            f"e.valid_until FROM {ENTRIES.name} e JOIN {ACCOUNTS.name} a ON a.pk = e.account_pk "
            f"WHERE {where} ORDER BY e.list_pk, e.account_pk",
            params,
        )

    def accounts_from(
        self, first_pk: int, last_pk: int | None = None
    ) -> list[tuple[int, str, str]]:
        """(pk, account_id, account_type) of the accounts with a pk from `first_pk` (to
        `last_pk`, if given), in pk order: every account, or what an accounts import added."""
        sql = f"SELECT pk, account_id, account_type FROM accounts WHERE pk >= {self.mark}"  # noqa: S608 (schema names)
        params: tuple[int, ...] = (first_pk,)
        if last_pk is not None:
            sql, params = f"{sql} AND pk <= {self.mark}", (first_pk, last_pk)
        return self._fetch(f"{sql} ORDER BY pk", params)

    def column_where(self, table: Table, column: str, key: str, value: int) -> list[Any]:
        """One column of the rows whose `key` is `value`, e.g. the members of one big list."""
        sql = f"SELECT {column} FROM {table.name} WHERE {key} = {self.mark}"  # noqa: S608 (schema names)
        return [row[0] for row in self._fetch(sql, (value,))]

    def insert_accounts(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Insert the accounts (values in `NEW_ACCOUNT_COLUMNS` order), unless one of them
        takes an ID or a name already taken: then insert none of them and answer False.

        The unique constraints find what is taken in C, where a lookup of every key first
        costs a query and Python work per row; a caller that gets False judges the rows one
        by one instead. PostgreSQL's COPY stops at the first taken value, undone by a
        savepoint. On SQLite a savepoint would copy every page the rows touch into its
        journal, about a quarter of a large import's time: the rows that take nothing go in,
        and the few chunks with a taken value delete what went in.
        """
        if self.postgres:
            self.execute("SAVEPOINT bulk_insert_accounts")
            try:
                self.insert(ACCOUNTS, NEW_ACCOUNT_COLUMNS, rows)
            except self._dbapi.IntegrityError:
                self.execute("ROLLBACK TO SAVEPOINT bulk_insert_accounts")
                inserted = False
            else:
                inserted = True
            self.execute("RELEASE SAVEPOINT bulk_insert_accounts")
            return inserted
        # The transaction holds SQLite's one write lock: the rows after this pk are ours.
        ((last_pk,),) = self._fetch("SELECT coalesce(max(pk), 0) FROM accounts", ())
        cursor = self._raw.cursor()
        cursor.executemany(_INSERT_FREE_ACCOUNTS, rows)
        every_row: bool = cursor.rowcount == len(rows)
        if not every_row:
            cursor.execute("DELETE FROM accounts WHERE pk > ?", (last_pk,))
        cursor.close()
        return every_row

    @property
    def mark(self) -> str:
        """The driver's placeholder for one value."""
        return "%s" if self.postgres else "?"

    def _among(self, column: str, values: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        """`column` is one of `values`: one array parameter on PostgreSQL, one placeholder
        per value on SQLite."""
        if self.postgres:
            return f"{column} = ANY(%s)", (list(values),)
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Every row of one query, as the driver's tuples."""
        cursor = self._raw.cursor()
        cursor.execute(sql, params)
        rows: list[Any] = cursor.fetchall()
        cursor.close()
        return rows

    def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        same: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert `rows` (values in `columns` order) in one driver call; `same`: columns whose
        value is that of every row (as for `staged`)."""
        if same:
            fixed = tuple(same.values())
            columns, rows = [*same, *columns], [(*fixed, *row) for row in rows]
        self.insert_into(table.name, columns, rows)

    def insert_into(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """`insert` into a table named as SQL (a temporary one, say)."""
        if not rows:
            return
        names = ", ".join(columns)
        cursor = self._raw.cursor()
        if self.postgres:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)
        cursor.close()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """One statement (names from the schema), its values bound (placeholders: `mark`)."""
        cursor = self._raw.cursor()
        cursor.execute(statement, params)
        cursor.close()

    def staged(
        self, table: Table, columns: Sequence[str], order: str, same: Mapping[str, Any]
    ) -> Staged:
        """Rows bound for `table`, to be moved there at once in `order` (`Staged`)."""
        return Staged(self, table, columns, order, same)


class Staged:
    """Rows bound for a table, gathered in a temporary table without indexes and moved into
    their table by one statement, sorted by `order` (the table's key, after the `same`
    columns). Columns whose value is the same for every row (`same`) are given to that
    statement once instead: a value sent for each of a million rows (a timestamp above all)
    cost PostgreSQL's COPY more than the rest of the row.

    A seller's file lists accounts in no particular order, so rows inserted as they come
    land at random places in every index of the table; sorted, they arrive along the key,
    and the moving statement runs in the database, not row by row through the driver:
    1,000,000 entries went in 2.5 times faster on SQLite. The temporary table lives in the
    caller's transaction and is dropped by `move`; a rollback drops it too.
    """

    def __init__(
        self,
        bulk: BulkIo,
        table: Table,
        columns: Sequence[str],
        order: str,
        same: Mapping[str, Any],
    ) -> None:
        self._bulk = bulk
        self._table = table.name
        self._columns = tuple(columns)
        self._order = order
        self._same = dict(same)
        name = f"staged_{table.name}"
        self._staging = f"{'pg_temp' if bulk.postgres else 'temp'}.{name}"
        bulk.execute(f"DROP TABLE IF EXISTS {self._staging}")
        bulk.execute(
            f"CREATE TEMPORARY TABLE {name} AS "  # noqa: S608 (names from the schema)
            f"SELECT {', '.join(columns)} FROM {table.name} LIMIT 0"
        )

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        self._bulk.insert_into(self._staging, self._columns, rows)

    def move(self) -> None:
        """Every row added into the table, in order; the temporary table is dropped."""
        bulk = self._bulk
        names = ", ".join([*self._same, *self._columns])
        values = ", ".join([*(bulk.mark for _ in self._same), *self._columns])
        bulk.execute(
            f"INSERT INTO {self._table} ({names}) "  # noqa: S608 (names from the schema)
            f"SELECT {values} FROM {self._staging} ORDER BY {self._order}",
            tuple(self._same.values()),
        )
        bulk.execute(f"DROP TABLE {self._staging}")


ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
# An account as an import inserts it.
NEW_ACCOUNT_COLUMNS = ("account_id", "account_name", "account_type", "created_at")
_INSERT_FREE_ACCOUNTS = (
    f"INSERT INTO {ACCOUNTS.name} ({', '.join(NEW_ACCOUNT_COLUMNS)}) "  # noqa: S608 (schema names)
    f"VALUES ({', '.join('?' * len(NEW_ACCOUNT_COLUMNS))}) ON CONFLICT DO NOTHING"
)
ENTRIES: Table = ListEntryRow.__table__  # type: ignore[assignment]
