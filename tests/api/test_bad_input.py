"""Bad input never answers 500 (SPEC.md §4): each answers 4xx application/problem+json with a
`code`, and the data is unchanged afterwards (GET snapshots before and after)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    PROBLEM_JSON,
    SellerCtx,
    associate,
    buyer_client,
    list_user,
    new_account,
    new_product,
    new_seller,
    ok,
    operator_snapshot,
    problem,
    seller_snapshot,
    spec_id,
)
from tests.support import Api

MAX_BODY = 2 * 1024 * 1024


class World:
    """A seller with a product of each kind of list, an account, an order: data to keep intact."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seller: SellerCtx = new_seller(api)
        self.account = new_account(api, "enterprise")
        self.other = new_product(api, self.seller, "Basic", name="Other")
        self.product = new_product(
            api,
            self.seller,
            "Beta",
            "Upgrade",
            name="Main",
            settings={"Beta": Setting.SPECIFIED, "Upgrade": Setting.ASSOCIATED},
        )
        self.beta = spec_id(self.product, "Beta")
        self.upgrade = spec_id(self.product, "Upgrade")
        list_user(api, self.seller, self.product, self.beta, self.account)
        associate(api, self.seller, self.product, self.upgrade, [self.beta])
        self.private = new_product(
            api, self.seller, "Only", name="Private", target=Target.SPECIFIED
        )
        list_user(api, self.seller, self.private, None, self.account)
        self.buyer = buyer_client(api, self.account)
        self.order = ok(self.buyer.post("/v1/orders", json={"specification_id": self.beta}), 201)

    def snapshot(self) -> dict[str, Any]:
        return {
            "seller": seller_snapshot(self.seller.http),
            "accounts": operator_snapshot(self.api, [self.account["account_id"]]),
            "orders": ok(self.buyer.get("/v1/orders")),
            "catalog": ok(self.buyer.get("/v1/catalog")),
        }

    @property
    def base(self) -> str:
        return f"/v1/products/{self.product.product_id}"

    @property
    def beta_path(self) -> str:
        return f"{self.base}/specifications/{self.beta}"


@pytest.fixture
def world(api: Api) -> Iterator[World]:
    """The world, and proof that no bad request of the test changed any of it."""
    made = World(api)
    before = made.snapshot()
    yield made
    assert made.snapshot() == before


def _refused(response: httpx.Response) -> dict[str, Any]:
    """Any 4xx, as problem+json with a code."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code and body["code"] and body["detail"]
    return body


def _raw(client: httpx.Client, method: str, path: str, content: bytes) -> httpx.Response:
    return client.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


def _send(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    """JSON sent with every non-ASCII character escaped, so that lone surrogates get through."""
    return _raw(client, method, path, json.dumps(body).encode())


def _writes(world: World) -> list[tuple[httpx.Client, str, str]]:
    """Every endpoint that reads a JSON body, with the client that may call it."""
    seller, operator, base, beta = (
        world.seller.http,
        world.api.operator,
        world.base,
        world.beta_path,
    )
    return [
        (operator, "POST", "/v1/accounts"),
        (operator, "PATCH", f"/v1/accounts/{world.account['account_id']}"),
        (operator, "POST", "/v1/sellers"),
        (operator, "POST", "/v1/tokens"),
        (operator, "POST", "/v1/decisions"),
        (operator, "POST", "/v1/decisions/batch"),
        (seller, "POST", "/v1/products"),
        (seller, "POST", f"{base}/specifications"),
        (seller, "PUT", f"{base}/target-customers"),
        (seller, "PUT", f"{beta}/target-customers"),
        (seller, "POST", f"{base}/specified-users"),
        (seller, "POST", f"{beta}/specified-users"),
        (seller, "POST", f"{base}/associated-products"),
        (seller, "POST", f"{world.base}/specifications/{world.upgrade}/associated-specifications"),
        (world.buyer, "POST", "/v1/orders"),
    ]


MALFORMED_BODIES = [
    b"{",
    b"{'name': 'x'}",
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"\xff\xfe",
    b"{}{}",
    b"[" * 50_000 + b"]" * 50_000,  # deeper than any parser recursion
]


def test_malformed_bodies_answer_4xx_everywhere(world: World) -> None:
    for content in MALFORMED_BODIES:
        for client, method, path in _writes(world):
            body = _refused(_raw(client, method, path, content))
            assert body["code"] == "invalid_request", (content[:20], path, body)


def test_wrong_types_answer_422_invalid_request(world: World) -> None:
    seller, operator = world.seller.http, world.api.operator
    cases: list[tuple[httpx.Client, str, str, Any]] = [
        (
            operator,
            "POST",
            "/v1/accounts",
            {"account_id": 7, "account_name": "good_name", "account_type": "individual"},
        ),
        (
            operator,
            "POST",
            "/v1/accounts",
            {"account_id": "a" * 32, "account_name": ["x"], "account_type": "individual"},
        ),
        (operator, "PATCH", f"/v1/accounts/{world.account['account_id']}", {"account_type": 1}),
        (operator, "POST", "/v1/sellers", {"name": None}),
        (operator, "POST", "/v1/tokens", {"role": True}),
        (operator, "POST", "/v1/decisions", {"account_id": 1, "specification_id": 2}),
        (operator, "POST", "/v1/decisions/batch", {"checks": "all"}),
        (operator, "POST", "/v1/decisions/batch", {"checks": [["a", "b"]]}),
        (seller, "POST", "/v1/products", {"name": {"en": "x"}}),
        (seller, "POST", "/v1/products", {"name": "ok", "specifications": "Basic"}),
        (seller, "POST", "/v1/products", {"name": "ok", "specifications": [{"label": "x"}]}),
        (
            seller,
            "PUT",
            f"{world.base}/target-customers",
            {"target": "all", "reset_conflicting_specifications": "maybe"},
        ),
        (seller, "PUT", f"{world.base}/target-customers", {"target": ["all"]}),
        (
            seller,
            "POST",
            f"{world.beta_path}/specified-users",
            {"account_id": None, "account_name": "x"},
        ),
        (
            seller,
            "POST",
            f"{world.base}/associated-products",
            {"product_ids": world.other.product_id},
        ),
        (seller, "POST", f"{world.base}/associated-products", {"product_ids": []}),
        (seller, "POST", f"{world.base}/associated-products", {"product_ids": [""]}),
        (world.buyer, "POST", "/v1/orders", {"specification_id": 5}),
        (world.buyer, "POST", "/v1/orders", {"specification_id": world.beta, "quantity": 2}),
    ]
    for client, method, path, body in cases:
        response = _send(client, method, path, body)
        problem(response, 422, "invalid_request")
        assert response.json()["errors"], path


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, 1.0, "1", None])
def test_a_boolean_field_takes_only_true_or_false(world: World, value: Any) -> None:
    """No coercion: "yes" or 1 is not true. Refused with 422, and nothing is applied (the
    fixture checks), where a coerced true would have reset Beta and Upgrade (R4)."""
    body = {"target": "specified", "reset_conflicting_specifications": value}
    response = _send(world.seller.http, "PUT", f"{world.base}/target-customers", body)
    problem(response, 422, "invalid_request")
    assert "reset_conflicting_specifications" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"account_id": 1e31, "account_name": "good_name", "account_type": "individual"},
        {"account_id": "a" * 32, "account_name": 123456, "account_type": "individual"},
        {"account_id": "a" * 32, "account_name": "good_name", "account_type": True},
        {"account_id": "a" * 32, "account_name": True, "account_type": "individual"},
    ],
)
def test_strings_take_no_numbers_or_booleans(world: World, body: dict[str, Any]) -> None:
    problem(_send(world.api.operator, "POST", "/v1/accounts", body), 422, "invalid_request")


def test_huge_strings_answer_422(world: World) -> None:
    for size in (101, 1001, 1_000_000):
        _huge_strings(world, "x" * size)


def _huge_strings(world: World, huge: str) -> None:
    seller, operator = world.seller.http, world.api.operator
    cases: list[tuple[httpx.Client, str, str, Any]] = [
        (operator, "POST", "/v1/sellers", {"name": huge}),
        (
            operator,
            "POST",
            "/v1/accounts",
            {"account_id": "b" * 32, "account_name": huge, "account_type": "individual"},
        ),
        (
            operator,
            "POST",
            "/v1/accounts",
            {"account_id": huge, "account_name": "good_name", "account_type": "individual"},
        ),
        (operator, "PATCH", f"/v1/accounts/{world.account['account_id']}", {"account_name": huge}),
        (seller, "POST", "/v1/products", {"name": huge}),
        (seller, "POST", "/v1/products", {"name": "ok", "specifications": [{"name": huge}]}),
        (seller, "POST", f"{world.base}/specifications", {"name": huge}),
        (
            seller,
            "POST",
            f"{world.beta_path}/specified-users",
            {"account_id": huge, "account_name": "good_name"},
        ),
        (
            seller,
            "POST",
            f"{world.beta_path}/specified-users",
            {"account_id": "c" * 32, "account_name": huge},
        ),
    ]
    for client, method, path, body in cases:
        problem(_send(client, method, path, body), 422, "invalid_request")
    # Over-long IDs are unknown IDs, or refused as malformed, never a crash.
    for client, method, path, body in [
        (operator, "POST", "/v1/decisions", {"account_id": huge, "specification_id": huge}),
        (world.buyer, "POST", "/v1/orders", {"specification_id": huge}),
        (seller, "POST", f"{world.base}/associated-products", {"product_ids": [huge]}),
        (operator, "POST", "/v1/tokens", {"role": "seller", "seller_id": huge}),
    ]:
        _refused(_send(client, method, path, body))


CONTROL_NAMES = [
    "line\nbreak",
    "tab\there",
    "nul\x00byte",
    "bell\x07",
    "del\x7f",
    "c1\x85",
    "\r",
    "lone\ud800surrogate",
]


def test_control_characters_in_names_answer_422(world: World) -> None:
    for name in CONTROL_NAMES:
        _control_characters(world, name)


def _control_characters(world: World, name: str) -> None:
    seller, operator = world.seller.http, world.api.operator
    cases: list[tuple[httpx.Client, str, str, Any]] = [
        (operator, "POST", "/v1/sellers", {"name": name}),
        (
            operator,
            "POST",
            "/v1/accounts",
            {"account_id": "d" * 32, "account_name": f"na{name}me_x", "account_type": "individual"},
        ),
        (
            operator,
            "PATCH",
            f"/v1/accounts/{world.account['account_id']}",
            {"account_name": f"na{name}me_x"},
        ),
        (seller, "POST", "/v1/products", {"name": name}),
        (seller, "POST", "/v1/products", {"name": "ok", "specifications": [{"name": name}]}),
        (seller, "POST", f"{world.base}/specifications", {"name": name}),
        (
            seller,
            "POST",
            f"{world.beta_path}/specified-users",
            {"account_id": world.account["account_id"], "account_name": name},
        ),
    ]
    for client, method, path, body in cases:
        problem(_send(client, method, path, body), 422, "invalid_request")


MALFORMED_IDS = ["\x00", "a\x00b", "\ud800"]  # NUL, and a lone surrogate: text no ID holds


ODD_IDS = [*MALFORMED_IDS, "💥", "' OR 1=1 --", "%", "_", "../..", " ", "PRD_" + "0" * 16]


def test_odd_ids_are_unknown_or_invalid_ids(world: World) -> None:
    for bad_id in ODD_IDS:
        _odd_id(world, bad_id)


def _odd_id(world: World, bad_id: str) -> None:
    seller, operator = world.seller.http, world.api.operator
    both = {"account_id": bad_id, "specification_id": bad_id}
    account_only = {"account_id": bad_id, "specification_id": world.beta}
    if bad_id in MALFORMED_IDS:
        for body in (both, account_only, {"checks": [account_only]}):
            path = "/v1/decisions/batch" if "checks" in body else "/v1/decisions"
            problem(_send(operator, "POST", path, body), 422, "invalid_request")
    else:
        decision = ok(_send(operator, "POST", "/v1/decisions", both))
        assert (decision["reason"], decision["level"]) == ("specification_not_found", None)
        decision = ok(_send(operator, "POST", "/v1/decisions", account_only))
        assert (decision["reason"], decision["level"]) == ("account_not_found", None)
        batch = ok(_send(operator, "POST", "/v1/decisions/batch", {"checks": [account_only, both]}))
        reasons = [r["reason"] for r in batch["results"]]
        assert reasons == ["account_not_found", "specification_not_found"]
    user = {"account_id": bad_id, "account_name": "good_name"}
    account = {**user, "account_type": "individual"}
    writes: list[tuple[httpx.Client, str, Any]] = [
        (world.buyer, "/v1/orders", {"specification_id": bad_id}),
        (seller, f"{world.base}/associated-products", {"product_ids": [bad_id]}),
        (seller, f"{world.beta_path}/specified-users", user),
        (operator, "/v1/tokens", {"role": "buyer", "account_id": bad_id}),
        (operator, "/v1/tokens", {"role": "seller", "seller_id": bad_id}),
        (operator, "/v1/accounts", account),
    ]
    for client, path, body in writes:
        _refused(_send(client, "POST", path, body))


ODD_SEGMENTS = ["%ED%A0%80", "%F0%9F%92%A5", "x" * 2000, "%25", "%20", "%00", "a%00b"]


def test_odd_ids_in_paths_answer_404_or_422(world: World) -> None:
    for segment in ODD_SEGMENTS:
        _odd_segment(world, segment)


def _odd_segment(world: World, segment: str) -> None:
    seller, operator = world.seller.http, world.api.operator
    calls = [
        (operator.get(f"/v1/accounts/{segment}"), "account_not_found"),
        (operator.patch(f"/v1/accounts/{segment}", json={}), "account_not_found"),
        (operator.post(f"/v1/orders/{segment}/refund"), "order_not_found"),
        (seller.get(f"/v1/products/{segment}"), "product_not_found"),
        (seller.get(f"/v1/products/{segment}/history"), "product_not_found"),
        (
            seller.put(f"/v1/products/{segment}/target-customers", json={"target": "all"}),
            "product_not_found",
        ),
        (
            seller.get(f"{world.base}/specifications/{segment}/specified-users"),
            "specification_not_found",
        ),
        (seller.delete(f"{world.beta_path}/specified-users/{segment}"), "user_not_found"),
        (seller.delete(f"{world.base}/associated-products/{segment}"), "association_not_found"),
    ]
    for response, code in calls:
        if "%00" in segment:  # NUL is no character of any ID: invalid, as in a body
            problem(response, 422, "invalid_request")
        else:
            problem(response, 404, code)


def _cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


ODD_CURSORS = [
    _cursor(2**70),
    _cursor(2**31),
    _cursor(-1),
    _cursor(1.5),
    _cursor(True),
    _cursor("1"),
    _cursor([1]),
    "%00",
    "\x00",
    "x" * 201,
    "====",
    "\u00e9",
]


def test_cursors_never_given_out_answer_422(world: World) -> None:
    paths = [
        (world.seller.http, "/v1/products"),
        (world.seller.http, f"{world.base}/specified-users"),
        (world.seller.http, f"{world.beta_path}/specified-users"),
        (world.seller.http, f"{world.base}/history"),
        (world.seller.http, f"{world.base}/associated-products"),
        (
            world.seller.http,
            f"{world.base}/specifications/{world.upgrade}/associated-specifications",
        ),
        (world.buyer, "/v1/catalog"),
        (world.buyer, "/v1/orders"),
    ]
    for cursor in ODD_CURSORS:
        for client, path in paths:
            problem(client.get(path, params={"cursor": cursor}), 422, "invalid_request")


def test_a_cursor_of_one_list_is_refused_by_another(world: World) -> None:
    """A position means nothing in another list: read there it would end the list early or
    skip rows without a word. A cursor names its list, filters included, and only that list
    takes it."""
    seller = world.seller.http
    history = f"{world.base}/history"
    cursor = ok(seller.get(history, params={"limit": 1}))["next_cursor"]
    assert cursor is not None
    assert ok(seller.get(history, params={"limit": 1, "cursor": cursor}))["items"]
    for path in (
        f"{world.beta_path}/specified-users",
        f"/v1/products/{world.other.product_id}/history",
        "/v1/products",
    ):
        refused = problem(seller.get(path, params={"cursor": cursor}), 422, "invalid_request")
        assert "another list" in refused["detail"]
    # Lists paged by key alone (groups, associations) name their list as well.
    for name in ("First", "Second"):
        ok(seller.post("/v1/customer-groups", json={"name": name}), 201)
    by_key = ok(seller.get("/v1/customer-groups", params={"limit": 1}))["next_cursor"]
    assert ok(seller.get("/v1/customer-groups", params={"limit": 1, "cursor": by_key}))["items"]
    upgrade = f"{world.base}/specifications/{world.upgrade}/associated-specifications"
    refused = problem(seller.get(upgrade, params={"cursor": by_key}), 422, "invalid_request")
    assert "another list" in refused["detail"]
    products = ok(seller.get("/v1/products", params={"limit": 1}))["next_cursor"]
    searched = seller.get("/v1/products", params={"q": "Main", "cursor": products})
    problem(searched, 422, "invalid_request")  # another search of the same list


def test_odd_query_parameters_answer_422(world: World) -> None:
    for client, path in [
        (world.seller.http, "/v1/products"),
        (world.seller.http, f"{world.beta_path}/specified-users"),
        (world.seller.http, f"{world.base}/history"),
        (world.buyer, "/v1/catalog"),
        (world.buyer, "/v1/orders"),
    ]:
        for params in (
            {"limit": "1e3"},
            {"limit": -1},
            {"limit": 2**70},
            {"limit": ""},
            {"limit": "\x00"},
        ):
            problem(client.get(path, params=params), 422, "invalid_request")
    for path in ("/v1/products", f"{world.beta_path}/specified-users"):
        problem(world.seller.http.get(path, params={"q": "x" * 101}), 422, "invalid_request")
        problem(world.seller.http.get(path, params={"q": "\x00"}), 422, "invalid_request")
    long_tag = {"If-Match": '"v' + "1" * 200 + '"'}
    put = world.seller.http.put(
        f"{world.base}/target-customers", json={"target": "all"}, headers=long_tag
    )
    problem(put, 422, "invalid_request")


def test_a_body_of_100k_items_is_refused(world: World) -> None:
    checks = [{"account_id": world.account["account_id"], "specification_id": world.beta}] * 100_000
    response = world.api.operator.post("/v1/decisions/batch", json={"checks": checks})
    problem(response, 413, "request_too_large")  # 100k checks cannot fit in 2 MiB
    tiny = [{"account_id": "", "specification_id": ""}] * 100_000
    problem(
        world.api.operator.post("/v1/decisions/batch", json={"checks": tiny}),
        413,
        "request_too_large",
    )
    # 10,001 checks fit, and are one too many.
    over = [{"account_id": "", "specification_id": ""}] * 10_001
    problem(
        world.api.operator.post("/v1/decisions/batch", json={"checks": over}),
        422,
        "invalid_request",
    )
    ids = [world.other.product_id] * 100_000
    response = world.seller.http.post(
        f"{world.base}/associated-products", json={"product_ids": ids}
    )
    problem(response, 413, "request_too_large")
    path = f"/v1/products/{world.private.product_id}/associated-products"
    problem(
        world.seller.http.post(path, json={"product_ids": ["p"] * 100_000}), 422, "invalid_request"
    )
    specs = [{"name": "s"}] * 100_000
    problem(
        world.seller.http.post("/v1/products", json={"name": "Many", "specifications": specs}),
        422,
        "invalid_request",
    )
    path = f"{world.base}/specifications/{world.upgrade}/associated-specifications"
    problem(
        world.seller.http.post(path, json={"specification_ids": ["s"] * 100_000}),
        422,
        "invalid_request",
    )


def test_an_oversized_body_answers_413(world: World) -> None:
    big = json.dumps({"name": "x" * MAX_BODY}).encode()
    for client, method, path in _writes(world):
        problem(_raw(client, method, path, big), 413, "request_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what streams in
        yield b'{"name": "'
        for _ in range(MAX_BODY // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    streamed = world.seller.http.post(
        "/v1/products", content=chunks(), headers={"Content-Type": "application/json"}
    )
    problem(streamed, 413, "request_too_large")
    # Just under the limit is read, and refused by its content instead.
    fits = json.dumps({"name": "x" * (MAX_BODY - 100)}).encode()
    problem(_raw(world.seller.http, "POST", "/v1/products", fits), 422, "invalid_request")


def test_unknown_paths_and_methods_answer_problems(world: World) -> None:
    problem(world.seller.http.get("/v1/nothing-here"), 404, "not_found")
    problem(world.seller.http.delete("/v1/products"), 405, "method_not_allowed")
    problem(world.api.operator.get("/v1/decisions"), 405, "method_not_allowed")


def test_form_and_text_bodies_answer_422(world: World) -> None:
    form = world.seller.http.post("/v1/products", data={"name": "Form"})
    assert _refused(form)["code"] == "invalid_request"
    text = world.seller.http.post(
        "/v1/products", content=b'{"name": "Text"}', headers={"Content-Type": "text/plain"}
    )
    assert _refused(text)["code"] == "invalid_request"
