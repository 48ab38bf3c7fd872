"""Associations over HTTP: R7 (products), R8 (specifications), kept while inactive."""

from __future__ import annotations

import re

import httpx

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import associate, new_product, new_seller, ok, problem, spec_id
from tests.support import Api


def _same_words(detail: str, sent_id: str) -> str:
    """The message with the ID the seller sent taken out: the rest must not differ."""
    return re.sub(re.escape(sent_id), "<id>", detail)


def test_r7_associate_other_products_of_the_same_seller(api: Api) -> None:
    seller = new_seller(api)
    first = new_product(api, seller, name="First")
    second = new_product(api, seller, name="Second")
    owner = new_product(api, seller, "Spec", name="Owner", target=Target.ASSOCIATED)
    path = f"/v1/products/{owner.product_id}/associated-products"
    assert ok(seller.http.get(path)) == {"items": [], "next_cursor": None, "active": True}
    body = ok(
        seller.http.post(path, json={"product_ids": [first.product_id, second.product_id]}), 201
    )
    expected = [
        {"id": first.product_id, "name": "First"},
        {"id": second.product_id, "name": "Second"},
    ]
    assert body["items"] == expected and body["active"] is True
    # Adding what is already there changes nothing: 200.
    again = seller.http.post(path, json={"product_ids": [second.product_id, second.product_id]})
    assert ok(again, 200)["items"] == expected
    # One new among old ones is a creation.
    third = new_product(api, seller, name="Third")
    mixed = seller.http.post(path, json={"product_ids": [first.product_id, third.product_id]})
    assert [i["id"] for i in ok(mixed, 201)["items"]] == [
        first.product_id,
        second.product_id,
        third.product_id,
    ]


def test_r7_self_other_seller_and_unknown_are_refused_with_one_message(api: Api) -> None:
    seller, rival = new_seller(api, "Mine"), new_seller(api, "Rival")
    owner = new_product(api, seller, target=Target.ASSOCIATED)
    theirs = new_product(api, rival, name="Theirs")
    path = f"/v1/products/{owner.product_id}/associated-products"
    details = set()
    for candidate in (owner.product_id, theirs.product_id, "prd_0000000000000000"):
        body = problem(
            seller.http.post(path, json={"product_ids": [candidate]}),
            422,
            "association_not_allowed",
        )
        details.add(_same_words(body["detail"], candidate))
        assert "Theirs" not in body["detail"] and "Rival" not in body["detail"]
    assert len(details) == 1
    assert ok(seller.http.get(path))["items"] == []


def test_r7_one_refused_id_adds_none(api: Api) -> None:
    seller = new_seller(api)
    good = new_product(api, seller, name="Good")
    owner = new_product(api, seller, target=Target.ASSOCIATED)
    path = f"/v1/products/{owner.product_id}/associated-products"
    body = {"product_ids": [good.product_id, "prd_0000000000000000"]}
    problem(seller.http.post(path, json=body), 422, "association_not_allowed")
    assert ok(seller.http.get(path))["items"] == []


def test_r7_adding_only_while_the_target_is_associated(api: Api) -> None:
    seller = new_seller(api)
    other = new_product(api, seller, name="Other")
    owner = new_product(api, seller)
    path = f"/v1/products/{owner.product_id}/associated-products"
    for target in ("all", "enterprise", "individual", "specified"):
        ok(
            seller.http.put(
                f"/v1/products/{owner.product_id}/target-customers", json={"target": target}
            )
        )
        response = seller.http.post(path, json={"product_ids": [other.product_id]})
        problem(response, 409, "association_not_available")
        assert ok(seller.http.get(path)) == {"items": [], "next_cursor": None, "active": False}


def test_r7_remove_and_remove_again(api: Api) -> None:
    seller = new_seller(api)
    other = new_product(api, seller, name="Other")
    owner = new_product(api, seller, target=Target.ASSOCIATED)
    associate(api, seller, owner, None, [other.product_id])
    path = f"/v1/products/{owner.product_id}/associated-products"
    removed = seller.http.delete(f"{path}/{other.product_id}")
    assert removed.status_code == 204 and removed.content == b""
    assert ok(seller.http.get(path))["items"] == []
    problem(seller.http.delete(f"{path}/{other.product_id}"), 404, "association_not_found")
    problem(seller.http.delete(f"{path}/prd_0000000000000000"), 404, "association_not_found")
    problem(seller.http.delete(f"{path}/{owner.product_id}"), 404, "association_not_found")


def test_r7_associations_are_kept_while_the_target_is_elsewhere(api: Api) -> None:
    seller = new_seller(api)
    other = new_product(api, seller, name="Other")
    owner = new_product(api, seller, target=Target.ASSOCIATED)
    associate(api, seller, owner, None, [other.product_id])
    path = f"/v1/products/{owner.product_id}/associated-products"
    target = f"/v1/products/{owner.product_id}/target-customers"
    ok(seller.http.put(target, json={"target": "all"}))
    assert ok(seller.http.get(path)) == {
        "items": [{"id": other.product_id, "name": "Other"}],
        "next_cursor": None,
        "active": False,
    }
    # Removing from an inactive list is allowed: it is the seller's own data.
    ok(seller.http.put(target, json={"target": "associated"}))
    assert ok(seller.http.get(path))["active"] is True
    assert [i["id"] for i in ok(seller.http.get(path))["items"]] == [other.product_id]


def test_r7_unknown_owner_answers_404(api: Api) -> None:
    seller = new_seller(api)
    path = "/v1/products/prd_0000000000000000/associated-products"
    problem(seller.http.get(path), 404, "product_not_found")
    problem(seller.http.post(path, json={"product_ids": ["x"]}), 404, "product_not_found")
    problem(seller.http.delete(f"{path}/x"), 404, "product_not_found")


def test_r8_associate_other_specifications_of_the_same_product(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(
        api, seller, "Basic", "Pro", "Upgrade", settings={"Upgrade": Setting.ASSOCIATED}
    )
    upgrade = spec_id(product, "Upgrade")
    path = f"/v1/products/{product.product_id}/specifications/{upgrade}/associated-specifications"
    body = ok(seller.http.post(path, json={"specification_ids": [spec_id(product, "Basic")]}), 201)
    assert body == {
        "items": [{"id": spec_id(product, "Basic"), "name": "Basic"}],
        "next_cursor": None,
        "active": True,
    }
    ok(seller.http.post(path, json={"specification_ids": [spec_id(product, "Basic")]}), 200)
    removed = seller.http.delete(f"{path}/{spec_id(product, 'Basic')}")
    assert removed.status_code == 204
    problem(seller.http.delete(f"{path}/{spec_id(product, 'Basic')}"), 404, "association_not_found")
    assert ok(seller.http.get(path))["items"] == []


def test_r8_self_other_product_other_seller_and_unknown_share_one_message(api: Api) -> None:
    seller, rival = new_seller(api, "Mine"), new_seller(api, "Rival")
    product = new_product(api, seller, "Upgrade", settings={"Upgrade": Setting.ASSOCIATED})
    sibling_product = new_product(api, seller, "Elsewhere")
    theirs = new_product(api, rival, "Theirs")
    upgrade = spec_id(product, "Upgrade")
    path = f"/v1/products/{product.product_id}/specifications/{upgrade}/associated-specifications"
    candidates = [
        upgrade,
        spec_id(sibling_product, "Elsewhere"),
        spec_id(theirs, "Theirs"),
        "spc_0000000000000000",
        product.product_id,  # a product is not a specification
    ]
    details = set()
    for candidate in candidates:
        response = seller.http.post(path, json={"specification_ids": [candidate]})
        body = problem(response, 422, "association_not_allowed")
        details.add(_same_words(body["detail"], candidate))
    assert len(details) == 1
    assert ok(seller.http.get(path))["items"] == []


def test_r8_adding_only_while_the_setting_is_associated_and_kept_after(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", "Upgrade")
    upgrade, basic = spec_id(product, "Upgrade"), spec_id(product, "Basic")
    spec_path = f"/v1/products/{product.product_id}/specifications/{upgrade}"
    path = f"{spec_path}/associated-specifications"
    problem(
        seller.http.post(path, json={"specification_ids": [basic]}),
        409,
        "association_not_available",
    )
    ok(seller.http.put(f"{spec_path}/target-customers", json={"target": "associated"}))
    ok(seller.http.post(path, json={"specification_ids": [basic]}), 201)
    ok(seller.http.put(f"{spec_path}/target-customers", json={"target": "all"}))
    kept = ok(seller.http.get(path))
    assert kept["active"] is False and [i["id"] for i in kept["items"]] == [basic]
    problem(
        seller.http.post(path, json={"specification_ids": [basic]}),
        409,
        "association_not_available",
    )


def test_r8_specification_under_an_associated_product_is_not_editable(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", "Upgrade", target=Target.ASSOCIATED)
    path = (
        f"/v1/products/{product.product_id}/specifications/{spec_id(product, 'Upgrade')}"
        "/associated-specifications"
    )
    # The specification follows the product (same_as_product): its own set is not open.
    body = {"specification_ids": [spec_id(product, "Basic")]}
    problem(seller.http.post(path, json=body), 409, "association_not_available")


def test_r8_unknown_specification_answers_404(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    spec = "spc_0000000000000000"
    path = f"/v1/products/{product.product_id}/specifications/{spec}/associated-specifications"
    problem(seller.http.get(path), 404, "specification_not_found")
    problem(
        seller.http.post(path, json={"specification_ids": ["x"]}), 404, "specification_not_found"
    )
    problem(seller.http.delete(f"{path}/x"), 404, "specification_not_found")


def _pages(seller: httpx.Client, path: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, int | str] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = ok(seller.get(path, params=params))
        assert len(page["items"]) <= limit and page["active"] is True
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_association_lists_page_with_cursors(api: Api) -> None:
    seller = new_seller(api)
    others = [new_product(api, seller, name=f"P{i}") for i in range(5)]
    owner = new_product(api, seller, target=Target.ASSOCIATED)
    owner_path = f"/v1/products/{owner.product_id}"
    associate(api, seller, owner, None, [p.product_id for p in others])
    product_path = f"{owner_path}/associated-products"
    assert _pages(seller.http, product_path, 2) == [p.product_id for p in others]
    assert ok(seller.http.get(product_path, params={"limit": 5}))["next_cursor"] is None
    for params in ({"limit": 0}, {"limit": 1001}, {"cursor": "bad"}):
        problem(seller.http.get(product_path, params=params), 422, "invalid_request")
    # A specification's associations page alike.
    spec = new_product(api, seller, "A", "B", "C", "Up", settings={"Up": Setting.ASSOCIATED})
    siblings = [spec_id(spec, n) for n in ("A", "B", "C")]
    associate(api, seller, spec, spec_id(spec, "Up"), siblings)
    spec_path = (
        f"/v1/products/{spec.product_id}/specifications/{spec_id(spec, 'Up')}"
        "/associated-specifications"
    )
    assert _pages(seller.http, spec_path, 1) == siblings
    assert _pages(seller.http, spec_path, 1000) == siblings
