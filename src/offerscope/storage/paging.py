"""Keyset paging: one page of a query in the order of a key, and whether more follow."""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.orm import QueryableAttribute, Session

Columns = TypeVarTuple("Columns")


def paginate(
    session: Session,
    query: Select[*Columns],
    key: ColumnElement[int] | QueryableAttribute[int],
    *,
    after: int | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[Row[*Columns]], bool]:
    """Up to `limit` rows of `query` ordered by `key`, starting past `after` (a key from the
    previous page: after it ascending, before it descending); and whether more rows follow."""
    if after is not None:
        query = query.where(key < after if descending else key > after)
    ordered = query.order_by(key.desc() if descending else key).limit(limit + 1)
    rows = list(session.execute(ordered))
    return rows[:limit], len(rows) > limit
