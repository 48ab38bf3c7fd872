"""Public IDs and the time, as every use case makes them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """A server-generated public ID: a short prefix naming its kind and 64 random bits."""
    return f"{prefix}_{secrets.token_hex(8)}"


def utcnow() -> datetime:
    return datetime.now(UTC)
