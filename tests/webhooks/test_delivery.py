"""R18 webhooks end to end: real `offerscope serve` processes deliver to a real receiver."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.webhooks.conftest import Server, Store
from tests.webhooks.receiver import running_receiver

SECRET = "a-receiver-secret-of-32-chars-ok"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Marketplace:
    """A seller with one product sold to specified users, made over HTTP on one server."""

    def __init__(self, store: Store, server: Server) -> None:
        self.store = store
        self.operator = store.client(server)
        seller = _ok(self.operator.post("/v1/sellers", json={"name": "Hooks"}), 201)
        token = _ok(
            self.operator.post(
                "/v1/tokens", json={"role": "seller", "seller_id": seller["seller_id"]}
            ),
            201,
        )["token"]
        self.seller_token = token
        self.seller = store.client(server, token)
        body = {"name": "Hooked", "specifications": [{"name": "Basic"}]}
        product = _ok(self.seller.post("/v1/products", json=body), 201)
        self.product_id = product["product_id"]
        self.spec_id = product["specifications"][0]["specification_id"]
        _ok(
            self.seller.put(
                f"/v1/products/{self.product_id}/target-customers", json={"target": "specified"}
            )
        )
        self.accounts = 0

    def add_user(
        self, client: httpx.Client | None = None, window: dict[str, str] | None = None
    ) -> str:
        self.accounts += 1
        account = {
            "account_id": f"{0xB00C0000 + self.accounts:032x}",
            "account_name": f"hook_{self.accounts:04d}",
            "account_type": "individual",
        }
        _ok(self.operator.post("/v1/accounts", json=account), 201)
        path = f"/v1/products/{self.product_id}/specified-users"
        body = {
            "account_id": account["account_id"],
            "account_name": account["account_name"],
            **(window or {}),
        }
        _ok((client or self.seller).post(path, json=body), 201)
        return account["account_id"]


def _register(operator: httpx.Client, url: str, events: list[str] | None = None) -> str:
    body = {"url": url, "events": events or ["*"], "secret": SECRET}
    hook = _ok(operator.post("/v1/webhooks", json=body), 201)
    assert "secret" not in hook and SECRET not in str(hook)
    webhook_id: str = hook["webhook_id"]
    return webhook_id


def _feed(operator: httpx.Client, after: int) -> list[dict[str, Any]]:
    return list(_ok(operator.get("/v1/changes", params={"after": after}))["items"])


def _in_order_once(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes as first accepted; asserting none went backwards (revision order)."""
    seen: dict[str, dict[str, Any]] = {}
    for change in received:
        seen.setdefault(change["id"], change)
    firsts = list(seen.values())
    keys = [(c["revision"], int(c["id"].removeprefix("chg_"))) for c in firsts]
    assert keys == sorted(keys)
    return firsts


def _settled_log(operator: httpx.Client, hook: str, count: int) -> list[dict[str, Any]]:
    """The delivery log once `count` deliveries are recorded as delivered (outcomes are
    recorded a moment after the receiver answered)."""
    deadline = time.monotonic() + 20
    while True:
        log: list[dict[str, Any]] = _ok(operator.get(f"/v1/webhooks/{hook}/deliveries"))["items"]
        done = [d for d in log if d["status"] == "delivered"]
        if len(done) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


@pytest.mark.slow
def test_r18_a_receiver_failing_at_first_gets_every_change_in_order_signed(store: Store) -> None:
    server = store.serve()
    market = Marketplace(store, server)
    with running_receiver(fail_first=3) as receiver:
        hook = _register(market.operator, receiver.url)
        start = _ok(market.operator.get(f"/v1/webhooks/{hook}"))["delivered_through"]
        added = [market.add_user() for _ in range(5)]
        received = receiver.wait_for(5)
        assert receiver.verified(SECRET)
        assert not receiver.verified("another-secret-of-enough-length")
    firsts = _in_order_once(received)
    assert [(c["kind"], c["granted"]) for c in firsts] == [
        ("specified_user_added", [a]) for a in added
    ]
    expected = _feed(market.operator, start)
    assert [c["revision"] for c in firsts] == [c["revision"] for c in expected]
    log = _settled_log(market.operator, hook, 5)
    assert {d["status"] for d in log} == {"delivered"}
    assert log[-1]["attempts"] == 4 and log[-1]["last_error"] is None  # oldest: 3 refusals
    assert _ok(market.operator.get(f"/v1/webhooks/{hook}"))["status"] == "active"


@pytest.mark.slow
def test_r18_an_endpoint_that_keeps_failing_is_marked_failing(store: Store) -> None:
    server = store.serve(OFFERSCOPE_WEBHOOK_FAILING_AFTER_HOURS=str(1 / 3600))  # a second
    market = Marketplace(store, server)
    with running_receiver(fail_first=10**6) as receiver:
        hook = _register(market.operator, receiver.url)
        market.add_user()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = _ok(market.operator.get(f"/v1/webhooks/{hook}"))
            if shown["status"] == "failing":
                break
            time.sleep(0.2)
        assert shown["status"] == "failing" and shown["failing_since"]
        (delivery,) = _ok(market.operator.get(f"/v1/webhooks/{hook}/deliveries"))["items"]
        assert delivery["status"] == "retrying" and delivery["attempts"] > 1
        assert delivery["last_error"] == "HTTP 503" and delivery["next_try_at"]


@pytest.mark.slow
@pytest.mark.postgres
def test_r18_kill9_mid_delivery_loses_nothing_and_another_process_finishes(
    postgres_store: Store,
) -> None:
    first = postgres_store.serve()
    market = Marketplace(postgres_store, first)
    with running_receiver(hold_seconds=1.5) as receiver:
        _register(market.operator, receiver.url)
        added = [market.add_user() for _ in range(4)]
        assert receiver.arrived.wait(30)  # the first delivery is out, held by the receiver
        first.kill9()
        receiver.hold_seconds = 0
        second = postgres_store.serve()  # takes over once the dead process's lease runs out
        del second
        received = receiver.wait_for(4, seconds=90)
    firsts = _in_order_once(received)
    assert [c["granted"] for c in firsts] == [[a] for a in added]


@pytest.mark.slow
@pytest.mark.postgres
def test_r18_every_change_once_in_commit_order_across_two_processes(
    postgres_store: Store,
) -> None:
    a, b = postgres_store.serve(), postgres_store.serve()
    market = Marketplace(postgres_store, a)
    seller_b = postgres_store.client(b, market.seller_token)
    path = f"/v1/products/{market.product_id}"
    with running_receiver() as receiver:
        _register(market.operator, receiver.url)
        written = [market.add_user(market.seller if n % 2 else seller_b) for n in range(6)]
        assert seller_b.delete(f"{path}/specified-users/{written[0]}").status_code == 204
        _ok(market.seller.put(f"{path}/target-customers", json={"target": "all"}))
        _ok(seller_b.put(f"{path}/target-customers", json={"target": "specified"}))
        received = receiver.wait_for(9)
    firsts = _in_order_once(received)
    expected: list[tuple[str, list[str], list[str]]] = [
        ("specified_user_added", [a], []) for a in written
    ] + [
        ("specified_user_removed", [], [written[0]]),
        ("product_target_set", [], []),
        ("product_target_set", [], []),
    ]
    assert [(c["kind"], c["granted"], c["revoked"]) for c in firsts] == expected
    for server in (a, b):  # each process's feed: the same changes, once each, in order
        items = _feed(postgres_store.client(server), firsts[0]["revision"] - 1)
        assert [i["revision"] for i in items] == [c["revision"] for c in firsts]
        assert [i["kind"] for i in items] == [c["kind"] for c in firsts]


@pytest.mark.slow
def test_r18_a_stalled_receiver_does_not_stop_decisions(store: Store) -> None:
    server = store.serve(OFFERSCOPE_WEBHOOK_TIMEOUT_SECONDS="5")
    market = Marketplace(store, server)
    with running_receiver(hold_seconds=3) as receiver:
        _register(market.operator, receiver.url)
        for _ in range(3):
            market.add_user()
        assert receiver.arrived.wait(30)
        question = {"account_id": f"{0xB00C0001:032x}", "specification_id": market.spec_id}
        seconds: list[float] = []
        answers: list[bool] = []
        for _ in range(50):
            started = time.perf_counter()
            answers.append(_ok(market.operator.post("/v1/decisions", json=question))["allowed"])
            seconds.append(time.perf_counter() - started)
        writes_ok = threading.Event()
        market.add_user()  # a write still commits while deliveries wait on the receiver
        writes_ok.set()
    assert all(answers) and writes_ok.is_set()
    print(
        f"\ndecisions while the receiver stalls: median {statistics.median(seconds) * 1000:.1f} ms,"
        f" max {max(seconds) * 1000:.1f} ms"
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_r16_r18_a_window_opens_and_closes_once_in_the_feed_of_two_processes(
    postgres_store: Store,
) -> None:
    a, b = postgres_store.serve(), postgres_store.serve()
    market = Marketplace(postgres_store, a)
    opens = datetime.now(UTC) + timedelta(seconds=5)  # after the add commits, even when slow
    closes = opens + timedelta(seconds=1)
    with running_receiver() as receiver:
        _register(market.operator, receiver.url, ["window_opened", "window_closed"])
        account_id = market.add_user(
            window={"valid_from": _iso(opens), "valid_until": _iso(closes)}
        )
        received = receiver.wait_for(2, seconds=30)
        time.sleep(1.0)  # both processes look again: nothing is published twice
        received = receiver.delivered()
    firsts = _in_order_once(received)
    assert [(c["kind"], c["granted"], c["revoked"]) for c in firsts] == [
        ("window_opened", [account_id], []),
        ("window_closed", [], [account_id]),
    ]
    assert datetime.fromisoformat(firsts[0]["time"]) >= opens
    for server in (a, b):
        kinds = [i["kind"] for i in _feed(postgres_store.client(server), 0)]
        assert kinds.count("window_opened") == 1 and kinds.count("window_closed") == 1


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
