"""Two sellers editing one product's target customers at once, through two processes (R13).

With If-Match naming the same version, exactly one PUT wins and the other answers 412: no edit
is silently overwritten. Without If-Match both land, one after the other, and history shows
both in a chain (each entry's `before` is the previous one's `after`): the last write wins, and
nothing is lost from the record.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest

from offerscope.storage.database import is_sqlite
from tests.concurrency.client import Client, Response
from tests.concurrency.conftest import Cluster, record_figures
from tests.concurrency.market import Market, expect
from tests.concurrency.pairs import pair

pytestmark = pytest.mark.slow

TARGETS = ("all", "enterprise", "individual")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_cluster(request: pytest.FixtureRequest) -> Cluster:
    """Two server processes on either store."""
    cluster: Cluster = request.getfixturevalue(
        "cluster" if request.param == "postgres" else "sqlite_cluster"
    )
    return cluster


@pytest.fixture
def rounds(any_cluster: Cluster, iterations: int) -> int:
    """All the iterations on PostgreSQL, the multi-process store; a fifth on SQLite, whose
    writers queue on one file lock and cannot interleave (kept short for the suite's time)."""
    return max(1, iterations // 5) if is_sqlite(any_cluster.database_url) else iterations


def _put(client: Client, path: str, target: str, etag: str | None) -> Response:
    headers = {"If-Match": etag} if etag else {}
    return client.put(path, json={"target": target}, headers=headers)


def _history(seller: Client, product_id: str) -> list[dict[str, Any]]:
    """The product's whole history, oldest first."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = expect(seller.get(f"/v1/products/{product_id}/history", params=params), 200)
        entries.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries[::-1]


def _target_changes(seller: Client, product_id: str) -> list[tuple[str, str]]:
    return [
        (entry["before"], entry["after"])
        for entry in _history(seller, product_id)
        if entry["action"] == "product_target_set"
    ]


def _is_chain(changes: list[tuple[str, str]], start: str) -> bool:
    """Each change starts where the one before it ended: no write was based on a stale read."""
    current = start
    for before, after in changes:
        if before != current:
            return False
        current = after
    return True


def _sellers(cluster: Cluster) -> tuple[Market, Client, Client, str, str]:
    market = Market.open(cluster)
    product_id, _ = market.product("all", "Basic", "Pro")
    path = f"/v1/products/{product_id}/target-customers"
    return market, market.seller(cluster.a), market.seller(cluster.b), product_id, path


def test_r13_if_match_lets_exactly_one_of_two_concurrent_edits_win(
    any_cluster: Cluster, rounds: int, request: pytest.FixtureRequest
) -> None:
    _, seller_a, seller_b, product_id, path = _sellers(any_cluster)
    response = seller_a.get(path)
    etag, current = response.headers["ETag"], response.json()["target"]
    violations: list[str] = []
    wins = {"A": 0, "B": 0}
    started = time.monotonic()
    with pair() as both:
        for iteration in range(rounds):
            first, second = (t for t in TARGETS if t != current)
            a, b = both.run(
                partial(_put, seller_a, path, first, etag),
                partial(_put, seller_b, path, second, etag),
            )
            statuses = (a.status_code, b.status_code)
            if sorted(statuses) != [200, 412]:
                violations.append(f"iteration {iteration}: {statuses} {a.text} {b.text}")
                break
            winner, loser = (a, b) if a.status_code == 200 else (b, a)
            wins["A" if winner is a else "B"] += 1
            assert loser.json()["code"] == "version_mismatch"
            assert winner.headers["ETag"] != etag
            etag, current = winner.headers["ETag"], winner.json()["target"]
    elapsed = time.monotonic() - started
    changes = _target_changes(seller_a, product_id)
    final = seller_b.get(path)
    record_figures(
        f"concurrent_edits_if_match_{request.node.callspec.id}",
        {
            "iterations": rounds,
            "violations": len(violations),
            "wins_a": wins["A"],
            "wins_b": wins["B"],
            "elapsed_s": round(elapsed, 1),
        },
    )
    assert violations == []
    # One recorded change per round: the losers changed nothing, not even history.
    assert len(changes) == rounds
    assert _is_chain(changes, "all")
    assert (final.headers["ETag"], final.json()["target"]) == (etag, current)


def test_r13_without_if_match_both_concurrent_edits_land_in_history(
    any_cluster: Cluster, rounds: int, request: pytest.FixtureRequest
) -> None:
    _, seller_a, seller_b, product_id, path = _sellers(any_cluster)
    current = "all"
    violations: list[str] = []
    started = time.monotonic()
    with pair() as both:
        for iteration in range(rounds):
            first, second = (t for t in TARGETS if t != current)
            a, b = both.run(
                partial(_put, seller_a, path, first, None),
                partial(_put, seller_b, path, second, None),
            )
            if (a.status_code, b.status_code) != (200, 200):
                violations.append(f"iteration {iteration}: {a.text} {b.text}")
                break
            # The later of the two (the higher version) is the one that stands.
            last = max(a, b, key=lambda r: int(r.headers["ETag"].strip('"v')))
            current = last.json()["target"]
    elapsed = time.monotonic() - started
    changes = _target_changes(seller_a, product_id)
    final = seller_b.get(path).json()["target"]
    record_figures(
        f"concurrent_edits_last_write_wins_{request.node.callspec.id}",
        {
            "iterations": rounds,
            "violations": len(violations),
            "history_entries": len(changes),
            "elapsed_s": round(elapsed, 1),
        },
    )
    assert violations == []
    assert len(changes) == 2 * rounds
    assert _is_chain(changes, "all")
    assert changes[-1][1] == final == current
