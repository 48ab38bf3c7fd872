"""The form that adds an account to a list of accounts (a specified-user list, R5, or a
customer group, R17): its fields read, every error noted beside its field at once.

R16 in the console: a window's ends are entered in datetime-local fields, read as UTC (the
page says so), and shown in UTC everywhere (`moment_text`), as history and refusals are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from offerscope.domain.errors import Invalid, OfferscopeError
from offerscope.domain.names import normalize_account_id, normalize_account_name
from offerscope.domain.windows import ALWAYS, Window

ENTRY_FIELDS = ("account_name", "account_id", "valid_from", "valid_until")
NOT_A_MOMENT = "Enter a date and time, for example 2027-03-31 00:00 (UTC)."
END_BEFORE_START = "The end must be after the start."


def entry_values(
    account_name: str, account_id: str, valid_from: str, valid_until: str
) -> dict[str, str]:
    return dict(zip(ENTRY_FIELDS, (account_name, account_id, valid_from, valid_until), strict=True))


def read_utc(text: str, name: str) -> datetime | None:
    """A datetime-local field's value as a UTC moment; None if it is empty."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("invalid_window", NOT_A_MOMENT, field=name) from None
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment


def read_entry(values: dict[str, str], errors: dict[str, str]) -> Window:
    """Check the name's and the ID's shapes and read the window, noting what is wrong with
    each field in `errors` (so that all of them show at once)."""
    for name, check in (
        ("account_name", normalize_account_name),
        ("account_id", normalize_account_id),
    ):
        try:
            check(values[name])
        except Invalid as error:
            errors[name] = error.message
    ends: dict[str, datetime | None] = {}
    for name in ("valid_from", "valid_until"):
        try:
            ends[name] = read_utc(values[name], name)
        except Invalid as error:
            errors[name] = error.message
    start, end = ends.get("valid_from"), ends.get("valid_until")
    if start is not None and end is not None and end <= start:
        errors["valid_until"] = END_BEFORE_START
    return ALWAYS if errors else Window(start, end)


def refused_field(error: OfferscopeError, errors: dict[str, str]) -> None:
    """A use case's refusal, beside the field it names (else above the form)."""
    where = error.details.get("field")
    errors[where if where in ENTRY_FIELDS else "general"] = error.message
