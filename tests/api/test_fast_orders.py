"""Orders' hot path answers as the full stack does, and leaves everything else to it.

An order the hot path takes (a well-formed body, a buyer token) is compared with one sent
through the full stack (a query string sends it there): same status, headers and fields in
the same order, and both are the orders the buyer then lists. Refusals are answered by the
full stack itself, byte for byte those of a request sent there directly.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from offerscope.domain.targets import Target
from tests.api.helpers import buyer_client, new_account, new_product, new_seller, ok, problem
from tests.api.helpers import spec_id as spec_of
from tests.support import Api

SLOW = {"via": "full-stack"}  # an unknown query parameter: ignored there, declined here
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_an_order_is_answered_as_the_full_stack_answers(api: Api) -> None:
    seller = new_seller(api)
    account = new_account(api)
    product = new_product(api, seller, "Basic", "Pro")
    buyer = buyer_client(api, account)
    body = {"specification_id": spec_of(product, "Basic")}
    fast = buyer.post("/v1/orders", json=body)
    slow = buyer.post("/v1/orders", json=body, params=SLOW)
    assert fast.status_code == slow.status_code == 201
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
    assert int(fast.headers["content-length"]) == len(fast.content)
    placed, through_stack = fast.json(), slow.json()
    assert list(placed) == list(through_stack)
    assert placed["order_id"] != through_stack["order_id"]
    assert TIMESTAMP.match(placed["created_at"]) and TIMESTAMP.match(through_stack["created_at"])
    for name in ("account_id", "specification_id", "product_id", "status"):
        assert placed[name] == through_stack[name]
    assert ok(buyer.get("/v1/orders"))["items"] == [through_stack, placed]


def test_refusals_are_the_full_stacks(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(api, seller, "Gold", target=Target.ENTERPRISE)
    buyer = buyer_client(api, person)
    for spec, status, code in (
        (spec_of(product, "Gold"), 403, "not_target_customer"),
        ("spc_missing", 404, "specification_not_found"),
    ):
        fast = buyer.post("/v1/orders", json={"specification_id": spec})
        slow = buyer.post("/v1/orders", json={"specification_id": spec}, params=SLOW)
        problem(fast, status, code)
        assert fast.content == slow.content
        assert fast.headers["content-type"] == slow.headers["content-type"]
    assert ok(buyer.get("/v1/orders"))["items"] == []


def test_buyers_ordering_at_once_are_each_answered_for_their_own_order(api: Api) -> None:
    """Orders arriving together are placed together (group commit): each buyer is told of
    its own order or its own refusal, and nothing is placed twice or for someone else."""
    seller = new_seller(api)
    product = new_product(api, seller, "Gold", target=Target.ENTERPRISE)
    gold = {"specification_id": spec_of(product, "Gold")}
    buyers = [
        (kind, buyer_client(api, new_account(api, kind)))
        for kind in ["enterprise", "individual"] * 8
    ]
    start = threading.Barrier(len(buyers))
    batched_before = _counted(api, "offerscope_order_batch_size_sum")
    batches_before = _counted(api, "offerscope_order_batch_size_count")

    def order(buyer: httpx.Client) -> httpx.Response:
        start.wait()
        return buyer.post("/v1/orders", json=gold)

    with ThreadPoolExecutor(len(buyers)) as pool:
        answers = list(pool.map(order, [buyer for _, buyer in buyers]))
    placed = set()
    for (kind, buyer), answer in zip(buyers, answers, strict=True):
        if kind == "individual":
            problem(answer, 403, "not_target_customer")
            assert ok(buyer.get("/v1/orders"))["items"] == []
            continue
        order_view = ok(answer, 201)
        assert ok(buyer.get("/v1/orders"))["items"] == [order_view]
        placed.add(order_view["order_id"])
    assert len(placed) == 8
    # Every order went through one batch (the refused ones too, before the full stack
    # answered them), in as many batches as the timing made.
    assert _counted(api, "offerscope_order_batch_size_sum") == batched_before + 16
    batches = _counted(api, "offerscope_order_batch_size_count") - batches_before
    assert 1 <= batches <= 16


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"specification_id": "s", "extra": 1}', 422),
        (b'{"specification_id": 1}', 422),
        (b'{"specification_id": ""}', 422),
        (b'{"specification_id": "s\\u0000"}', 422),
        (b'{"specification_id": "' + b"s" * 65 + b'"}', 422),
        (b"{", 400),
        (b"[]", 422),
    ],
)
def test_anything_else_is_answered_by_the_full_stack(api: Api, body: bytes, status: int) -> None:
    buyer = buyer_client(api, new_account(api))
    response = buyer.post("/v1/orders", content=body, headers={"Content-Type": "application/json"})
    problem(response, status, "invalid_request")


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}],
)
def test_an_order_not_sent_as_json_is_refused_and_not_placed(
    api: Api, headers: dict[str, str]
) -> None:
    """FastAPI reads only JSON media types as JSON: the hot path places nothing the full stack
    would refuse (a text/plain or form body is what a browser sends cross-site unasked)."""
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    buyer = buyer_client(api, new_account(api))
    body = b'{"specification_id": "' + spec_of(product, "Basic").encode() + b'"}'
    fast = buyer.post("/v1/orders", content=body, headers=headers)
    slow = buyer.post("/v1/orders", content=body, headers=headers, params=SLOW)
    refused = problem(fast, 422, "invalid_request")
    assert "Content-Type: application/json" in refused["detail"]
    assert fast.content == slow.content
    assert ok(buyer.get("/v1/orders"))["items"] == []


def test_credentials_and_keys_are_judged_by_the_full_stack(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    order = {"specification_id": spec_of(product, "Basic")}
    problem(api.client("osk_" + "x" * 43).post("/v1/orders", json=order), 401, "unauthenticated")
    problem(seller.http.post("/v1/orders", json=order), 403, "forbidden")
    buyer = buyer_client(api, new_account(api))
    keyed = buyer.post("/v1/orders", json=order, headers={"Idempotency-Key": "k1"})
    again = buyer.post("/v1/orders", json=order, headers={"Idempotency-Key": "k1"})
    assert keyed.status_code == again.status_code == 201
    assert keyed.content == again.content and again.headers["idempotent-replayed"] == "true"
    assert len(ok(buyer.get("/v1/orders"))["items"]) == 1


def _counted(api: Api, line_start: str) -> float:
    for line in api.operator.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_orders_are_counted_in_the_metrics_under_their_route(api: Api) -> None:
    """The server is shared by the tests: the counter must grow by exactly these two."""
    route = 'offerscope_http_requests_total{method="POST",route="/v1/orders",status="201"}'
    seller = new_seller(api)
    product = new_product(api, seller, "Basic")
    buyer = buyer_client(api, new_account(api))
    before = _counted(api, route)
    batches_before = _counted(api, 'offerscope_order_batch_size_bucket{le="1.0"}')
    for _ in range(2):
        ok(buyer.post("/v1/orders", json={"specification_id": spec_of(product, "Basic")}), 201)
    assert _counted(api, route) == before + 2
    # One after the other, each order is placed at once, in a batch of its own.
    assert _counted(api, 'offerscope_order_batch_size_bucket{le="1.0"}') == batches_before + 2
