"""Named domain errors. Each carries SPEC.md's stable `code`; the edges map families to HTTP.

The family (the class) says what kind of failure it is; the code says which one.
"""

from __future__ import annotations

from typing import Any


class OfferscopeError(Exception):
    """A request the rules refuse; `code` is stable, `message` a sentence a person can act on."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(OfferscopeError):
    """The thing named does not exist, or belongs to someone else (R9)."""


class Conflict(OfferscopeError):
    """The request does not fit the current state (R4, R5, R7, R8...)."""


class Invalid(OfferscopeError):
    """The request is well formed but its values break a rule (R2, R5, R6, R7...)."""


class Refused(OfferscopeError):
    """The caller may not do this (R11's `not_target_customer`)."""


class PreconditionFailed(OfferscopeError):
    """The caller's version of a resource is stale (If-Match)."""


class Gone(OfferscopeError):
    """What was asked for is no longer kept (R18: changes older than the feed's retention)."""
