"""Every kind of write and read at once, through both processes: no deadlock, no 5xx, one truth.

Four threads each send a random mix of orders, refunds, list changes, target changes, account
retypes, decisions and catalogs to either process. PostgreSQL breaks a lock cycle by failing
one of its transactions, which would surface here as a 500; a lock wait that never ends would
surface as a timeout. Afterwards, with everything committed, both processes must give the
same decision for every account and specification.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.concurrency.client import Client, Response
from tests.concurrency.conftest import Cluster, ServerProcess, record_figures
from tests.concurrency.market import Market, expect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

THREADS = 4
TARGETS = ("all", "enterprise", "individual")


@dataclass
class Shop:
    market: Market
    accounts: list[dict[str, str]]
    products: dict[str, str]  # name -> product_id
    specs: dict[str, str]  # name -> specification_id
    orders: list[str]


def _shop(cluster: Cluster) -> Shop:
    market = Market.open(cluster)
    base, (base_spec,) = market.product("all")
    addon, (addon_spec,) = market.product("associated")
    vip, (vip_spec,) = market.product("specified")
    typed, (typed_spec,) = market.product("enterprise")
    seller = market.seller(cluster.a)
    expect(
        seller.post(f"/v1/products/{addon}/associated-products", json={"product_ids": [base]}), 201
    )
    accounts = [market.account(kind) for kind in ("individual", "enterprise") * 2]
    return Shop(
        market,
        accounts,
        {"base": base, "addon": addon, "vip": vip, "typed": typed},
        {"base": base_spec, "addon": addon_spec, "vip": vip_spec, "typed": typed_spec},
        [],
    )


class Storm:
    """One thread's clients and its random operations; each returns the answer it got."""

    def __init__(self, cluster: Cluster, shop: Shop, seed: int) -> None:
        self.shop = shop
        self.rng = random.Random(seed)
        servers = (cluster.a, cluster.b)
        market = shop.market
        self.operator = {s.name: market.operator(s) for s in servers}
        self.seller = {s.name: market.seller(s) for s in servers}
        self.buyers: dict[str, dict[str, Client]] = {
            s.name: {a["account_id"]: market.buyer(a, s) for a in shop.accounts} for s in servers
        }
        self.servers: list[ServerProcess] = list(servers)

    def _server(self) -> str:
        return self.rng.choice(self.servers).name

    def order(self) -> Response:
        account = self.rng.choice(self.shop.accounts)["account_id"]
        spec = self.rng.choice(list(self.shop.specs.values()))
        buyer = self.buyers[self._server()][account]
        response = buyer.post("/v1/orders", json={"specification_id": spec})
        if response.status_code == 201:
            self.shop.orders.append(response.json()["order_id"])
        return response

    def refund(self) -> Response:
        if not self.shop.orders:
            return self.order()
        order = self.rng.choice(self.shop.orders)
        return self.operator[self._server()].post(f"/v1/orders/{order}/refund")

    def add_user(self) -> Response:
        account = self.rng.choice(self.shop.accounts)
        entry = {"account_id": account["account_id"], "account_name": account["account_name"]}
        path = f"/v1/products/{self.shop.products['vip']}/specified-users"
        return self.seller[self._server()].post(path, json=entry)

    def remove_user(self) -> Response:
        account = self.rng.choice(self.shop.accounts)["account_id"]
        path = f"/v1/products/{self.shop.products['vip']}/specified-users/{account}"
        return self.seller[self._server()].delete(path)

    def retarget(self) -> Response:
        path = f"/v1/products/{self.shop.products['typed']}/target-customers"
        return self.seller[self._server()].put(path, json={"target": self.rng.choice(TARGETS)})

    def retype(self) -> Response:
        account = self.rng.choice(self.shop.accounts)["account_id"]
        kind = self.rng.choice(("individual", "enterprise"))
        path = f"/v1/accounts/{account}"
        return self.operator[self._server()].patch(path, json={"account_type": kind})

    def decide(self) -> Response:
        question = {
            "account_id": self.rng.choice(self.shop.accounts)["account_id"],
            "specification_id": self.rng.choice(list(self.shop.specs.values())),
        }
        return self.operator[self._server()].post("/v1/decisions", json=question)

    def catalog(self) -> Response:
        account = self.rng.choice(self.shop.accounts)["account_id"]
        return self.buyers[self._server()][account].get("/v1/catalog", params={"limit": 1000})

    def run(self, operations: int) -> Counter[str]:
        moves: list[Callable[[], Response]] = [
            self.order,
            self.order,
            self.refund,
            self.add_user,
            self.remove_user,
            self.retarget,
            self.retype,
            self.decide,
            self.catalog,
        ]
        seen: Counter[str] = Counter()
        for _ in range(operations):
            move = self.rng.choice(moves)
            seen[f"{move.__name__} {move().status_code}"] += 1
        return seen


def test_mixed_writes_and_reads_never_deadlock_or_fail(cluster: Cluster, iterations: int) -> None:
    shop = _shop(cluster)
    seed = random.randrange(1 << 30)
    storms = [Storm(cluster, shop, seed + n) for n in range(THREADS)]
    per_thread = max(1, iterations // THREADS)  # as many operations as a race has rounds
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        totals = sum(
            (f.result(timeout=600) for f in [pool.submit(s.run, per_thread) for s in storms]),
            Counter(),
        )
    elapsed = time.monotonic() - started
    failures = {answer: n for answer, n in totals.items() if int(answer.split()[-1]) >= 500}
    disagreements = _disagreements(cluster, shop)
    record_figures(
        "storm_mixed_operations",
        {
            "operations": THREADS * per_thread,
            "server_errors": sum(failures.values()),
            "disagreements": len(disagreements),
            "elapsed_s": round(elapsed, 1),
            "seed": seed,
        },
    )
    print(dict(sorted(totals.items())))
    assert failures == {}, f"seed {seed}"
    assert disagreements == [], f"seed {seed}"


def _disagreements(cluster: Cluster, shop: Shop) -> list[str]:
    """Checks on which the two processes answer differently, once nothing is changing."""
    checks = [
        {"account_id": a["account_id"], "specification_id": spec}
        for a in shop.accounts
        for spec in shop.specs.values()
    ]
    answers = [
        expect(shop.market.operator(s).post("/v1/decisions/batch", json={"checks": checks}), 200)
        for s in (cluster.a, cluster.b)
    ]
    return [
        f"{check}: A {a} / B {b}"
        for check, a, b in zip(checks, answers[0]["results"], answers[1]["results"], strict=True)
        if a != b
    ]
