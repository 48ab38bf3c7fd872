from tests.support import Api, create_product


def test_r1_new_product_sells_to_all(api: Api) -> None:
    _, seller = api.seller()
    product = create_product(seller, "Basic")
    assert product["target"] == "all"
    targets = seller.get(f"/v1/products/{product['product_id']}/target-customers").json()
    assert targets["specifications"][0]["setting"] == "same_as_product"
