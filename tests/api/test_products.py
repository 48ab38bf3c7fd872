"""A seller's products and specifications (SPEC.md §2, R1, §4)."""

from __future__ import annotations

from tests.api.helpers import new_product, new_seller, ok, problem
from tests.support import Api


def test_r1_create_product_answers_201_with_its_specifications(api: Api) -> None:
    seller = new_seller(api)
    body = {"name": "  CloudDB ✓ ", "specifications": [{"name": "Basic"}, {"name": " Pro  "}]}
    product = ok(seller.http.post("/v1/products", json=body), 201)
    assert product["name"] == "  CloudDB ✓ "  # stored and shown exactly as sent
    assert product["target"] == "all"
    assert [s["name"] for s in product["specifications"]] == ["Basic", " Pro  "]
    ids = [product["product_id"], *(s["specification_id"] for s in product["specifications"])]
    assert len(set(ids)) == 3 and all(ids)
    assert ok(seller.http.get(f"/v1/products/{product['product_id']}")) == product


def test_create_product_without_specifications(api: Api) -> None:
    seller = new_seller(api)
    product = ok(seller.http.post("/v1/products", json={"name": "Solo"}), 201)
    assert product["specifications"] == []
    target = ok(seller.http.get(f"/v1/products/{product['product_id']}/target-customers"))
    assert target["specifications"] == []


def test_add_specification_answers_201_and_follows_the_product(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    path = f"/v1/products/{product.product_id}/specifications"
    spec = ok(seller.http.post(path, json={"name": "Added"}), 201)
    assert spec["name"] == "Added" and spec["specification_id"]
    listed = ok(seller.http.get(f"/v1/products/{product.product_id}"))["specifications"]
    assert [s["name"] for s in listed] == ["Basic", "Added"]
    targets = ok(seller.http.get(f"/v1/products/{product.product_id}/target-customers"))
    assert targets["specifications"][1]["setting"] == "same_as_product"  # R1


def test_add_specification_to_unknown_product_answers_404(api: Api) -> None:
    seller = new_seller(api)
    path = "/v1/products/prd_0000000000000000/specifications"
    problem(seller.http.post(path, json={"name": "Lost"}), 404, "product_not_found")


def test_get_unknown_product_answers_404(api: Api) -> None:
    seller = new_seller(api)
    problem(seller.http.get("/v1/products/prd_0000000000000000"), 404, "product_not_found")


def test_list_products_is_paginated_with_cursors(api: Api) -> None:
    seller = new_seller(api)
    made = [new_product(api, seller, "S", name=f"P{i}").product_id for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = ok(seller.http.get("/v1/products", params=params))
        assert len(page["items"]) <= 3
        seen += [p["product_id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made  # creation order, nothing twice, nothing lost
    assert pages == 3
    everything = ok(seller.http.get("/v1/products"))
    assert everything["next_cursor"] is None and len(everything["items"]) == 7


def test_list_products_search_by_name_or_id(api: Api) -> None:
    seller = new_seller(api)
    cloud = new_product(api, seller, name="CloudDB Pro")
    new_product(api, seller, name="Backup 100%")
    new_product(api, seller, name="Other")

    def names(q: str) -> list[str]:
        page = ok(seller.http.get("/v1/products", params={"q": q}))
        return [p["name"] for p in page["items"]]

    assert names("clouddb") == ["CloudDB Pro"]  # case-insensitive substring
    assert names(cloud.product_id) == ["CloudDB Pro"]
    assert names("100%") == ["Backup 100%"]  # a wildcard character is matched literally
    assert names("%") == ["Backup 100%"]
    assert names("_") == []
    assert names("nothing") == []
    assert len(names("  ")) == 3  # blank search lists everything


def test_list_products_shows_only_the_sellers_own(api: Api) -> None:
    mine, theirs = new_seller(api, "Mine"), new_seller(api, "Theirs")
    own = new_product(api, mine, name="Same name")
    other = new_product(api, theirs, name="Same name")
    listed = ok(mine.http.get("/v1/products"))["items"]
    assert [p["product_id"] for p in listed] == [own.product_id]
    assert ok(mine.http.get("/v1/products", params={"q": other.product_id}))["items"] == []


def test_list_products_refuses_bad_paging(api: Api) -> None:
    seller = new_seller(api)
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "%%%"}):
        problem(seller.http.get("/v1/products", params=params), 422, "invalid_request")
    assert ok(seller.http.get("/v1/products", params={"limit": 1000}))["items"] == []
