"""R18: the change feed over HTTP on both stores: every kind once, in commit order; R9
isolation; long-polling; retention (410) and bad parameters (422)."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from offerscope.domain.targets import Setting, Target
from offerscope.domain.windows import Window
from offerscope.services import associations, feed, groups, imports, specified_users, targets
from tests.api.helpers import new_account, new_product, new_seller, ok, problem, spec_id
from tests.support import Api


def _all_changes(client: httpx.Client, after: int = 0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = ok(client.get("/v1/changes", params={"after": after, "limit": 3}))
        found += page["items"]
        if not page["items"]:
            return found
        after = page["next_after"]


def test_r18_every_kind_of_change_appears_once_in_commit_order(api: Api) -> None:
    seller = new_seller(api)
    other = new_product(api, seller, "Basic", name="Other")
    linked = new_product(api, seller, "Basic", "Pro", name="Linked")
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    first, second, third = (new_account(api) for _ in range(3))
    pid, lid, basic = product.product_id, linked.product_id, spec_id(linked, "Basic")
    add = specified_users.add_specified_user
    add(api.db, seller.actor, pid, None, first["account_id"], first["account_name"])
    soon = Window(None, datetime.now(UTC) + timedelta(seconds=1))
    add(api.db, seller.actor, pid, None, first["account_id"], first["account_name"], soon)
    specified_users.remove_specified_user(api.db, seller.actor, pid, None, first["account_id"])
    csv = f"account_id,account_name\n{second['account_id']},{second['account_name']}\n"
    imports.import_specified_users(api.db, seller.actor, pid, None, io.BytesIO(csv.encode()))
    later = Window(None, datetime.now(UTC) + timedelta(seconds=30))  # holds on a slow machine
    add(api.db, seller.actor, pid, None, third["account_id"], third["account_name"], later)
    targets.set_specification_setting(api.db, seller.actor, lid, basic, Setting.ASSOCIATED)
    associations.add_associations(api.db, seller.actor, lid, basic, [spec_id(linked, "Pro")])
    associations.remove_association(api.db, seller.actor, lid, basic, spec_id(linked, "Pro"))
    targets.set_product_target(api.db, seller.actor, lid, Target.SPECIFIED, reset_conflicting=True)
    assert feed.publish_windows(api.db, datetime.now(UTC) + timedelta(seconds=31)) is not None
    assert feed.publish_windows(api.db, datetime.now(UTC) + timedelta(seconds=32)) is None

    items = _all_changes(api.operator)
    named = {pid: "product", lid: "linked", other.product_id: "other"}
    assert [(i["kind"], named[i["product_id"]]) for i in items] == [
        ("product_created", "other"),
        ("product_created", "linked"),
        ("product_created", "product"),
        ("product_target_set", "product"),
        ("specified_user_added", "product"),
        ("specified_user_window_changed", "product"),
        ("specified_user_removed", "product"),
        ("specified_users_imported", "product"),
        ("specified_user_added", "product"),
        ("specification_target_set", "linked"),
        ("association_added", "linked"),
        ("association_removed", "linked"),
        ("specification_target_reset", "linked"),
        ("product_target_set", "linked"),
        ("window_closed", "product"),
    ]
    revisions = [i["revision"] for i in items]
    assert revisions == sorted(revisions)
    assert len({i["revision"] for i in items}) == len(items) - 1  # the reset and its target
    by_kind = {i["kind"]: i for i in items if i["product_id"] == pid}
    assert items[4]["granted"] == [first["account_id"]]
    assert by_kind["specified_user_added"]["granted"] == [third["account_id"]]  # holds now
    assert by_kind["specified_user_removed"]["revoked"] == [first["account_id"]]
    assert by_kind["specified_users_imported"]["granted"] == [second["account_id"]]
    assert by_kind["window_closed"]["revoked"] == [third["account_id"]]
    assert by_kind["window_closed"]["actor"] == "system"
    assert items[9]["specification_id"] == basic
    assert all(i["actor"] in (f"seller:{seller.seller_id}", "system") for i in items)


def test_r9_a_seller_reads_only_its_own_changes(api: Api) -> None:
    mine, theirs = new_seller(api, "Mine"), new_seller(api, "Theirs")
    own = new_product(api, mine, "Basic", target=Target.SPECIFIED)
    hidden = new_product(api, theirs, "Basic", target=Target.SPECIFIED)
    account = new_account(api)
    specified_users.add_specified_user(
        api.db,
        theirs.actor,
        hidden.product_id,
        None,
        account["account_id"],
        account["account_name"],
    )
    seen = _all_changes(mine.http)
    assert seen and {i["product_id"] for i in seen} == {own.product_id}
    assert hidden.product_id not in str(seen)
    everything = _all_changes(api.operator)
    assert {i["product_id"] for i in everything} == {own.product_id, hidden.product_id}


def test_r18_wait_returns_as_soon_as_a_change_commits(api: Api) -> None:
    seller = new_seller(api)
    head = ok(api.operator.get("/v1/changes", params={"after": 0, "limit": 1000}))["next_after"]
    answer: dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        answer["body"] = ok(api.operator.get("/v1/changes", params={"after": head, "wait": 30}))
        answer["seconds"] = time.monotonic() - started

    waiter = threading.Thread(target=long_poll)
    waiter.start()
    time.sleep(0.5)
    product = new_product(api, seller, "Basic")
    waiter.join(timeout=40)
    assert [i["kind"] for i in answer["body"]["items"]] == ["product_created"]
    assert answer["body"]["items"][0]["product_id"] == product.product_id
    assert answer["seconds"] < 25  # woken by the commit, not by the end of its wait


def test_r18_a_wait_with_nothing_new_answers_empty_at_its_end(api: Api) -> None:
    page = ok(api.operator.get("/v1/changes", params={"after": 0, "wait": 0.3}))
    assert page["items"] == [] and page["next_after"] == page["revision"]


def test_r18_a_reader_behind_the_retained_changes_gets_410(api: Api) -> None:
    seller = new_seller(api)
    new_product(api, seller, "Basic")
    through = feed.prune(api.db, 0, datetime.now(UTC) + timedelta(seconds=1))
    assert through > 0
    body = problem(api.operator.get("/v1/changes", params={"after": 0}), 410, "changes_pruned")
    assert body["oldest_after"] == through
    assert ok(api.operator.get("/v1/changes", params={"after": through}))["items"] == []


def test_r18_bad_parameters_answer_422_and_buyers_403(api: Api) -> None:
    for params in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"wait": 31}, {"after": "x"}):
        problem(api.operator.get("/v1/changes", params=params), 422, "invalid_request")
    buyer = api.buyer(api.account())
    problem(buyer.get("/v1/changes"), 403, "forbidden")
    problem(api.client().get("/v1/changes"), 401, "unauthenticated")


def test_r15_r18_a_replayed_request_is_one_change(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    account = new_account(api)
    path = f"/v1/products/{product.product_id}/specified-users"
    body = {"account_id": account["account_id"], "account_name": account["account_name"]}
    headers = {"Idempotency-Key": "add-once"}
    ok(seller.http.post(path, json=body, headers=headers), 201)
    again = seller.http.post(path, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    added = [i for i in _all_changes(seller.http) if i["kind"] == "specified_user_added"]
    assert [i["granted"] for i in added] == [[account["account_id"]]]


def test_r14_r18_a_dry_run_is_no_change(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    account = new_account(api)
    path = f"/v1/products/{product.product_id}/specified-users?dry_run=true"
    body = {"account_id": account["account_id"], "account_name": account["account_name"]}
    ok(seller.http.post(path, json=body))
    kinds = [i["kind"] for i in _all_changes(seller.http)]
    assert kinds == ["product_created", "product_target_set"]


def test_r17_r18_a_group_s_changes_are_in_its_seller_s_feed(api: Api) -> None:
    seller, rival = new_seller(api, "Mine"), new_seller(api, "Rival")
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    account = new_account(api)
    group = groups.create_group(api.db, seller.actor, "Pilot")
    groups.add_member(
        api.db, seller.actor, group.group_id, account["account_id"], account["account_name"]
    )
    groups.attach_group(api.db, seller.actor, product.product_id, None, group.group_id)
    items = _all_changes(seller.http)
    member = next(i for i in items if i["group_id"] == group.group_id)
    assert (member["kind"], member["product_id"], member["granted"]) == (
        "specified_user_added",
        None,
        [account["account_id"]],
    )
    attached = items[-1]
    assert (attached["kind"], attached["product_id"]) == ("group_attached", product.product_id)
    assert _all_changes(rival.http) == []


def _configure(seller: Any, product_id: str, accounts: list[dict[str, Any]]) -> None:
    """R19: the product's list made exactly `accounts` by a config document."""
    users = [{"account_id": a["account_id"], "account_name": a["account_name"]} for a in accounts]
    document = {
        "version": 1,
        "prune": True,
        "products": [{"product_id": product_id, "specified_users": users}],
    }
    ok(seller.http.put("/v1/config", json=document))


def test_r18_r19_each_configured_change_names_its_own_accounts(api: Api) -> None:
    """A config apply of a few entries records one change per account: each names the account
    it granted or revoked, and only that one."""
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    first, second = new_account(api), new_account(api)
    _configure(seller, product.product_id, [first])
    head = ok(seller.http.get("/v1/changes", params={"after": 0, "limit": 1000}))["next_after"]
    _configure(seller, product.product_id, [second])  # first out, second in
    changed = {i["kind"]: i for i in _all_changes(seller.http, head)}
    removed, added = changed["specified_user_removed"], changed["specified_user_added"]
    assert (removed["granted"], removed["revoked"]) == ([], [first["account_id"]])
    assert (added["granted"], added["revoked"]) == ([second["account_id"]], [])
    assert (added["granted_count"], removed["revoked_count"]) == (1, 1)


def test_r18_r19_a_large_configured_change_names_its_accounts(api: Api) -> None:
    """Past 20 entries a config apply records one change for the list: it names every
    account it granted (R18: up to 1,000), and a webhook may ask for its kind by name."""
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    accounts = [new_account(api) for _ in range(25)]
    head = ok(seller.http.get("/v1/changes", params={"after": 0, "limit": 1000}))["next_after"]
    _configure(seller, product.product_id, accounts)
    (item,) = _all_changes(seller.http, head)
    assert item["kind"] == "specified_users_configured"
    assert sorted(item["granted"]) == sorted(a["account_id"] for a in accounts)
    assert (item["granted_count"], item["revoked"], item["revoked_count"]) == (25, [], 0)
    hook = {"url": "http://127.0.0.1:9/hook", "events": [item["kind"]], "secret": "s" * 32}
    ok(api.operator.post("/v1/webhooks", json=hook), 201)
