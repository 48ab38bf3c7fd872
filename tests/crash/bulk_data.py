"""Many registered accounts, written straight into the tables (set-up only, not under test).

A list import needs its accounts registered first (R5); a million of them through the API
would take longer than the test itself, so they go in with one bulk statement per store.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from offerscope.storage.tables import AccountRow
from offerscope.storage.unit_of_work import Database


def account_id(n: int) -> str:
    return f"{n:032x}"


def account_name(n: int) -> str:
    return f"u{n:07d}"


def csv_rows(count: int, start: int = 1) -> Iterator[bytes]:
    """`account_id,account_name` lines of accounts start..start+count-1, in 1 MB pieces."""
    piece: list[str] = []
    for n in range(start, start + count):
        piece.append(f"{account_id(n)},{account_name(n)}\n")
        if len(piece) == 20_000:
            yield "".join(piece).encode()
            piece = []
    if piece:
        yield "".join(piece).encode()


def register_accounts(db: Database, count: int, start: int = 1) -> None:
    """Register accounts start..start+count-1 (individual) in one transaction."""
    now = datetime.now(UTC)
    if db.dialect == "postgresql":
        _copy_accounts(db.url, count, start, now)
        return
    rows = (
        {
            "account_id": account_id(n),
            "account_name": account_name(n),
            "account_type": "individual",
            "created_at": now,
        }
        for n in range(start, start + count)
    )
    with db.engine.begin() as connection:
        batch: list[dict[str, object]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 50_000:
                connection.execute(insert(AccountRow), batch)
                batch = []
        if batch:
            connection.execute(insert(AccountRow), batch)


def _copy_accounts(url: str, count: int, start: int, now: datetime) -> None:
    parsed = make_url(url)
    conninfo = (
        f"host={parsed.host} port={parsed.port or 5432} "
        f"user={parsed.username} dbname={parsed.database}"
    )
    buffer = io.StringIO()
    for n in range(start, start + count):
        buffer.write(f"{account_id(n)}\t{account_name(n)}\tindividual\t{now.isoformat()}\n")
    buffer.seek(0)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        columns = "account_id, account_name, account_type, created_at"
        with cursor.copy(f"COPY accounts ({columns}) FROM STDIN") as copy:
            while data := buffer.read(1 << 20):
                copy.write(data)
