"""Specified-user lists over HTTP: R5 (adding, matching, keeping), R6 (type fit), paging, search."""

from __future__ import annotations

from typing import Any

from offerscope.domain.targets import Setting, Target
from offerscope.services.views import ProductView
from tests.api.helpers import (
    SellerCtx,
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


def _entry(account: dict[str, Any]) -> dict[str, str]:
    return {"account_id": account["account_id"], "account_name": account["account_name"]}


def test_r5_add_only_while_the_product_is_specified(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Spec")
    path = f"/v1/products/{product.product_id}/specified-users"
    for target in ("all", "enterprise", "individual", "associated"):
        ok(
            seller.http.put(
                f"/v1/products/{product.product_id}/target-customers", json={"target": target}
            )
        )
        problem(seller.http.post(path, json=_entry(account)), 409, "add_user_not_available")
    assert ok(seller.http.get(path))["items"] == []
    ok(
        seller.http.put(
            f"/v1/products/{product.product_id}/target-customers", json={"target": "specified"}
        )
    )
    added = ok(seller.http.post(path, json=_entry(account)), 201)
    assert added["account_id"] == account["account_id"]
    assert added["account_name"] == added["current_account_name"] == account["account_name"]
    assert added["account_type"] == account["account_type"]


def test_r5_specification_list_opens_only_under_its_own_specified_setting(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Spec", target=Target.SPECIFIED)
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specifications/{spec}/specified-users"
    # The product is specified, but the specification follows it: its own list is closed.
    problem(seller.http.post(path, json=_entry(account)), 409, "add_user_not_available")
    product = new_product(api, seller, "Spec", settings={"Spec": Setting.SPECIFIED})
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specifications/{spec}/specified-users"
    ok(seller.http.post(path, json=_entry(account)), 201)
    assert [u["account_id"] for u in ok(seller.http.get(path))["items"]] == [account["account_id"]]


def test_r5_re_adding_changes_nothing_and_answers_200(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    first = ok(seller.http.post(path, json=_entry(account)), 201)
    spaced = {
        "account_id": f" {account['account_id']} ",
        "account_name": f"{account['account_name']}\t",
    }
    assert ok(seller.http.post(path, json=spaced), 200) == first
    assert ok(seller.http.get(path))["items"] == [first]
    history = ok(seller.http.get(f"/v1/products/{product.product_id}/history"))["items"]
    assert [e["action"] for e in history].count("specified_user_added") == 1


def test_r5_name_and_id_must_belong_to_one_registered_account(api: Api) -> None:
    seller = new_seller(api)
    alice, bob = new_account(api), new_account(api)
    product = new_product(api, seller, target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    unknown_id, unknown_name = "f" * 32, "nobody_here"
    cases = [
        ({"account_id": unknown_id, "account_name": unknown_name}, "account_not_found"),
        (
            {"account_id": alice["account_id"], "account_name": bob["account_name"]},
            "account_mismatch",
        ),
        ({"account_id": alice["account_id"], "account_name": unknown_name}, "account_mismatch"),
        # An unknown ID is not found, whatever name comes with it.
        ({"account_id": unknown_id, "account_name": alice["account_name"]}, "account_not_found"),
        (
            {"account_id": alice["account_id"], "account_name": alice["account_name"].upper()},
            "account_mismatch",
        ),
    ]
    for body, code in cases:
        problem(seller.http.post(path, json=body), 422, code)
    for body in (
        {"account_id": "XYZ", "account_name": alice["account_name"]},
        {"account_id": alice["account_id"]},
    ):
        problem(seller.http.post(path, json=body), 422, "invalid_request")
    assert ok(seller.http.get(path))["items"] == []


def test_r5_remove_then_remove_again_answers_404(api: Api) -> None:
    seller = new_seller(api)
    alice, bob = new_account(api), new_account(api)
    product = new_product(api, seller, "Spec", target=Target.SPECIFIED)
    for account in (alice, bob):
        list_user(api, seller, product, None, account)
    path = f"/v1/products/{product.product_id}/specified-users"
    removed = seller.http.delete(f"{path}/{alice['account_id']}")
    assert removed.status_code == 204 and removed.content == b""
    assert [u["account_id"] for u in ok(seller.http.get(path))["items"]] == [bob["account_id"]]
    problem(seller.http.delete(f"{path}/{alice['account_id']}"), 404, "user_not_found")
    problem(seller.http.delete(f"{path}/{'0' * 32}"), 404, "user_not_found")
    problem(seller.http.delete(f"{path}/not-an-id"), 404, "user_not_found")
    assert decide(api, alice["account_id"], product.specifications[0].specification_id)[
        "reason"
    ] == ("not_specified_user")


def _beta_list(api: Api) -> tuple[SellerCtx, ProductView, str, str]:
    """A product whose Beta specification sells to its own specified users (Basic follows the
    product): the seller, the product, Beta's ID and the path of Beta's list."""
    seller = new_seller(api)
    product = new_product(api, seller, "Beta", "Basic", settings={"Beta": Setting.SPECIFIED})
    beta = spec_id(product, "Beta")
    return (
        seller,
        product,
        beta,
        f"/v1/products/{product.product_id}/specifications/{beta}/specified-users",
    )


def test_r5_an_account_added_to_a_specification_list_may_buy_it(api: Api) -> None:
    seller, _product, beta, path = _beta_list(api)
    alice = new_account(api)
    ok(seller.http.post(path, json=_entry(alice)), 201)
    assert decide(api, alice["account_id"], beta)["allowed"] is True


def test_r5_a_specification_list_is_not_its_products_list(api: Api) -> None:
    seller, product, _beta, path = _beta_list(api)
    ok(seller.http.post(path, json=_entry(new_account(api))), 201)
    assert ok(seller.http.get(f"/v1/products/{product.product_id}/specified-users"))["items"] == []


def test_r5_a_removed_account_may_no_longer_buy_and_a_second_removal_is_404(api: Api) -> None:
    seller, _product, beta, path = _beta_list(api)
    alice = new_account(api)
    ok(seller.http.post(path, json=_entry(alice)), 201)
    assert seller.http.delete(f"{path}/{alice['account_id']}").status_code == 204
    assert decide(api, alice["account_id"], beta)["reason"] == "not_specified_user"
    problem(seller.http.delete(f"{path}/{alice['account_id']}"), 404, "user_not_found")


def test_r5_a_specification_not_set_to_specified_users_takes_nobody(api: Api) -> None:
    seller, product, _beta, _path = _beta_list(api)
    basic = spec_id(product, "Basic")
    other = f"/v1/products/{product.product_id}/specifications/{basic}/specified-users"
    problem(seller.http.post(other, json=_entry(new_account(api))), 409, "add_user_not_available")


def test_r9_the_list_of_an_unknown_specification_is_404(api: Api) -> None:
    seller, product, _beta, _path = _beta_list(api)
    alice = new_account(api)
    missing = (
        f"/v1/products/{product.product_id}/specifications/spc_0000000000000000/specified-users"
    )
    problem(seller.http.get(missing), 404, "specification_not_found")
    problem(seller.http.post(missing, json=_entry(alice)), 404, "specification_not_found")
    problem(seller.http.delete(f"{missing}/{alice['account_id']}"), 404, "specification_not_found")


def test_r6_typed_product_lists_only_accounts_of_its_type(api: Api) -> None:
    seller = new_seller(api)
    firm, person = new_account(api, "enterprise"), new_account(api, "individual")
    for target, fits, misfits in (("enterprise", firm, person), ("individual", person, firm)):
        product = new_product(
            api, seller, "Spec", target=Target(target), settings={"Spec": Setting.SPECIFIED}
        )
        spec = product.specifications[0].specification_id
        path = f"/v1/products/{product.product_id}/specifications/{spec}/specified-users"
        body = problem(
            seller.http.post(path, json=_entry(misfits)), 422, "account_type_not_allowed"
        )
        assert target in body["detail"].lower()
        ok(seller.http.post(path, json=_entry(fits)), 201)
        assert [u["account_id"] for u in ok(seller.http.get(path))["items"]] == [fits["account_id"]]
    # Under a product sold to all users, any type may be listed.
    product = new_product(api, seller, "Spec", settings={"Spec": Setting.SPECIFIED})
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specifications/{spec}/specified-users"
    for account in (firm, person):
        ok(seller.http.post(path, json=_entry(account)), 201)


def test_r6_an_account_whose_type_changes_is_judged_by_its_current_type(api: Api) -> None:
    seller = new_seller(api)
    firm = new_account(api, "enterprise")
    product = new_product(
        api, seller, "Gold", target=Target.ENTERPRISE, settings={"Gold": Setting.SPECIFIED}
    )
    gold = product.specifications[0].specification_id
    list_user(api, seller, product, gold, firm)
    assert decide(api, firm["account_id"], gold) == {
        "allowed": True,
        "reason": "allowed",
        "level": "specification",
        "message": "This account may buy this specification.",
    }
    ok(
        api.operator.patch(
            f"/v1/accounts/{firm['account_id']}", json={"account_type": "individual"}
        )
    )
    refused = decide(api, firm["account_id"], gold)
    assert (refused["allowed"], refused["reason"], refused["level"]) == (
        False,
        "not_enterprise_user",
        "product",
    )
    # Still on the list, shown with its new type.
    path = f"/v1/products/{product.product_id}/specifications/{gold}/specified-users"
    assert ok(seller.http.get(path))["items"][0]["account_type"] == "individual"


def test_r5_list_pages_with_cursors(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, target=Target.SPECIFIED)
    accounts = [new_account(api) for _ in range(7)]
    for account in accounts:
        list_user(api, seller, product, None, account)
    path = f"/v1/products/{product.product_id}/specified-users"
    seen: list[str] = []
    cursor: str | None = None
    sizes = []
    while True:
        page = ok(
            seller.http.get(path, params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        )
        assert page["active"] is True
        sizes.append(len(page["items"]))
        seen += [u["account_id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == [a["account_id"] for a in accounts]
    whole = ok(seller.http.get(path))
    assert whole["next_cursor"] is None and len(whole["items"]) == 7
    exact = ok(seller.http.get(path, params={"limit": 7}))
    assert exact["next_cursor"] is None
    for params in ({"limit": 0}, {"limit": 1001}, {"cursor": "bm90IGEgbnVtYmVy"}):
        problem(seller.http.get(path, params=params), 422, "invalid_request")


def test_r5_list_search_by_id_current_name_or_entered_name(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, target=Target.SPECIFIED)
    alice, bob, carol = (new_account(api) for _ in range(3))
    for account in (alice, bob, carol):
        list_user(api, seller, product, None, account)
    ok(
        api.operator.patch(
            f"/v1/accounts/{bob['account_id']}", json={"account_name": "bob_renamed"}
        )
    )
    path = f"/v1/products/{product.product_id}/specified-users"

    def found(q: str) -> list[str]:
        return [u["account_id"] for u in ok(seller.http.get(path, params={"q": q}))["items"]]

    assert found(alice["account_id"]) == [alice["account_id"]]
    assert found(alice["account_id"].upper()) == [alice["account_id"]]
    assert found(f"  {carol['account_name']} ") == [carol["account_id"]]
    assert found("bob_renamed") == [bob["account_id"]]  # current name
    assert found(bob["account_name"]) == [bob["account_id"]]  # name entered on the list
    assert found("nobody_at_all") == []
    assert len(found("")) == 3


def test_list_search_by_start_or_part_of_names_and_ids_in_any_case(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, target=Target.SPECIFIED)
    alice = new_account(api, name="alice_wang")
    bob = new_account(api, name="bob_li")
    malice = new_account(api, name="Malice_9")
    for account in (alice, bob, malice):
        list_user(api, seller, product, None, account)
    path = f"/v1/products/{product.product_id}/specified-users"

    def found(q: str) -> list[str]:
        """Every match, following the cursors."""
        names, params = [], {"q": q}
        while True:
            page = ok(seller.http.get(path, params=params))
            names += [u["account_name"] for u in page["items"]]
            if page["next_cursor"] is None:
                return names
            params = {"q": q, "cursor": page["next_cursor"]}

    assert found("bob") == ["bob_li"]  # the start of a name
    assert found("ALICE_WANG") == ["alice_wang"]  # any case
    assert found(bob["account_id"][:-6]) == ["alice_wang", "bob_li", "Malice_9"]  # ID start
    assert found("_li") == ["bob_li"]  # a part, where nothing starts with it
    # Names that start with the search come first, on a page of their own (found through an
    # index, fast on any list); those that merely contain it follow on the next page.
    first = ok(seller.http.get(path, params={"q": "alice"}))
    assert [u["account_name"] for u in first["items"]] == ["alice_wang"]
    assert found("alice") == ["alice_wang", "Malice_9"]
    assert found("%") == [] and found("_") == ["alice_wang", "bob_li", "Malice_9"]


def test_r5_current_and_entered_name_after_a_rename(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Spec", target=Target.SPECIFIED)
    account = new_account(api, name="old_name_1")
    path = f"/v1/products/{product.product_id}/specified-users"
    ok(seller.http.post(path, json=_entry(account)), 201)
    ok(
        api.operator.patch(
            f"/v1/accounts/{account['account_id']}", json={"account_name": "new_name_1"}
        )
    )
    [entry] = ok(seller.http.get(path))["items"]
    assert (entry["account_name"], entry["current_account_name"]) == ("old_name_1", "new_name_1")
    # The old name no longer belongs to the account: adding by it is a mismatch.
    problem(seller.http.post(path, json=_entry(account)), 422, "account_mismatch")
    # By the new name it is already on the list.
    again = {"account_id": account["account_id"], "account_name": "new_name_1"}
    assert ok(seller.http.post(path, json=again), 200)["account_name"] == "old_name_1"
    # Lists are keyed by ID: the renamed account is still admitted.
    assert decide(api, account["account_id"], product.specifications[0].specification_id)["allowed"]


def test_r5_inactive_list_is_kept_and_counts_again_on_return(api: Api) -> None:
    seller = new_seller(api)
    alice, bob = new_account(api), new_account(api)
    product = new_product(api, seller, "Beta", settings={"Beta": Setting.SPECIFIED})
    beta = product.specifications[0].specification_id
    list_user(api, seller, product, beta, alice)
    spec_path = f"/v1/products/{product.product_id}/specifications/{beta}"
    users = f"{spec_path}/specified-users"
    ok(seller.http.put(f"{spec_path}/target-customers", json={"target": "enterprise"}))
    inactive = ok(seller.http.get(users))
    assert inactive["active"] is False
    assert [u["account_id"] for u in inactive["items"]] == [alice["account_id"]]
    assert decide(api, alice["account_id"], beta)["reason"] == "not_enterprise_user"
    ok(seller.http.put(f"{spec_path}/target-customers", json={"target": "specified"}))
    assert ok(seller.http.get(users))["active"] is True
    assert decide(api, alice["account_id"], beta)["allowed"] is True
    assert decide(api, bob["account_id"], beta)["reason"] == "not_specified_user"
    # Same for a product's list across an R4 reset of the product's target.
    product_users = f"/v1/products/{product.product_id}/specified-users"
    ok(
        seller.http.put(
            f"/v1/products/{product.product_id}/target-customers",
            json={"target": "specified", "reset_conflicting_specifications": True},
        )
    )
    ok(seller.http.post(product_users, json=_entry(bob)), 201)
    ok(
        seller.http.put(
            f"/v1/products/{product.product_id}/target-customers", json={"target": "all"}
        )
    )
    kept = ok(seller.http.get(product_users))
    assert kept["active"] is False and [u["account_id"] for u in kept["items"]] == [
        bob["account_id"]
    ]
    # The specification's list went inactive with the reset, but is still there.
    assert [u["account_id"] for u in ok(seller.http.get(users))["items"]] == [alice["account_id"]]
