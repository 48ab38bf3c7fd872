"""Crash safety: kill -9 a real `offerscope serve` mid-import and mid-burst, start it again.

(a) A CSV import of OFFERSCOPE_CRASH_IMPORT_ROWS (1,000,000) specified users, killed while its
    transaction is writing: after the restart the import is wholly there or wholly absent, and
    so is its Idempotency-Key's stored answer (R15: one transaction): the same keyed request
    sent again runs the import once if it was lost, or answers what it did if it was not.
(b) Bursts of concurrent writes (users added, targets set, products created, orders placed)
    from 16 threads, killed once a few hundred were acknowledged: after each restart every
    acknowledged write is there, and nothing that was never sent.
After every kill the database passes an integrity check (SQLite `PRAGMA integrity_check`
and `foreign_key_check`; PostgreSQL amcheck over every index, and orphan queries).
On SQLite and on PostgreSQL. The figures go to test-artifacts/crash.json.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, text

from offerscope.domain.targets import Target
from offerscope.services import products, sellers, targets, tokens
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database
from tests.artifacts import record
from tests.crash import server as serve
from tests.crash.bulk_data import account_id, account_name, csv_rows, register_accounts

pytestmark = pytest.mark.slow

IMPORT_ROWS = int(os.environ.get("OFFERSCOPE_CRASH_IMPORT_ROWS", "1000000"))
BURST_ROUNDS = int(os.environ.get("OFFERSCOPE_CRASH_ROUNDS", "2"))
ACKNOWLEDGED_BEFORE_KILL = 300
BURST_ACCOUNTS = 6_000
# The import's rows take about 90 bytes each on disk; kill once a sixth of them are written
# (well inside its one transaction, which commits only after the last row).
KILL_AT_BYTES = IMPORT_ROWS * 15


def _store(db: Database) -> str:
    return "postgres" if db.dialect == "postgresql" else "sqlite"


def _wait_for(condition: Callable[[], bool], what: str, within: float = 300) -> None:
    """Poll until `condition` holds (a liveness wait, never a timing assertion)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


# --- integrity -----------------------------------------------------------------------------

ORPHANS = [
    "SELECT count(*) FROM specifications s LEFT JOIN products p ON p.pk = s.product_pk"
    " WHERE p.pk IS NULL",
    "SELECT count(*) FROM list_entries e LEFT JOIN accounts a"
    " ON a.pk = e.account_pk WHERE a.pk IS NULL",
    "SELECT count(*) FROM list_entries e LEFT JOIN lists l ON l.pk = e.list_pk WHERE l.pk IS NULL",
    "SELECT count(*) FROM orders o LEFT JOIN specifications s ON s.pk = o.specification_pk"
    " WHERE s.pk IS NULL OR s.product_pk <> o.product_pk",
    "SELECT count(*) FROM history h LEFT JOIN products p ON p.pk = h.product_pk WHERE p.pk IS NULL",
]


def check_integrity(db: Database) -> None:
    """The database is sound: the store's own check, and no row points at nothing."""
    with db.engine.connect() as connection:
        if _store(db) == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        else:
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = connection.exec_driver_sql(
                "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam"
                " WHERE n.nspname = 'public' AND a.amname = 'btree'"
            ).scalars()
            for oid in list(indexes):
                connection.execute(text("SELECT bt_index_check(:oid, true)"), {"oid": oid})
            connection.commit()
        for query in ORPHANS:
            assert connection.exec_driver_sql(query).scalar() == 0, query


def _settle(db: Database) -> None:
    """SQLite: fold the set-up's WAL into the file, so that WAL growth means new writes."""
    if _store(db) == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _bytes_written(db: Database, url: str) -> int:
    """How much the running import has written so far, committed or not."""
    if _store(db) == "sqlite":
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.stat().st_size if wal.exists() else 0
    with db.engine.connect() as connection:
        size = connection.exec_driver_sql("SELECT pg_relation_size('list_entries')").scalar()
        return int(size or 0)


# --- (a) a killed import is all or nothing --------------------------------------------------


def _list_size(db: Database, product_id: str) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM list_entries e JOIN lists l ON l.pk = e.list_pk"
                    " JOIN products p ON p.pk = l.product_pk WHERE p.product_id = :p"
                ),
                {"p": product_id},
            ).scalar()
            or 0
        )


def test_a_killed_import_is_wholly_there_or_wholly_absent(
    database_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    db = Database.connect(database_url, pool_size=2)
    register_accounts(db, IMPORT_ROWS)
    print(f"\n{IMPORT_ROWS} accounts registered after {time.monotonic() - started:.0f} s")
    seller_id = sellers.create_seller(db, "Importer").seller_id
    actor = sellers.seller_actor(db, seller_id)
    product = products.create_product(db, actor, "Imported", ["Only"])
    targets.set_product_target(db, actor, product.product_id, Target.SPECIFIED)
    token = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
    _settle(db)
    url = f"/v1/products/{product.product_id}/specified-users/import"
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "text/csv",
        "Idempotency-Key": "the-big-import",
    }
    # A short lease: the retry below may take over the key of the killed request at once.
    lease = {"OFFERSCOPE_IDEMPOTENCY_LEASE_SECONDS": "1"}

    server = serve.start(database_url, tmp_path / "server.log", env=lease)
    outcome: dict[str, Any] = {}

    def upload() -> None:
        try:
            response = httpx.post(
                server.base_url + url, content=csv_rows(IMPORT_ROWS), headers=headers, timeout=900
            )
            outcome["status"] = response.status_code
        except httpx.TransportError as error:
            outcome["error"] = repr(error)

    uploader = threading.Thread(target=upload)
    uploader.start()
    _wait_for(lambda: _bytes_written(db, database_url) > KILL_AT_BYTES, "the import to write")
    serve.kill(server)
    print(f"killed mid-import after {time.monotonic() - started:.0f} s")
    uploader.join(timeout=60)
    assert "status" not in outcome, f"the import finished before the kill: {outcome}"

    server = serve.start(database_url, tmp_path / "server.log", env=lease)
    try:
        check_integrity(db)
        print(f"restarted and checked after {time.monotonic() - started:.0f} s")
        after_kill = _list_size(db, product.product_id)
        assert after_kill in (0, IMPORT_ROWS), f"{after_kill} of {IMPORT_ROWS} rows survived"
        # The same keyed request again: it runs if the kill lost it, else its answer is replayed.
        again = httpx.post(
            server.base_url + url, content=csv_rows(IMPORT_ROWS), headers=headers, timeout=900
        )
        assert again.status_code == 200, again.text
        replayed = again.headers.get("idempotent-replayed") == "true"
        assert replayed is (after_kill == IMPORT_ROWS)
        assert again.json()["imported"] == IMPORT_ROWS
        assert _list_size(db, product.product_id) == IMPORT_ROWS
        once_more = httpx.post(
            server.base_url + url, content=csv_rows(IMPORT_ROWS), headers=headers, timeout=900
        )
        assert once_more.headers.get("idempotent-replayed") == "true"
        assert once_more.json() == again.json()
        check_integrity(db)
    finally:
        serve.stop(server)
        db.dispose()
    record(
        "crash",
        f"import-{_store(db)}",
        {"rows": IMPORT_ROWS, "kills": 1, "rows_after_kill": after_kill},
    )


# --- (b) every acknowledged write survives --------------------------------------------------


@dataclass
class Ledger:
    """What the clients sent and what the server acknowledged, across kills."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: int = 0
    server_errors: list[str] = field(default_factory=list)
    users_acked: set[str] = field(default_factory=set)
    users_sent: set[str] = field(default_factory=set)
    targets: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # acked, in flight
    products_acked: set[str] = field(default_factory=set)
    orders_acked: set[str] = field(default_factory=set)

    def ack(self) -> None:
        with self.lock:
            self.acknowledged += 1


@dataclass
class Burst:
    """The fixed cast of a burst: a product whose list grows, products whose target turns."""

    base_url: str
    seller: str
    buyer: str
    listed_product: str
    turning: list[str]
    buyable_spec: str
    ledger: Ledger
    stop: threading.Event = field(default_factory=threading.Event)


def _send(burst: Burst, method: str, path: str, token: str, body: Any) -> httpx.Response | None:
    """One request; None when the server is gone (killed)."""
    try:
        with httpx.Client(base_url=burst.base_url, timeout=60) as client:
            response = client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.TransportError:
        burst.stop.set()
        return None
    if response.status_code >= 500:
        burst.ledger.server_errors.append(f"{method} {path}: {response.status_code}")
    return response


def _adder(burst: Burst, accounts: Iterator[int]) -> None:
    ledger = burst.ledger
    for n in accounts:
        if burst.stop.is_set():
            return
        with ledger.lock:
            ledger.users_sent.add(account_id(n))
        response = _send(
            burst,
            "POST",
            f"/v1/products/{burst.listed_product}/specified-users",
            burst.seller,
            {"account_id": account_id(n), "account_name": account_name(n)},
        )
        if response is not None and response.status_code in (200, 201):
            with ledger.lock:
                ledger.users_acked.add(account_id(n))
            ledger.ack()


def _turner(burst: Burst, product_id: str) -> None:
    ledger = burst.ledger
    cycle = ["enterprise", "individual", "specified", "associated", "all"]
    step = 0
    while not burst.stop.is_set():
        target = cycle[step % len(cycle)]
        step += 1
        acked, _ = ledger.targets[product_id]
        ledger.targets[product_id] = (acked, target)
        response = _send(
            burst,
            "PUT",
            f"/v1/products/{product_id}/target-customers",
            burst.seller,
            {"target": target, "reset_conflicting_specifications": True},
        )
        if response is None:
            return
        ledger.targets[product_id] = (
            (target, None) if response.status_code == 200 else (acked, None)
        )
        if response.status_code == 200:
            ledger.ack()


def _creator(burst: Burst) -> None:
    while not burst.stop.is_set():
        response = _send(burst, "POST", "/v1/products", burst.seller, {"name": "Burst product"})
        if response is not None and response.status_code == 201:
            with burst.ledger.lock:
                burst.ledger.products_acked.add(response.json()["product_id"])
            burst.ledger.ack()


def _orderer(burst: Burst) -> None:
    while not burst.stop.is_set():
        body = {"specification_id": burst.buyable_spec}
        response = _send(burst, "POST", "/v1/orders", burst.buyer, body)
        if response is not None and response.status_code == 201:
            with burst.ledger.lock:
                burst.ledger.orders_acked.add(response.json()["order_id"])
            burst.ledger.ack()


def _run_burst(burst: Burst, round_number: int, server: serve.ServerProcess) -> None:
    """16 writers until ACKNOWLEDGED_BEFORE_KILL more acknowledgements, then kill -9."""
    first = 1 + round_number * (BURST_ACCOUNTS // BURST_ROUNDS)
    share = BURST_ACCOUNTS // BURST_ROUNDS // 8
    threads = [
        threading.Thread(
            target=_adder, args=(burst, iter(range(first + i * share, first + (i + 1) * share)))
        )
        for i in range(8)
    ]
    threads += [threading.Thread(target=_turner, args=(burst, p)) for p in burst.turning]
    threads += [threading.Thread(target=_creator, args=(burst,)) for _ in range(2)]
    threads += [threading.Thread(target=_orderer, args=(burst,)) for _ in range(2)]
    goal = burst.ledger.acknowledged + ACKNOWLEDGED_BEFORE_KILL
    for thread in threads:
        thread.start()
    _wait_for(lambda: burst.ledger.acknowledged >= goal, "acknowledged writes")
    serve.kill(server)
    for thread in threads:
        thread.join(timeout=120)
    burst.stop.clear()


def _verify_burst(burst: Burst, db: Database) -> None:
    """Every acknowledged write is there; nothing is there that was never sent."""
    ledger = burst.ledger
    with db.engine.connect() as connection:
        listed = set(
            connection.execute(
                text(
                    "SELECT a.account_id FROM list_entries e"
                    " JOIN accounts a ON a.pk = e.account_pk JOIN lists l ON l.pk = e.list_pk"
                    " JOIN products p ON p.pk = l.product_pk WHERE p.product_id = :p"
                ),
                {"p": burst.listed_product},
            ).scalars()
        )
        turned: dict[str, str] = dict(
            connection.execute(
                text("SELECT product_id, target FROM products WHERE product_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": burst.turning},
            ).all()
        )
        products_there = set(
            connection.exec_driver_sql("SELECT product_id FROM products").scalars()
        )
        orders_there = set(connection.exec_driver_sql("SELECT order_id FROM orders").scalars())
    assert ledger.users_acked <= listed, f"lost users: {sorted(ledger.users_acked - listed)[:5]}"
    assert listed <= ledger.users_sent, "users on the list that were never sent"
    for product_id, (acked, in_flight) in ledger.targets.items():
        assert turned[product_id] in {acked, in_flight}, (product_id, turned[product_id], acked)
    assert ledger.products_acked <= products_there, "lost products"
    assert ledger.orders_acked <= orders_there, "lost orders"
    assert ledger.server_errors == []


@pytest.fixture
def burst_setup(database_url: str) -> Iterator[tuple[Database, dict[str, Any]]]:
    db = Database.connect(database_url, pool_size=2)
    register_accounts(db, BURST_ACCOUNTS)
    seller_id = sellers.create_seller(db, "Burster").seller_id
    actor = sellers.seller_actor(db, seller_id)
    listed = products.create_product(db, actor, "Listed", ["L"])
    targets.set_product_target(db, actor, listed.product_id, Target.SPECIFIED)
    turning = [
        products.create_product(db, actor, f"Turning {i}", ["T"]).product_id for i in range(4)
    ]
    shop = products.create_product(db, actor, "Shop", ["Buyable"])
    cast = {
        "seller": tokens.create_token(db, Role.SELLER, seller_id=seller_id),
        "buyer": tokens.create_token(db, Role.BUYER, account_id=account_id(1)),
        "listed": listed.product_id,
        "turning": turning,
        "buyable": shop.specifications[0].specification_id,
    }
    _settle(db)
    yield db, cast
    db.dispose()


def test_every_acknowledged_write_survives_kill_9(
    database_url: str, burst_setup: tuple[Database, dict[str, Any]], tmp_path: Path
) -> None:
    db, cast = burst_setup
    ledger = Ledger()
    ledger.targets = {p: ("all", None) for p in cast["turning"]}
    kills = 0
    for round_number in range(BURST_ROUNDS):
        server = serve.start(database_url, tmp_path / "server.log")
        burst = Burst(
            server.base_url,
            cast["seller"],
            cast["buyer"],
            cast["listed"],
            cast["turning"],
            cast["buyable"],
            ledger,
        )
        _run_burst(burst, round_number, server)
        kills += 1
        server = serve.start(database_url, tmp_path / "server.log")
        try:
            check_integrity(db)
            _verify_burst(burst, db)
            # Served again, and the survivors read back over HTTP as well.
            some_user = next(iter(ledger.users_acked))
            response = httpx.post(
                f"{server.base_url}/v1/products/{cast['listed']}/specified-users",
                json={"account_id": some_user, "account_name": account_name(int(some_user, 16))},
                headers={"Authorization": f"Bearer {cast['seller']}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text  # already there (R5)
        finally:
            serve.stop(server)
    record(
        "crash",
        f"burst-{_store(db)}",
        {
            "kills": kills,
            "acknowledged_writes": ledger.acknowledged,
            "users_acknowledged": len(ledger.users_acked),
            "products_acknowledged": len(ledger.products_acked),
            "orders_acknowledged": len(ledger.orders_acked),
        },
    )
