"""R13 over HTTP: every change recorded with who, when, what, before and after; newest first;
append-only; per product."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from offerscope.domain.targets import Setting
from tests.api.helpers import new_account, new_product, new_seller, ok, problem, spec_id
from tests.support import Api


def _history(seller: httpx.Client, product_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(seller.get(f"/v1/products/{product_id}/history", params=params))
    return body


def _summary(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["action"], e["specification_id"], e["subject"], e["before"], e["after"]) for e in items
    ]


def test_r13_every_change_newest_first_with_before_and_after(api: Api) -> None:
    seller = new_seller(api)
    alice = new_account(api)
    other = new_product(api, seller, name="Other")
    product = ok(
        seller.http.post("/v1/products", json={"name": "P", "specifications": [{"name": "S"}]}), 201
    )
    pid, sid = product["product_id"], product["specifications"][0]["specification_id"]
    base = f"/v1/products/{pid}"
    spec = f"{base}/specifications/{sid}"
    user = {"account_id": alice["account_id"], "account_name": alice["account_name"]}
    ok(seller.http.put(f"{spec}/target-customers", json={"target": "specified"}))
    ok(seller.http.post(f"{spec}/specified-users", json=user), 201)
    assert seller.http.delete(f"{spec}/specified-users/{alice['account_id']}").status_code == 204
    ok(
        seller.http.put(
            f"{base}/target-customers",
            json={"target": "specified", "reset_conflicting_specifications": True},
        )
    )
    ok(seller.http.post(f"{base}/specified-users", json=user), 201)
    assert seller.http.delete(f"{base}/specified-users/{alice['account_id']}").status_code == 204
    ok(seller.http.put(f"{base}/target-customers", json={"target": "associated"}))
    ok(
        seller.http.post(f"{base}/associated-products", json={"product_ids": [other.product_id]}),
        201,
    )
    assert seller.http.delete(f"{base}/associated-products/{other.product_id}").status_code == 204
    body = _history(seller.http, pid)
    assert body["next_cursor"] is None
    assert _summary(body["items"]) == [
        ("association_removed", None, other.product_id, None, None),
        ("association_added", None, other.product_id, None, None),
        ("product_target_set", None, None, "specified", "associated"),
        ("specified_user_removed", None, alice["account_id"], alice["account_name"], None),
        ("specified_user_added", None, alice["account_id"], None, alice["account_name"]),
        ("product_target_set", None, None, "all", "specified"),
        ("specification_target_reset", sid, None, "specified", "same_as_product"),
        ("specified_user_removed", sid, alice["account_id"], alice["account_name"], None),
        ("specified_user_added", sid, alice["account_id"], None, alice["account_name"]),
        ("specification_target_set", sid, None, "same_as_product", "specified"),
        ("product_created", None, None, None, "all"),
    ]
    assert {e["actor"] for e in body["items"]} == {f"seller:{seller.seller_id}"}
    moments = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in body["items"]]
    assert all(m.tzinfo is not None for m in moments)
    assert moments == sorted(moments, reverse=True)
    # The other product's history is its own.
    assert _summary(_history(seller.http, other.product_id)["items"]) == [
        ("product_created", None, None, None, "all")
    ]


def test_r13_refused_changes_are_not_recorded(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "S", settings={"S": Setting.ENTERPRISE})
    base = f"/v1/products/{product.product_id}"
    before = _history(seller.http, product.product_id)
    problem(
        seller.http.put(f"{base}/target-customers", json={"target": "individual"}),
        409,
        "conflicting_specifications",
    )
    spec = f"{base}/specifications/{spec_id(product, 'S')}/target-customers"
    problem(seller.http.put(spec, json={"target": "everyone"}), 422, "invalid_request")
    assert _history(seller.http, product.product_id) == before


def test_r13_history_is_append_only_and_pages_newest_first(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "S")
    path = f"/v1/products/{product.product_id}/target-customers"
    for target in ("enterprise", "individual", "all", "enterprise"):
        ok(seller.http.put(path, json={"target": target}))
    earlier = _history(seller.http, product.product_id)["items"]
    ok(seller.http.put(path, json={"target": "all"}))
    later = _history(seller.http, product.product_id)["items"]
    assert later[1:] == earlier  # older entries untouched, the new one on top
    assert (later[0]["before"], later[0]["after"]) == ("enterprise", "all")
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = _history(
            seller.http, product.product_id, limit=2, **({"cursor": cursor} if cursor else {})
        )
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == later and len(later) == 6


def test_r13_unknown_product_and_bad_paging(api: Api) -> None:
    seller = new_seller(api)
    problem(seller.http.get("/v1/products/prd_0000000000000000/history"), 404, "product_not_found")
    product = new_product(api, seller)
    path = f"/v1/products/{product.product_id}/history"
    for params in ({"limit": 0}, {"limit": 5000}, {"cursor": "WzFd"}):  # "[1]"
        problem(seller.http.get(path, params=params), 422, "invalid_request")
