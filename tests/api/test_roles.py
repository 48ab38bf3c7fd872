"""Who may call what (SPEC.md §1, §4): 401 without a valid token, 403 for the wrong role, and
R9: another seller's product or specification answers 404 exactly as a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    buyer_client,
    list_user,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    spec_id,
)
from tests.support import Api


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    role: str  # the one role it serves
    body: Any = None
    served: int = 200  # what the role it serves gets, called in this list's order


def _endpoints(ids: dict[str, str]) -> list[Endpoint]:
    """Every endpoint of SPEC.md §4 (but /healthz), with IDs that exist."""
    p, s, o = ids["product"], ids["spec"], ids["other_product"]
    product, spec = f"/v1/products/{p}", f"/v1/products/{p}/specifications/{s}"
    account = ids["account"]
    user = {"account_id": account, "account_name": ids["account_name"]}
    return [
        Endpoint(
            "POST",
            "/v1/accounts",
            "operator",
            {"account_id": "e" * 32, "account_name": "new_acct", "account_type": "individual"},
            201,
        ),
        Endpoint("GET", f"/v1/accounts/{account}", "operator"),
        Endpoint("PATCH", f"/v1/accounts/{account}", "operator", {}),
        Endpoint("POST", "/v1/sellers", "operator", {"name": "S"}, 201),
        Endpoint("POST", "/v1/tokens", "operator", {"role": "operator"}, 201),
        Endpoint("POST", f"/v1/orders/{ids['order']}/refund", "operator"),
        Endpoint(
            "POST", "/v1/decisions", "operator", {"account_id": account, "specification_id": s}
        ),
        Endpoint("POST", "/v1/decisions/batch", "operator", {"checks": []}),
        Endpoint("GET", "/metrics", "operator"),
        Endpoint("POST", "/v1/products", "seller", {"name": "N"}, 201),
        Endpoint("GET", "/v1/products", "seller"),
        Endpoint("GET", product, "seller"),
        Endpoint("POST", f"{product}/specifications", "seller", {"name": "N"}, 201),
        Endpoint("GET", f"{product}/target-customers", "seller"),
        Endpoint("PUT", f"{product}/target-customers", "seller", {"target": "all"}),
        Endpoint("PUT", f"{spec}/target-customers", "seller", {"target": "specified"}),
        Endpoint("GET", f"{product}/specified-users", "seller"),
        # R5: the product sells to all users now, so its list takes nobody new.
        Endpoint("POST", f"{product}/specified-users", "seller", user, 409),
        Endpoint("DELETE", f"{product}/specified-users/{account}", "seller", served=204),
        Endpoint("GET", f"{spec}/specified-users", "seller"),
        Endpoint("POST", f"{spec}/specified-users", "seller", user, 201),
        Endpoint("DELETE", f"{spec}/specified-users/{account}", "seller", served=204),
        Endpoint("GET", f"{product}/associated-products", "seller"),
        # R7, R8: neither owner is set to associated product buyers, so nothing is associated.
        Endpoint("POST", f"{product}/associated-products", "seller", {"product_ids": [o]}, 409),
        Endpoint("DELETE", f"{product}/associated-products/{o}", "seller", served=404),
        Endpoint("GET", f"{spec}/associated-specifications", "seller"),
        Endpoint(
            "POST",
            f"{spec}/associated-specifications",
            "seller",
            {"specification_ids": [ids["sibling_spec"]]},
            409,
        ),
        Endpoint(
            "DELETE", f"{spec}/associated-specifications/{ids['sibling_spec']}", "seller", None, 404
        ),
        Endpoint("GET", f"{product}/history", "seller"),
        Endpoint("GET", "/v1/catalog", "buyer"),
        Endpoint("POST", "/v1/orders", "buyer", {"specification_id": ids["open_spec"]}, 201),
        Endpoint("GET", "/v1/orders", "buyer"),
    ]


def _call(client: httpx.Client, endpoint: Endpoint) -> httpx.Response:
    return client.request(endpoint.method, endpoint.path, json=endpoint.body)


def _world(api: Api) -> tuple[dict[str, str], dict[str, httpx.Client]]:
    seller = new_seller(api)
    account = new_account(api, "individual")
    product = new_product(api, seller, "Spec", "Sibling", target=Target.SPECIFIED)
    other = new_product(api, seller, "Open", name="Other")
    list_user(api, seller, product, None, account)
    buyer = buyer_client(api, account)
    order = ok(buyer.post("/v1/orders", json={"specification_id": spec_id(other, "Open")}), 201)
    ids = {
        "product": product.product_id,
        "spec": spec_id(product, "Spec"),
        "sibling_spec": spec_id(product, "Sibling"),
        "other_product": other.product_id,
        "open_spec": spec_id(other, "Open"),
        "account": account["account_id"],
        "account_name": account["account_name"],
        "order": order["order_id"],
    }
    return ids, {"operator": api.operator, "seller": seller.http, "buyer": buyer}


def test_no_token_or_an_unknown_one_answers_401_everywhere(api: Api) -> None:
    ids, _ = _world(api)
    anonymous = api.client()
    strangers = [
        anonymous,
        api.client("osk_" + "A" * 43),
        api.client("not-even-our-prefix"),
        api.client("osk_" + "x" * 400),
    ]
    malformed = [
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": ""},
    ]
    for endpoint in _endpoints(ids):
        for client in strangers:
            response = _call(client, endpoint)
            problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"] == "Bearer", endpoint
        for headers in malformed:
            response = anonymous.request(
                endpoint.method, endpoint.path, json=endpoint.body, headers=headers
            )
            problem(response, 401, "unauthenticated")


def test_a_valid_token_of_another_role_answers_403(api: Api) -> None:
    ids, clients = _world(api)
    for endpoint in _endpoints(ids):
        for role, client in clients.items():
            if role == endpoint.role:
                continue
            body = problem(_call(client, endpoint), 403, "forbidden")
            assert endpoint.role in body["detail"], endpoint


def test_the_right_role_is_served(api: Api) -> None:
    """Each endpoint answers its own role exactly as the rules say at that point of the list:
    the success, or the rule an earlier call's change now applies (never a 401 or 403)."""
    ids, clients = _world(api)
    for endpoint in _endpoints(ids):
        response = _call(clients[endpoint.role], endpoint)
        assert response.status_code == endpoint.served, (endpoint, response.text)


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def _seller_paths(product_id: str, spec: str, other_id: str) -> list[tuple[str, str, Any]]:
    product = f"/v1/products/{product_id}"
    spec_path = f"{product}/specifications/{spec}"
    user = {"account_id": "a" * 32, "account_name": "someone"}
    return [
        ("GET", product, None),
        ("POST", f"{product}/specifications", {"name": "N"}),
        ("GET", f"{product}/target-customers", None),
        ("PUT", f"{product}/target-customers", {"target": "all"}),
        ("PUT", f"{spec_path}/target-customers", {"target": "all"}),
        ("GET", f"{product}/specified-users", None),
        ("POST", f"{product}/specified-users", user),
        ("DELETE", f"{product}/specified-users/{'a' * 32}", None),
        ("GET", f"{spec_path}/specified-users", None),
        ("POST", f"{spec_path}/specified-users", user),
        ("DELETE", f"{spec_path}/specified-users/{'a' * 32}", None),
        ("GET", f"{product}/associated-products", None),
        ("POST", f"{product}/associated-products", {"product_ids": [other_id]}),
        ("DELETE", f"{product}/associated-products/{other_id}", None),
        ("GET", f"{spec_path}/associated-specifications", None),
        ("POST", f"{spec_path}/associated-specifications", {"specification_ids": [spec]}),
        ("DELETE", f"{spec_path}/associated-specifications/{spec}", None),
        ("GET", f"{product}/history", None),
    ]


@pytest.mark.parametrize("kind", ["product", "specification"])
def test_r9_another_sellers_ids_answer_404_exactly_as_missing_ones(api: Api, kind: str) -> None:
    owner, intruder = new_seller(api, "Owner"), new_seller(api, "Intruder")
    theirs = new_product(api, owner, "Theirs", target=Target.ASSOCIATED)
    mine = new_product(api, intruder, "Mine", settings={"Mine": Setting.ASSOCIATED})
    before = ok(owner.http.get(f"/v1/products/{theirs.product_id}/history"))
    if kind == "product":
        # Another seller's product, next to a product ID that does not exist at all.
        foreign = _seller_paths(theirs.product_id, spec_id(theirs, "Theirs"), mine.product_id)
        missing = _seller_paths("prd_0000000000000000", "spc_0000000000000000", mine.product_id)
        code, id_key = "product_not_found", "product_id"
    else:
        # The intruder's own product, with the other seller's specification in the path.
        foreign = _seller_paths(mine.product_id, spec_id(theirs, "Theirs"), mine.product_id)
        missing = _seller_paths(mine.product_id, "spc_0000000000000000", mine.product_id)
        foreign = [call for call in foreign if "/specifications/" in call[1]]
        missing = [call for call in missing if "/specifications/" in call[1]]
        code, id_key = "specification_not_found", "specification_id"
    for (method, path, body), (m_method, m_path, m_body) in zip(foreign, missing, strict=True):
        seen = problem(intruder.http.request(method, path, json=body), 404, code)
        expected = problem(intruder.http.request(m_method, m_path, json=m_body), 404, code)
        assert _without(seen, id_key) == _without(expected, id_key), path
        assert "Owner" not in str(seen) and "Theirs" not in str(seen)
    # Nothing of the owner's changed.
    assert ok(owner.http.get(f"/v1/products/{theirs.product_id}/history")) == before
    listed = ok(intruder.http.get("/v1/products"))["items"]
    assert [p["product_id"] for p in listed] == [mine.product_id]
