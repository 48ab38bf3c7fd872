"""How much one request may ask for: the limits of SPEC.md §4 and the README, in one place.

The use cases enforce them whoever calls (API, console, command line); the API's schemas
refer to the same values so that its documentation states them.
"""

from __future__ import annotations

from collections.abc import Sized

from offerscope.domain.errors import Invalid

DEFAULT_PAGE = 100
MAX_PAGE = 1000  # SPEC.md §4: `?limit=` at most 1,000
MAX_BATCH = 10_000  # checks in one batch of decisions
MAX_IDS = 100  # IDs in one association request
MAX_SPECIFICATIONS = 100  # specifications created with one product


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("invalid_request", f"limit is a number from 1 to {MAX_PAGE}.", field="limit")
    return limit


def check_count(items: Sized, most: int, field: str) -> None:
    """At most `most` items in one request."""
    if len(items) > most:
        raise Invalid(
            "invalid_request", f"{field} holds at most {most:,} items in one request.", field=field
        )
