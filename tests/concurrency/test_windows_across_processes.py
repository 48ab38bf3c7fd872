"""R16 across processes on PostgreSQL: a window closes (and opens) at its instant on every
server process, with no write at that moment.

Process A takes the entries; both processes (B with two workers) are asked just before the
instant and just after it: decisions, a batch and an order (decided from the tables).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.concurrency.client import Client
from tests.concurrency.conftest import Cluster
from tests.concurrency.market import Market, expect

pytestmark = pytest.mark.postgres

LEAD = timedelta(seconds=4)  # time to ask every process before the instant, on a busy machine


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _answers(clients: list[Client], account_id: str, spec: str) -> list[dict[str, object]]:
    question = {"account_id": account_id, "specification_id": spec}
    found: list[dict[str, object]] = []
    for client in clients:
        for _ in range(3):  # B's two workers: ask more than once so that both are likely asked
            found.append(expect(client.post("/v1/decisions", json=question), 200))
    return found


def test_r16_a_window_closes_and_opens_on_every_process_with_no_write(cluster: Cluster) -> None:
    market = Market.open(cluster)
    product_id, (spec,) = market.product("specified")
    leaving, arriving = market.account(), market.account()
    instant = datetime.now(UTC) + LEAD
    seller = market.seller(cluster.a)
    path = f"/v1/products/{product_id}/specified-users"
    for account, window in (
        (leaving, {"valid_until": _iso(instant)}),
        (arriving, {"valid_from": _iso(instant)}),
    ):
        body = {
            "account_id": account["account_id"],
            "account_name": account["account_name"],
            **window,
        }
        expect(seller.post(path, json=body), 201)
    operators = [market.operator(cluster.a), market.operator(cluster.b)]
    leaving_buyer = market.buyer(leaving, cluster.b)

    before_leaving = _answers(operators, leaving["account_id"], spec)
    before_arriving = _answers(operators, arriving["account_id"], spec)
    asked_in_time = datetime.now(UTC) < instant
    if not asked_in_time:
        pytest.fail("the machine took longer than the lead to ask before the instant")
    assert all(a["allowed"] is True for a in before_leaving)
    assert all(a["reason"] == "specified_user_not_yet_valid" for a in before_arriving)

    time.sleep((instant - datetime.now(UTC)).total_seconds() + 0.05)
    after_leaving = _answers(operators, leaving["account_id"], spec)
    after_arriving = _answers(operators, arriving["account_id"], spec)
    assert {a["reason"] for a in after_leaving} == {"specified_user_expired"}
    assert {a["valid_until"] for a in after_leaving} == {_iso(instant)}
    assert all(a["allowed"] is True for a in after_arriving)
    batch = expect(
        operators[1].post(
            "/v1/decisions/batch",
            json={"checks": [{"account_id": leaving["account_id"], "specification_id": spec}]},
        ),
        200,
    )
    assert batch["results"][0]["reason"] == "specified_user_expired"
    refused = leaving_buyer.post("/v1/orders", json={"specification_id": spec})
    assert refused.status_code == 403, refused.text
    assert refused.json()["decision"]["reason"] == "specified_user_expired"
