"""Cursors: the opaque page positions the use cases give out and read back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from offerscope.domain.errors import Invalid

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


def next_cursor(last_key: int | None, more: bool) -> str | None:
    """The cursor of the page after one that ended at `last_key`, if more follow."""
    return encode_cursor(last_key) if more and last_key is not None else None
