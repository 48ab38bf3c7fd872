"""Target customers over HTTP: R1, R2 (allowed settings), R4 (conflicts, reset), If-Match."""

from __future__ import annotations

from typing import Any

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import SellerCtx, new_product, new_seller, ok, problem, spec_id
from tests.support import Api

ALL_SETTINGS = ["same_as_product", "all", "enterprise", "individual", "specified", "associated"]
ALL_TARGETS = ["all", "enterprise", "individual", "specified", "associated"]

# SPEC.md R2, written out independently of the domain's table.
ALLOWED = {
    "all": ALL_SETTINGS,
    "enterprise": ["same_as_product", "enterprise", "specified", "associated"],
    "individual": ["same_as_product", "individual", "specified", "associated"],
    "specified": ["same_as_product"],
    "associated": ["same_as_product"],
}


def _paths(product_id: str, specification_id: str) -> tuple[str, str]:
    product = f"/v1/products/{product_id}/target-customers"
    spec = f"/v1/products/{product_id}/specifications/{specification_id}/target-customers"
    return product, spec


def _setting(body: dict[str, Any], specification_id: str) -> dict[str, Any]:
    spec: dict[str, Any] = next(
        s for s in body["specifications"] if s["specification_id"] == specification_id
    )
    return spec


def test_r1_get_target_customers_shape_and_etag(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", name="CloudDB")
    response = seller.http.get(f"/v1/products/{product.product_id}/target-customers")
    body = ok(response)
    assert response.headers["etag"] == f'"v{body["version"]}"'
    assert body["product_id"] == product.product_id
    assert body["target"] == "all"
    assert body["allowed_targets"] == ALL_TARGETS
    assert body["specifications"] == [
        {
            "specification_id": product.specifications[0].specification_id,
            "name": "Basic",
            "setting": "same_as_product",
            "effective_target": "all",
            "editable": True,
            "allowed_settings": ALL_SETTINGS,
            "audience_size": 0,  # R14: nobody is registered yet
        }
    ]
    assert body["audience_size"] == 0


def _product_under(api: Api, seller: SellerCtx, target: str) -> tuple[str, str]:
    product = new_product(api, seller, "Spec", name=f"P-{target}", target=Target(target))
    return product.product_id, product.specifications[0].specification_id


def test_r2_every_product_target_allows_exactly_its_row(api: Api) -> None:
    seller = new_seller(api)
    for target in ALL_TARGETS:
        product_id, spec = _product_under(api, seller, target)
        product_path, spec_path = _paths(product_id, spec)
        shown = _setting(ok(seller.http.get(product_path)), spec)
        assert shown["allowed_settings"] == ALLOWED[target]
        assert shown["editable"] is (len(ALLOWED[target]) > 1)
        for setting in ALL_SETTINGS:
            response = seller.http.put(spec_path, json={"target": setting})
            if target in ("specified", "associated"):
                body = problem(response, 409, "non_editable")
                assert body["allowed_settings"] == ["same_as_product"]
            elif setting in ALLOWED[target]:
                after = _setting(ok(response), spec)
                assert after["setting"] == setting
                effective = target if setting == "same_as_product" else setting
                assert after["effective_target"] == effective
            else:
                body = problem(response, 422, "target_not_allowed")
                assert body["allowed_settings"] == ALLOWED[target]
                assert _setting(ok(seller.http.get(product_path)), spec)["setting"] != setting


def test_r2_refused_setting_changes_nothing(api: Api) -> None:
    seller = new_seller(api)
    product_id, spec = _product_under(api, seller, "enterprise")
    product_path, spec_path = _paths(product_id, spec)
    ok(seller.http.put(spec_path, json={"target": "specified"}))
    before = seller.http.get(product_path)
    problem(seller.http.put(spec_path, json={"target": "individual"}), 422, "target_not_allowed")
    after = seller.http.get(product_path)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


def test_r2_setting_an_unknown_value_answers_422_invalid_request(api: Api) -> None:
    seller = new_seller(api)
    product_id, spec = _product_under(api, seller, "all")
    product_path, spec_path = _paths(product_id, spec)
    problem(seller.http.put(spec_path, json={"target": "everyone"}), 422, "invalid_request")
    problem(
        seller.http.put(product_path, json={"target": "same_as_product"}), 422, "invalid_request"
    )
    problem(seller.http.put(product_path, json={}), 422, "invalid_request")


def test_specification_of_another_product_answers_404(api: Api) -> None:
    seller = new_seller(api)
    first = new_product(api, seller, "A")
    second = new_product(api, seller, "B")
    _, spec_path = _paths(first.product_id, second.specifications[0].specification_id)
    problem(seller.http.put(spec_path, json={"target": "all"}), 404, "specification_not_found")
    _, missing = _paths(first.product_id, "spc_0000000000000000")
    problem(seller.http.put(missing, json={"target": "all"}), 404, "specification_not_found")
    unknown_product, _ = _paths("prd_0000000000000000", "x")
    problem(seller.http.put(unknown_product, json={"target": "all"}), 404, "product_not_found")
    problem(seller.http.get(unknown_product), 404, "product_not_found")


def test_r4_change_that_strands_a_setting_answers_409_and_changes_nothing(api: Api) -> None:
    seller = new_seller(api)
    settings = {"Ent": Setting.ENTERPRISE, "Spec": Setting.SPECIFIED, "Ind": Setting.INDIVIDUAL}
    product = new_product(api, seller, "Ent", "Spec", "Ind", "Same", settings=settings)
    path = f"/v1/products/{product.product_id}/target-customers"
    before = ok(seller.http.get(path))
    body = problem(
        seller.http.put(path, json={"target": "individual"}), 409, "conflicting_specifications"
    )
    assert body["conflicting_specifications"] == [spec_id(product, "Ent")]
    assert ok(seller.http.get(path)) == before
    # Switching to specified makes every explicit setting a conflict.
    body = problem(
        seller.http.put(path, json={"target": "specified"}), 409, "conflicting_specifications"
    )
    assert sorted(body["conflicting_specifications"]) == sorted(
        spec_id(product, n) for n in ("Ent", "Spec", "Ind")
    )
    assert ok(seller.http.get(path)) == before


def test_r4_reset_returns_only_the_conflicting_specifications(api: Api) -> None:
    seller = new_seller(api)
    settings = {"Ent": Setting.ENTERPRISE, "Spec": Setting.SPECIFIED, "Ind": Setting.INDIVIDUAL}
    product = new_product(api, seller, "Ent", "Spec", "Ind", "Same", settings=settings)
    path = f"/v1/products/{product.product_id}/target-customers"
    body = ok(
        seller.http.put(
            path, json={"target": "individual", "reset_conflicting_specifications": True}
        )
    )
    assert body["target"] == "individual"
    assert body["reset_specifications"] == [spec_id(product, "Ent")]
    settings_now = {s["name"]: s["setting"] for s in body["specifications"]}
    assert settings_now == {
        "Ent": "same_as_product",
        "Spec": "specified",
        "Ind": "individual",
        "Same": "same_as_product",
    }
    now = ok(seller.http.get(path))["specifications"]
    assert [{**s, "audience_size": None} for s in now] == body["specifications"]
    # Now to associated: every explicit setting goes back.
    body = ok(
        seller.http.put(
            path, json={"target": "associated", "reset_conflicting_specifications": True}
        )
    )
    assert sorted(body["reset_specifications"]) == sorted(
        spec_id(product, n) for n in ("Spec", "Ind")
    )
    assert {s["setting"] for s in body["specifications"]} == {"same_as_product"}
    assert all(not s["editable"] for s in body["specifications"])
    assert all(s["effective_target"] == "associated" for s in body["specifications"])


def test_r4_change_without_conflicts_needs_no_reset(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Spec", settings={"Spec": Setting.SPECIFIED})
    path = f"/v1/products/{product.product_id}/target-customers"
    body = ok(seller.http.put(path, json={"target": "enterprise"}))
    assert body["target"] == "enterprise" and body["reset_specifications"] == []
    assert body["specifications"][0]["setting"] == "specified"
    assert ok(seller.http.get(f"/v1/products/{product.product_id}"))["target"] == "enterprise"


def test_etag_changes_with_each_change_and_if_match_guards_it(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Spec")
    product_path, spec_path = _paths(product.product_id, product.specifications[0].specification_id)
    first = seller.http.get(product_path).headers["etag"]
    changed = seller.http.put(
        product_path, json={"target": "enterprise"}, headers={"If-Match": first}
    )
    ok(changed)
    second = changed.headers["etag"]
    assert second != first
    assert seller.http.get(product_path).headers["etag"] == second
    # A stale version is refused with 412 and changes nothing.
    stale = seller.http.put(
        product_path, json={"target": "individual"}, headers={"If-Match": first}
    )
    body = problem(stale, 412, "version_mismatch")
    assert f'"v{body["current_version"]}"' == second
    stale_spec = seller.http.put(
        spec_path, json={"target": "enterprise"}, headers={"If-Match": first}
    )
    problem(stale_spec, 412, "version_mismatch")
    assert ok(seller.http.get(product_path))["target"] == "enterprise"
    assert ok(seller.http.get(product_path))["specifications"][0]["setting"] == "same_as_product"
    # The current one (also weak, or `*`) is accepted.
    spec_change = seller.http.put(
        spec_path, json={"target": "enterprise"}, headers={"If-Match": f"W/{second}"}
    )
    third = ok(spec_change) and spec_change.headers["etag"]
    assert third != second
    ok(seller.http.put(product_path, json={"target": "enterprise"}, headers={"If-Match": "*"}))


def test_if_match_that_names_no_version_answers_412(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller)
    path = f"/v1/products/{product.product_id}/target-customers"
    for tag in ('"banana"', "v1x", '"v"'):
        response = seller.http.put(path, json={"target": "individual"}, headers={"If-Match": tag})
        problem(response, 412, "version_mismatch")
    assert ok(seller.http.get(path))["target"] == "all"


def test_setting_the_same_value_again_is_not_a_change(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Spec")
    product_path, spec_path = _paths(product.product_id, product.specifications[0].specification_id)
    etag = seller.http.get(product_path).headers["etag"]
    assert seller.http.put(product_path, json={"target": "all"}).headers["etag"] == etag
    assert seller.http.put(spec_path, json={"target": "same_as_product"}).headers["etag"] == etag
    history = ok(seller.http.get(f"/v1/products/{product.product_id}/history"))["items"]
    assert [e["action"] for e in history] == ["product_created"]
