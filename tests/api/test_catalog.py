"""The buyer's catalog over HTTP: every product, each specification's decision for this buyer."""

from __future__ import annotations

from typing import Any

import httpx

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    buyer_client,
    decide,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    spec_id,
)
from tests.support import Api


def _by_spec(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["specification_id"]: s for p in catalog["items"] for s in p["specifications"]}


def _everything(buyer: httpx.Client, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = ok(
            buyer.get(
                "/v1/catalog", params={"limit": limit, **({"cursor": cursor} if cursor else {})}
            )
        )
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_catalog_lists_every_sellers_products_with_this_buyers_decisions(api: Api) -> None:
    north, south = new_seller(api, "North Cloud"), new_seller(api, "South Apps")
    cloud = new_product(
        api, north, "Basic", "Pro", name="CloudDB", settings={"Pro": Setting.ENTERPRISE}
    )
    suite = new_product(api, south, "Std", name="Suite", target=Target.INDIVIDUAL)
    empty = new_product(api, south, name="Empty")
    person, firm = new_account(api, "individual"), new_account(api, "enterprise")
    catalog = ok(buyer_client(api, person).get("/v1/catalog"))
    assert catalog["next_cursor"] is None
    assert [
        (p["product_id"], p["name"], p["seller_name"], p["target"]) for p in catalog["items"]
    ] == [
        (cloud.product_id, "CloudDB", "North Cloud", "all"),
        (suite.product_id, "Suite", "South Apps", "individual"),
        (empty.product_id, "Empty", "South Apps", "all"),
    ]
    assert catalog["items"][2]["specifications"] == []
    specs = _by_spec(catalog)
    pro = specs[spec_id(cloud, "Pro")]
    assert (pro["name"], pro["effective_target"], pro["purchasable"]) == (
        "Pro",
        "enterprise",
        False,
    )
    assert pro["decision"] == decide(api, person["account_id"], spec_id(cloud, "Pro"))
    assert pro["decision"]["reason"] == "not_enterprise_user"
    assert specs[spec_id(cloud, "Basic")]["purchasable"] is True
    assert specs[spec_id(suite, "Std")]["purchasable"] is True
    # Another buyer, other answers.
    firm_specs = _by_spec(ok(buyer_client(api, firm).get("/v1/catalog")))
    assert firm_specs[spec_id(cloud, "Pro")]["purchasable"] is True
    suite_for_firm = firm_specs[spec_id(suite, "Std")]
    assert suite_for_firm["purchasable"] is False
    assert suite_for_firm["decision"] == decide(api, firm["account_id"], spec_id(suite, "Std"))


def test_catalog_agrees_with_decisions_after_changes(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(api, seller, "Beta", settings={"Beta": Setting.SPECIFIED})
    buyer = buyer_client(api, person)
    beta = spec_id(product, "Beta")
    assert (
        _by_spec(ok(buyer.get("/v1/catalog")))[beta]["decision"]["reason"] == "not_specified_user"
    )
    path = f"/v1/products/{product.product_id}/specifications/{beta}/specified-users"
    body = {"account_id": person["account_id"], "account_name": person["account_name"]}
    ok(seller.http.post(path, json=body), 201)
    assert _by_spec(ok(buyer.get("/v1/catalog")))[beta]["purchasable"] is True


def test_catalog_pages_with_cursors(api: Api) -> None:
    seller = new_seller(api)
    made = [new_product(api, seller, "S", name=f"P{i}").product_id for i in range(5)]
    buyer = buyer_client(api, new_account(api))
    assert [p["product_id"] for p in _everything(buyer, 2)] == made
    assert [p["product_id"] for p in _everything(buyer, 1000)] == made
    for params in ({"limit": 0}, {"limit": 1001}, {"cursor": "!!"}):
        problem(buyer.get("/v1/catalog", params=params), 422, "invalid_request")
