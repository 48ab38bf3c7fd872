"""R16 in the decision index: windows open and close at their instant, with no write then.

The index of a second `Database` (another process) runs on a clock the test sets; at every
instant around each boundary it must answer exactly as R12 read from the tables at that
instant, and nothing may be applied or rebuilt meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from offerscope.domain.decision import Reason
from offerscope.domain.targets import Setting, Target
from offerscope.domain.windows import Window
from offerscope.index.index import DecisionIndex
from offerscope.services import decisions, specified_users, targets
from offerscope.storage.unit_of_work import Database
from tests.index.reference import catalog_from_database
from tests.index.test_index import ACCOUNTS, UNKNOWN_ACCOUNT, World, make_world

T0 = datetime(2031, 5, 1, 12, tzinfo=UTC)
TINY = timedelta(microseconds=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Clock:
    """Epoch seconds, as the test sets them."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def windowed(database_url: str) -> Iterator[tuple[World, Database]]:
    """P0 sold to specified users; P1 to all, its first specification to specified users;
    entries with windows on both lists (written at T0's real counterpart: now)."""
    first = Database.connect(database_url, pool_size=2)
    second = Database.connect(database_url, pool_size=2)
    try:
        world = make_world(first)
        p0, p1 = world.products[0], world.products[1]
        s10 = world.specs[p1][0]
        targets.set_product_target(first, world.seller, p0, Target.SPECIFIED)
        targets.set_specification_setting(first, world.seller, p1, s10, Setting.SPECIFIED)
        (a, an), (b, bn), (c, cn), (d, dn) = ACCOUNTS
        add = specified_users.add_specified_user
        add(first, world.seller, p0, None, a, an, Window(at(10), at(20)))
        add(first, world.seller, p0, None, b, bn, Window(None, at(15)))
        add(first, world.seller, p0, None, c, cn)  # always
        add(first, world.seller, p1, s10, a, an, Window(at(5), None))
        add(first, world.seller, p1, s10, d, dn, Window(None, at(5)))
        yield world, second
    finally:
        first.dispose()
        second.dispose()


@pytest.fixture
def clocked(
    windowed: tuple[World, Database],
) -> Iterator[tuple[World, Database, Clock, DecisionIndex]]:
    """The second process's index, on a clock the test sets (T0 to start with)."""
    world, other = windowed
    clock = Clock()
    idx = DecisionIndex(other, clock)
    try:
        yield world, other, clock, idx
    finally:
        idx.close()


def decide_all(idx: DecisionIndex, world: World, db: Database, now: datetime) -> None:
    """Every pair, from the index at its clock's `now` and from the tables at `now`, alike."""
    pairs = [(a, s) for a in [*(a for a, _ in ACCOUNTS), UNKNOWN_ACCOUNT] for s in world.all_specs]
    from_index = idx.refresh().decide_many(pairs)
    with db.reading() as uow:
        for (account_id, spec_id), decided in zip(pairs, from_index, strict=True):
            expected = decisions.decide_in(uow.session, account_id, spec_id, now)
            assert decided == expected, (now, account_id, spec_id)
            assert idx.decide(account_id, spec_id) == expected


INSTANTS = [0, 5 - 1e-6, 5, 10 - 1e-6, 10, 15 - 1e-6, 15, 20 - 1e-6, 20, 3600]


def test_r16_the_index_answers_as_the_tables_at_every_instant_with_no_write(
    clocked: tuple[World, Database, Clock, DecisionIndex],
) -> None:
    world, other, clock, idx = clocked
    idx.refresh()
    revision = idx.revision
    for seconds in INSTANTS:
        clock.now = at(seconds)
        decide_all(idx, world, other, clock.now)
    assert (idx.revision, idx.builds) == (revision, 1)  # nothing applied: the clock alone


def test_r16_each_boundary_flips_exactly_at_its_instant(
    clocked: tuple[World, Database, Clock, DecisionIndex],
) -> None:
    world, _other, clock, idx = clocked
    spec0, spec10 = world.specs[world.products[0]][0], world.specs[world.products[1]][0]
    a, b, _c, d = (account for account, _ in ACCOUNTS)

    def allowed(account: str, spec: str, seconds: float) -> bool:
        clock.now = at(seconds)
        return idx.refresh().decide(account, spec).allowed

    assert [allowed(a, spec0, t) for t in (10 - 1e-6, 10, 20 - 1e-6, 20)] == [
        False,
        True,
        True,
        False,
    ]
    assert [allowed(b, spec0, t) for t in (15 - 1e-6, 15)] == [True, False]
    assert [allowed(a, spec10, t) for t in (5 - 1e-6, 5)] == [False, True]
    assert [allowed(d, spec10, t) for t in (5 - 1e-6, 5)] == [True, False]
    clock.now = at(0)
    early = idx.decide(a, spec0)
    assert (early.reason, early.moment) == (Reason.SPECIFIED_USER_NOT_YET_VALID, at(10))
    clock.now = at(20)
    late = idx.decide(a, spec0)
    assert (late.reason, late.moment) == (Reason.SPECIFIED_USER_EXPIRED, at(20))


def test_r16_audience_sizes_and_the_catalog_move_with_the_clock(
    clocked: tuple[World, Database, Clock, DecisionIndex],
) -> None:
    world, other, clock, idx = clocked
    p0 = world.products[0]
    sizes = []
    for seconds in (0, 10, 15, 20):
        clock.now = at(seconds)
        found = idx.audience_sizes(p0)
        assert found is not None
        sizes.append(found[0])
    assert sizes == [2, 3, 2, 1]  # b and c; a joins; b leaves; a leaves
    for seconds in (0, 12, 30):
        clock.now = at(seconds)
        for buyer in world.buyers.values():
            page = idx.refresh().catalog(buyer.account_pk, limit=10)
            reference = catalog_from_database(other, buyer, limit=10, now=clock.now)
            decided = {
                s.specification_id: s.decision for p in reference.items for s in p.specifications
            }
            assert {
                spec.specification_id: decision
                for row in page.rows
                for spec, decision, _buyable in row.specifications
            } == decided


def test_r16_a_changed_window_changes_the_reason_at_once(
    clocked: tuple[World, Database, Clock, DecisionIndex],
) -> None:
    # The index remembers each refused entry's reason until a window moves: a new window
    # written on another process must be the one the next refusal names.
    world, _other, clock, idx = clocked
    spec0 = world.specs[world.products[0]][0]
    account, name = ACCOUNTS[0]
    clock.now = at(0)
    assert idx.refresh().decide(account, spec0).moment == at(10)
    specified_users.add_specified_user(
        world.db, world.seller, world.products[0], None, account, name, Window(at(12), at(20))
    )
    refused = idx.refresh().decide(account, spec0)
    assert (refused.reason, refused.moment) == (Reason.SPECIFIED_USER_NOT_YET_VALID, at(12))
