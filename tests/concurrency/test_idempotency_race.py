"""R15 across processes: the same keyed order sent to two server processes at the same instant
is placed once. The key's claim and its stored answer live in the database, in the write's own
transaction, so no process can run it a second time."""

from __future__ import annotations

import threading

import pytest

from offerscope.domain.targets import AccountType
from offerscope.services import accounts, orders, products, sellers, tokens
from offerscope.services.actors import Role
from tests.concurrency.client import Client, Response
from tests.concurrency.conftest import Cluster, record_figures

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_r15_one_keyed_order_sent_to_two_processes_at_once_is_placed_once(
    cluster: Cluster, iterations: int
) -> None:
    db = cluster.db
    account_id = "c0ffee" + "0" * 26
    accounts.register_account(db, account_id, "race_buyer", AccountType.INDIVIDUAL)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Race Seller").seller_id)
    spec = products.create_product(db, seller, "Raced", ["Basic"]).specifications[0]
    token = cluster.token(Role.BUYER, account_id=account_id)
    clients = [Client(cluster.a.base_url, token), Client(cluster.b.base_url, token)]
    rounds = max(20, iterations // 5)
    outcomes: dict[str, int] = {"ran": 0, "replayed": 0, "in_progress": 0}
    try:
        for n in range(rounds):
            answers = _both_at_once(clients, spec.specification_id, f"race-{n}")
            ran = [
                a for a in answers if a.status_code == 201 and not a.headers["idempotent-replayed"]
            ]
            assert len(ran) == 1, [(a.status_code, a.text) for a in answers]
            other = next(a for a in answers if a is not ran[0])
            if other.status_code == 409:
                assert other.json()["code"] == "request_in_progress"
                outcomes["in_progress"] += 1
            else:
                assert other.status_code == 201 and other.json() == ran[0].json()
                outcomes["replayed"] += 1
            outcomes["ran"] += 1
    finally:
        for client in clients:
            client.close()
    buyer = tokens.authenticate(db, token)
    assert buyer is not None
    placed = orders.list_orders(db, buyer, limit=1000).items
    assert len(placed) == rounds
    record_figures("r15_keyed_order_two_processes", {"rounds": rounds, **outcomes})


def _both_at_once(clients: list[Client], spec_id: str, key: str) -> list[Response]:
    start = threading.Barrier(len(clients))
    answers: list[Response] = []
    lock = threading.Lock()

    def send(client: Client) -> None:
        start.wait()
        answer = client.post(
            "/v1/orders", json={"specification_id": spec_id}, headers={"Idempotency-Key": key}
        )
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
