"""R15: an `Idempotency-Key` makes a write happen once, however often it is sent.

Over real HTTP on both stores: the first request with a key runs; a repeat with the same key,
method, path and body gets the stored answer with `Idempotent-Replayed: true` and changes
nothing; another method, path or body answers 422 `idempotency_key_reused`; a request still
running answers 409 `request_in_progress`; a non-2xx answer stores nothing; keys are scoped to
the caller's token.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from offerscope.domain.targets import Target
from offerscope.services import specified_users, targets
from tests.api.helpers import (
    buyer_client,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    spec_id,
)
from tests.support import Api


def _key(n: int = 1) -> dict[str, str]:
    return {"Idempotency-Key": f"key-{n}"}


def _product(seller: httpx.Client, name: str, key: dict[str, str]) -> httpx.Response:
    body = {"name": name, "specifications": [{"name": "Basic"}]}
    return seller.post("/v1/products", json=body, headers=key)


def test_r15_a_repeated_create_is_answered_again_and_creates_nothing(api: Api) -> None:
    seller = new_seller(api)
    first = _product(seller.http, "Compute", _key())
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = _product(seller.http, "Compute", _key())
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    names = [p["name"] for p in ok(seller.http.get("/v1/products"))["items"]]
    assert names == ["Compute"]
    # Without a key, the same request is simply a new one.
    assert _product(seller.http, "Compute", {}).status_code == 201


def test_r15_another_body_path_or_method_with_the_key_is_refused(api: Api) -> None:
    seller = new_seller(api)
    created = ok(_product(seller.http, "Compute", _key()), 201)
    reused = _product(seller.http, "Storage", _key())
    assert problem(reused, 422, "idempotency_key_reused")
    other_path = seller.http.post(
        f"/v1/products/{created['product_id']}/specifications", json={"name": "Pro"}, headers=_key()
    )
    problem(other_path, 422, "idempotency_key_reused")
    other_method = seller.http.put(
        f"/v1/products/{created['product_id']}/target-customers",
        json={"target": "enterprise"},
        headers=_key(),
    )
    problem(other_method, 422, "idempotency_key_reused")
    assert [p["name"] for p in ok(seller.http.get("/v1/products"))["items"]] == ["Compute"]


def test_r15_a_refused_write_stores_nothing_and_may_be_retried_with_its_key(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Basic")
    path = f"/v1/products/{product.product_id}/specified-users"
    body = {"account_id": account["account_id"], "account_name": account["account_name"]}
    problem(seller.http.post(path, json=body, headers=_key()), 409, "add_user_not_available")
    targets.set_product_target(api.db, seller.actor, product.product_id, Target.SPECIFIED)
    added = seller.http.post(path, json=body, headers=_key())
    assert added.status_code == 201 and "idempotent-replayed" not in added.headers
    assert seller.http.post(path, json=body, headers=_key()).headers["idempotent-replayed"]


def test_r15_a_repeated_delete_answers_204_again_instead_of_404(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    specified_users.add_specified_user(
        api.db,
        seller.actor,
        product.product_id,
        None,
        account["account_id"],
        account["account_name"],
    )
    path = f"/v1/products/{product.product_id}/specified-users/{account['account_id']}"
    assert seller.http.delete(path, headers=_key()).status_code == 204
    again = seller.http.delete(path, headers=_key())
    assert again.status_code == 204 and again.headers["idempotent-replayed"] == "true"
    problem(seller.http.delete(path, headers=_key(2)), 404, "user_not_found")


def test_r15_keys_are_scoped_to_the_callers_token(api: Api) -> None:
    one, two = new_seller(api, "One"), new_seller(api, "Two")
    assert _product(one.http, "Compute", _key()).status_code == 201
    theirs = _product(two.http, "Compute", _key())
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9", "tab\tkey"], ids=repr)
def test_r15_a_malformed_key_is_refused_and_nothing_runs(api: Api, key: str) -> None:
    seller = new_seller(api)
    body = {"name": "Compute", "specifications": []}
    response = seller.http.post(
        "/v1/products", json=body, headers={b"Idempotency-Key": key.encode("utf-8")}
    )
    problem(response, 422, "invalid_request")
    assert ok(seller.http.get("/v1/products"))["items"] == []


def test_r15_a_key_of_255_visible_characters_is_accepted(api: Api) -> None:
    seller = new_seller(api)
    key = {"Idempotency-Key": "~" * 200 + "!" * 55}
    assert _product(seller.http, "Compute", key).status_code == 201
    assert _product(seller.http, "Compute", key).headers["idempotent-replayed"] == "true"


def test_r15_a_double_order_places_one_order(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    buyer = buyer_client(api, new_account(api))
    body = {"specification_id": spec_id(product, "Basic")}
    first = ok(buyer.post("/v1/orders", json=body, headers=_key()), 201)
    again = buyer.post("/v1/orders", json=body, headers=_key())
    assert again.status_code == 201 and again.json() == first
    assert len(ok(buyer.get("/v1/orders"))["items"]) == 1


def _import(client: httpx.Client, path: str, rows: bytes, key: dict[str, str]) -> httpx.Response:
    return client.post(path, content=rows, headers={"Content-Type": "text/csv", **key})


def test_r15_concurrent_repeats_run_once(api: Api) -> None:
    """Sent at the same instant, a slow import with one key runs once: every other answer is
    409 request_in_progress (while it runs) or its stored answer (after)."""
    rows = b"".join(f"{n:032x},member_{n:06d},individual\n".encode() for n in range(1, 20_001))
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(base_url=api.base_url, timeout=120) as client:
            client.headers["Authorization"] = f"Bearer {api.operator_token}"
            response = _import(client, "/v1/accounts/import", rows, _key())
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = [r for r in answers if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1, [(r.status_code, r.headers.get("idempotent-replayed")) for r in answers]
    for response in answers:
        if response not in ran:
            assert response.status_code in (200, 409), response.text
            if response.status_code == 409:
                problem(response, 409, "request_in_progress")
            else:
                assert response.json() == ran[0].json()
    body: dict[str, Any] = ran[0].json()
    assert (body["imported"], body["unchanged"]) == (20_000, 0)
    again = _import(api.operator, "/v1/accounts/import", rows, _key())
    assert again.headers["idempotent-replayed"] == "true" and again.json() == body


def test_r15_a_key_is_scoped_to_the_credential_the_request_runs_as(api: Api) -> None:
    """Of an Authorization header sent twice the first counts (FastAPI authenticates with
    it): the key must be scoped to that same one, or a repeat sent with a second header
    appended would be taken for another caller's request and run again."""
    seller, other = new_seller(api), new_seller(api, "Other")
    body = {"name": "Once", "specifications": [{"name": "Basic"}]}
    own = seller.http.headers["Authorization"]
    first = ok(seller.http.post("/v1/products", json=body, headers=_key()), 201)
    headers = [
        ("Authorization", own),
        ("Authorization", other.http.headers["Authorization"]),
        ("Content-Type", "application/json"),
        ("Idempotency-Key", "key-1"),
    ]
    with httpx.Client(base_url=str(seller.http.base_url), timeout=30) as raw:
        again = raw.post(
            "/v1/products", content=httpx.Request("POST", "/", json=body).content, headers=headers
        )
    assert again.status_code == 201 and again.json() == first
    assert again.headers["idempotent-replayed"] == "true"
    assert [p["name"] for p in ok(seller.http.get("/v1/products"))["items"]] == ["Once"]
