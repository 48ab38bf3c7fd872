"""The changes that shut a buyer out, built once for every race that needs them.

Each scenario is one seller's product on the cluster, one buyer account, how to let the buyer
in and how to shut them out again (both through process A), the reason a refusal must give,
and where the witness table of `test_order_race` finds the change (its kind and the key of
the row it changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from tests.concurrency.conftest import Cluster
from tests.concurrency.market import Market, expect


@dataclass
class Scenario:
    name: str
    market: Market
    account: dict[str, str]
    specification_id: str
    let_in: Callable[[], object]
    shut_out: Callable[[], object]
    expected_reason: str
    # The (kind, ref) the witness records for the latest shut-out.
    change_key: Callable[[Connection], tuple[str, int]]


def pk_of(connection: Connection, table: str, column: str, value: str) -> int:
    query = f"SELECT pk FROM {table} WHERE {column} = :v"  # noqa: S608 (test constants)
    return int(connection.execute(text(query), {"v": value}).scalar_one())


def specified_user_removed(cluster: Cluster) -> Scenario:
    """R5: the buyer is added to a specified-users product's list, then removed."""
    market = Market.open(cluster)
    product_id, (spec_id,) = market.product("specified")
    account = market.account()
    seller_a = market.seller(cluster.a)
    users = f"/v1/products/{product_id}/specified-users"
    entry = {"account_id": account["account_id"], "account_name": account["account_name"]}
    return Scenario(
        name="specified_user_removed",
        market=market,
        account=account,
        specification_id=spec_id,
        let_in=lambda: expect(seller_a.post(users, json=entry), 201),
        shut_out=lambda: expect(seller_a.delete(f"{users}/{account['account_id']}"), 204),
        expected_reason="not_specified_user",
        change_key=lambda c: (
            "specified_user_removed",
            pk_of(c, "products", "product_id", product_id),
        ),
    )


def target_changed(cluster: Cluster) -> Scenario:
    """R4: an individual buyer's product switches between all and enterprise users."""
    market = Market.open(cluster)
    product_id, (spec_id,) = market.product("all")
    account = market.account("individual")
    seller_a = market.seller(cluster.a)
    path = f"/v1/products/{product_id}/target-customers"
    return Scenario(
        name="target_changed",
        market=market,
        account=account,
        specification_id=spec_id,
        let_in=lambda: expect(seller_a.put(path, json={"target": "all"}), 200),
        shut_out=lambda: expect(seller_a.put(path, json={"target": "enterprise"}), 200),
        expected_reason="not_enterprise_user",
        # Letting in writes product_target_set too; the witness keys it by the new target.
        change_key=lambda c: (
            "product_target_set:enterprise",
            pk_of(c, "products", "product_id", product_id),
        ),
    )


def order_refunded(cluster: Cluster) -> Scenario:
    """R10: the buyer buys the product an add-on is associated with; the order is refunded."""
    market = Market.open(cluster)
    base_id, (base_spec,) = market.product("all")
    addon_id, (addon_spec,) = market.product("associated")
    seller_a = market.seller(cluster.a)
    links = {"product_ids": [base_id]}
    expect(seller_a.post(f"/v1/products/{addon_id}/associated-products", json=links), 201)
    account = market.account()
    buyer_a = market.buyer(account, cluster.a)
    operator_a = market.operator(cluster.a)
    paid: list[str] = []

    def buy_base() -> None:
        placed = expect(buyer_a.post("/v1/orders", json={"specification_id": base_spec}), 201)
        paid.append(placed["order_id"])

    return Scenario(
        name="order_refunded",
        market=market,
        account=account,
        specification_id=addon_spec,
        let_in=buy_base,
        shut_out=lambda: expect(operator_a.post(f"/v1/orders/{paid[-1]}/refund"), 200),
        expected_reason="no_associated_purchase",
        change_key=lambda c: ("refund", pk_of(c, "orders", "order_id", paid[-1])),
    )


def account_type_changed(cluster: Cluster) -> Scenario:
    """R6, R3: the buyer's account changes from individual to enterprise."""
    market = Market.open(cluster)
    _, (spec_id,) = market.product("individual")
    account = market.account("individual")
    operator_a = market.operator(cluster.a)
    path = f"/v1/accounts/{account['account_id']}"
    return Scenario(
        name="account_type_changed",
        market=market,
        account=account,
        specification_id=spec_id,
        let_in=lambda: expect(operator_a.patch(path, json={"account_type": "individual"}), 200),
        shut_out=lambda: expect(operator_a.patch(path, json={"account_type": "enterprise"}), 200),
        expected_reason="not_individual_user",
        change_key=lambda c: (
            "account_type:enterprise",
            pk_of(c, "accounts", "account_id", account["account_id"]),
        ),
    )
