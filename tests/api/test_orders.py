"""Orders over HTTP: R11 (decided at the moment of ordering, 403 with the decision), R10 (refunds,
buying a specification counts as buying its product)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    associate,
    buyer_client,
    decide,
    list_user,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    spec_id,
)
from tests.support import Api


def _order(buyer: httpx.Client, specification_id: str) -> httpx.Response:
    return buyer.post("/v1/orders", json={"specification_id": specification_id})


def _refund(api: Api, order_id: str) -> httpx.Response:
    return api.operator.post(f"/v1/orders/{order_id}/refund")


def test_r11_an_admitted_buyer_orders_and_sees_the_order(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Basic")
    basic = spec_id(product, "Basic")
    buyer = buyer_client(api, account)
    order = ok(_order(buyer, basic), 201)
    assert order["account_id"] == account["account_id"]
    assert order["specification_id"] == basic
    assert order["product_id"] == product.product_id
    assert order["status"] == "paid"
    created = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    assert created.tzinfo is not None and created <= datetime.now(UTC)
    assert ok(buyer.get("/v1/orders")) == {"items": [order], "next_cursor": None}


def test_r11_a_refused_buyer_gets_403_with_the_decision_and_no_order(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(api, seller, "Gold", target=Target.ENTERPRISE)
    buyer = buyer_client(api, person)
    body = problem(_order(buyer, spec_id(product, "Gold")), 403, "not_target_customer")
    assert body["decision"] == {
        "allowed": False,
        "reason": "not_enterprise_user",
        "level": "product",
        "message": "This product is sold only to enterprise users.",
    }
    assert body["detail"] == body["decision"]["message"]
    assert ok(buyer.get("/v1/orders"))["items"] == []


def test_r11_the_decision_is_taken_at_the_moment_of_ordering(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(api, seller, "Basic", "Beta")
    buyer = buyer_client(api, person)
    basic, beta = spec_id(product, "Basic"), spec_id(product, "Beta")
    ok(_order(buyer, basic), 201)
    ok(
        seller.http.put(
            f"/v1/products/{product.product_id}/target-customers", json={"target": "enterprise"}
        )
    )
    problem(_order(buyer, basic), 403, "not_target_customer")
    ok(
        seller.http.put(
            f"/v1/products/{product.product_id}/target-customers", json={"target": "all"}
        )
    )
    spec_target = f"/v1/products/{product.product_id}/specifications/{beta}/target-customers"
    ok(seller.http.put(spec_target, json={"target": "specified"}))
    refused = problem(_order(buyer, beta), 403, "not_target_customer")
    assert (refused["decision"]["reason"], refused["decision"]["level"]) == (
        "not_specified_user",
        "specification",
    )
    list_user(api, seller, product, beta, person)
    ok(_order(buyer, beta), 201)
    assert len(ok(buyer.get("/v1/orders"))["items"]) == 2


def test_r11_ordering_an_unknown_specification_answers_404(api: Api) -> None:
    buyer = buyer_client(api, new_account(api))
    problem(_order(buyer, "spc_0000000000000000"), 404, "specification_not_found")
    problem(buyer.post("/v1/orders", json={}), 422, "invalid_request")


def test_r10_refund_then_refund_again(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    buyer = buyer_client(api, new_account(api))
    order = ok(_order(buyer, spec_id(product, "Basic")), 201)
    refunded = ok(_refund(api, order["order_id"]))
    assert refunded == {**order, "status": "refunded"}
    assert ok(buyer.get("/v1/orders"))["items"] == [refunded]
    body = problem(_refund(api, order["order_id"]), 409, "already_refunded")
    assert body["detail"]
    problem(_refund(api, "ord_0000000000000000"), 404, "order_not_found")


def _associated_setup(api: Api) -> tuple[Any, Any, Any, httpx.Client, dict[str, Any]]:
    seller = new_seller(api)
    cloud = new_product(api, seller, "Basic", "Pro", name="CloudDB")
    backup = new_product(api, seller, "Daily", name="Backup", target=Target.ASSOCIATED)
    associate(api, seller, backup, None, [cloud.product_id])
    account = new_account(api)
    return seller, cloud, backup, buyer_client(api, account), account


def test_r10_buying_any_specification_counts_as_buying_its_product(api: Api) -> None:
    _seller, cloud, backup, buyer, account = _associated_setup(api)
    daily = spec_id(backup, "Daily")
    refused = problem(_order(buyer, daily), 403, "not_target_customer")
    assert refused["decision"]["reason"] == "no_associated_purchase"
    assert refused["decision"]["level"] == "product"
    first = ok(_order(buyer, spec_id(cloud, "Pro")), 201)  # any specification of CloudDB
    assert decide(api, account["account_id"], daily)["allowed"] is True
    ok(_order(buyer, daily), 201)
    # A refunded purchase no longer counts.
    ok(_refund(api, first["order_id"]))
    after = decide(api, account["account_id"], daily)
    assert (after["allowed"], after["reason"]) == (False, "no_associated_purchase")
    problem(_order(buyer, daily), 403, "not_target_customer")


def test_r10_one_paid_order_still_counts_when_another_is_refunded(api: Api) -> None:
    _seller, cloud, backup, buyer, account = _associated_setup(api)
    first = ok(_order(buyer, spec_id(cloud, "Basic")), 201)
    ok(_order(buyer, spec_id(cloud, "Basic")), 201)
    ok(_refund(api, first["order_id"]))
    assert decide(api, account["account_id"], spec_id(backup, "Daily"))["allowed"] is True


def test_r10_a_specification_association_counts_only_its_listed_specifications(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(
        api, seller, "Basic", "Pro", "Upgrade", settings={"Upgrade": Setting.ASSOCIATED}
    )
    upgrade = spec_id(product, "Upgrade")
    associate(api, seller, product, upgrade, [spec_id(product, "Basic")])
    account = new_account(api)
    buyer = buyer_client(api, account)
    ok(_order(buyer, spec_id(product, "Pro")), 201)
    refused = problem(_order(buyer, upgrade), 403, "not_target_customer")
    assert (refused["decision"]["reason"], refused["decision"]["level"]) == (
        "no_associated_purchase",
        "specification",
    )
    ok(_order(buyer, spec_id(product, "Basic")), 201)
    ok(_order(buyer, upgrade), 201)


def test_orders_list_is_own_newest_first_and_paged(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    basic = spec_id(product, "Basic")
    mine, theirs = buyer_client(api, new_account(api)), buyer_client(api, new_account(api))
    placed = [ok(_order(mine, basic), 201)["order_id"] for _ in range(5)]
    ok(_order(theirs, basic), 201)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(mine.get("/v1/orders", params=params))
        seen += [o["order_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == placed[::-1]
    problem(mine.get("/v1/orders", params={"limit": 0}), 422, "invalid_request")
    problem(mine.get("/v1/orders", params={"cursor": "e30"}), 422, "invalid_request")  # "{}"
