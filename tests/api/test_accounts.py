"""The operator's endpoints: customer accounts, sellers and tokens (SPEC.md §1, §2, §4)."""

from __future__ import annotations

from offerscope.services import tokens
from offerscope.services.actors import Role
from tests.api.helpers import new_account, new_seller, ok, problem
from tests.support import Api, account_id


def test_register_account_answers_201_and_reads_back(api: Api) -> None:
    body = {
        "account_id": account_id(7),
        "account_name": "Acme_corp-1",
        "account_type": "enterprise",
    }
    assert ok(api.operator.post("/v1/accounts", json=body), 201) == body
    assert ok(api.operator.get(f"/v1/accounts/{account_id(7)}")) == body


def test_register_account_trims_surrounding_white_space(api: Api) -> None:
    body = {
        "account_id": f"  {account_id(8)} ",
        "account_name": "\tspaced_name  ",
        "account_type": "individual",
    }
    created = ok(api.operator.post("/v1/accounts", json=body), 201)
    assert created["account_id"] == account_id(8)
    assert created["account_name"] == "spaced_name"


def test_register_account_with_an_existing_id_answers_409_account_exists(api: Api) -> None:
    first = api.account("individual")
    again = {**first, "account_name": "another_name"}
    problem(api.operator.post("/v1/accounts", json=again), 409, "account_exists")
    assert ok(api.operator.get(f"/v1/accounts/{first['account_id']}")) == first


def test_register_account_with_a_taken_name_answers_409_account_name_taken(api: Api) -> None:
    first = api.account("individual")
    other = {**first, "account_id": account_id(99)}
    problem(api.operator.post("/v1/accounts", json=other), 409, "account_name_taken")
    problem(api.operator.get(f"/v1/accounts/{account_id(99)}"), 404, "account_not_found")


BAD_SHAPES: list[dict[str, str]] = [
    {"account_id": "ABCDEF" + "0" * 26},  # upper case
    {"account_id": "0" * 31},
    {"account_id": "g" * 32},
    {"account_name": "1starts_with_digit"},
    {"account_name": "short"},
    {"account_name": "x" * 33},
    {"account_name": "has space"},
    {"account_name": "dots.not.allowed"},
    {"account_type": "company"},
]


def test_register_account_refuses_bad_shapes_with_422(api: Api) -> None:
    body = {"account_id": account_id(5), "account_name": "good_name", "account_type": "individual"}
    for change in BAD_SHAPES:
        response = api.operator.post("/v1/accounts", json={**body, **change})
        assert problem(response, 422, "invalid_request")["detail"], change
    problem(api.operator.get(f"/v1/accounts/{account_id(5)}"), 404, "account_not_found")


def test_get_unknown_account_answers_404(api: Api) -> None:
    problem(api.operator.get(f"/v1/accounts/{account_id(404)}"), 404, "account_not_found")
    problem(api.operator.get("/v1/accounts/not-an-id"), 404, "account_not_found")


def test_patch_account_renames_and_changes_type(api: Api) -> None:
    account = api.account("individual")
    path = f"/v1/accounts/{account['account_id']}"
    renamed = ok(api.operator.patch(path, json={"account_name": "renamed_acct"}))
    assert renamed == {**account, "account_name": "renamed_acct"}
    retyped = ok(api.operator.patch(path, json={"account_type": "enterprise"}))
    assert retyped == {**account, "account_name": "renamed_acct", "account_type": "enterprise"}
    assert ok(api.operator.get(path)) == retyped
    # An empty patch changes nothing.
    assert ok(api.operator.patch(path, json={})) == retyped
    # Renaming to its own name is not a clash with itself.
    assert ok(api.operator.patch(path, json={"account_name": "renamed_acct"})) == retyped


def test_patch_account_to_a_taken_name_answers_409(api: Api) -> None:
    first, second = api.account(), api.account()
    path = f"/v1/accounts/{second['account_id']}"
    body = {"account_name": first["account_name"], "account_type": "enterprise"}
    problem(api.operator.patch(path, json=body), 409, "account_name_taken")
    assert ok(api.operator.get(path)) == second  # neither field changed


def test_patch_unknown_account_answers_404(api: Api) -> None:
    path = f"/v1/accounts/{account_id(404)}"
    problem(api.operator.patch(path, json={"account_type": "enterprise"}), 404, "account_not_found")


def test_patch_account_refuses_a_bad_name_or_type(api: Api) -> None:
    account = api.account()
    path = f"/v1/accounts/{account['account_id']}"
    problem(api.operator.patch(path, json={"account_name": "no"}), 422, "invalid_request")
    problem(api.operator.patch(path, json={"account_type": "robot"}), 422, "invalid_request")
    problem(api.operator.patch(path, json={"account_id": account_id(3)}), 422, "invalid_request")
    assert ok(api.operator.get(path)) == account


def test_create_seller_keeps_the_name_exactly_as_sent(api: Api) -> None:
    for name in ["Northwind", "  spaced  ", "云市场 Ünïcødé ✓", "x" * 100, "a"]:
        seller = ok(api.operator.post("/v1/sellers", json={"name": name}), 201)
        assert seller["name"] == name
        assert seller["seller_id"]
        # The new seller can be given a token, and then owns an empty catalogue.
        body = {"role": "seller", "seller_id": seller["seller_id"]}
        token = ok(api.operator.post("/v1/tokens", json=body), 201)["token"]
        assert ok(api.client(token).get("/v1/products")) == {"items": [], "next_cursor": None}


def test_create_seller_refuses_bad_names(api: Api) -> None:
    for name in ["", "x" * 101, "line\nbreak", "tab\there", "nul\x00"]:
        problem(api.operator.post("/v1/sellers", json={"name": name}), 422, "invalid_request")


def test_sellers_get_distinct_ids(api: Api) -> None:
    ids = {
        ok(api.operator.post("/v1/sellers", json={"name": "Same"}), 201)["seller_id"] for _ in "ab"
    }
    assert len(ids) == 2


def test_operator_token_is_usable_and_opaque(api: Api) -> None:
    token = ok(api.operator.post("/v1/tokens", json={"role": "operator"}), 201)["token"]
    assert len(token) >= 22  # at least 128 bits of randomness, however encoded
    actor = tokens.authenticate(api.db, token)
    assert actor is not None and actor.role is Role.OPERATOR
    account = api.account()
    assert ok(api.client(token).get(f"/v1/accounts/{account['account_id']}")) == account


def test_seller_token_speaks_for_its_seller(api: Api) -> None:
    seller = new_seller(api)
    body = {"role": "seller", "seller_id": seller.seller_id}
    token = ok(api.operator.post("/v1/tokens", json=body), 201)["token"]
    actor = tokens.authenticate(api.db, token)
    assert actor is not None and actor.role is Role.SELLER
    assert actor.seller_id == seller.seller_id
    created = ok(api.client(token).post("/v1/products", json={"name": "Mine"}), 201)
    assert [p["product_id"] for p in ok(seller.http.get("/v1/products"))["items"]] == [
        created["product_id"]
    ]


def test_buyer_token_speaks_for_its_account(api: Api) -> None:
    account = new_account(api, "enterprise")
    body = {"role": "buyer", "account_id": account["account_id"]}
    token = ok(api.operator.post("/v1/tokens", json=body), 201)["token"]
    actor = tokens.authenticate(api.db, token)
    assert actor is not None and actor.role is Role.BUYER
    assert actor.account_id == account["account_id"]
    assert ok(api.client(token).get("/v1/orders")) == {"items": [], "next_cursor": None}


def test_every_token_is_new(api: Api) -> None:
    tokens = {
        ok(api.operator.post("/v1/tokens", json={"role": "operator"}), 201)["token"] for _ in "abc"
    }
    assert len(tokens) == 3


TOKEN_REFUSALS: list[tuple[dict[str, str], str]] = [
    ({"role": "seller"}, "invalid_request"),
    ({"role": "seller", "seller_id": "slr_0000000000000000"}, "seller_not_found"),
    ({"role": "buyer"}, "invalid_request"),
    ({"role": "buyer", "account_id": "0" * 32}, "account_not_found"),
    ({"role": "operator", "seller_id": "slr_0000000000000000"}, "invalid_request"),
    ({"role": "operator", "account_id": "0" * 32}, "invalid_request"),
    ({"role": "admin"}, "invalid_request"),
    ({}, "invalid_request"),
]


def test_token_requests_that_name_nobody_answer_422(api: Api) -> None:
    for body, code in TOKEN_REFUSALS:
        problem(api.operator.post("/v1/tokens", json=body), 422, code)


ODD_TYPES = ["Enterprise", "ENTERPRISE", " enterprise", "enterprise ", "entreprise", ""]


def test_json_and_csv_judge_an_account_type_alike(api: Api) -> None:
    """One validator for both paths: exactly `enterprise` or `individual`, nothing else."""
    csv = {"Content-Type": "text/csv"}
    existing = api.account("individual")["account_id"]
    for n, odd in enumerate(ODD_TYPES):
        body = {"account_id": account_id(900 + n), "account_name": f"odd_{n:04d}"}
        refused = api.operator.post("/v1/accounts", json={**body, "account_type": odd})
        problem(refused, 422, "invalid_request")
        row = f"{body['account_id']},{body['account_name']},{odd}\n"
        imported = api.operator.post("/v1/accounts/import", content=row.encode(), headers=csv)
        rejected = problem(imported, 422, "import_rejected")
        assert rejected["errors"][0]["code"] == "invalid_request", odd
        patched = api.operator.patch(f"/v1/accounts/{existing}", json={"account_type": odd})
        problem(patched, 422, "invalid_request")
    row = f"{account_id(990)},fine_name,enterprise\n"
    ok(api.operator.post("/v1/accounts/import", content=row.encode(), headers=csv))
    assert ok(api.operator.get(f"/v1/accounts/{account_id(990)}"))["account_type"] == "enterprise"
