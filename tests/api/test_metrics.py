"""GET /metrics: Prometheus text for operators only, with request counts and decisions by reason."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from offerscope.domain.targets import Target
from tests.api.helpers import buyer_client, new_account, new_product, new_seller, problem, spec_id
from tests.support import Api


def _samples(operator: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = operator.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_an_operator_token(api: Api) -> None:
    response = api.client().get("/metrics")
    problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    problem(api.client("osk_unknown").get("/metrics"), 401, "unauthenticated")
    seller = new_seller(api)
    problem(seller.http.get("/metrics"), 403, "forbidden")
    problem(buyer_client(api, new_account(api)).get("/metrics"), 403, "forbidden")


def test_metrics_count_requests_by_route_template_and_status(api: Api) -> None:
    # The app (and its registry) serves every test of the session: compare before and after.
    seller = new_seller(api)
    product = new_product(api, seller)
    before = _samples(api.operator)
    route = "/v1/products/{product_id}/target-customers"
    for _ in range(3):
        seller.http.get(f"/v1/products/{product.product_id}/target-customers")
    seller.http.get("/v1/products/prd_0000000000000000/target-customers")
    after = _samples(api.operator)
    name = "offerscope_http_requests_total"
    ok_delta = _value(after, name, method="GET", route=route, status="200") - _value(
        before, name, method="GET", route=route, status="200"
    )
    missing_delta = _value(after, name, method="GET", route=route, status="404") - _value(
        before, name, method="GET", route=route, status="404"
    )
    assert (ok_delta, missing_delta) == (3, 1)
    # Raw paths never become labels (they would grow without bound).
    assert not any(product.product_id in str(labels) for _name, labels in after)


def test_metrics_count_decisions_by_reason(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(api, seller, "Std", target=Target.ENTERPRISE)
    std = spec_id(product, "Std")
    before = _samples(api.operator)
    check = {"account_id": person["account_id"], "specification_id": std}
    assert api.operator.post("/v1/decisions", json=check).status_code == 200
    unknown = {"account_id": person["account_id"], "specification_id": "spc_0000000000000000"}
    batch = {"checks": [check, check, unknown]}
    assert api.operator.post("/v1/decisions/batch", json=batch).status_code == 200
    after = _samples(api.operator)
    name = "offerscope_decisions_total"

    def delta(reason: str) -> float:
        return _value(after, name, reason=reason) - _value(before, name, reason=reason)

    assert delta("not_enterprise_user") == 3
    assert delta("specification_not_found") == 1
    assert delta("allowed") == 0
