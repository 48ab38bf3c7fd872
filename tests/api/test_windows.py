"""R16 over HTTP: validity windows on specified-user entries, their status, their reasons.

The windows here are far from now (years) except where a test waits for an instant to pass:
the server's own clock decides, as in production.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from offerscope.domain.targets import Setting, Target
from offerscope.storage.changes import Rebuild
from offerscope.storage.tables import ListEntryRow
from tests.api.helpers import (
    decide,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    seller_snapshot,
)
from tests.support import Api

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


def _entry(account: dict[str, Any], **window: str) -> dict[str, Any]:
    return {"account_id": account["account_id"], "account_name": account["account_name"], **window}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_r16_an_entry_with_a_window_is_listed_with_its_status(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    now_on, later, gone, always = (new_account(api) for _ in range(4))
    ok(seller.http.post(path, json=_entry(now_on, valid_from=PAST, valid_until=FUTURE)), 201)
    ok(seller.http.post(path, json=_entry(later, valid_from=FUTURE)), 201)
    added = ok(seller.http.post(path, json=_entry(gone, valid_until=PAST)), 201)
    assert (added["status"], added["counts"]) == ("expired", False)
    assert added["valid_until"] == PAST and added["valid_from"] is None
    assert "2020-01-01 00:00 UTC" in added["why"]
    ok(seller.http.post(path, json=_entry(always)), 201)
    items = {i["account_id"]: i for i in ok(seller.http.get(path))["items"]}
    assert {a: (i["status"], i["counts"]) for a, i in items.items()} == {
        now_on["account_id"]: ("active", True),
        later["account_id"]: ("scheduled", False),
        gone["account_id"]: ("expired", False),
        always["account_id"]: ("active", True),
    }
    assert items[later["account_id"]]["valid_from"] == FUTURE
    assert items[always["account_id"]]["valid_from"] is None
    for status, expected in [
        ("active", [now_on, always]),
        ("scheduled", [later]),
        ("expired", [gone]),
    ]:
        page = ok(seller.http.get(path, params={"status": status}))
        assert [i["account_id"] for i in page["items"]] == [a["account_id"] for a in expected]
    problem(seller.http.get(path, params={"status": "soon"}), 422, "invalid_request")


def test_r16_r12_decisions_follow_the_window_and_say_when(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specified-users"
    gone, later, on = new_account(api), new_account(api), new_account(api)
    ok(seller.http.post(path, json=_entry(gone, valid_until=PAST)), 201)
    ok(seller.http.post(path, json=_entry(later, valid_from=FUTURE)), 201)
    ok(seller.http.post(path, json=_entry(on, valid_until=FUTURE)), 201)
    expired = decide(api, gone["account_id"], spec)
    assert expired["reason"] == "specified_user_expired" and expired["level"] == "product"
    assert expired["valid_until"] == PAST
    assert "2020-01-01 00:00 UTC" in expired["message"]
    scheduled = decide(api, later["account_id"], spec)
    assert scheduled["reason"] == "specified_user_not_yet_valid"
    assert scheduled["valid_from"] == FUTURE and "valid_until" not in scheduled
    assert "2099-01-01 00:00 UTC" in scheduled["message"]
    allowed = decide(api, on["account_id"], spec)
    assert allowed["allowed"] is True and "valid_until" not in allowed
    batch = ok(
        api.operator.post(
            "/v1/decisions/batch",
            json={"checks": [{"account_id": gone["account_id"], "specification_id": spec}]},
        )
    )
    assert batch["results"][0]["reason"] == "specified_user_expired"
    assert batch["results"][0]["valid_until"] == PAST


def test_r16_adding_again_with_another_window_replaces_it_and_history_says_so(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specified-users"
    account = new_account(api)
    ok(seller.http.post(path, json=_entry(account)), 201)
    assert decide(api, account["account_id"], spec)["allowed"] is True
    same = ok(seller.http.post(path, json=_entry(account)), 200)
    assert same["status"] == "active"
    replaced = ok(seller.http.post(path, json=_entry(account, valid_until=PAST)), 200)
    assert (replaced["status"], replaced["valid_until"]) == ("expired", PAST)
    assert decide(api, account["account_id"], spec)["reason"] == "specified_user_expired"
    history = ok(seller.http.get(f"/v1/products/{product.product_id}/history"))["items"]
    changed = history[0]
    assert changed["action"] == "specified_user_window_changed"
    assert (changed["before"], changed["after"]) == ("always", "until 2020-01-01 00:00 UTC")
    assert changed["impact"]["losses"] == 1
    # Back to always: the account may buy again.
    ok(seller.http.post(path, json=_entry(account)), 200)
    assert decide(api, account["account_id"], spec)["allowed"] is True
    removed = seller.http.delete(f"{path}/{account['account_id']}")
    assert removed.status_code == 204
    assert decide(api, account["account_id"], spec)["reason"] == "not_specified_user"


def test_r16_a_specification_list_window_refuses_at_the_specification_level(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Gold", settings={"Gold": Setting.SPECIFIED})
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specifications/{spec}/specified-users"
    account = new_account(api)
    ok(seller.http.post(path, json=_entry(account, valid_from=FUTURE)), 201)
    refused = decide(api, account["account_id"], spec)
    assert (refused["reason"], refused["level"]) == (
        "specified_user_not_yet_valid",
        "specification",
    )


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"valid_from": "2027-01-01T00:00:00"}, "valid_from"),  # no zone
        ({"valid_from": "2027-01-01"}, "valid_from"),  # a date is no moment
        ({"valid_until": "tomorrow"}, "valid_until"),
        ({"valid_until": "2027-02-30T00:00:00Z"}, "valid_until"),
        ({"valid_from": FUTURE, "valid_until": PAST}, "valid_until"),  # ends before it starts
        ({"valid_from": FUTURE, "valid_until": FUTURE}, "valid_until"),  # empty
        # past what the index's seconds (and a datetime, in UTC) can hold
        ({"valid_from": "9999-12-31T23:59:59.999999Z"}, "valid_from"),
        ({"valid_until": "9999-12-31T23:59:59-14:00"}, "valid_until"),
        ({"valid_from": "0001-01-01T00:00:00+14:00"}, "valid_from"),
    ],
)
def test_r16_a_window_that_cannot_be_is_refused_and_changes_nothing(
    api: Api, window: dict[str, str], field: str
) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    account = new_account(api)
    before = seller_snapshot(seller.http)
    body = problem(seller.http.post(path, json=_entry(account, **window)), 422, "invalid_window")
    assert body.get("field") == field
    assert seller_snapshot(seller.http) == before


@pytest.mark.parametrize("value", [1767225600, True, ["2027-01-01T00:00:00Z"], "x" * 200_000])
def test_r16_a_window_must_be_a_time_in_text(api: Api, value: object) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    account = new_account(api)
    body = {**_entry(account), "valid_until": value}
    problem(seller.http.post(path, json=body), 422, "invalid_request")
    assert ok(seller.http.get(path))["items"] == []


def test_r16_r14_the_dry_run_of_a_window_that_closed_is_a_loss_now(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    path = f"/v1/products/{product.product_id}/specified-users"
    account = new_account(api)
    ok(seller.http.post(path, json=_entry(account)), 201)
    dry = ok(
        seller.http.post(path, params={"dry_run": "true"}, json=_entry(account, valid_until=PAST))
    )
    assert dry["impact"]["losses"]["count"] == 1
    assert dry["impact"]["losses"]["sample"] == [account["account_id"]]
    newcomer = new_account(api)
    dry = ok(
        seller.http.post(path, params={"dry_run": "true"}, json=_entry(newcomer, valid_from=FUTURE))
    )
    assert dry["impact"]["gains"]["count"] == 0  # scheduled: nobody gains now
    dry = ok(
        seller.http.post(
            path, params={"dry_run": "true"}, json=_entry(newcomer, valid_until=FUTURE)
        )
    )
    assert dry["impact"]["gains"]["sample"] == [newcomer["account_id"]]


def test_r16_a_window_closes_at_its_instant_with_no_write(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    spec = product.specifications[0].specification_id
    path = f"/v1/products/{product.product_id}/specified-users"
    account, newcomer = new_account(api), new_account(api)
    until = datetime.now(UTC) + timedelta(seconds=3)
    ok(seller.http.post(path, json=_entry(account, valid_until=_iso(until))), 201)
    ok(seller.http.post(path, json=_entry(newcomer, valid_from=_iso(until))), 201)
    before = [decide(api, a["account_id"], spec) for a in (account, newcomer)]
    assert datetime.now(UTC) < until, "the machine was too slow to ask before the instant"
    assert [d["allowed"] for d in before] == [True, False]
    time.sleep(max((until - datetime.now(UTC)).total_seconds(), 0) + 0.05)
    after = [decide(api, a["account_id"], spec) for a in (account, newcomer)]
    assert [d["allowed"] for d in after] == [False, True]
    assert after[0]["reason"] == "specified_user_expired"


def test_r16_a_window_stored_past_the_range_still_lets_every_decision_answer(api: Api) -> None:
    """A moment beyond what the index's seconds hold, stored before windows were bounded,
    must not turn the decisions, batches and catalog that read it into 500s."""
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    spec = product.specifications[0].specification_id
    account = new_account(api)
    path = f"/v1/products/{product.product_id}/specified-users"
    ok(seller.http.post(path, json=_entry(account, valid_from=FUTURE)), 201)
    with api.db.writing() as uow:  # as stored before the range was checked
        uow.session.execute(
            update(ListEntryRow).values(valid_from=datetime(9999, 12, 31, 23, 59, 59, 999999, UTC))
        )
        uow.record_change(Rebuild())
        uow.commit()
    refused = decide(api, account["account_id"], spec)
    assert refused["reason"] == "specified_user_not_yet_valid"
    check = {"account_id": account["account_id"], "specification_id": spec}
    batch = ok(api.operator.post("/v1/decisions/batch", json={"checks": [check]}))
    assert batch["results"][0]["reason"] == "specified_user_not_yet_valid"
