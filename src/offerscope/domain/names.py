"""The shapes of identifiers and names (SPEC.md §2)."""

from __future__ import annotations

import re
import unicodedata

from offerscope.domain.errors import Invalid
from offerscope.domain.targets import AccountType

ACCOUNT_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
ACCOUNT_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,31}")
NAME_MAX_LENGTH = 100
# Whether a text is already a normalized account ID or name (no white space to trim): a
# value these accept is its own `normalize_account_id` / `normalize_account_name`, so bulk
# checks test each value with one C call and call the normalizers only for the others.
is_normal_account_id = ACCOUNT_ID_PATTERN.fullmatch
is_normal_account_name = ACCOUNT_NAME_PATTERN.fullmatch
# Control characters, and the Unicode line and paragraph separators that break a line as well.
_CONTROL = frozenset({"Cc", "Zl", "Zp"})
# Bidirectional embeddings, overrides and isolates: they reorder the text around them, so a
# name could make a page read other than it is ("gnp.exe" shown as "exe.png").
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def account_id_key(account_id: str) -> str | None:
    """The account ID a caller's text names, or None where it names none.

    The one normalizer of account IDs: surrounding white space is forgiven (as for names);
    anything else that is not 32 lowercase hex characters is no account ID at all. A lookup
    answers "not found" for None; a request that acts on an account refuses it
    (`normalize_account_id`).
    """
    value = account_id.strip()
    return value if ACCOUNT_ID_PATTERN.fullmatch(value) else None


def normalize_account_id(account_id: str) -> str:
    """An account ID to act on (register, list, issue a token for): 422 if it is not one."""
    value = account_id_key(account_id)
    if value is None:
        raise Invalid(
            "invalid_request",
            "An account ID is 32 lowercase hexadecimal characters (0-9, a-f).",
            field="account_id",
        )
    return value


def normalize_account_name(account_name: str) -> str:
    """An account name is compared exactly after trimming surrounding white space."""
    value = account_name.strip()
    if not ACCOUNT_NAME_PATTERN.fullmatch(value):
        raise Invalid(
            "invalid_request",
            "An account name is 6 to 32 letters, digits, '-' or '_', starting with a letter.",
            field="account_name",
        )
    return value


def check_display_name(name: str, field: str = "name") -> str:
    """Seller, product, specification and group names: 1-100 characters, no control
    characters and none that reorder the text around them.

    They are stored and shown exactly as sent.
    """
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise Invalid(
            "invalid_request",
            f"A name is 1 to {NAME_MAX_LENGTH} characters long.",
            field=field,
        )
    if any(unicodedata.category(char) in _CONTROL for char in name):
        raise Invalid(
            "invalid_request",
            "A name cannot contain control characters such as line breaks or tabs.",
            field=field,
        )
    if not _REORDERING.isdisjoint(name):
        raise Invalid(
            "invalid_request",
            "A name cannot contain characters that change the direction of the text around "
            "it (U+202A to U+202E, U+2066 to U+2069).",
            field=field,
        )
    return name


def shows_nothing(name: str) -> bool:
    """Whether a name is only white space and invisible formatting (a zero-width space)."""
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in name)


def parse_account_type(value: str) -> AccountType:
    """An account's type is exactly `enterprise` or `individual`, in JSON and CSV alike."""
    try:
        return AccountType(value)
    except ValueError as error:
        raise Invalid(
            "invalid_request",
            "An account type is enterprise or individual (in lower case).",
            field="account_type",
        ) from error
