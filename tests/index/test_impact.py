"""R14: a dry run predicts exactly what the write then does, and changes nothing.

Random marketplaces get random writes through the ordinary use cases. Each write is first run
as a dry run: the database must be exactly as it was (every row of every table), the dry run
must refuse exactly when the write refuses, and its impact must equal what R12's decisions
are after the write compared with before, over every account and specification, read from the
tables (not from the index that computed the impact): gains, losses and customers losing, their
counts and samples, and the per-specification figures.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from offerscope.domain.errors import OfferscopeError
from offerscope.domain.impact import SAMPLE, Figure, Impact, SpecificationImpact
from offerscope.services import decisions
from offerscope.storage.tables import Base
from offerscope.storage.unit_of_work import Database, dry_running
from tests.index.test_index import ACCOUNTS, KINDS, World, apply, make_world, ops
from tests.support import backend_of

Pairs = dict[tuple[str, str], bool]
# Creating a specification gives it a new random ID: a dry run cannot predict the ID itself.
DRY_KINDS = [kind for kind in KINDS if kind != "new_spec"]
dry_ops = ops.filter(lambda op: op[0] in DRY_KINDS)


def _decisions(world: World) -> Pairs:
    """R12 for every account and specification, read straight from the tables."""
    return {
        (account_id, spec_id): decisions.check_from_database(world.db, account_id, spec_id).allowed
        for account_id, _ in ACCOUNTS
        for spec_id in world.all_specs
    }


def _bought(world: World) -> set[tuple[str, str]]:
    """(account ID, specification ID) where the account has a counted purchase of the
    specification's product (R10)."""
    with world.db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.account_id, s.specification_id FROM orders o"
                " JOIN accounts a ON a.pk = o.account_pk"
                " JOIN specifications s ON s.product_pk = o.product_pk"
                " WHERE o.status = 'paid'"
            )
        )
        return {(account_id, spec_id) for account_id, spec_id in rows}


def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a fixed order."""
    dumped = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(table.select()).all()
            dumped[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return dumped


def _expected(world: World, before: Pairs, after: Pairs, bought: set[tuple[str, str]]) -> Impact:
    """R14's impact, from the definitions, over the decisions before and after."""
    gains: set[str] = set()
    losses: set[str] = set()
    losing: set[str] = set()
    per_spec = []
    for spec_id in world.all_specs:
        g = {a for a, _ in ACCOUNTS if not before[(a, spec_id)] and after[(a, spec_id)]}
        lo = {a for a, _ in ACCOUNTS if before[(a, spec_id)] and not after[(a, spec_id)]}
        c = {a for a in lo if (a, spec_id) in bought}
        if g or lo or c:
            per_spec.append(SpecificationImpact(spec_id, len(g), len(lo), len(c)))
        gains |= g
        losses |= lo
        losing |= c

    def figure(ids: set[str]) -> Figure:
        return Figure(len(ids), tuple(sorted(ids)[:SAMPLE]))

    return Impact(figure(gains), figure(losses), figure(losing), tuple(per_spec))


def _refusal(world: World, op: tuple[str, int, int, int, int]) -> str | None:
    """Run a write; the code it was refused with, or None."""
    try:
        apply(world, op, refusals=True)
    except OfferscopeError as error:
        return error.code
    return None


def check_dry_runs(world: World, writes: list[tuple[str, int, int, int, int]]) -> None:
    index = backend_of(world.db).index  # the impact's estimator, as in a server
    index.refresh()
    for op in writes:
        before, bought, rows = _decisions(world), _bought(world), _dump(world.db)
        orders = list(world.orders)
        with dry_running() as dry:
            refused_dry = _refusal(world, op)
        world.orders[:] = orders  # an order a dry run placed was never placed
        assert _dump(world.db) == rows, f"the dry run of {op} changed the database"
        refused = _refusal(world, op)
        assert refused_dry == refused, (op, refused_dry, refused)
        if refused is not None or not dry.reached_commit:
            continue
        after = _decisions(world)
        assert dry.impact is not None
        predicted = dry.impact
        expected = _expected(world, before, after, bought)
        assert predicted.counts() == expected.counts(), (op, predicted, expected)
        assert predicted.gains == expected.gains, op
        assert predicted.losses == expected.losses, op
        assert predicted.customers_losing == expected.customers_losing, op
        assert predicted.specifications == expected.specifications, op
        for spec_id in predicted.left_with_nobody:
            assert not any(after[(a, spec_id)] for a, _ in ACCOUNTS), (op, spec_id)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(dry_ops, min_size=1, max_size=10))
# Found by CI: a refund's customers losing are those who had bought before it, not after.
@example([("order", 1, 0, 0, 0), ("refund", 0, 0, 0, 0)])
@example([(kind, 0, 0, 0, 0) for kind in DRY_KINDS])
@example([(kind, 1, 1, 1, 1) for kind in reversed(DRY_KINDS)])
def test_r14_every_dry_run_predicts_its_write_and_changes_nothing(
    sqlite_template: Path, tmp_path: Path, writes: list[tuple[str, int, int, int, int]]
) -> None:
    with _world_on_copy(sqlite_template, tmp_path) as world:
        check_dry_runs(world, writes)


@pytest.mark.postgres
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(dry_ops, min_size=1, max_size=8))
def test_r14_every_dry_run_predicts_its_write_on_postgres(
    postgres_url: str, writes: list[tuple[str, int, int, int, int]]
) -> None:
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_url)
    db = Database.connect(postgres_url, pool_size=2)
    try:
        check_dry_runs(make_world(db, associated=True), writes)
    finally:
        db.dispose()


def test_r14_a_dry_run_leaves_the_sqlite_file_byte_for_byte_as_it_was(
    sqlite_template: Path, tmp_path: Path
) -> None:
    with _world_on_copy(sqlite_template, tmp_path) as world:
        path = Path(world.db.engine.url.database or "")

        def digest() -> str:
            with world.db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return hashlib.sha256(path.read_bytes()).hexdigest()

        before = digest()
        for op in [(kind, 0, 1, 2, 3) for kind in DRY_KINDS]:
            with dry_running():
                _refusal(world, op)
        assert digest() == before


@contextmanager
def _world_on_copy(template: Path, directory: Path) -> Iterator[World]:
    path = directory / "world.db"
    shutil.copy(template, path)
    db = Database.connect(f"sqlite:///{path}", pool_size=2)
    try:
        yield make_world(db, associated=True)
    finally:
        db.dispose()
        for leftover in directory.glob("world.db*"):
            leftover.unlink()
