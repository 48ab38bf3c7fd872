"""No stale allow across processes (the "new enemy" problem), on PostgreSQL, over HTTP.

A change that shuts a buyer out is made through process A; as soon as A has answered 2xx, the
buyer is asked about through process B (two workers): a decision, a batch decision, the
catalog and an order. Any "allowed" (or 201) is a violation. Before each shut-out the buyer is
let in again and B is asked once, so that whatever B keeps in memory last saw "allowed".

Meanwhile a watcher thread asks process A over and over. Every answer of the watcher's whose
request was sent after a shut-out's 2xx arrived, and whose answer came back before the next
let-in was sent, must refuse too: that covers reads that land while a process refreshes.

The tests talk HTTP only, so they hold whatever the decision path is (direct reads, an
in-memory index, a cache).
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field

import pytest

from tests.concurrency import scenarios
from tests.concurrency.client import Client
from tests.concurrency.conftest import Cluster, record_figures
from tests.concurrency.market import expect
from tests.concurrency.scenarios import Scenario

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PAUSE = 0.03  # seconds between the watcher's questions


@dataclass
class Watcher:
    """Asks one process the same question in a loop, keeping when each answer was asked."""

    client: Client
    question: dict[str, str]
    answers: list[tuple[float, float, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            response = self.client.post("/v1/decisions", json=self.question)
            received = time.monotonic()
            if response.status_code != 200:
                self.errors.append(f"{response.status_code} {response.text}")
                return
            self.answers.append((sent, received, bool(response.json()["allowed"])))
            # A breath between questions leaves the two cores to the race itself.
            self._stop.wait(PAUSE)

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=60)

    def violations(self, shut_windows: list[tuple[float, float]]) -> tuple[int, int]:
        """(answers wholly inside a shut window, of which allowed)."""
        starts = [start for start, _ in shut_windows]  # in order, and the windows disjoint
        inside = allowed = 0
        for sent, received, was_allowed in self.answers:
            at = bisect.bisect_right(starts, sent) - 1
            if at >= 0 and received <= shut_windows[at][1]:
                inside += 1
                allowed += was_allowed
        return inside, allowed


def _answers_through_b(
    race: Scenario, buyer_b: Client, operator_b: Client, iteration: int
) -> list[str]:
    """Ask process B a decision, an order, and in turn a batch or the catalog; describe each
    answer that lets the buyer through."""
    question = {"account_id": race.account["account_id"], "specification_id": race.specification_id}
    stale = []
    decision = expect(operator_b.post("/v1/decisions", json=question), 200)
    if decision["allowed"] or decision["reason"] != race.expected_reason:
        stale.append(f"decision {decision}")
    order = buyer_b.post("/v1/orders", json={"specification_id": race.specification_id})
    if order.status_code != 403:
        stale.append(f"order {order.status_code} {order.text}")
    if iteration % 2 == 0:
        batch = expect(operator_b.post("/v1/decisions/batch", json={"checks": [question]}), 200)
        if batch["results"][0]["allowed"]:
            stale.append(f"batch {batch}")
        return stale
    catalog = expect(buyer_b.get("/v1/catalog", params={"limit": 1000}), 200)
    purchasable = [
        s["purchasable"]
        for p in catalog["items"]
        for s in p["specifications"]
        if s["specification_id"] == race.specification_id
    ]
    if purchasable != [False]:
        stale.append(f"catalog purchasable={purchasable}")
    return stale


def _run(cluster: Cluster, race: Scenario, iterations: int) -> None:
    market = race.market
    operator_b = market.operator(cluster.b)
    buyer_b = market.buyer(race.account, cluster.b)
    question = {"account_id": race.account["account_id"], "specification_id": race.specification_id}
    watcher = Watcher(market.operator(cluster.a), question)
    violations: list[str] = []
    stale_denials = 0
    shut_windows: list[tuple[float, float]] = []
    shut_at: float | None = None
    started = time.monotonic()
    watcher.start()
    try:
        for iteration in range(iterations):
            reopening = time.monotonic()
            if shut_at is not None:
                shut_windows.append((shut_at, reopening))
            race.let_in()
            # B is asked once while the buyer is in: a process that remembers must now
            # remember "allowed", and a fresh one must say so (a stale deny counts too).
            stale_denials += not expect(operator_b.post("/v1/decisions", json=question), 200)[
                "allowed"
            ]
            race.shut_out()
            shut_at = time.monotonic()
            for answer in _answers_through_b(race, buyer_b, operator_b, iteration):
                violations.append(f"iteration {iteration}: {answer}")
    finally:
        watcher.stop()
    if shut_at is not None:  # the last shut-out is never undone
        shut_windows.append((shut_at, time.monotonic()))
    elapsed = time.monotonic() - started
    watched, watched_allowed = watcher.violations(shut_windows)
    figures = {
        "iterations": iterations,
        "violations": len(violations),
        "stale_denials": stale_denials,
        "watcher_answers_in_shut_windows": watched,
        "watcher_violations": watched_allowed,
        "elapsed_s": round(elapsed, 1),
    }
    record_figures(f"new_enemy_{race.name}", figures)
    assert watcher.errors == []
    assert violations == [], violations[:10]
    assert watched_allowed == 0
    assert stale_denials == 0


def test_r5_removal_from_a_list_is_seen_by_every_process(cluster: Cluster, iterations: int) -> None:
    _run(cluster, scenarios.specified_user_removed(cluster), iterations)


def test_r4_target_change_is_seen_by_every_process(cluster: Cluster, iterations: int) -> None:
    _run(cluster, scenarios.target_changed(cluster), iterations)


def test_r10_refund_is_seen_by_every_process(cluster: Cluster, iterations: int) -> None:
    _run(cluster, scenarios.order_refunded(cluster), iterations)
