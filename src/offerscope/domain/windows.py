"""Validity windows of specified-user entries: SPEC.md R16.

An entry may carry `valid_from` and/or `valid_until`; it counts in R3 only while
`valid_from <= now < valid_until`. Every store decides "now" itself, at the moment it is
asked, so that no write (and no scheduled job) is needed when a window opens or closes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from offerscope.domain.errors import Invalid


class EntryStatus(StrEnum):
    ACTIVE = "active"
    SCHEDULED = "scheduled"  # its window has not opened yet
    EXPIRED = "expired"  # its window has closed


class Lapse(StrEnum):
    """Why an account's entries on a deciding list do not admit it now (R12's two reasons)."""

    EXPIRED = "specified_user_expired"
    NOT_YET_VALID = "specified_user_not_yet_valid"


# A moment: a datetime, or epoch seconds where a store keeps windows compactly (the index).
M = TypeVar("M", datetime, float)


def status_at(start: M | None, end: M | None, now: M) -> EntryStatus:
    """R16: an entry is active while `start <= now < end`; None (or an infinity) is open."""
    if start is not None and now < start:
        return EntryStatus.SCHEDULED
    if end is not None and now >= end:
        return EntryStatus.EXPIRED
    return EntryStatus.ACTIVE


def lapse_at(start: M | None, end: M | None, now: M) -> tuple[Lapse, M] | None:
    """R12 with R16 for one entry: why it does not admit its account at `now`, and the
    moment its sentence gives (when it opens, or when it closed); None while active."""
    status = status_at(start, end, now)
    if status is EntryStatus.SCHEDULED:
        assert start is not None
        return Lapse.NOT_YET_VALID, start
    if status is EntryStatus.EXPIRED:
        assert end is not None
        return Lapse.EXPIRED, end
    return None


@dataclass(frozen=True, slots=True)
class Window:
    """When an entry counts; None at either end means open on that side."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.valid_from is not None or self.valid_until is not None

    def status(self, now: datetime) -> EntryStatus:
        """R16: active while `valid_from <= now < valid_until`."""
        return status_at(self.valid_from, self.valid_until, now)

    def seconds(self) -> tuple[float, float]:
        """The window as epoch seconds, open ends as infinities (the index's compact form)."""
        return (
            self.valid_from.timestamp() if self.valid_from else -math.inf,
            self.valid_until.timestamp() if self.valid_until else math.inf,
        )

    @classmethod
    def from_seconds(cls, start: float, end: float) -> Window:
        return cls(
            None if start == -math.inf else moment_of(start),
            None if end == math.inf else moment_of(end),
        )


@lru_cache(maxsize=4096)
def moment_of(seconds: float) -> datetime:
    """Epoch seconds as a UTC moment (shared: the same few moments recur in refusals).
    Seconds past what a datetime holds (a window stored before `check_window` bounded
    them) read as its first or last moment, so that no decision fails for them."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        return _FIRST if seconds < 0 else _LAST


_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)
# The moments a window may name: far enough from the ends of the calendar that a moment in
# any zone, and its epoch seconds (the index's form, a float), stay within it.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # excluded

ALWAYS = Window()


def check_window(valid_from: datetime | None, valid_until: datetime | None) -> Window:
    """R16: times carry a zone and lie between `EARLIEST` and `LATEST`, and a window ends
    after it starts. The window in UTC."""
    start, end = _checked(valid_from, "valid_from"), _checked(valid_until, "valid_until")
    if start is not None and end is not None and end <= start:
        raise Invalid(
            "invalid_window",
            "valid_until must be after valid_from.",
            field="valid_until",
        )
    return Window(start, end)


def _checked(moment: datetime | None, name: str) -> datetime | None:
    """One end of a window, in UTC."""
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise Invalid(
            "invalid_window",
            f"{name} needs a time zone, for example 2027-03-31T00:00:00Z.",
            field=name,
        )
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # a zone pushed it past the calendar's first or last year
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise Invalid(
            "invalid_window",
            f"{name} must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC).",
            field=name,
        )
    return utc


def read_moment(text: str | None, name: str) -> datetime | None:
    """An RFC 3339 time with a zone (`2027-03-31T00:00:00Z`), as entered; None if empty."""
    if text is None or not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            "invalid_window",
            f"{name} is not a time: write it as RFC 3339, for example 2027-03-31T00:00:00Z.",
            field=name,
        ) from None


def read_window(valid_from: str | None, valid_until: str | None) -> Window:
    """R16: a window from the text of its two ends (the API's and a CSV file's form)."""
    return check_window(
        read_moment(valid_from, "valid_from"), read_moment(valid_until, "valid_until")
    )


def lapse_of(windows: Iterable[Window], now: datetime) -> tuple[Lapse, datetime] | None:
    """R12 with R16: why an account's entries on a list (each outside its window) do not
    admit it now, and the date the sentence gives (see `lapse_among`)."""
    return lapse_among(((w.valid_from, w.valid_until) for w in windows), now)


def lapse_among(spans: Iterable[tuple[M | None, M | None]], now: M) -> tuple[Lapse, M] | None:
    """R16 over all of an account's entries on a list, its groups' included (R17): an entry
    yet to open names the earliest opening; otherwise the latest close. None if there is no
    entry, or one is active."""
    opening: M | None = None
    closed: M | None = None
    for start, end in spans:
        found = lapse_at(start, end, now)
        if found is None:
            return None
        why, moment = found
        if why is Lapse.NOT_YET_VALID:
            opening = moment if opening is None else min(opening, moment)
        else:
            closed = moment if closed is None else max(closed, moment)
    if opening is not None:
        return Lapse.NOT_YET_VALID, opening
    if closed is not None:
        return Lapse.EXPIRED, closed
    return None


def describe(window: Window) -> str:
    """A window in words, for history and the console."""
    if window.valid_from and window.valid_until:
        return f"from {moment_text(window.valid_from)} until {moment_text(window.valid_until)}"
    if window.valid_from:
        return f"from {moment_text(window.valid_from)}"
    if window.valid_until:
        return f"until {moment_text(window.valid_until)}"
    return "always"


def moment_text(moment: datetime) -> str:
    """A window's moment as R12's sentences give it: UTC, to the second when it has one."""
    utc = moment.astimezone(UTC)
    shown = utc.strftime("%Y-%m-%d %H:%M:%S" if utc.second else "%Y-%m-%d %H:%M")
    return f"{shown} UTC"
