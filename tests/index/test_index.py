"""The decision index (R3, R10, R12 from memory) against the database path it replaces.

Random worlds are made through the ordinary use cases, one write at a time; after every write
the index, kept current incrementally, must answer exactly as `storage.facts` + `decide` do
from the tables, and exactly as an index built from scratch. Two `Database` objects on one
database stand for two server processes.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, text

from offerscope.domain.errors import OfferscopeError
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.domain.windows import Window
from offerscope.index.index import DecisionIndex
from offerscope.index.state import IndexState
from offerscope.services import (
    accounts,
    associations,
    catalog,
    decisions,
    groups,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Actor, Role
from offerscope.services.views import CatalogProduct, OrderView, Page
from offerscope.storage import changes
from offerscope.storage.tables import IndexChangeRow, ListEntryRow
from offerscope.storage.unit_of_work import Database
from tests.index.reference import catalog_from_database
from tests.support import index_of

ACCOUNTS = [(f"{n:032x}", f"buyer_{n:03d}") for n in range(1, 5)]
UNKNOWN_ACCOUNT = "f" * 32


@dataclass
class World:
    """A small marketplace made through the use cases, and the IDs a test draws from."""

    db: Database
    seller: Actor
    products: list[str] = field(default_factory=list)
    specs: dict[str, list[str]] = field(default_factory=dict)  # product -> its specifications
    buyers: dict[str, Actor] = field(default_factory=dict)
    orders: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # R17: customer groups

    @property
    def all_specs(self) -> list[str]:
        return [s for p in self.products for s in self.specs[p]]


def make_world(db: Database, *, associated: bool = False) -> World:
    for (account_id, name), account_type in zip(
        ACCOUNTS, [*AccountType, *AccountType], strict=True
    ):
        accounts.register_account(db, account_id, name, account_type)
    seller_id = sellers.create_seller(db, "Seller").seller_id
    world = World(db, sellers.seller_actor(db, seller_id))
    for p in range(3):
        view = products.create_product(db, world.seller, f"P{p}", ["S0", "S1"])
        world.products.append(view.product_id)
        world.specs[view.product_id] = [s.specification_id for s in view.specifications]
    if associated:  # so that random orders, refunds and removals matter from the first write
        p0, p1, p2 = world.products
        targets.set_product_target(db, world.seller, p2, Target.ASSOCIATED)
        associations.add_associations(db, world.seller, p2, None, [p0])
        s0, s1 = world.specs[p1]
        targets.set_specification_setting(db, world.seller, p1, s1, Setting.ASSOCIATED)
        associations.add_associations(db, world.seller, p1, s1, [s0])
        targets.set_product_target(db, world.seller, p0, Target.SPECIFIED)
        targets.set_specification_setting(db, world.seller, p1, s0, Setting.SPECIFIED)
        for account_id, name in ACCOUNTS[:2]:  # so that removals have something to remove
            specified_users.add_specified_user(db, world.seller, p0, None, account_id, name)
            specified_users.add_specified_user(db, world.seller, p1, s0, account_id, name)
    world.groups = [groups.create_group(db, world.seller, f"G{g}").group_id for g in range(2)]
    if associated:  # a group with a member on a list from the start (R17)
        account_id, name = ACCOUNTS[2]
        groups.add_member(db, world.seller, world.groups[0], account_id, name)
        groups.attach_group(db, world.seller, world.products[0], None, world.groups[0])
    for account_id, _ in ACCOUNTS:
        buyer = tokens.authenticate(db, tokens.create_token(db, Role.BUYER, account_id=account_id))
        assert buyer is not None
        world.buyers[account_id] = buyer
    return world


# One write through a use case: (kind, product index, spec index, account index, value index).
Op = tuple[str, int, int, int, int]
KINDS = [
    "product_target",
    "spec_setting",
    "product_user_add",
    "product_user_remove",
    "spec_user_add",
    "spec_user_remove",
    "product_link_add",
    "product_link_remove",
    "spec_link_add",
    "spec_link_remove",
    "order",
    "order",
    "order",
    "orders_at_once",
    "refund",
    "account_type",
    "new_spec",
    "product_user_window",
    "spec_user_window",
    "group_member_add",
    "group_member_remove",
    "group_member_window",
    "group_attach_product",
    "group_attach_spec",
    "group_detach_product",
    "group_detach_spec",
]

DAY = timedelta(days=1)
# R16 windows around the time of the test, days from either end: (valid_from, valid_until).
WINDOWS = [
    (-2 * DAY, -DAY),  # expired
    (DAY, None),  # scheduled
    (None, DAY),  # active
    (-DAY, None),  # active
    (None, -DAY),  # expired
    (-DAY, 2 * DAY),  # active
]


def window_of(v: int) -> Window:
    now = datetime.now(UTC)
    start, end = WINDOWS[v % len(WINDOWS)]
    return Window(None if start is None else now + start, None if end is None else now + end)


ops = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(0, 3),
    st.integers(0, 5),
)


def apply(world: World, op: Op, *, refusals: bool = False) -> None:
    """Run one write; a write the rules refuse (409, 422, 404) is part of the game (raised
    with `refusals`, else ignored)."""
    kind, p, s, a, v = op
    db, seller = world.db, world.seller
    product = world.products[p]
    specs = world.specs[product]
    spec = specs[s % len(specs)]
    account_id, name = ACCOUNTS[a]
    other_product = world.products[(p + 1 + v % 2) % 3]
    other_spec = specs[(s + 1) % len(specs)]
    with nullcontext() if refusals else suppress(OfferscopeError):
        if kind == "product_target":
            targets.set_product_target(
                db, seller, product, list(Target)[v % 5], reset_conflicting=True
            )
        elif kind == "spec_setting":
            targets.set_specification_setting(db, seller, product, spec, list(Setting)[v])
        elif kind == "product_user_add":
            specified_users.add_specified_user(db, seller, product, None, account_id, name)
        elif kind == "product_user_remove":
            specified_users.remove_specified_user(db, seller, product, None, account_id)
        elif kind == "spec_user_add":
            specified_users.add_specified_user(db, seller, product, spec, account_id, name)
        elif kind == "spec_user_remove":
            specified_users.remove_specified_user(db, seller, product, spec, account_id)
        elif kind == "product_link_add":
            associations.add_associations(db, seller, product, None, [other_product])
        elif kind == "product_link_remove":
            associations.remove_association(db, seller, product, None, other_product)
        elif kind == "spec_link_add":
            associations.add_associations(db, seller, product, spec, [other_spec])
        elif kind == "spec_link_remove":
            associations.remove_association(db, seller, product, spec, other_spec)
        elif kind == "order":
            world.orders.append(orders.place_order(db, world.buyers[account_id], spec).order_id)
        elif kind == "orders_at_once":  # group commit: every buyer, three specifications
            batch = [
                (b, s)
                for s in (spec, other_spec, world.specs[other_product][0])
                for b in world.buyers.values()
            ]
            world.orders += [
                o.order_id for o in orders.place_orders(db, batch) if isinstance(o, OrderView)
            ]
        elif kind == "refund" and world.orders:
            orders.refund_order(db, world.orders[v % len(world.orders)])
        elif kind == "account_type":
            accounts.update_account(db, account_id, account_type=list(AccountType)[v % 2])
        elif kind == "product_user_window":
            specified_users.add_specified_user(
                db, seller, product, None, account_id, name, window_of(v)
            )
        elif kind == "spec_user_window":
            specified_users.add_specified_user(
                db, seller, product, spec, account_id, name, window_of(v)
            )
        elif kind.startswith("group_"):
            _apply_group(world, kind, product, spec, account_id, name, v)
        elif kind == "new_spec" and len(specs) < 4:
            specs.append(
                products.add_specification(db, seller, product, f"S{len(specs)}").specification_id
            )


def _apply_group(
    world: World, kind: str, product: str, spec: str, account_id: str, name: str, v: int
) -> None:
    """R17's writes: a member in or out of a group (with R16's window), a group on or off a
    product's or a specification's list."""
    db, seller, group = world.db, world.seller, world.groups[v % 2]
    if kind == "group_member_add":
        groups.add_member(db, seller, group, account_id, name)
    elif kind == "group_member_remove":
        groups.remove_member(db, seller, group, account_id)
    elif kind == "group_member_window":
        groups.add_member(db, seller, group, account_id, name, window_of(v))
    elif kind == "group_attach_product":
        groups.attach_group(db, seller, product, None, group)
    elif kind == "group_attach_spec":
        groups.attach_group(db, seller, product, spec, group)
    elif kind == "group_detach_product":
        groups.detach_group(db, seller, product, None, group)
    elif kind == "group_detach_spec":
        groups.detach_group(db, seller, product, spec, group)


def assert_index_matches_tables(world: World, idx: DecisionIndex) -> None:
    """Every (account, specification) pair, and unknown IDs, decided alike both ways."""
    accounts = [a for a, _ in ACCOUNTS] + [UNKNOWN_ACCOUNT]
    spec_ids = [*world.all_specs, "spc_unknown"]
    pairs = [(a, s) for a in accounts for s in spec_ids]
    from_index = idx.decide_many(pairs)
    for (account_id, spec_id), decided in zip(pairs, from_index, strict=True):
        expected = decisions.check_from_database(world.db, account_id, spec_id)
        assert decided == expected, (account_id, spec_id)
        assert idx.decide(account_id, spec_id) == expected


def fresh_build(db: Database) -> DecisionIndex:
    """An index built from scratch, not registered with `db` (a process starting now)."""
    rebuilt = DecisionIndex(db)
    rebuilt.rebuild()
    rebuilt.close()  # its own connections: an open one keeps the SQLite file (and WAL) alive
    return rebuilt


@contextmanager
def world_on_copy(template: Path, directory: Path) -> Iterator[World]:
    path = directory / "world.db"
    shutil.copy(template, path)
    db = Database.connect(f"sqlite:///{path}", pool_size=2)
    try:
        yield make_world(db, associated=True)
    finally:
        db.dispose()
        path.unlink()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(ops, min_size=1, max_size=14))
# Every kind of write at least once, on lists and links that exist (see make_world).
@example([(kind, 0, 0, 0, 0) for kind in KINDS])
@example([(kind, 1, 0, 1, 1) for kind in reversed(KINDS)])
@example([(kind, 2, 1, 0, 2) for kind in KINDS])
@pytest.mark.slow  # about 30 s: a marketplace per example
def test_r3_r10_r12_index_follows_every_write_as_the_tables_do(
    sqlite_template: Path, tmp_path: Path, writes: list[Op]
) -> None:
    with world_on_copy(sqlite_template, tmp_path) as world:
        idx = index_of(world.db).refresh()  # built now, then kept current by the writes alone
        for op in writes:
            apply(world, op)
            assert_index_matches_tables(world, idx)
        assert idx.builds == 1  # every write was applied as a change, never by a rebuild
        assert idx.revision == fresh_build(world.db).revision
        assert_index_matches_tables(world, fresh_build(world.db))


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(ops, min_size=1, max_size=14))
def test_catalog_from_the_index_equals_the_catalog_from_the_tables(
    sqlite_template: Path, tmp_path: Path, writes: list[Op]
) -> None:
    with world_on_copy(sqlite_template, tmp_path) as world:
        for op in writes:
            apply(world, op)
        for buyer in world.buyers.values():
            cursor = None
            while True:
                page = catalog.catalog(index_of(world.db), buyer, limit=2, cursor=cursor)
                assert _decided(page) == catalog_from_database(
                    world.db, buyer, limit=2, cursor=cursor
                )
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor


def _decided(page: Page[CatalogProduct]) -> Page[CatalogProduct]:
    """The page as the reference reads it: items, decisions and the next cursor (not the
    position, nor what the store suggests buying first)."""
    items = [
        replace(p, specifications=[replace(s, buy_first=[]) for s in p.specifications])
        for p in page.items
    ]
    return Page(items, page.next_cursor)


# --- freshness across processes -------------------------------------------------------------


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[World, Database]]:
    """A world written through one `Database`, and a second one on the same database."""
    first = Database.connect(database_url, pool_size=2)
    second = Database.connect(database_url, pool_size=2)
    try:
        yield make_world(first), second
    finally:
        first.dispose()
        second.dispose()


def test_a_write_on_one_process_is_in_the_next_decision_on_another(
    two_processes: tuple[World, Database],
) -> None:
    world, other = two_processes
    product, spec = world.products[0], world.specs[world.products[0]][0]
    alice, alice_name = ACCOUNTS[0]
    assert decisions.check(
        index_of(other), alice, spec
    ).allowed  # the other process builds its index
    targets.set_product_target(world.db, world.seller, product, Target.SPECIFIED)
    assert decisions.check(index_of(other), alice, spec).reason.value == "not_specified_user"
    specified_users.add_specified_user(world.db, world.seller, product, None, alice, alice_name)
    assert decisions.check(index_of(other), alice, spec).allowed
    results = decisions.check_batch(index_of(other), [(alice, spec), (ACCOUNTS[1][0], spec)])
    assert [r.decision.allowed for r in results] == [True, False]
    specified_users.remove_specified_user(world.db, world.seller, product, None, alice)
    assert not decisions.check(index_of(other), alice, spec).allowed
    assert index_of(other).builds == 1  # caught up from the change log alone


def test_r10_orders_and_refunds_reach_the_other_process(
    two_processes: tuple[World, Database],
) -> None:
    world, other = two_processes
    p0, p1 = world.products[0], world.products[1]
    bought, gated = world.specs[p0][0], world.specs[p1][0]
    alice = ACCOUNTS[0][0]
    targets.set_product_target(world.db, world.seller, p1, Target.ASSOCIATED)
    associations.add_associations(world.db, world.seller, p1, None, [p0])
    assert decisions.check(index_of(other), alice, gated).reason.value == "no_associated_purchase"
    order = orders.place_order(world.db, world.buyers[alice], bought)
    assert decisions.check(index_of(other), alice, gated).allowed
    orders.refund_order(world.db, order.order_id)
    assert not decisions.check(index_of(other), alice, gated).allowed
    assert index_of(other).builds == 1


def test_r10_purchases_made_before_an_association_count_once_it_is_made(
    two_processes: tuple[World, Database],
) -> None:
    """Goal 5: an order of what nobody associates leaves no change (on either store), yet once
    an association makes it count, every process's index knows it, and a refund after that."""
    world, other = two_processes
    p0, p1 = world.products[0], world.products[1]
    bought, gated = world.specs[p0][0], world.specs[p1][0]
    alice, bob = ACCOUNTS[0][0], ACCOUNTS[1][0]
    targets.set_product_target(world.db, world.seller, p1, Target.ASSOCIATED)
    index_of(other).refresh()
    before = index_of(other).revision
    first = orders.place_order(world.db, world.buyers[alice], bought)
    orders.place_order(world.db, world.buyers[alice], bought)
    bobs = orders.place_order(world.db, world.buyers[bob], bought)
    orders.refund_order(world.db, first.order_id)
    assert index_of(other).refresh().revision == before  # nobody associates p0 yet
    associations.add_associations(world.db, world.seller, p1, None, [p0])
    assert decisions.check(index_of(other), alice, gated).allowed
    assert decisions.check(index_of(other), bob, gated).allowed
    later = orders.place_order(world.db, world.buyers[bob], bought)
    orders.refund_order(world.db, later.order_id)
    assert decisions.check(index_of(other), bob, gated).allowed  # one purchase still counts
    orders.refund_order(world.db, bobs.order_id)
    assert decisions.check(index_of(other), bob, gated).reason.value == "no_associated_purchase"
    assert decisions.check(index_of(other), alice, gated).allowed
    assert index_of(other).builds == 1


def test_r10_purchases_of_a_specification_count_once_a_specification_associates_it(
    two_processes: tuple[World, Database],
) -> None:
    """Goal 5, R8: the same for a specification association within one product."""
    world, other = two_processes
    product = world.products[0]
    bought, gated = world.specs[product]
    alice = ACCOUNTS[0][0]
    targets.set_specification_setting(world.db, world.seller, product, gated, Setting.ASSOCIATED)
    before = index_of(other).refresh().revision
    first = orders.place_order(world.db, world.buyers[alice], bought)
    assert index_of(other).refresh().revision == before  # nobody associates `bought` yet
    associations.add_associations(world.db, world.seller, product, gated, [bought])
    assert decisions.check(index_of(other), alice, gated).allowed
    orders.refund_order(world.db, first.order_id)
    assert decisions.check(index_of(other), alice, gated).reason.value == "no_associated_purchase"
    assert index_of(other).builds == 1


def test_r11_orders_placed_at_once_are_placed_as_one_after_another(
    two_processes: tuple[World, Database],
) -> None:
    """Group commit: one transaction, and each order decided as if the ones before it in the
    batch had committed first. Bob's purchase of p0 admits him to p2 (R3), a refusal and an
    unknown ID take nothing from the others, and the other process sees the purchase that
    matters (R10)."""
    world, other = two_processes
    p0, p2 = world.products[0], world.products[2]
    bought, gated = world.specs[p0][0], world.specs[p2][0]
    alice, bob = (world.buyers[a] for a, _ in ACCOUNTS[:2])
    targets.set_product_target(world.db, world.seller, p2, Target.ASSOCIATED)
    associations.add_associations(world.db, world.seller, p2, None, [p0])
    before = index_of(other).refresh().revision
    answers = orders.place_orders(
        world.db, [(bob, gated), (bob, bought), (alice, gated), (bob, "spc_unknown"), (bob, gated)]
    )
    refused, first, alices, unknown, second = answers
    assert isinstance(refused, OfferscopeError) and refused.code == "not_target_customer"
    assert isinstance(alices, OfferscopeError) and alices.code == "not_target_customer"
    assert isinstance(unknown, OfferscopeError) and unknown.code == "specification_not_found"
    assert isinstance(first, OrderView) and first.specification_id == bought
    assert isinstance(second, OrderView) and second.specification_id == gated
    assert [o.order_id for o in orders.list_orders(world.db, bob).items] == [
        second.order_id,
        first.order_id,
    ]
    assert index_of(other).refresh().revision == before + 1  # one commit, one revision
    assert decisions.check(index_of(other), bob.account_id or "", gated).allowed
    assert not decisions.check(index_of(other), alice.account_id or "", gated).allowed


def test_r3_a_batch_of_orders_reads_every_association_list_in_one_query(
    two_processes: tuple[World, Database],
) -> None:
    """Orders of a product that targets associated product buyers (R7) and of a specification
    set to associated specification buyers (R8), in one batch: the lists of both are read by
    one statement, and each order is decided by its own."""
    world, _ = two_processes
    p0, p1, p2 = world.products
    (s0, s1), gated = world.specs[p1], world.specs[p2][0]
    targets.set_product_target(world.db, world.seller, p2, Target.ASSOCIATED)
    associations.add_associations(world.db, world.seller, p2, None, [p0])
    targets.set_specification_setting(world.db, world.seller, p1, s1, Setting.ASSOCIATED)
    associations.add_associations(world.db, world.seller, p1, s1, [s0])
    alice, bob = (world.buyers[a] for a, _ in ACCOUNTS[:2])
    orders.place_order(world.db, bob, world.specs[p0][0])
    orders.place_order(world.db, alice, s0)
    statements: list[str] = []

    def note(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.db.engine, "before_cursor_execute", note)
    try:
        answers = orders.place_orders(world.db, [(bob, gated), (alice, s1), (alice, gated)])
    finally:
        event.remove(world.db.engine, "before_cursor_execute", note)
    bobs, alices, refused = answers
    assert isinstance(bobs, OrderView) and isinstance(alices, OrderView)
    assert isinstance(refused, OfferscopeError) and refused.code == "not_target_customer"
    joins = ("JOIN product_associations", "JOIN specification_associations")
    lists_read = [s for s in statements if any(join in s for join in joins)]
    assert len(lists_read) == 1, lists_read


def test_r6_an_account_type_change_reaches_the_other_process(
    two_processes: tuple[World, Database],
) -> None:
    world, other = two_processes
    product, spec = world.products[0], world.specs[world.products[0]][0]
    targets.set_product_target(world.db, world.seller, product, Target.ENTERPRISE)
    account_id = ACCOUNTS[1][0]  # individual
    assert decisions.check(index_of(other), account_id, spec).reason.value == "not_enterprise_user"
    accounts.update_account(world.db, account_id, account_type=AccountType.ENTERPRISE)
    assert decisions.check(index_of(other), account_id, spec).allowed


def test_new_accounts_products_and_specifications_reach_the_other_process(
    two_processes: tuple[World, Database],
) -> None:
    world, other = two_processes
    decisions.check(index_of(other), ACCOUNTS[0][0], world.all_specs[0])
    accounts.register_account(world.db, "e" * 32, "newcomer", AccountType.INDIVIDUAL)
    view = products.create_product(world.db, world.seller, "New", ["Only"])
    spec = view.specifications[0].specification_id
    assert decisions.check(index_of(other), "e" * 32, spec).allowed
    added = products.add_specification(world.db, world.seller, view.product_id, "Second")
    assert decisions.check(index_of(other), "e" * 32, added.specification_id).allowed


def test_a_pruned_change_log_falls_back_to_a_rebuild(two_processes: tuple[World, Database]) -> None:
    world, other = two_processes
    product, spec = world.products[0], world.specs[world.products[0]][0]
    alice = ACCOUNTS[0][0]
    stale = index_of(other).refresh()
    targets.set_product_target(world.db, world.seller, product, Target.ENTERPRISE)
    with world.db.writing() as uow:  # as if the log had been pruned past `stale`
        uow.session.execute(delete(IndexChangeRow))
        uow.commit()
    assert decisions.check(index_of(other), alice, spec) == decisions.check_from_database(
        world.db, alice, spec
    )
    assert stale.revision == fresh_build(world.db).revision


def test_data_loaded_behind_the_use_cases_back_is_seen_after_a_rebuild_change(
    two_processes: tuple[World, Database],
) -> None:
    world, other = two_processes
    product, spec = world.products[0], world.specs[world.products[0]][0]
    alice = ACCOUNTS[0][0]
    targets.set_product_target(world.db, world.seller, product, Target.SPECIFIED)
    assert not decisions.check(index_of(other), alice, spec).allowed
    with world.db.writing() as uow:
        list_pk = uow.session.execute(
            text(
                "SELECT l.pk FROM lists l JOIN products p ON p.pk = l.product_pk"
                " WHERE p.product_id = :id"
            ),
            {"id": product},
        ).scalar_one()
        uow.session.execute(
            insert(ListEntryRow),
            [
                {
                    "list_pk": list_pk,
                    "account_pk": 1,
                    "entered_name": ACCOUNTS[0][1],
                    "added_at": datetime.now(UTC),
                }
            ],
        )
        uow.record_change(changes.Rebuild())
        uow.commit()
    assert decisions.check(index_of(other), alice, spec).allowed


def test_the_first_decision_builds_the_index_and_sees_earlier_writes(db: Database) -> None:
    world = make_world(db)
    spec = world.all_specs[0]
    targets.set_product_target(db, world.seller, world.products[0], Target.ENTERPRISE)
    assert decisions.check(index_of(db), ACCOUNTS[1][0], spec).reason.value == "not_enterprise_user"
    assert decisions.check(index_of(db), UNKNOWN_ACCOUNT, spec).reason.value == "account_not_found"
    assert (
        decisions.check(index_of(db), ACCOUNTS[1][0], "spc_x").reason.value
        == "specification_not_found"
    )
    stats = index_of(db).stats()
    assert (stats.accounts, stats.products, stats.specifications) == (4, 3, 6)


def test_writes_beside_decisions_never_make_the_index_start_over(db: Database) -> None:
    """A decision that read the revision just before this process applied its own write must
    not take the index's newer state for a database reset: no rebuild while both run."""
    world = make_world(db, associated=True)
    index = index_of(db)
    index.refresh()
    built = index.builds
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            decisions.check(index, ACCOUNTS[0][0], world.all_specs[0])

    deciders = [threading.Thread(target=decide) for _ in range(2)]
    for thread in deciders:
        thread.start()
    try:
        product = world.products[1]
        for n in range(150):
            target = Target.ENTERPRISE if n % 2 else Target.ALL
            targets.set_product_target(db, world.seller, product, target, reset_conflicting=True)
    finally:
        stop.set()
        for thread in deciders:
            thread.join()
    assert index.builds == built


def _same_table(a: Sequence[object], b: Sequence[object]) -> bool:
    """Equal where both are allocated, and empty (0, None) beyond: tables grow differently."""
    n = min(len(a), len(b))
    return list(a[:n]) == list(b[:n]) and not any(a[n:]) and not any(b[n:])


def _same_accounts(bulk: IndexState, single: IndexState) -> None:
    assert bulk.accounts == single.accounts
    assert _same_table(bulk.account_ids, single.account_ids)
    assert bulk.everyone == single.everyone
    assert bulk.of_type == single.of_type


@given(
    st.lists(
        st.tuples(st.integers(1, 300), st.sampled_from(list(AccountType))),
        max_size=60,
        unique_by=lambda row: row[0],
    ),
    st.lists(st.tuples(st.integers(1, 300), st.sampled_from(list(AccountType))), max_size=20),
)
def test_accounts_set_in_bulk_as_one_by_one(
    first: list[tuple[int, AccountType]], then: list[tuple[int, AccountType]]
) -> None:
    """An accounts import's bulk update leaves the index exactly as setting each account
    would: new accounts, accounts whose type changed, consecutive keys or not."""
    bulk, single = IndexState(), IndexState()
    for rows in (sorted(first), sorted(dict(then).items())):
        values = [(pk, f"{pk:032x}", kind.value) for pk, kind in rows]
        bulk.set_accounts(values)
        for value in values:
            single.set_account(*value)
        _same_accounts(bulk, single)


def test_consecutive_accounts_set_in_bulk() -> None:
    bulk, single = IndexState(), IndexState()
    rows = [(pk, f"{pk:032x}", "enterprise" if pk % 3 else "individual") for pk in range(5, 905)]
    bulk.set_accounts(rows)
    for row in rows:
        single.set_account(*row)
    _same_accounts(bulk, single)
