"""R11: orders racing the changes that shut their buyer out, on PostgreSQL, through two processes.

Each round lets the buyer in through process A, then sends at the same instant orders through
process B (`AT_ONCE` of them, which B may place together) and the shutting change through
process A. Either may win; what must never happen is an order that commits after the change
committed, admitted by a state that no longer existed when it committed.

The oracle, and why it is sound
-------------------------------
Commit order is not visible over HTTP, and neither row keys nor timestamps give it: both are
taken mid-transaction. PostgreSQL's snapshots do. For the length of the race the test adds
two witnesses to its own database (removed afterwards):

* a trigger on each shutting change (the history row it writes, the order it refunds, the
  account it retypes) records the change's transaction ID, `pg_current_xact_id()`;
* a *deferred* constraint trigger on `orders` fires at COMMIT, as the order transaction's very
  last statement, and records `pg_current_snapshot()`: the set of transactions that had
  committed by then (writers run at READ COMMITTED, so the snapshot is taken at that statement).

An order of round k is a violation exactly when round k's change is visible in the order's
commit-time snapshot: the change had committed before the order did, so the state that
admitted the order had already gone while the order was still open. With the R11 locks the
change cannot commit before the order releases them at its commit, so it is never visible;
without them the change commits while the order is between its decision and its commit, and
the witness sees it. (The witness cannot see a change that commits in the instant between
its own statement and the order's commit record; the unlocked window it does cover, from the
order's decision to its commit, is the one a missing lock opens.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection, create_engine, text

from tests.concurrency import scenarios
from tests.concurrency.client import Response
from tests.concurrency.conftest import Cluster, record_figures
from tests.concurrency.pairs import pair
from tests.concurrency.scenarios import Scenario

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WITNESS_INSTALL = """
CREATE TABLE race_change (seq bigserial PRIMARY KEY, kind text, ref bigint, xid xid8);
CREATE TABLE race_order_commit (order_pk bigint PRIMARY KEY, snapshot pg_snapshot);

CREATE FUNCTION race_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO race_change (kind, ref, xid)
    VALUES (NEW.action || COALESCE(':' || NEW."after", ''), NEW.product_pk, pg_current_xact_id());
  RETURN NULL;
END $$;
CREATE TRIGGER race_history_change AFTER INSERT ON history
  FOR EACH ROW EXECUTE FUNCTION race_history_change();

CREATE FUNCTION race_refund_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO race_change (kind, ref, xid) VALUES ('refund', NEW.pk, pg_current_xact_id());
  RETURN NULL;
END $$;
CREATE TRIGGER race_refund_change AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (NEW.status = 'refunded') EXECUTE FUNCTION race_refund_change();

CREATE FUNCTION race_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO race_change (kind, ref, xid)
    VALUES ('account_type:' || NEW.account_type, NEW.pk, pg_current_xact_id());
  RETURN NULL;
END $$;
CREATE TRIGGER race_account_change AFTER UPDATE OF account_type ON accounts
  FOR EACH ROW EXECUTE FUNCTION race_account_change();

CREATE FUNCTION race_order_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO race_order_commit (order_pk, snapshot) VALUES (NEW.pk, pg_current_snapshot());
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER race_order_commit AFTER INSERT ON orders
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION race_order_commit();
"""

WITNESS_REMOVE = """
DROP TRIGGER IF EXISTS race_order_commit ON orders;
DROP TRIGGER IF EXISTS race_account_change ON accounts;
DROP TRIGGER IF EXISTS race_refund_change ON orders;
DROP TRIGGER IF EXISTS race_history_change ON history;
DROP FUNCTION IF EXISTS race_order_commit, race_account_change, race_refund_change,
  race_history_change;
DROP TABLE IF EXISTS race_order_commit, race_change;
"""


@pytest.fixture
def witness(cluster: Cluster) -> Iterator[Connection]:
    """The witness triggers on the cluster's database, and a connection to read them."""
    engine = create_engine(cluster.database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(WITNESS_REMOVE)
        connection.exec_driver_sql(WITNESS_INSTALL)
        try:
            yield connection
        finally:
            connection.exec_driver_sql(WITNESS_REMOVE)
    engine.dispose()


# Orders the buyer sends at once each round. Process B places those that reach it together
# in one transaction (group commit), so a round races the change with batches, not only with
# single orders.
AT_ONCE = 3


@dataclass
class Round:
    """One round's outcome: the orders' answers, and the change they raced (its witness key)."""

    orders: list[Response]
    change_kind: str
    change_ref: int


@dataclass
class OrderRace:
    """A scenario, and the rounds it ran."""

    scenario: Scenario
    rounds: list[Round] = field(default_factory=list)


def _run(cluster: Cluster, witness: Connection, race: OrderRace, iterations: int) -> None:
    scene = race.scenario
    order = {"specification_id": scene.specification_id}
    buyers_b = [scene.market.buyer(scene.account, cluster.b) for _ in range(AT_ONCE)]
    started = time.monotonic()
    with pair() as both, ThreadPoolExecutor(AT_ONCE) as senders:

        def orders() -> list[Response]:
            return list(senders.map(lambda buyer: buyer.post("/v1/orders", json=order), buyers_b))

        for _ in range(iterations):
            scene.let_in()
            placed, _changed = both.run(orders, scene.shut_out)
            for answer in placed:
                assert answer.status_code in (201, 403), (answer.status_code, answer.text)
            race.rounds.append(Round(placed, *scene.change_key(witness)))
    elapsed = time.monotonic() - started
    violations, witnessed = _violations(witness, race)
    won = sum(o.status_code == 201 for r in race.rounds for o in r.orders)
    record_figures(
        f"order_race_{scene.name}",
        {
            "iterations": iterations,
            "violations": len(violations),
            "orders_committed": won,
            "orders_refused": iterations * AT_ONCE - won,
            "elapsed_s": round(elapsed, 1),
        },
    )
    assert witnessed == won  # every committed order passed the witness
    assert violations == [], violations[:10]


def _violations(witness: Connection, race: OrderRace) -> tuple[list[str], int]:
    """Rounds whose committed order saw its change already committed (see module docstring)."""
    changes: dict[tuple[str, int], list[str]] = {}
    for kind, ref, xid in witness.execute(
        text("SELECT kind, ref, xid::text FROM race_change ORDER BY seq")
    ):
        changes.setdefault((kind, ref), []).append(xid)
    seen: dict[tuple[str, int], int] = {}
    pairs: list[tuple[str, str]] = []
    for round_ in race.rounds:
        key = (round_.change_kind, round_.change_ref)
        # Rounds run one after another, so the n-th change of a key is the n-th round's.
        xid = changes[key][seen.get(key, 0)]
        seen[key] = seen.get(key, 0) + 1
        pairs += [(o.json()["order_id"], xid) for o in round_.orders if o.status_code == 201]
    rows = witness.execute(
        text(
            "SELECT c.order_id, pg_visible_in_snapshot(c.xid::xid8, w.snapshot) "
            "FROM unnest(CAST(:orders AS text[]), CAST(:xids AS text[])) AS c(order_id, xid) "
            "JOIN orders o ON o.order_id = c.order_id "
            "JOIN race_order_commit w ON w.order_pk = o.pk"
        ),
        {"orders": [o for o, _ in pairs], "xids": [x for _, x in pairs]},
    ).all()
    late = [f"order {order_id} committed after its change" for order_id, visible in rows if visible]
    return late, len(rows)


RACES: dict[str, Callable[[Cluster], Scenario]] = {
    "specified_user_removed": scenarios.specified_user_removed,
    "target_changed": scenarios.target_changed,
    "order_refunded": scenarios.order_refunded,
    "account_type_changed": scenarios.account_type_changed,
}


@pytest.mark.parametrize("change", list(RACES))
def test_r11_no_order_commits_after_the_change_that_shuts_it_out(
    cluster: Cluster, witness: Connection, iterations: int, change: str
) -> None:
    _run(cluster, witness, OrderRace(RACES[change](cluster)), iterations)
