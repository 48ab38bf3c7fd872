"""One normalizer for account IDs, on every endpoint that takes one.

Surrounding white space is forgiven everywhere (as it is for names); anything else that is not
32 lowercase hexadecimal characters is not an account ID: 422 `invalid_request` where an account
is named to act on (register, list, token), "not found" where one is looked up (a decision's
`account_not_found`, a path's 404).
"""

from __future__ import annotations

from urllib.parse import quote

from offerscope.domain.targets import Setting
from tests.api.helpers import (
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


def _spaced(account_id: str) -> str:
    return f"  {account_id}\t"


def test_decisions_trim_an_account_id_as_every_other_endpoint_does(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Beta", settings={"Beta": Setting.SPECIFIED})
    beta = spec_id(product, "Beta")
    list_user(api, seller, product, beta, account)
    assert decide(api, _spaced(account["account_id"]), beta)["allowed"] is True
    checks = [{"account_id": _spaced(account["account_id"]), "specification_id": beta}]
    batch = ok(api.operator.post("/v1/decisions/batch", json={"checks": checks}))
    assert batch["results"][0]["allowed"] is True
    assert batch["results"][0]["account_id"] == _spaced(account["account_id"])  # echoed as sent
    upper = decide(api, account["account_id"].upper(), beta)
    assert (upper["allowed"], upper["reason"]) == (False, "account_not_found")


def test_tokens_name_an_account_by_a_well_formed_id(api: Api) -> None:
    account = new_account(api)
    body = {"role": "buyer", "account_id": _spaced(account["account_id"])}
    ok(api.operator.post("/v1/tokens", json=body), 201)
    upper = {"role": "buyer", "account_id": account["account_id"].upper()}
    problem(api.operator.post("/v1/tokens", json=upper), 422, "invalid_request")
    unknown = {"role": "buyer", "account_id": "f" * 32}
    problem(api.operator.post("/v1/tokens", json=unknown), 422, "account_not_found")


def test_account_paths_trim_and_refuse_alike(api: Api) -> None:
    account = new_account(api)
    spaced = quote(_spaced(account["account_id"]), safe="")
    assert ok(api.operator.get(f"/v1/accounts/{spaced}"))["account_id"] == account["account_id"]
    renamed = ok(api.operator.patch(f"/v1/accounts/{spaced}", json={"account_name": "new_name"}))
    assert renamed["account_name"] == "new_name"
    upper = account["account_id"].upper()
    problem(api.operator.get(f"/v1/accounts/{upper}"), 404, "account_not_found")


def test_a_list_removal_trims_the_account_id(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Beta", settings={"Beta": Setting.SPECIFIED})
    beta = spec_id(product, "Beta")
    list_user(api, seller, product, beta, account)
    path = f"/v1/products/{product.product_id}/specifications/{beta}/specified-users"
    upper = seller.http.delete(f"{path}/{account['account_id'].upper()}")
    problem(upper, 404, "user_not_found")
    spaced = quote(_spaced(account["account_id"]), safe="")
    assert seller.http.delete(f"{path}/{spaced}").status_code == 204
