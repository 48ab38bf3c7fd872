"""Keyset paging: one page of a query in the order of a key, forwards or backwards.

`paginate` is the simple form (one key, forwards). `keyset_page` pages a result made of
ordered parts (`Phase`s), such as a search that lists its best matches first: each part is
read in the order of its own key through an index, so a page costs the index's depth plus the
page, never the rows before it, however long the list. Positions (`Mark`) name a part and a
row's key there; a page starts after one or ends before one (Next and Previous).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

Columns = TypeVarTuple("Columns")

Key = ColumnElement[Any] | QueryableAttribute[Any]

# Positions are read back from cursors: values of the types a key's columns hold, bounded.
_MAX_INT = 2**31 - 1
_MAX_TEXT = 200


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


@dataclass(frozen=True)
class Phase:
    """One ordered part of a result: the rows `where` admits, in the order of `key`.

    `types` are the Python types of the key's columns, to check a position read from a cursor.
    A phase that may have to read many rows to find a few (a search's fallback) has a
    `window`: one request looks through at most `window.size` keys of `window.keys` (one
    column, the phase's single key, in the same order) and ends its page there, short if it
    must; the next page looks on from that point. Nor does a page that already holds rows of
    earlier phases go on into a windowed one: it ends there, and the next page starts it.
    """

    where: ColumnElement[bool] | None
    key: tuple[Key, ...]
    types: tuple[type, ...]
    descending: bool = False
    window: Window | None = None


@dataclass(frozen=True)
class Window:
    keys: Select[Any]
    size: int


@dataclass(frozen=True)
class Mark:
    """A row's position: its phase's number and its key there."""

    phase: int
    key: tuple[Any, ...]


@dataclass(frozen=True)
class KeysetPage:
    """A page of rows (the query's own columns) with each row's mark, and where the pages
    after and before it start (None: nothing more that way). `short`: a window ended the
    page before it was full, and more may match further on."""

    rows: list[tuple[Any, ...]]
    marks: list[Mark]
    after: Mark | None
    before: Mark | None
    short: bool = False


def fits(phases: Sequence[Phase], mark: Mark) -> bool:
    """Whether `mark` (read from a cursor) is a position in these phases."""
    if not 0 <= mark.phase < len(phases):
        return False
    types = phases[mark.phase].types
    if not mark.key:  # the start of a phase
        return True
    return len(mark.key) == len(types) and all(
        _fits(value, kind) for value, kind in zip(mark.key, types, strict=True)
    )


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_INT
    return isinstance(value, str) and len(value) <= _MAX_TEXT


def keyset_page(
    session: Session,
    query: Select[*Columns],
    phases: Sequence[Phase],
    *,
    limit: int,
    after: Mark | None = None,
    before: Mark | None = None,
) -> KeysetPage:
    """Up to `limit` rows of `query`, phase by phase: the first ones, those after `after`
    (Next), or the last ones before `before` (Previous)."""
    backwards = before is not None
    start = before or after or Mark(0, ())
    read = _Reader(session, query, phases, backwards)
    rows, marks, stop = read(start, limit + 1)
    full = len(rows) > limit
    rows, marks = rows[:limit], marks[:limit]
    beyond = marks[-1] if full else stop  # where the next page that way starts
    if backwards:
        rows.reverse()
        marks.reverse()
        came_from = marks[-1] if marks else before
        return KeysetPage(rows, marks, after=came_from, before=beyond, short=stop is not None)
    came_from = marks[0] if marks and after is not None else None
    return KeysetPage(rows, marks, after=beyond, before=came_from, short=stop is not None)


class _Reader:
    """Reads rows from a mark on, one way, crossing into the following phases as needed."""

    def __init__(
        self, session: Session, query: Select[*Columns], phases: Sequence[Phase], backwards: bool
    ) -> None:
        self.session, self.query, self.phases, self.backwards = session, query, phases, backwards
        self.width = len(query.column_descriptions)  # entities count once, as in a row

    def __call__(
        self, start: Mark, wanted: int
    ) -> tuple[list[tuple[Any, ...]], list[Mark], Mark | None]:
        """Up to `wanted` rows and their marks; and the mark a window stopped at, if one did."""
        rows: list[tuple[Any, ...]] = []
        marks: list[Mark] = []
        last = -1 if self.backwards else len(self.phases)
        for number in range(start.phase, last, -1 if self.backwards else 1):
            phase = self.phases[number]
            key = start.key if number == start.phase else ()
            if phase.window and rows and number != start.phase:
                return rows, marks, Mark(number, ())  # the slow part waits for its own page
            part = self.query.add_columns(*phase.key)
            if phase.where is not None:
                part = part.where(phase.where)
            if key:
                part = part.where(self._beyond(phase, key))
            edge = self._window_edge(phase, key) if phase.window else None
            if edge is not None:
                part = part.where(self._within(phase, edge))
            descending = phase.descending != self.backwards
            order = [column.desc() if descending else column.asc() for column in phase.key]
            for row in self.session.execute(part.order_by(*order).limit(wanted - len(rows))):
                rows.append(tuple(row[: self.width]))
                marks.append(Mark(number, tuple(row[self.width :])))
            if len(rows) >= wanted:
                break
            if edge is not None:
                return rows, marks, Mark(number, (edge,))
        return rows, marks, None

    def _beyond(self, phase: Phase, key: tuple[Any, ...]) -> ColumnElement[bool]:
        """The rows past `key` in the direction read."""
        left: Any = phase.key[0] if len(phase.key) == 1 else tuple_(*phase.key)
        right: Any = key[0] if len(key) == 1 else tuple_(*key)
        beyond: ColumnElement[bool] = left > right if self._later(phase) else left < right
        return beyond

    def _within(self, phase: Phase, edge: Any) -> ColumnElement[bool]:
        column: Any = phase.key[0]
        within: ColumnElement[bool] = column <= edge if self._later(phase) else column >= edge
        return within

    def _later(self, phase: Phase) -> bool:
        return phase.descending == self.backwards

    def _window_edge(self, phase: Phase, key: tuple[Any, ...]) -> Any:
        """The last key this request's window reaches; None if the rest is within it."""
        assert phase.window is not None
        keys = phase.window.keys
        column = keys.selected_columns[0]
        if key:
            keys = keys.where(column > key[0] if self._later(phase) else column < key[0])
        order = column.desc() if phase.descending != self.backwards else column.asc()
        return self.session.scalar(keys.order_by(order).offset(phase.window.size - 1).limit(1))
