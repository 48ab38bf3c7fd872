"""Checkout's decisions over HTTP: R12 (reason, level, sentence), unknown IDs, batches in order."""

from __future__ import annotations

from typing import Any

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    SellerCtx,
    associate,
    buyer_client,
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

UNKNOWN_SPEC = "spc_0000000000000000"
UNKNOWN_ACCOUNT = "0" * 32


def _marketplace(api: Api) -> tuple[SellerCtx, dict[str, str], dict[str, dict[str, Any]]]:
    """One specification per interesting case, and three accounts."""
    seller = new_seller(api)
    firm, listed, stranger = (
        new_account(api, "enterprise"),
        new_account(api, "individual"),
        new_account(api, "individual"),
    )
    open_product = new_product(
        api,
        seller,
        "Same",
        "Ent",
        "Ind",
        "Spec",
        "Assoc",
        name="Open",
        settings={
            "Ent": Setting.ENTERPRISE,
            "Ind": Setting.INDIVIDUAL,
            "Spec": Setting.SPECIFIED,
            "Assoc": Setting.ASSOCIATED,
        },
    )
    list_user(api, seller, open_product, spec_id(open_product, "Spec"), listed)
    associate(
        api, seller, open_product, spec_id(open_product, "Assoc"), [spec_id(open_product, "Same")]
    )
    firm_only = new_product(api, seller, "Std", name="FirmOnly", target=Target.ENTERPRISE)
    people_only = new_product(api, seller, "Std", name="PeopleOnly", target=Target.INDIVIDUAL)
    private = new_product(api, seller, "Std", name="Private", target=Target.SPECIFIED)
    list_user(api, seller, private, None, listed)
    follow_up = new_product(api, seller, "Std", name="FollowUp", target=Target.ASSOCIATED)
    associate(api, seller, follow_up, None, [people_only.product_id])
    specs = {
        "same": spec_id(open_product, "Same"),
        "ent": spec_id(open_product, "Ent"),
        "ind": spec_id(open_product, "Ind"),
        "spec": spec_id(open_product, "Spec"),
        "assoc": spec_id(open_product, "Assoc"),
        "firm_only": spec_id(firm_only, "Std"),
        "people_only": spec_id(people_only, "Std"),
        "private": spec_id(private, "Std"),
        "follow_up": spec_id(follow_up, "Std"),
    }
    return seller, specs, {"firm": firm, "listed": listed, "stranger": stranger}


def _triple(body: dict[str, Any]) -> tuple[bool, str, str | None]:
    return body["allowed"], body["reason"], body["level"]


def test_r12_every_reason_with_its_level_and_sentence(api: Api) -> None:
    _seller, specs, accounts = _marketplace(api)
    firm, listed, stranger = (accounts[k]["account_id"] for k in ("firm", "listed", "stranger"))
    cases: list[tuple[str, str, tuple[bool, str, str | None], str]] = [
        (firm, specs["same"], (True, "allowed", "product"), "may buy"),
        (firm, specs["ent"], (True, "allowed", "specification"), "may buy"),
        (
            stranger,
            specs["ent"],
            (False, "not_enterprise_user", "specification"),
            "specification is sold only to enterprise users",
        ),
        (
            firm,
            specs["ind"],
            (False, "not_individual_user", "specification"),
            "specification is sold only to individual users",
        ),
        (
            stranger,
            specs["spec"],
            (False, "not_specified_user", "specification"),
            "specification is sold only to specified users",
        ),
        (listed, specs["spec"], (True, "allowed", "specification"), "may buy"),
        (
            firm,
            specs["assoc"],
            (False, "no_associated_purchase", "specification"),
            "bought an associated specification",
        ),
        (
            stranger,
            specs["firm_only"],
            (False, "not_enterprise_user", "product"),
            "product is sold only to enterprise users",
        ),
        (
            firm,
            specs["people_only"],
            (False, "not_individual_user", "product"),
            "product is sold only to individual users",
        ),
        (
            stranger,
            specs["private"],
            (False, "not_specified_user", "product"),
            "product is sold only to specified users",
        ),
        (listed, specs["private"], (True, "allowed", "product"), "may buy"),
        (
            stranger,
            specs["follow_up"],
            (False, "no_associated_purchase", "product"),
            "bought an associated product",
        ),
        (UNKNOWN_ACCOUNT, specs["same"], (False, "account_not_found", None), "No customer account"),
        (firm, UNKNOWN_SPEC, (False, "specification_not_found", None), "No specification"),
        (
            UNKNOWN_ACCOUNT,
            UNKNOWN_SPEC,
            (False, "specification_not_found", None),
            "No specification",
        ),
        ("not an id", "", (False, "specification_not_found", None), "No specification"),
    ]
    for account_id, specification_id, expected, words in cases:
        body = decide(api, account_id, specification_id)
        assert _triple(body) == expected, (account_id, specification_id, body)
        assert words in body["message"], body


def test_r12_a_purchase_opens_the_associated_product(api: Api) -> None:
    _seller, specs, accounts = _marketplace(api)
    stranger = accounts["stranger"]
    buyer = buyer_client(api, stranger)
    ok(buyer.post("/v1/orders", json={"specification_id": specs["people_only"]}), 201)
    assert _triple(decide(api, stranger["account_id"], specs["follow_up"])) == (
        True,
        "allowed",
        "product",
    )


def test_r3_the_product_level_is_judged_first(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api, "individual")
    product = new_product(
        api, seller, "Gold", target=Target.ENTERPRISE, settings={"Gold": Setting.SPECIFIED}
    )
    body = decide(api, person["account_id"], spec_id(product, "Gold"))
    assert _triple(body) == (False, "not_enterprise_user", "product")


def test_r12_batch_answers_in_the_order_asked(api: Api) -> None:
    _seller, specs, accounts = _marketplace(api)
    firm, listed, stranger = (accounts[k]["account_id"] for k in ("firm", "listed", "stranger"))
    checks = [
        (stranger, specs["private"]),
        (firm, specs["same"]),
        (UNKNOWN_ACCOUNT, specs["same"]),
        (listed, specs["private"]),
        (firm, UNKNOWN_SPEC),
        (stranger, specs["private"]),  # a repeated check is answered again, in its place
        (firm, specs["ind"]),
    ]
    body = ok(
        api.operator.post(
            "/v1/decisions/batch",
            json={"checks": [{"account_id": a, "specification_id": s} for a, s in checks]},
        )
    )
    results = body["results"]
    assert [(r["account_id"], r["specification_id"]) for r in results] == checks
    for (account_id, specification_id), result in zip(checks, results, strict=True):
        single = decide(api, account_id, specification_id)
        assert {k: result[k] for k in single} == single
    assert [r["reason"] for r in results] == [
        "not_specified_user",
        "allowed",
        "account_not_found",
        "allowed",
        "specification_not_found",
        "not_specified_user",
        "not_individual_user",
    ]


def test_r12_empty_batch_and_batch_limits(api: Api) -> None:
    assert ok(api.operator.post("/v1/decisions/batch", json={"checks": []})) == {"results": []}
    check = {"account_id": "a", "specification_id": "b"}
    many = ok(api.operator.post("/v1/decisions/batch", json={"checks": [check] * 500}))
    assert [r["reason"] for r in many["results"]] == ["specification_not_found"] * 500
    over = api.operator.post("/v1/decisions/batch", json={"checks": [check] * 10_001})
    problem(over, 422, "invalid_request")
    problem(api.operator.post("/v1/decisions/batch", json={}), 422, "invalid_request")
    problem(
        api.operator.post("/v1/decisions/batch", json={"checks": [{"account_id": "a"}]}),
        422,
        "invalid_request",
    )


def test_r12_decision_request_must_name_both(api: Api) -> None:
    problem(
        api.operator.post("/v1/decisions", json={"account_id": UNKNOWN_ACCOUNT}),
        422,
        "invalid_request",
    )
    body = {"account_id": UNKNOWN_ACCOUNT, "specification_id": UNKNOWN_SPEC, "extra": 1}
    problem(api.operator.post("/v1/decisions", json=body), 422, "invalid_request")
