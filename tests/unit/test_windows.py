"""SPEC.md R16: validity windows of specified-user entries, and R12's two reasons for them.

The clock is injected: every test names the instant it decides at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offerscope.domain.decision import Level, Reason, decide
from offerscope.domain.errors import Invalid
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import (
    EntryStatus,
    Lapse,
    Window,
    check_window,
    lapse_of,
    moment_text,
    read_window,
)
from tests.unit.test_decision import FakeBuyer, offer

START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2027, 3, 31, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TINY = timedelta(microseconds=1)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


# --- the window itself -----------------------------------------------------------------------


@given(start=st.none() | moments, end=st.none() | moments, now=moments)
def test_r16_an_entry_is_active_exactly_while_valid_from_le_now_lt_valid_until(
    start: datetime | None, end: datetime | None, now: datetime
) -> None:
    window = Window(start, end)
    active = (start is None or start <= now) and (end is None or now < end)
    assert (window.status(now) is EntryStatus.ACTIVE) is active
    if not active:
        expected = (
            EntryStatus.SCHEDULED if start is not None and now < start else EntryStatus.EXPIRED
        )
        assert window.status(now) is expected


def test_r16_the_boundaries_belong_to_the_right_side() -> None:
    window = Window(START, END)
    assert window.status(START - TINY) is EntryStatus.SCHEDULED
    assert window.status(START) is EntryStatus.ACTIVE
    assert window.status(END - TINY) is EntryStatus.ACTIVE
    assert window.status(END) is EntryStatus.EXPIRED


def test_r16_an_entry_without_window_always_counts() -> None:
    assert Window().status(START) is EntryStatus.ACTIVE
    assert not Window().bounded
    assert Window(None, END).bounded


@given(start=st.none() | moments, end=st.none() | moments)
def test_r16_the_index_form_in_seconds_round_trips(
    start: datetime | None, end: datetime | None
) -> None:
    back = Window.from_seconds(*Window(start, end).seconds())
    for original, returned in ((start, back.valid_from), (end, back.valid_until)):
        if original is None:
            assert returned is None
        else:
            assert returned is not None
            assert abs(returned - original) < timedelta(microseconds=2)


def test_r16_a_window_must_end_after_it_starts() -> None:
    with pytest.raises(Invalid) as raised:
        check_window(END, START)
    assert raised.value.code == "invalid_window"
    with pytest.raises(Invalid):
        check_window(START, START)
    assert check_window(START, START + SECOND) == Window(START, START + SECOND)


def test_r16_times_need_a_zone_and_are_kept_in_utc() -> None:
    with pytest.raises(Invalid) as raised:
        check_window(datetime(2027, 1, 1), None)
    assert raised.value.code == "invalid_window"
    assert "zone" in raised.value.message
    paris = timezone(timedelta(hours=1))
    window = check_window(datetime(2027, 1, 1, 1, tzinfo=paris), None)
    assert window.valid_from == START
    assert window.valid_from is not None and window.valid_from.tzinfo == UTC


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59.999999Z",  # rounds into year 10000 as the index's seconds
        "9999-12-31T23:59:59-14:00",  # past the last year a datetime holds, in UTC
        "0001-01-01T00:00:00+14:00",  # before the first
        "1899-12-31T23:59:59Z",
        "9000-01-01T00:00:00Z",
    ],
)
@pytest.mark.parametrize("end", ["valid_from", "valid_until"])
def test_r16_a_window_lies_between_1900_and_9000(moment: str, end: str) -> None:
    given = {"valid_from": None, "valid_until": None, end: moment}
    with pytest.raises(Invalid) as raised:
        read_window(**given)
    assert raised.value.code == "invalid_window"
    assert raised.value.details["field"] == end
    assert "1900-01-01" in raised.value.message and "9000-01-01" in raised.value.message


def test_r16_the_first_and_last_moments_of_the_range_are_taken() -> None:
    first, last = datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC) - TINY
    assert check_window(first, last) == Window(first, last)


offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


@given(start=st.datetimes(timezones=offsets), end=st.datetimes(timezones=offsets))
def test_r16_a_window_taken_is_one_the_index_can_hold(start: datetime, end: datetime) -> None:
    """Any two moments of any zone: refused as invalid_window, or taken as a window whose
    seconds (the index's form) turn back into moments; never an error of another kind. (A
    float's seconds are exact to 2 microseconds until 2100, and to 31 by the year 9000.)"""
    try:
        window = check_window(start, end)
    except Invalid as refused:
        assert refused.code == "invalid_window"
        return
    back = Window.from_seconds(*window.seconds())
    assert back.valid_from is not None and back.valid_until is not None
    assert abs(back.valid_from - start) < timedelta(microseconds=32)


def test_r16_a_stored_moment_out_of_range_reads_as_the_edge_of_time() -> None:
    """Windows stored before the range was checked must not break the decisions that read
    them: seconds past what a datetime holds read as its first or last moment."""
    back = Window.from_seconds(-1e13, 1e13)
    assert back.valid_from == datetime.min.replace(tzinfo=UTC)
    assert back.valid_until == datetime.max.replace(tzinfo=UTC)


# --- which reason, and which date ------------------------------------------------------------


def test_r16_no_entry_or_an_active_one_is_no_lapse() -> None:
    assert lapse_of([], START) is None
    assert lapse_of([Window(START, END)], START) is None
    assert lapse_of([Window(None, START), Window(START, None)], START) is None


def test_r16_a_closed_window_is_expired_with_its_end() -> None:
    assert lapse_of([Window(START, END)], END) == (Lapse.EXPIRED, END)


def test_r16_a_window_yet_to_open_is_not_yet_valid_with_its_start() -> None:
    assert lapse_of([Window(END, None)], START) == (Lapse.NOT_YET_VALID, END)


def test_r16_of_several_entries_one_yet_to_open_wins_with_the_earliest_start() -> None:
    later = END + timedelta(days=30)
    windows = [Window(None, START), Window(later, None), Window(END, None)]
    assert lapse_of(windows, START + SECOND) == (Lapse.NOT_YET_VALID, END)
    assert lapse_of([*windows, Window(None, END)], START + SECOND) is None  # one is active
    closed = [Window(None, START), Window(None, START + SECOND)]
    assert lapse_of(closed, END) == (Lapse.EXPIRED, START + SECOND)


def test_r16_the_date_in_a_sentence_is_utc() -> None:
    assert moment_text(END) == "2027-03-31 00:00 UTC"
    assert moment_text(END + timedelta(seconds=5)) == "2027-03-31 00:00:05 UTC"
    paris = timezone(timedelta(hours=2))
    assert moment_text(datetime(2027, 3, 31, 2, tzinfo=paris)) == "2027-03-31 00:00 UTC"


# --- R12 with R16 ----------------------------------------------------------------------------


def buyer_with(
    now: datetime, *, product: Window | None = None, spec: Window | None = None
) -> FakeBuyer:
    return FakeBuyer(
        AccountType.ENTERPRISE,
        product_windows={"P": product} if product else {},
        specification_windows={"S": spec} if spec else {},
        now=now,
    )


def test_r16_a_product_entry_counts_until_its_instant_and_then_says_when_it_ended() -> None:
    specified = offer(Target.SPECIFIED)
    window = Window(None, END)
    assert decide(specified, buyer_with(END - TINY, product=window)).allowed
    refused = decide(specified, buyer_with(END, product=window))
    assert (refused.allowed, refused.reason, refused.level) == (
        False,
        Reason.SPECIFIED_USER_EXPIRED,
        Level.PRODUCT,
    )
    assert refused.moment == END
    assert "ended at 2027-03-31 00:00 UTC" in refused.message
    assert "product" in refused.message
    assert refused.summary()["valid_until"] == "2027-03-31T00:00:00Z"


def test_r16_a_specification_entry_yet_to_open_says_from_when() -> None:
    narrowed = offer(Target.ALL, Setting.SPECIFIED)
    window = Window(END, None)
    refused = decide(narrowed, buyer_with(START, spec=window))
    assert (refused.reason, refused.level, refused.moment) == (
        Reason.SPECIFIED_USER_NOT_YET_VALID,
        Level.SPECIFICATION,
        END,
    )
    assert "from 2027-03-31 00:00 UTC" in refused.message
    assert "specification" in refused.message
    assert refused.summary()["valid_from"] == "2027-03-31T00:00:00Z"
    assert decide(narrowed, buyer_with(END, spec=window)).allowed


def test_r16_an_account_not_on_the_list_is_refused_as_before() -> None:
    refused = decide(offer(Target.SPECIFIED), buyer_with(START))
    assert refused.reason is Reason.NOT_SPECIFIED_USER
    assert refused.moment is None
    assert "valid_until" not in refused.summary()


def test_r16_a_lapse_only_speaks_for_the_level_that_refuses() -> None:
    # The product admits the account by type; only the specification's list refuses it.
    typed = offer(Target.ENTERPRISE, Setting.SPECIFIED)
    refused = decide(typed, buyer_with(END, spec=Window(None, END)))
    assert (refused.reason, refused.level) == (Reason.SPECIFIED_USER_EXPIRED, Level.SPECIFICATION)
    # An expired product entry refuses at the product level before the specification's list.
    both = offer(Target.SPECIFIED, Setting.SPECIFIED)
    refused = decide(both, buyer_with(END, product=Window(None, END), spec=Window(None, None)))
    assert (refused.reason, refused.level) == (Reason.SPECIFIED_USER_EXPIRED, Level.PRODUCT)
