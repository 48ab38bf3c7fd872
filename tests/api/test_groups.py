"""R17 over HTTP: customer groups, their members on every list holding them, R6 at check
time, R9 isolation, R14's dry run across lists, and the histories."""

from __future__ import annotations

from typing import Any

from offerscope.domain.targets import Setting, Target
from tests.api.helpers import (
    SellerCtx,
    decide,
    new_account,
    new_product,
    new_seller,
    ok,
    problem,
    seller_snapshot,
    spec_id,
)
from tests.support import Api

PAST = "2020-01-01T00:00:00Z"


def _member(account: dict[str, Any], **window: str) -> dict[str, Any]:
    return {"account_id": account["account_id"], "account_name": account["account_name"], **window}


def _group(seller: SellerCtx, name: str = "Design partners") -> str:
    group_id: str = ok(seller.http.post("/v1/customer-groups", json={"name": name}), 201)[
        "group_id"
    ]
    return group_id


def _users(product_id: str, spec: str | None = None) -> str:
    if spec is None:
        return f"/v1/products/{product_id}/specified-users"
    return f"/v1/products/{product_id}/specifications/{spec}/specified-users"


def test_r17_members_count_on_every_list_holding_the_group(api: Api) -> None:
    seller = new_seller(api)
    one = new_product(api, seller, "Basic", name="One", target=Target.SPECIFIED)
    two = new_product(api, seller, "Pro", name="Two", target=Target.SPECIFIED)
    alice, bob = new_account(api), new_account(api)
    group = _group(seller)
    for product in (one, two):
        attached = ok(seller.http.post(_users(product.product_id), json={"group_id": group}), 201)
        assert attached["group_id"] == group and attached["members"] == 0
    basic, pro = spec_id(one, "Basic"), spec_id(two, "Pro")
    assert not decide(api, alice["account_id"], basic)["allowed"]
    # One membership change reaches both lists in one commit (R3: the list and its groups).
    ok(seller.http.post(f"/v1/customer-groups/{group}/members", json=_member(alice)), 201)
    assert decide(api, alice["account_id"], basic)["allowed"]
    assert decide(api, alice["account_id"], pro)["allowed"]
    assert not decide(api, bob["account_id"], pro)["allowed"]
    page = ok(seller.http.get(_users(one.product_id)))
    assert page["items"] == [] and page["groups"] == [
        {
            "group_id": group,
            "name": "Design partners",
            "members": 1,
            "not_counting": 0,
            "why": None,
        }
    ]
    removed = seller.http.delete(f"/v1/customer-groups/{group}/members/{alice['account_id']}")
    assert removed.status_code == 204
    assert not decide(api, alice["account_id"], basic)["allowed"]
    assert not decide(api, alice["account_id"], pro)["allowed"]


def test_r17_detaching_a_group_takes_its_members_off_the_list(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    alice = new_account(api)
    group = _group(seller)
    ok(seller.http.post(f"/v1/customer-groups/{group}/members", json=_member(alice)), 201)
    ok(seller.http.post(_users(product.product_id), json={"group_id": group}), 201)
    # Attaching again changes nothing (200).
    ok(seller.http.post(_users(product.product_id), json={"group_id": group}), 200)
    basic = spec_id(product, "Basic")
    assert decide(api, alice["account_id"], basic)["allowed"]
    detach = f"{_users(product.product_id)}/groups/{group}"
    assert seller.http.delete(detach).status_code == 204
    assert decide(api, alice["account_id"], basic)["reason"] == "not_specified_user"
    problem(seller.http.delete(detach), 404, "group_not_on_list")
    actions = [
        e["action"]
        for e in ok(seller.http.get(f"/v1/products/{product.product_id}/history"))["items"]
    ]
    assert actions[:2] == ["group_detached", "group_attached"]
    group_actions = [
        e["action"] for e in ok(seller.http.get(f"/v1/customer-groups/{group}/history"))["items"]
    ]
    assert group_actions == ["specified_user_added", "group_created"]


def test_r17_a_held_group_cannot_be_deleted_and_the_answer_names_the_lists(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", "Pro", name="CloudDB")
    targets_path = f"/v1/products/{product.product_id}/specifications"
    pro = spec_id(product, "Pro")
    ok(seller.http.put(f"{targets_path}/{pro}/target-customers", json={"target": "specified"}))
    group = _group(seller)
    ok(seller.http.post(_users(product.product_id, pro), json={"group_id": group}), 201)
    body = problem(seller.http.delete(f"/v1/customer-groups/{group}"), 409, "group_in_use")
    assert "CloudDB / Pro" in body["detail"]
    assert body["lists"] == [
        {
            "product_id": product.product_id,
            "product_name": "CloudDB",
            "specification_id": pro,
            "specification_name": "Pro",
        }
    ]
    assert (
        seller.http.delete(f"{_users(product.product_id, pro)}/groups/{group}").status_code == 204
    )
    assert seller.http.delete(f"/v1/customer-groups/{group}").status_code == 204
    problem(seller.http.get(f"/v1/customer-groups/{group}"), 404, "group_not_found")


def test_r17_r6_applies_to_members_at_check_time(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(
        api,
        seller,
        "Team",
        target=Target.ENTERPRISE,
        settings={"Team": Setting.SPECIFIED},
    )
    team = spec_id(product, "Team")
    firm, person = new_account(api, "enterprise"), new_account(api, "individual")
    group = _group(seller)
    # A group takes members of any type (R6 is judged where they count) ...
    for account in (firm, person):
        ok(seller.http.post(f"/v1/customer-groups/{group}/members", json=_member(account)), 201)
    ok(seller.http.post(_users(product.product_id, team), json={"group_id": group}), 201)
    # ... so the individual member cannot buy the enterprise product's specification.
    assert decide(api, firm["account_id"], team)["allowed"]
    refused = decide(api, person["account_id"], team)
    assert (refused["allowed"], refused["level"]) == (False, "product")
    # The list shows how many members do not count there, and why.
    (shown,) = ok(seller.http.get(_users(product.product_id, team)))["groups"]
    assert (shown["members"], shown["not_counting"]) == (2, 1)
    assert "sold only to enterprise users" in shown["why"]


def test_r17_a_group_with_an_expired_member_refuses_with_r16s_reason(api: Api) -> None:
    seller = new_seller(api)
    product = new_product(api, seller, "Basic", target=Target.SPECIFIED)
    alice = new_account(api)
    group = _group(seller)
    ok(
        seller.http.post(
            f"/v1/customer-groups/{group}/members", json=_member(alice, valid_until=PAST)
        ),
        201,
    )
    ok(seller.http.post(_users(product.product_id), json={"group_id": group}), 201)
    refused = decide(api, alice["account_id"], spec_id(product, "Basic"))
    assert refused["reason"] == "specified_user_expired"
    assert refused["valid_until"] == PAST


def test_r14_a_member_change_previews_its_impact_across_every_list(api: Api) -> None:
    seller = new_seller(api)
    one = new_product(api, seller, "Basic", name="One", target=Target.SPECIFIED)
    two = new_product(api, seller, "Pro", "Max", name="Two", target=Target.SPECIFIED)
    alice = new_account(api)
    group = _group(seller)
    for product in (one, two):
        ok(seller.http.post(_users(product.product_id), json={"group_id": group}), 201)
    before = seller_snapshot(seller.http)
    members = f"/v1/customer-groups/{group}/members"
    dry = ok(seller.http.post(members + "?dry_run=true", json=_member(alice)))
    assert dry["dry_run"] is True
    assert dry["impact"]["gains"] == {"count": 1, "sample": [alice["account_id"]]}
    gained = {s["specification_id"] for s in dry["impact"]["specifications"]}
    assert gained == {spec_id(one, "Basic"), spec_id(two, "Pro"), spec_id(two, "Max")}
    assert seller_snapshot(seller.http) == before
    assert ok(seller.http.get(members))["items"] == []
    # The write does what its dry run said.
    ok(seller.http.post(members, json=_member(alice)), 201)
    for spec in gained:
        assert decide(api, alice["account_id"], spec)["allowed"]
    # Attaching is previewed too: taking the group off one product loses alice there only.
    dry = ok(seller.http.delete(f"{_users(one.product_id)}/groups/{group}?dry_run=true"))
    assert dry["impact"]["losses"]["count"] == 1
    assert [s["specification_id"] for s in dry["impact"]["specifications"]] == [
        spec_id(one, "Basic")
    ]


def test_r9_another_sellers_group_is_not_found_anywhere(api: Api) -> None:
    owner, other = new_seller(api, "Owner"), new_seller(api, "Other")
    group = _group(owner)
    theirs = new_product(api, other, "Basic", target=Target.SPECIFIED)
    alice = new_account(api)
    for response in (
        other.http.get(f"/v1/customer-groups/{group}"),
        other.http.get(f"/v1/customer-groups/{group}/members"),
        other.http.post(f"/v1/customer-groups/{group}/members", json=_member(alice)),
        other.http.patch(f"/v1/customer-groups/{group}", json={"name": "Mine"}),
        other.http.delete(f"/v1/customer-groups/{group}"),
        other.http.get(f"/v1/customer-groups/{group}/history"),
        other.http.get(f"/v1/customer-groups/{group}/members/export"),
        other.http.post(_users(theirs.product_id), json={"group_id": group}),
    ):
        problem(response, 404, "group_not_found")
    assert ok(other.http.get("/v1/customer-groups"))["items"] == []


def test_r17_names_are_unique_per_seller_and_checked(api: Api) -> None:
    seller, other = new_seller(api), new_seller(api, "Other")
    group = _group(seller, "Partners")
    problem(
        seller.http.post("/v1/customer-groups", json={"name": "Partners"}), 409, "group_name_taken"
    )
    _group(other, "Partners")  # another seller's names are its own
    for shows_nothing in ("  ", "\u200b\u200b", "\u00a0\u2060"):  # zero-width, word joiner
        sent = seller.http.post("/v1/customer-groups", json={"name": shows_nothing})
        problem(sent, 422, "invalid_request")
    problem(seller.http.post("/v1/customer-groups", json={"name": True}), 422, "invalid_request")
    reordering = "Pilots \u202egnp.exe"  # would read as "Pilots exe.png" on every page
    problem(
        seller.http.post("/v1/customer-groups", json={"name": reordering}), 422, "invalid_request"
    )
    product = {"name": reordering, "specifications": []}
    problem(seller.http.post("/v1/products", json=product), 422, "invalid_request")
    renamed = ok(seller.http.patch(f"/v1/customer-groups/{group}", json={"name": "Pilots"}))
    assert renamed["name"] == "Pilots"
    listed = ok(seller.http.get("/v1/customer-groups"))["items"]
    assert [(g["group_id"], g["name"], g["members"], g["lists"]) for g in listed] == [
        (group, "Pilots", 0, 0)
    ]


def test_r17_members_import_and_export_as_a_lists_csv(api: Api) -> None:
    seller = new_seller(api)
    alice, bob = new_account(api), new_account(api)
    group = _group(seller)
    rows = (
        "account_id,account_name,valid_from,valid_until\n"
        f"{alice['account_id']},{alice['account_name']},,\n"
        f"{bob['account_id']},{bob['account_name']},,{PAST}\n"
    )
    report = ok(
        seller.http.post(
            f"/v1/customer-groups/{group}/members/import",
            content=rows,
            headers={"content-type": "text/csv"},
        )
    )
    assert report["imported"] == 2
    exported = seller.http.get(f"/v1/customer-groups/{group}/members/export")
    assert exported.status_code == 200
    assert exported.text.replace("\r\n", "\n") == rows
    statuses = {
        m["account_id"]: m["status"]
        for m in ok(seller.http.get(f"/v1/customer-groups/{group}/members"))["items"]
    }
    assert statuses == {alice["account_id"]: "active", bob["account_id"]: "expired"}
    bad = seller.http.post(
        f"/v1/customer-groups/{group}/members/import",
        content=f"{alice['account_id']},Not Alice\n",
        headers={"content-type": "text/csv"},
    )
    problem(bad, 422, "import_rejected")


def test_s4_groups_are_listed_a_page_at_a_time(api: Api) -> None:
    """SPEC §4: every list pages by ?limit= (1 to 1,000) and ?cursor=."""
    seller = new_seller(api)
    made = [_group(seller, f"Group {n}") for n in range(3)]
    first = ok(seller.http.get("/v1/customer-groups", params={"limit": 2}))
    assert [g["group_id"] for g in first["items"]] == made[:2]
    cursor = first["next_cursor"]
    rest = ok(seller.http.get("/v1/customer-groups", params={"limit": 2, "cursor": cursor}))
    assert [g["group_id"] for g in rest["items"]] == made[2:] and rest["next_cursor"] is None
    for limit in (0, -1, 1001, "abc"):
        sent = seller.http.get("/v1/customer-groups", params={"limit": limit})
        problem(sent, 422, "invalid_request")
