"""How a refusal is answered over HTTP, the same for the API and the pages.

The domain names its errors by family (`domain.errors`); this maps each family to its HTTP
status. `HttpError` is an error of the HTTP edge itself (authentication, roles, sizes), which
carries its own status.
"""

from __future__ import annotations

from typing import Any

from offerscope.domain.errors import (
    Conflict,
    Gone,
    Invalid,
    NotFound,
    OfferscopeError,
    PreconditionFailed,
    Refused,
)
from offerscope.services.guessing import TooManyFailures

# Retry-After of an answer to a request the database was out of reach for (a restart or a
# fail-over takes seconds): API and pages alike.
UNAVAILABLE_RETRY_S = 5


class HttpError(OfferscopeError):
    """An error of the HTTP edge itself (authentication, roles, sizes), with its status."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(code, message, **details)
        self.status = status


_STATUS: dict[type[OfferscopeError], int] = {
    TooManyFailures: 429,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Refused: 403,
    PreconditionFailed: 412,
    Gone: 410,
}


def status_of(error: OfferscopeError) -> int:
    """The HTTP status that answers `error`."""
    if isinstance(error, HttpError):
        return error.status
    for family, status in _STATUS.items():
        if isinstance(error, family):
            return status
    return 400


def retry_after(error: OfferscopeError) -> dict[str, str]:
    """Headers telling a refused client when to come back, where there is such a time."""
    if isinstance(error, TooManyFailures):
        return {"Retry-After": str(error.retry_after)}
    return {}
