"""The change vocabulary between processes: every kind survives the change log's encoding."""

from __future__ import annotations

import typing

from hypothesis import given
from hypothesis import strategies as st

from offerscope.storage import changelog, changes
from offerscope.storage.changes import Change, Rebuild

KINDS = typing.get_args(Change)


@given(st.lists(st.one_of(*(st.builds(kind) for kind in KINDS)), max_size=8))
def test_every_change_round_trips_through_the_log_format(made: list[Change]) -> None:
    assert changes.decode(changes.encode(made)) == made


@given(st.one_of(*(st.builds(kind) for kind in KINDS)))
def test_every_kind_says_whether_it_reads_the_database(change: Change) -> None:
    assert isinstance(changes.needs_database(change), bool)


def test_a_revision_this_release_cannot_read_is_rebuilt_from_the_tables() -> None:
    """A change written in another format (another release, mid-upgrade) never breaks the
    index: it is read as a rebuild."""
    assert changelog._decoded(7, '[{"op": "list", "pk": 1}]') == [Rebuild()]
    assert changelog._decoded(7, "not json") == [Rebuild()]
