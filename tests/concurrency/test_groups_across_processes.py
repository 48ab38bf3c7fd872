"""R17 across processes on PostgreSQL: removing a group's member closes every list holding the
group at once, on every process (no stale allow).

Process A takes the membership in and out; as soon as A has answered, process B (two workers)
is asked about each product holding the group, singly and in a batch, and the buyer tries to
order through B. Before each removal B has just seen the member allowed everywhere.
"""

from __future__ import annotations

import pytest

from tests.concurrency.conftest import Cluster
from tests.concurrency.market import Market, expect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PRODUCTS = 3
ROUNDS = 40


def test_r17_a_member_removed_is_refused_on_every_holding_list_on_every_process(
    cluster: Cluster,
) -> None:
    market = Market.open(cluster)
    seller = market.seller(cluster.a)
    group = expect(seller.post("/v1/customer-groups", json={"name": "Pilots"}), 201)["group_id"]
    specs: list[str] = []
    for _ in range(PRODUCTS):
        product_id, (spec,) = market.product("specified")
        path = f"/v1/products/{product_id}/specified-users"
        expect(seller.post(path, json={"group_id": group}), 201)
        specs.append(spec)
    member = market.account()
    entry = {"account_id": member["account_id"], "account_name": member["account_name"]}
    members = f"/v1/customer-groups/{group}/members"
    operator_b = market.operator(cluster.b)
    buyer_b = market.buyer(member, cluster.b)
    checks = [{"account_id": member["account_id"], "specification_id": s} for s in specs]
    stale: list[tuple[int, str]] = []
    for round_ in range(ROUNDS):
        expect(seller.post(members, json=entry), 201)
        batch = expect(operator_b.post("/v1/decisions/batch", json={"checks": checks}), 200)
        assert all(r["allowed"] for r in batch["results"]), batch
        expect(seller.delete(f"{members}/{member['account_id']}"), 204)
        for check in checks:
            single = expect(operator_b.post("/v1/decisions", json=check), 200)
            if single["allowed"]:
                stale.append((round_, "decision"))
        batch = expect(operator_b.post("/v1/decisions/batch", json={"checks": checks}), 200)
        stale.extend((round_, "batch") for r in batch["results"] if r["allowed"])
        order = buyer_b.post("/v1/orders", json={"specification_id": specs[round_ % PRODUCTS]})
        if order.status_code != 403:
            stale.append((round_, f"order {order.status_code}"))
    assert stale == []
