"""Cursors: the opaque page positions the use cases give out and read back.

A keyset cursor names the list it was given out for (`scope`: whose list, and with which
search or filter), and is refused for any other: a position in one list means nothing in
another, and read there it would skip rows or end the list early without a word.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from offerscope.domain.errors import Invalid
from offerscope.storage.paging import KeysetPage, Mark, Phase, fits

# Positions are surrogate keys: 32-bit INTEGER columns. A position outside them was never
# given out, and the database would refuse to compare with it rather than find nothing.
_MAX_POSITION = 2**31 - 1


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The position a cursor stands for; None for the first page."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise Invalid(
            "invalid_request",
            "The cursor is not one this server gave out; start again without it.",
            field="cursor",
        ) from error


def int_cursor(cursor: str | None) -> int | None:
    """A cursor standing for one key (the common case), or None for the first page."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    if (
        isinstance(position, int)
        and not isinstance(position, bool)
        and 0 <= position <= _MAX_POSITION
    ):
        return position
    raise Invalid("invalid_request", "The cursor is not one this server gave out.", field="cursor")


def key_cursor(last_key: int | None, more: bool, scope: str) -> str | None:
    """The cursor of the page after one that ended at `last_key` of the list `scope` names
    (a `scope_tag`), if more follow."""
    return encode_cursor({"s": scope, "k": last_key}) if more and last_key is not None else None


def read_key(cursor: str | None, scope: str) -> int | None:
    """The key a cursor of `key_cursor` stands for, or None for the first page; refused for
    another list (`scope`), as `read_position` refuses it."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.pop("s", None) != scope:
        raise _another_list()
    key = raw.get("k")
    if set(raw) != {"k"} or not _is_offset(key):
        raise _invalid_cursor()
    assert isinstance(key, int)
    return key


@dataclass(frozen=True)
class Position:
    """Where a page starts, from its cursor: after a row (Next), before one (Previous), or at
    the start; and how many rows come before it (None where an older cursor did not say)."""

    after: Mark | None = None
    before: Mark | None = None
    offset: int | None = 0


def _another_list() -> Invalid:
    return Invalid(
        "invalid_request",
        "This cursor belongs to another list (or another search of it); start again without it.",
        field="cursor",
    )


def _invalid_cursor() -> Invalid:
    return Invalid("invalid_request", "The cursor is not one this server gave out.", field="cursor")


def scope_tag(*parts: object) -> str:
    """A short digest naming one list: whose it is and how it is filtered (`read_position`)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def read_position(cursor: str | None, phases: Sequence[Phase], scope: str) -> Position:
    """The position a cursor of `keyset_cursors` stands for, checked against `phases` and
    against the list it was given out for (`scope`, a `scope_tag`)."""
    raw = decode_cursor(cursor)
    if raw is None:
        return Position()
    if not isinstance(raw, dict) or raw.pop("s", None) != scope:
        raise _another_list()
    if set(raw) in ({"a", "o"}, {"b", "o"}, {"a"}):
        way = "a" if "a" in raw else "b"
        if not (raw.get("o") is None or _is_offset(raw["o"])):
            raise _invalid_cursor()
        mark = raw.get(way)
        if not isinstance(mark, list) or not mark or not isinstance(mark[0], int):
            raise _invalid_cursor()
        found = Mark(mark[0], tuple(mark[1:]))
        position = Position(
            after=found if way == "a" else None,
            before=found if way == "b" else None,
            offset=raw.get("o"),
        )
    else:
        raise _invalid_cursor()
    mark = position.after or position.before
    if mark is None or not fits(phases, mark):
        raise _invalid_cursor()
    return position


def _is_offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_POSITION


def keyset_cursors(
    page: KeysetPage, position: Position, scope: str
) -> tuple[str | None, str | None, int | None]:
    """The cursors of the pages after and before `page` of the list `scope` names, and how
    many rows precede it."""
    count = len(page.marks)
    start: int | None = position.offset
    if position.before is not None:
        start = 0 if page.before is None else (None if start is None else max(start - count, 0))
    following = previous = None
    if page.after is not None:
        ahead = {"s": scope, "a": _listed(page.after)}
        following = encode_cursor(ahead if start is None else {**ahead, "o": start + count})
    if page.before is not None and start is not None:
        previous = encode_cursor({"s": scope, "b": _listed(page.before), "o": start})
    return following, previous, start


def _listed(mark: Mark) -> list[Any]:
    return [mark.phase, *mark.key]
