"""Alembic migrations on both stores: from empty, down and up again, and over old data.

"Old data" is written with plain SQL against the first revision's schema ("0001", the first
release), exactly as that release stored it, then the database is upgraded to head and read and
changed through the use cases. Whatever later revisions add (columns, tables, a change log),
a database from the first release must come through them with its data intact and its
decisions unchanged.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, DateTime, bindparam, create_engine, inspect, text
from sqlalchemy.exc import SAWarning

from offerscope.domain.decision import Reason
from offerscope.domain.targets import AccountType, Target
from offerscope.services import (
    accounts,
    associations,
    decisions,
    history,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Actor, Role
from offerscope.storage.database import alembic_config, migrate, normalize_url
from offerscope.storage.tables import Base
from offerscope.storage.unit_of_work import Database
from tests.support import index_of

FIRST_RELEASE = "0001"


def _script(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def _current_revision(url: str) -> str | None:
    engine = create_engine(normalize_url(url))
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def _differences(url: str) -> list[Any]:
    """What autogenerate would write to bring the database to the models: nothing, we hope."""
    engine = create_engine(normalize_url(url))
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection cannot read expression indexes (the list search's), and
        # PostgreSQL's reads them back in its own words: they are checked by name in
        # `_missing_expression_indexes` instead.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        warnings.filterwarnings(
            "ignore", "autogenerate skipping metadata-specified expression-based", UserWarning
        )
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": _not_an_expression_index,
            },
        )
        differences: list[Any] = compare_metadata(context, Base.metadata)
    engine.dispose()
    return differences


EXPRESSION_INDEXES = {"ix_accounts_lower_account_name", "ix_list_entries_list_pk_name_key"}


def _not_an_expression_index(
    item: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    return not (kind == "index" and name in EXPRESSION_INDEXES)


def _missing_expression_indexes(url: str) -> set[str]:
    """The indexes on expressions that the models declare and the database lacks."""
    declared = {
        str(index.name)
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.name and any(not isinstance(e, Column) for e in index.expressions)
    }
    engine = create_engine(normalize_url(url))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        present = {row[0] for row in connection.execute(text(query))}
    engine.dispose()
    assert declared == EXPRESSION_INDEXES
    return declared - present


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_there_is_one_head() -> None:
    # Two heads would mean two unmerged migration branches: `upgrade head` would refuse.
    assert len(_script("sqlite://").get_heads()) == 1


def test_upgrade_from_empty_reaches_head(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    migrate(empty_database_url)
    assert _current_revision(empty_database_url) == _script(empty_database_url).get_current_head()
    assert _tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_head_matches_the_models(empty_database_url: str) -> None:
    # A model change without its migration (or the reverse) shows up here on either store.
    migrate(empty_database_url)
    assert _differences(empty_database_url) == []
    assert _missing_expression_indexes(empty_database_url) == set()


def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    # Every `offerscope serve` migrates at start: a second run over head must change nothing.
    migrate(empty_database_url)
    migrate(empty_database_url)
    assert _differences(empty_database_url) == []


# Each process imports everything, says it is ready, then migrates as soon as told to go.
PROCESSES = 6
MIGRATE_ON_GO = """
import sys, time
from pathlib import Path
from offerscope.storage.database import migrate
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.001)
migrate(url)
"""


@pytest.mark.slow
def test_processes_migrating_a_new_database_at_once_take_turns(
    empty_database_url: str, tmp_path: Path
) -> None:
    # Every `offerscope` command migrates first: servers and commands started together on a
    # new database must not trip over each other (PostgreSQL: an advisory lock; SQLite: the
    # file's write lock taken at BEGIN).
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_ON_GO, empty_database_url, str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [p.communicate(timeout=120)[0].decode(errors="replace") for p in processes]
    assert [p.returncode for p in processes] == [0] * PROCESSES, outputs
    assert _differences(empty_database_url) == []


def test_every_revision_downgrades_then_upgrades_again(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    migrate(url)
    # walk_revisions goes from head down to the first revision.
    for script in _script(url).walk_revisions():
        below = script.down_revision or "base"
        assert isinstance(below, str)  # no merge revisions: one line of history
        command.downgrade(config, below)
        assert _current_revision(url) == script.down_revision
    assert _tables(url) == {"alembic_version"}
    migrate(url)
    assert _differences(url) == []
    db = Database.connect(url, pool_size=1)
    try:
        seller = sellers.create_seller(db, "After the round trip")
        actor = sellers.seller_actor(db, seller.seller_id)
        product = products.create_product(db, actor, "Still works", ["Basic"])
        assert targets.get_target_customers(db, actor, product.product_id).target is Target.ALL
    finally:
        db.dispose()


# --- a database written by the first release ------------------------------------------------

AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
TIMESTAMP_COLUMNS = {"created_at", "added_at", "at"}
OPERATOR_TOKEN = "osk_first-release-operator-token-0000000000000000000000"
SELLER_TOKEN = "osk_first-release-seller-token-00000000000000000000000000"
ALICE_TOKEN = "osk_first-release-alice-token-000000000000000000000000000"
ALICE, BOB, ACME = "a" * 32, "b" * 32, "c" * 32


def _insert(connection: Connection, table: str, *, returning: bool = True, **values: Any) -> int:
    """One row by plain SQL, its key assigned by the database as the first release's was."""
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (test constants)
    statement = text(sql + (" RETURNING pk" if returning else "")).bindparams(
        *[bindparam(c, type_=DateTime(timezone=True)) for c in values if c in TIMESTAMP_COLUMNS]
    )
    result = connection.execute(statement, values)
    return int(result.scalar_one()) if returning else 0


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_first_release_data(connection: Connection) -> dict[str, str]:
    """A small marketplace covering every table and target type, as release 0001 stored it."""
    account = {}
    for account_id, name, kind in [
        (ALICE, "alice_wang", "individual"),
        (BOB, "bob_li", "individual"),
        (ACME, "acme_corp", "enterprise"),
    ]:
        account[account_id] = _insert(
            connection,
            "accounts",
            account_id=account_id,
            account_name=name,
            account_type=kind,
            created_at=AT,
        )
    seller = _insert(connection, "sellers", seller_id="slr_old", name="Old Seller", created_at=AT)

    def product(product_id: str, target: str, version: int) -> int:
        return _insert(
            connection,
            "products",
            product_id=product_id,
            seller_pk=seller,
            name=product_id,
            target=target,
            version=version,
            created_at=AT,
        )

    def spec(specification_id: str, product_pk: int, setting: str) -> int:
        return _insert(
            connection,
            "specifications",
            specification_id=specification_id,
            product_pk=product_pk,
            name=specification_id,
            setting=setting,
            created_at=AT,
        )

    # prd_db: specified users (alice, entered under a name she no longer has).
    db_pk = product("prd_db", "specified", 3)
    db_basic = spec("spc_db_basic", db_pk, "same_as_product")
    # prd_backup: sold to buyers of prd_db (R3 associated).
    backup_pk = product("prd_backup", "associated", 2)
    spec("spc_backup_daily", backup_pk, "same_as_product")
    # prd_gold: enterprise, one specification narrowed to its own specified users (acme).
    gold_pk = product("prd_gold", "enterprise", 2)
    gold_vip = spec("spc_gold_vip", gold_pk, "specified")
    spec("spc_gold_std", gold_pk, "same_as_product")
    # prd_kit: all, its "addon" sold to buyers of its "base" (R8).
    kit_pk = product("prd_kit", "all", 2)
    kit_base = spec("spc_kit_base", kit_pk, "same_as_product")
    kit_addon = spec("spc_kit_addon", kit_pk, "associated")

    _insert(
        connection,
        "product_specified_users",
        returning=False,
        product_pk=db_pk,
        account_pk=account[ALICE],
        entered_name="alice_old",
        added_at=AT,
    )
    _insert(
        connection,
        "specification_specified_users",
        returning=False,
        specification_pk=gold_vip,
        account_pk=account[ACME],
        entered_name="acme_corp",
        added_at=AT,
    )
    _insert(
        connection,
        "product_associations",
        returning=False,
        product_pk=backup_pk,
        associated_product_pk=db_pk,
        added_at=AT,
    )
    _insert(
        connection,
        "specification_associations",
        returning=False,
        specification_pk=kit_addon,
        associated_specification_pk=kit_base,
        added_at=AT,
    )
    for order_id, buyer, spec_pk, product_pk, status in [
        ("ord_alice_db", ALICE, db_basic, db_pk, "paid"),
        ("ord_bob_db", BOB, db_basic, db_pk, "refunded"),
        ("ord_acme_kit", ACME, kit_base, kit_pk, "paid"),
    ]:
        _insert(
            connection,
            "orders",
            order_id=order_id,
            account_pk=account[buyer],
            specification_pk=spec_pk,
            product_pk=product_pk,
            status=status,
            created_at=AT,
        )
    for token, role, seller_pk, account_pk in [
        (OPERATOR_TOKEN, "operator", None, None),
        (SELLER_TOKEN, "seller", seller, None),
        (ALICE_TOKEN, "buyer", None, account[ALICE]),
    ]:
        _insert(
            connection,
            "tokens",
            token_hash=_sha256(token),
            role=role,
            seller_pk=seller_pk,
            account_pk=account_pk,
            created_at=AT,
        )
    for product_pk, action, subject, before, after in [
        (db_pk, "product_created", None, None, "all"),
        (db_pk, "product_target_set", None, "all", "specified"),
        (db_pk, "specified_user_added", ALICE, None, "alice_old"),
        (backup_pk, "product_target_set", None, "all", "associated"),
        (backup_pk, "association_added", "prd_db", None, None),
    ]:
        _insert(
            connection,
            "history",
            product_pk=product_pk,
            specification_id=None,
            actor="seller:slr_old",
            action=action,
            subject=subject,
            before=before,
            after=after,
            at=AT,
        )
    return {"seller_id": "slr_old"}


def _reason(db: Database, account_id: str, specification_id: str) -> Reason:
    return decisions.check(index_of(db), account_id, specification_id).reason


def _assert_first_release_data_reads_back(db: Database) -> Actor:
    operator = tokens.authenticate(db, OPERATOR_TOKEN)
    seller = tokens.authenticate(db, SELLER_TOKEN)
    alice = tokens.authenticate(db, ALICE_TOKEN)
    assert operator is not None and operator.role is Role.OPERATOR
    assert seller is not None and seller.seller_id == "slr_old"
    assert alice is not None and alice.account_id == ALICE

    assert accounts.get_account(db, ACME).account_type is AccountType.ENTERPRISE
    view = targets.get_target_customers(db, seller, "prd_db")
    assert (view.target, view.version) == (Target.SPECIFIED, 3)
    users = specified_users.list_specified_users(db, seller, "prd_db")
    assert [(u.account_id, u.account_name, u.current_account_name) for u in users.page.items] == [
        (ALICE, "alice_old", "alice_wang")
    ]
    associated = associations.list_associations(db, seller, "prd_backup")
    assert [a.id for a in associated.items] == ["prd_db"]
    entries = history.product_history(db, seller, "prd_db").items
    assert [h.action for h in entries] == [
        "specified_user_added",
        "product_target_set",
        "product_created",
    ]
    assert [o.order_id for o in orders.list_orders(db, alice).items] == ["ord_alice_db"]

    # R3, R10, R12 over the old rows: every target type decides as it did before the upgrade.
    assert _reason(db, ALICE, "spc_db_basic") is Reason.ALLOWED
    assert _reason(db, BOB, "spc_db_basic") is Reason.NOT_SPECIFIED_USER
    assert _reason(db, ALICE, "spc_backup_daily") is Reason.ALLOWED
    assert _reason(db, BOB, "spc_backup_daily") is Reason.NO_ASSOCIATED_PURCHASE  # refunded
    assert _reason(db, ACME, "spc_gold_vip") is Reason.ALLOWED
    assert _reason(db, ALICE, "spc_gold_std") is Reason.NOT_ENTERPRISE_USER
    assert _reason(db, ACME, "spc_kit_addon") is Reason.ALLOWED
    assert _reason(db, ALICE, "spc_kit_addon") is Reason.NO_ASSOCIATED_PURCHASE
    return seller


def _assert_old_data_accepts_changes(db: Database, seller: Actor) -> None:
    """New rows after old ones: keys continue past the old ones (PostgreSQL sequences)."""
    specified_users.remove_specified_user(db, seller, "prd_db", None, ALICE)
    assert _reason(db, ALICE, "spc_db_basic") is Reason.NOT_SPECIFIED_USER
    assert _reason(db, ALICE, "spc_backup_daily") is Reason.ALLOWED  # her purchase still counts
    refunded = orders.refund_order(db, "ord_alice_db")
    assert refunded.status == "refunded"
    assert _reason(db, ALICE, "spc_backup_daily") is Reason.NO_ASSOCIATED_PURCHASE
    bob = tokens.authenticate(db, tokens.create_token(db, Role.BUYER, account_id=BOB))
    assert bob is not None
    order = orders.place_order(db, bob, "spc_kit_base")
    assert _reason(db, BOB, "spc_kit_addon") is Reason.ALLOWED
    assert order.order_id not in {"ord_alice_db", "ord_bob_db", "ord_acme_kit"}
    new = products.create_product(db, seller, "Made after the upgrade", ["One"])
    targets.set_product_target(db, seller, new.product_id, Target.ENTERPRISE, if_match=1)
    assert _reason(db, BOB, new.specifications[0].specification_id) is (Reason.NOT_ENTERPRISE_USER)
    assert history.product_history(db, seller, "prd_db").items[0].action == (
        "specified_user_removed"
    )


def test_upgrade_keeps_first_release_data(empty_database_url: str) -> None:
    url = empty_database_url
    command.upgrade(alembic_config(url), FIRST_RELEASE)
    engine = create_engine(normalize_url(url))
    with engine.begin() as connection:
        _write_first_release_data(connection)
    engine.dispose()

    migrate(url)

    assert _current_revision(url) == _script(url).get_current_head()
    db = Database.connect(url, pool_size=2)
    try:
        seller = _assert_first_release_data_reads_back(db)
        _assert_old_data_accepts_changes(db, seller)
    finally:
        db.dispose()
