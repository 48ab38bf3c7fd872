"""R19 over HTTP: `GET /v1/config` exports a seller's whole target-customer state, `PUT
/v1/config` makes it equal to a document in one transaction, `?dry_run=true` is the plan
(R14's impact), `based_on`/If-Match refuses a stale plan (412), bad documents change nothing."""

from __future__ import annotations

import copy
import random
from typing import Any

import httpx
import pytest

from offerscope.domain.targets import Setting, Target
from offerscope.domain.windows import Window
from offerscope.services import associations, groups, specified_users, targets
from offerscope.services.views import ProductView
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

DRY = {"dry_run": "true"}


def export(seller: httpx.Client) -> dict[str, Any]:
    response = seller.get("/v1/config")
    body: dict[str, Any] = ok(response)
    assert response.headers["etag"].startswith('"sha256:')
    return body


def fingerprint(seller: httpx.Client) -> str:
    return seller.get("/v1/config").headers["etag"].strip('"')


def plan(seller: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    body = ok(seller.put("/v1/config", params=DRY, json=document))
    assert body["dry_run"] is True
    result: dict[str, Any] = body["result"]
    assert result["impact"] == body["impact"]
    return result


def apply(seller: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = ok(seller.put("/v1/config", json=document))
    return result


def product_doc(document: dict[str, Any], product_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in document["products"] if p["product_id"] == product_id)
    return found


def spec_doc(product: dict[str, Any], specification_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        s for s in product["specifications"] if s["specification_id"] == specification_id
    )
    return found


def random_marketplace(api: Api, seed: int) -> SellerCtx:
    """A seller with random products: every target, settings, lists (some inactive, some
    with windows) and associations, made through the use cases."""
    rng = random.Random(seed)
    seller = new_seller(api)
    people = [new_account(api, rng.choice(["individual", "enterprise"])) for _ in range(8)]
    made: list[ProductView] = []
    for n in range(4):
        view = new_product(api, seller, *[f"S{k}" for k in range(rng.randint(1, 3))], name=f"P{n}")
        made.append(view)
        actor, pid = seller.actor, view.product_id
        specs = [s.specification_id for s in view.specifications]
        for spec in specs:
            setting = rng.choice(list(Setting))
            targets.set_specification_setting(api.db, actor, pid, spec, setting)
            if setting is Setting.SPECIFIED:
                for person in rng.sample(people, rng.randint(0, 4)):
                    window = rng.choice(["", "2020-01-01T00:00:00Z", "2031-05-01T12:00:00Z"])
                    specified_users.add_specified_user(
                        api.db,
                        actor,
                        pid,
                        spec,
                        person["account_id"],
                        person["account_name"],
                        *([Window(None, _moment(window))] if window else []),
                    )
            if setting is Setting.ASSOCIATED and len(specs) > 1:
                others = [s for s in specs if s != spec]
                associations.add_associations(api.db, actor, pid, spec, others[:1])
        if rng.random() < 0.5:
            targets.set_product_target(api.db, actor, pid, Target.SPECIFIED, reset_conflicting=True)
            for person in rng.sample(people, rng.randint(1, 4)):
                specified_users.add_specified_user(
                    api.db, actor, pid, None, person["account_id"], person["account_name"]
                )
        if len(made) > 1 and rng.random() < 0.5:
            targets.set_product_target(
                api.db, actor, pid, Target.ASSOCIATED, reset_conflicting=True
            )
            associations.add_associations(api.db, actor, pid, None, [made[0].product_id])
        final = rng.choice(list(Target))
        targets.set_product_target(api.db, actor, pid, final, reset_conflicting=True)
    _random_groups(api, seller, rng, people)
    return seller


def _random_groups(
    api: Api, seller: SellerCtx, rng: random.Random, people: list[dict[str, Any]]
) -> None:
    """R17: groups with members (some with windows), on some of the lists that are open."""
    actor = seller.actor
    made = [groups.create_group(api.db, actor, f"Group {n}").group_id for n in range(3)]
    for group_id in made:
        for person in rng.sample(people, rng.randint(0, 4)):
            window = Window(None, _moment("2031-05-01T12:00:00Z")) if rng.random() < 0.3 else None
            groups.add_member(
                api.db,
                actor,
                group_id,
                person["account_id"],
                person["account_name"],
                *([window] if window else []),
            )
    for product in export(seller.http)["products"]:
        lists = [(None, product["target"])] + [
            (s["specification_id"], s["setting"]) for s in product["specifications"]
        ]
        for spec, setting in lists:
            if setting == "specified":
                for group_id in rng.sample(made, rng.randint(0, 2)):
                    groups.attach_group(api.db, actor, product["product_id"], spec, group_id)


def _moment(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_export_then_apply_changes_nothing(api: Api, seed: int) -> None:
    """R19: export then apply is a no-op (with prune too), and applying twice changes nothing
    the second time; no history is written."""
    seller = random_marketplace(api, seed)
    before = seller_snapshot(seller.http)
    document = export(seller.http)
    assert document["version"] == 1
    for prune in (False, True):
        again = apply(seller.http, {**document, "prune": prune})
        assert again["changed"] is False and again["changes"] == []
        assert again["based_on"] == again["fingerprint"] == fingerprint(seller.http)
    assert seller_snapshot(seller.http) == before
    assert export(seller.http) == document


def test_export_names_everything(api: Api) -> None:
    seller = new_seller(api)
    person = new_account(api)
    other = new_product(api, seller, "Basic", name="Other")
    view = new_product(
        api, seller, "Basic", "Beta", name="Main", settings={"Beta": Setting.SPECIFIED}
    )
    beta = spec_id(view, "Beta")
    specified_users.add_specified_user(
        api.db,
        seller.actor,
        view.product_id,
        beta,
        person["account_id"],
        person["account_name"],
        Window(None, _moment("2031-01-01T00:00:00+00:00")),
    )
    targets.set_product_target(
        api.db, seller.actor, view.product_id, Target.ASSOCIATED, reset_conflicting=True
    )
    associations.add_associations(api.db, seller.actor, view.product_id, None, [other.product_id])
    # R4 reset the specification; its list is kept (inactive) and exported (R5).
    document = export(seller.http)
    main = product_doc(document, view.product_id)
    assert main["name"] == "Main" and main["target"] == "associated"
    assert main["associated_products"] == [other.product_id]
    assert spec_doc(main, beta) == {
        "specification_id": beta,
        "name": "Beta",
        "setting": "same_as_product",
        "specified_users": [
            {
                "account_id": person["account_id"],
                "account_name": person["account_name"],
                "valid_until": "2031-01-01T00:00:00Z",
            }
        ],
        "groups": [],
        "associated_specifications": [],
    }
    assert document["groups"] == []


class Shop:
    """A seller with a specified-users product Beta and an associated-buyers product."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seller = new_seller(api)
        self.people = [new_account(api) for _ in range(4)]
        self.firm = new_account(api, "enterprise")
        self.basic = new_product(api, self.seller, "Small", name="Basic")
        self.beta = new_product(
            api, self.seller, "One", "Two", name="Beta", target=Target.SPECIFIED
        )
        for person in self.people[:2]:
            specified_users.add_specified_user(
                api.db,
                self.seller.actor,
                self.beta.product_id,
                None,
                person["account_id"],
                person["account_name"],
            )

    def entry(self, person: dict[str, Any], **window: str) -> dict[str, Any]:
        return {
            "account_id": person["account_id"],
            "account_name": person["account_name"],
            **window,
        }


def test_plan_matches_apply_exactly(api: Api) -> None:
    """R14 with R19: a plan's diff and impact are what the apply then does and reports."""
    shop = Shop(api)
    http = shop.seller.http
    document = export(http)
    beta = product_doc(document, shop.beta.product_id)
    beta["specified_users"] = [
        shop.entry(shop.people[1], valid_until="2030-01-01T00:00:00Z"),
        shop.entry(shop.people[2]),
        shop.entry(shop.people[3]),
    ]
    basic = product_doc(document, shop.basic.product_id)
    basic["specifications"][0]["setting"] = "individual"
    document["prune"] = True
    planned = plan(http, document)
    assert export(http) != document  # the plan changed nothing
    assert planned["changed"] is True
    summary = {(c["op"], c["kind"], c["subject"]) for c in planned["changes"]}
    assert summary == {
        ("remove", "specified_user", shop.people[0]["account_id"]),
        ("change", "specified_user", shop.people[1]["account_id"]),
        ("add", "specified_user", shop.people[2]["account_id"]),
        ("add", "specified_user", shop.people[3]["account_id"]),
        ("change", "setting", None),
    }
    assert planned["impact"]["gains"]["count"] == 2
    assert planned["impact"]["losses"]["count"] >= 2  # people[0] and the firm (on Basic)
    applied = apply(http, {**document, "based_on": planned["based_on"]})
    assert applied["changes"] == planned["changes"]
    assert applied["impact"] == planned["impact"]
    assert applied["fingerprint"] == planned["fingerprint"] == fingerprint(http)
    # Applied twice: nothing the second time.
    assert apply(http, document)["changed"] is False


def test_a_plan_is_refused_after_a_concurrent_change(api: Api) -> None:
    """R19: a plan names the state it was made on; after any change since, 412 and nothing."""
    shop = Shop(api)
    http = shop.seller.http
    document = export(http)
    product_doc(document, shop.beta.product_id)["specified_users"].append(
        shop.entry(shop.people[3])
    )
    planned = plan(http, document)
    # Someone else (the console, another pipeline) changes a list meanwhile.
    ok(
        http.post(
            f"/v1/products/{shop.beta.product_id}/specified-users",
            json=shop.entry(shop.people[2]),
        ),
        201,
    )
    state = export(http)
    refused = http.put("/v1/config", json={**document, "based_on": planned["based_on"]})
    problem(refused, 412, "config_changed")
    by_header = http.put(
        "/v1/config", json=document, headers={"If-Match": f'"{planned["based_on"]}"'}
    )
    problem(by_header, 412, "config_changed")
    assert export(http) == state
    # Planned again on the current state, it applies.
    again = plan(http, document)
    assert apply(http, {**document, "based_on": again["based_on"]})["changed"] is True


def test_prune_removes_only_from_what_the_document_gives(api: Api) -> None:
    shop = Shop(api)
    http = shop.seller.http
    targets.set_product_target(api.db, shop.seller.actor, shop.basic.product_id, Target.ASSOCIATED)
    associations.add_associations(
        api.db, shop.seller.actor, shop.basic.product_id, None, [shop.beta.product_id]
    )
    partial = {
        "version": 1,
        "products": [
            {"product_id": shop.beta.product_id, "specified_users": [shop.entry(shop.people[0])]},
            {"product_id": shop.basic.product_id, "target": "associated"},
        ],
    }
    # Without prune, a list is only added to.
    assert apply(http, partial)["changed"] is False
    # With prune, the list given becomes exactly that; the associations not given stay.
    pruned = apply(http, {**partial, "prune": True})
    assert [(c["op"], c["subject"]) for c in pruned["changes"]] == [
        ("remove", shop.people[1]["account_id"])
    ]
    state = export(http)
    assert [
        e["account_id"] for e in product_doc(state, shop.beta.product_id)["specified_users"]
    ] == [shop.people[0]["account_id"]]
    assert product_doc(state, shop.basic.product_id)["associated_products"] == [
        shop.beta.product_id
    ]
    empty = {
        "version": 1,
        "prune": True,
        "products": [{"product_id": shop.basic.product_id, "associated_products": []}],
    }
    assert [c["op"] for c in apply(http, empty)["changes"]] == ["remove"]
    assert product_doc(export(http), shop.basic.product_id)["associated_products"] == []


def test_rules_apply_as_to_single_edits_and_a_refusal_changes_nothing(api: Api) -> None:
    """R5, R4 and R2 judge a document's changes; one refused change leaves all undone."""
    shop = Shop(api)
    http = shop.seller.http
    state = export(http)
    good = shop.entry(shop.people[2])
    wrong_name = {"account_id": shop.people[3]["account_id"], "account_name": "someone_else"}
    document = {
        "version": 1,
        "products": [{"product_id": shop.beta.product_id, "specified_users": [good, wrong_name]}],
    }
    problem(http.put("/v1/config", json=document), 422, "account_mismatch")
    problem(http.put("/v1/config", params=DRY, json=document), 422, "account_mismatch")
    # R5: a list takes entries only while its owner is specified.
    closed = {
        "version": 1,
        "products": [{"product_id": shop.basic.product_id, "specified_users": [good]}],
    }
    problem(http.put("/v1/config", json=closed), 409, "add_user_not_available")
    # R4: a target that conflicts with a specification the document leaves as it is.
    basic_spec = shop.basic.specifications[0].specification_id
    targets.set_specification_setting(
        api.db, shop.seller.actor, shop.basic.product_id, basic_spec, Setting.INDIVIDUAL
    )
    state = export(http)
    conflicting: dict[str, Any] = {
        "version": 1,
        "products": [{"product_id": shop.basic.product_id, "target": "enterprise"}],
    }
    problem(http.put("/v1/config", json=conflicting), 409, "conflicting_specifications")
    assert export(http) == state
    # ... accepted when the document sets that specification too (as a reset would).
    resolved = copy.deepcopy(conflicting)
    resolved["products"][0]["specifications"] = [
        {"specification_id": basic_spec, "setting": "enterprise"}
    ]
    applied = apply(http, resolved)
    assert [(c["kind"], c["after"]) for c in applied["changes"]] == [
        ("target", "enterprise"),
        ("setting", "enterprise"),
    ]
    # R2: a setting the target does not allow.
    wrong = copy.deepcopy(resolved)
    wrong["products"][0]["specifications"][0]["setting"] = "individual"
    problem(http.put("/v1/config", json=wrong), 422, "target_not_allowed")


def test_r5_an_entry_already_listed_is_judged_by_the_name_the_document_gives(api: Api) -> None:
    """R5 as a single add judges it: a listed account named in the document by another
    account's name, or by no account's, is refused, even where nothing would change; its
    current registered name (the list keeps the name as entered) changes nothing."""
    shop = Shop(api)
    http = shop.seller.http
    listed, other = shop.people[0], shop.people[1]  # both on Beta's list
    state = export(http)
    for name in (other["account_name"], "nobody_at_all"):
        entry = {"account_id": listed["account_id"], "account_name": name}
        document = {
            "version": 1,
            "products": [{"product_id": shop.beta.product_id, "specified_users": [entry]}],
        }
        problem(http.put("/v1/config", params=DRY, json=document), 422, "account_mismatch")
        problem(http.put("/v1/config", json=document), 422, "account_mismatch")
    assert export(http) == state
    renamed = ok(
        api.operator.patch(
            f"/v1/accounts/{listed['account_id']}", json={"account_name": "renamed_since"}
        )
    )
    entry = {"account_id": listed["account_id"], "account_name": renamed["account_name"]}
    document = {
        "version": 1,
        "products": [{"product_id": shop.beta.product_id, "specified_users": [entry]}],
    }
    assert apply(http, document)["changes"] == []
    assert export(http) == state


def test_another_sellers_product_is_refused_as_missing(api: Api) -> None:
    """R9: a document naming another seller's product (or specification) reads as a missing
    one: the same 404, and nothing of it is revealed or changed."""
    shop = Shop(api)
    rival = new_seller(api, "Rival")
    theirs = new_product(api, rival, "Gold", name="Secret")
    before = export(rival.http)
    answers = []
    for product_id in (theirs.product_id, "prd_does_not_exist"):
        document = {"version": 1, "products": [{"product_id": product_id, "target": "all"}]}
        body = problem(shop.seller.http.put("/v1/config", json=document), 404, "product_not_found")
        answers.append({k: v for k, v in body.items() if k != "product_id"})
        assert "Secret" not in str(body)
    assert answers[0] == answers[1]
    spec = theirs.specifications[0].specification_id
    document = {
        "version": 1,
        "products": [
            {"product_id": shop.beta.product_id, "specifications": [{"specification_id": spec}]}
        ],
    }
    problem(shop.seller.http.put("/v1/config", json=document), 404, "specification_not_found")
    association = {
        "version": 1,
        "products": [
            {
                "product_id": shop.basic.product_id,
                "target": "associated",
                "associated_products": [theirs.product_id],
            }
        ],
    }
    problem(shop.seller.http.put("/v1/config", json=association), 422, "association_not_allowed")
    assert export(rival.http) == before
    assert all(p["product_id"] != theirs.product_id for p in export(shop.seller.http)["products"])


BAD_DOCUMENTS = [
    {"version": 1, "products": [], "extra": 1},
    {"version": 2, "products": []},
    {"version": "1", "products": []},
    {"version": True, "products": []},  # no coercion: true is not 1
    {"version": 1.0, "products": []},
    {"version": 1, "prune": "true", "products": []},
    {"version": 1, "products": {"a": 1}},
    {"version": 1, "products": [{"product_id": 5}]},
    {"version": 1, "products": [{"product_id": "p", "target": "everyone"}]},
    {"version": 1, "products": [{"product_id": "p", "specified_users": [{"account_id": "a"}]}]},
    {
        "version": 1,
        "products": [
            {
                "product_id": "p",
                "specified_users": [{"account_id": "a", "account_name": "b", "role": "x"}],
            }
        ],
    },
]


@pytest.mark.parametrize("document", BAD_DOCUMENTS)
def test_bad_documents_are_refused(api: Api, document: dict[str, Any]) -> None:
    shop = Shop(api)
    before = export(shop.seller.http)
    problem(shop.seller.http.put("/v1/config", json=document), 422, "invalid_request")
    assert export(shop.seller.http) == before


def test_a_huge_document_is_refused_before_it_is_read(api: Api) -> None:
    """A 50 MB body: 413 with a code, nothing changed (the body is never held whole)."""
    shop = Shop(api)
    before = export(shop.seller.http)
    chunk = b" " * (1024 * 1024)

    def body() -> Any:
        yield b'{"version": 1, "products": ['
        for _ in range(50):
            yield chunk
        yield b"]}"

    streamed = shop.seller.http.put(
        "/v1/config", content=body(), headers={"content-type": "application/json"}
    )
    problem(streamed, 413, "request_too_large")
    assert export(shop.seller.http) == before


def test_config_is_for_sellers(api: Api) -> None:
    problem(api.operator.get("/v1/config"), 403, "forbidden")
    problem(api.client().get("/v1/config"), 401, "unauthenticated")


# --- R17's groups in the document ------------------------------------------------------------


def _group(seller: SellerCtx, name: str) -> str:
    group_id: str = ok(seller.http.post("/v1/customer-groups", json={"name": name}), 201)[
        "group_id"
    ]
    return group_id


def _attach(seller: SellerCtx, product_id: str, group_id: str) -> None:
    ok(
        seller.http.post(f"/v1/products/{product_id}/specified-users", json={"group_id": group_id}),
        201,
    )


def _member(seller: SellerCtx, group_id: str, person: dict[str, Any]) -> None:
    entry = {"account_id": person["account_id"], "account_name": person["account_name"]}
    ok(seller.http.post(f"/v1/customer-groups/{group_id}/members", json=entry), 201)


def group_doc(document: dict[str, Any], group_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in document["groups"] if g["group_id"] == group_id)
    return found


def test_groups_plan_matches_apply_and_a_named_group_is_created_once(api: Api) -> None:
    """R17 in R19: members added and pruned, groups put on and taken off a list, a group
    created by name; the plan's diff and impact are the apply's (R14)."""
    shop = Shop(api)
    http = shop.seller.http
    carol, dave, erin = new_account(api), new_account(api), new_account(api)
    old = _group(shop.seller, "Old partners")
    testers = _group(shop.seller, "Beta testers")
    _member(shop.seller, old, carol)
    _attach(shop.seller, shop.beta.product_id, old)
    document = export(http)
    assert product_doc(document, shop.beta.product_id)["groups"] == [old]
    assert group_doc(document, old) == {
        "group_id": old,
        "name": "Old partners",
        "members": [shop.entry(carol)],
    }
    document["prune"] = True
    product_doc(document, shop.beta.product_id)["groups"] = [testers]
    group_doc(document, old)["members"] = []
    group_doc(document, testers)["members"] = [shop.entry(dave)]
    document["groups"].append({"name": "Launch partners", "members": [shop.entry(erin)]})
    planned = plan(http, document)
    summary = [
        (c["op"], c["kind"], c["subject"], c["group_id"], c["group_name"])
        for c in planned["changes"]
    ]
    assert sorted(summary, key=str) == sorted(
        [
            ("add", "group", "Launch partners", None, "Launch partners"),
            ("add", "specified_user", erin["account_id"], None, "Launch partners"),
            ("remove", "specified_user", carol["account_id"], old, "Old partners"),
            ("add", "specified_user", dave["account_id"], testers, "Beta testers"),
            ("remove", "group_on_list", old, None, None),
            ("add", "group_on_list", testers, None, None),
        ],
        key=str,
    )
    assert planned["created_groups"] == []  # a plan creates nothing
    one = spec_id(shop.beta, "One")
    assert planned["impact"]["gains"]["sample"] == [dave["account_id"]]
    assert planned["impact"]["losses"]["sample"] == [carol["account_id"]]
    assert all(g["name"] != "Launch partners" for g in export(http)["groups"])
    applied = apply(http, {**document, "based_on": planned["based_on"]})
    assert applied["changes"] == planned["changes"]
    assert applied["impact"] == planned["impact"]
    # A new group's ID is given by the apply: the plan cannot foresee that part of the state.
    assert applied["fingerprint"] == fingerprint(http) != planned["fingerprint"]
    [created] = applied["created_groups"]
    assert created["name"] == "Launch partners"
    state = export(http)
    assert group_doc(state, created["group_id"])["members"] == [shop.entry(erin)]
    assert group_doc(state, old)["members"] == []
    assert decide(api, dave["account_id"], one)["allowed"]
    assert not decide(api, carol["account_id"], one)["allowed"]
    # The same document again: the group of that name is found, not made twice.
    again = apply(http, document)
    assert again["changed"] is False and again["created_groups"] == []
    assert [g["name"] for g in export(http)["groups"]].count("Launch partners") == 1


def test_prune_takes_off_only_the_groups_a_list_does_not_give(api: Api) -> None:
    shop = Shop(api)
    http = shop.seller.http
    first, second = _group(shop.seller, "First"), _group(shop.seller, "Second")
    for group_id in (first, second):
        _attach(shop.seller, shop.beta.product_id, group_id)
    partial: dict[str, Any] = {
        "version": 1,
        "products": [{"product_id": shop.beta.product_id, "groups": [first]}],
    }
    assert apply(http, partial)["changed"] is False  # without prune, only added to
    # Under prune, a list that leaves out its `groups` keeps them; no group is deleted.
    no_key = {"version": 1, "prune": True, "products": [{"product_id": shop.beta.product_id}]}
    assert apply(http, no_key)["changed"] is False
    pruned = apply(http, {**partial, "prune": True})
    assert [(c["op"], c["kind"], c["subject"]) for c in pruned["changes"]] == [
        ("remove", "group_on_list", second)
    ]
    state = export(http)
    assert product_doc(state, shop.beta.product_id)["groups"] == [first]
    assert {g["group_id"] for g in state["groups"]} == {first, second}
    history = ok(http.get(f"/v1/products/{shop.beta.product_id}/history"))["items"]
    assert (history[0]["action"], history[0]["subject"]) == ("group_detached", second)


def test_another_sellers_group_is_refused_as_missing(api: Api) -> None:
    """R9: a group of another seller, on a list or among the groups, reads as a missing one
    (the same 404), and nothing of it is revealed or changed."""
    shop = Shop(api)
    rival = new_seller(api, "Rival")
    theirs = _group(rival, "Secret partners")
    _member(rival, theirs, shop.people[0])
    before = export(rival.http)
    mine = export(shop.seller.http)
    for group_id in (theirs, "grp_does_not_exist"):
        documents: list[dict[str, Any]] = [
            {
                "version": 1,
                "products": [{"product_id": shop.beta.product_id, "groups": [group_id]}],
            },
            {"version": 1, "prune": True, "groups": [{"group_id": group_id, "members": []}]},
        ]
        for document in documents:
            body = problem(
                shop.seller.http.put("/v1/config", json=document), 404, "group_not_found"
            )
            assert "Secret" not in str(body) and shop.people[0]["account_id"] not in str(body)
            assert {k: v for k, v in body.items() if k != "group_id"} == {
                k: v
                for k, v in problem(
                    shop.seller.http.put(
                        "/v1/config",
                        json=documents[0]
                        | {
                            "products": [
                                {"product_id": shop.beta.product_id, "groups": ["grp_none"]}
                            ]
                        },
                    ),
                    404,
                    "group_not_found",
                ).items()
                if k != "group_id"
            }
    assert export(rival.http) == before
    assert export(shop.seller.http) == mine


def test_group_members_are_judged_as_single_adds(api: Api) -> None:
    """R5 in a group's members (name and ID), R5 on a list taking a group (only while
    specified), and a refusal leaves everything undone, the new group included."""
    shop = Shop(api)
    http = shop.seller.http
    before = export(http)
    wrong = {"account_id": shop.people[3]["account_id"], "account_name": "someone_else"}
    document = {
        "version": 1,
        "groups": [{"name": "New", "members": [shop.entry(shop.people[2]), wrong]}],
    }
    problem(http.put("/v1/config", json=document), 422, "account_mismatch")
    testers = _group(shop.seller, "Testers")
    closed = {
        "version": 1,
        "groups": [{"name": "New", "members": [shop.entry(shop.people[2])]}],
        "products": [{"product_id": shop.basic.product_id, "groups": [testers]}],
    }
    problem(http.put("/v1/config", json=closed), 409, "add_user_not_available")
    problem(http.put("/v1/config", json={"version": 1, "groups": [{}]}), 422, "invalid_request")
    after = export(http)
    assert after["products"] == before["products"]
    assert [g["name"] for g in after["groups"]] == ["Testers"]


def test_a_large_list_change_is_one_history_entry(api: Api) -> None:
    """R13: past a handful of accounts, a document's change to a list is recorded once (as
    an import is); the accounts count at once (R3)."""
    shop = Shop(api)
    http = shop.seller.http
    crowd = [new_account(api) for _ in range(25)]
    document = export(http)
    product_doc(document, shop.beta.product_id)["specified_users"] += [shop.entry(p) for p in crowd]
    applied = apply(http, document)
    assert len(applied["changes"]) == 25
    history = ok(http.get(f"/v1/products/{shop.beta.product_id}/history"))["items"]
    assert (history[0]["action"], history[0]["subject"]) == (
        "specified_users_configured",
        "25 accounts",
    )
    assert history[1]["action"] == "specified_user_added"  # the Shop's own, one by one
    one = spec_id(shop.beta, "One")
    assert all(decide(api, p["account_id"], one)["allowed"] for p in crowd[::6])


def test_bulk_list_changes_keep_r6_and_r16(api: Api) -> None:
    """A list change past the detailed-history size goes in bulk: R6's type fit still refuses
    the wrong account (nothing applied), R16's windows count from their moments, and window
    changes and prunes reach the decisions at once."""
    seller = new_seller(api)
    view = new_product(api, seller, "Pro", name="Ent", settings={"Pro": Setting.SPECIFIED})
    targets.set_product_target(api.db, seller.actor, view.product_id, Target.ENTERPRISE)
    pro = spec_id(view, "Pro")
    firms = [new_account(api, "enterprise") for _ in range(22)]
    person = new_account(api, "individual")
    http = seller.http

    def entry(account: dict[str, Any], **window: str) -> dict[str, Any]:
        return {
            "account_id": account["account_id"],
            "account_name": account["account_name"],
            **window,
        }

    def document(entries: list[dict[str, Any]], prune: bool = False) -> dict[str, Any]:
        return {
            "version": 1,
            "prune": prune,
            "products": [
                {
                    "product_id": view.product_id,
                    "specifications": [{"specification_id": pro, "specified_users": entries}],
                }
            ],
        }

    before = export(http)
    later = "2999-01-01T00:00:00Z"
    wanted = [entry(f, **({"valid_from": later} if n % 2 else {})) for n, f in enumerate(firms)]
    problem(
        http.put("/v1/config", json=document([*wanted, entry(person)])),
        422,
        "account_type_not_allowed",
    )
    assert export(http) == before
    applied = apply(http, document(wanted))
    assert len(applied["changes"]) == 22
    assert decide(api, firms[0]["account_id"], pro)["allowed"]
    assert not decide(api, firms[1]["account_id"], pro)["allowed"]  # not yet (R16)
    # Every window opened, the last five pruned away: 8 window changes, 5 removals.
    opened = [entry(f) for f in firms[:17]]
    changed = apply(http, document(opened, prune=True))
    ops = sorted(c["op"] for c in changed["changes"])
    assert ops == ["change"] * 8 + ["remove"] * 5, ops
    assert decide(api, firms[1]["account_id"], pro)["allowed"]
    assert not decide(api, firms[20]["account_id"], pro)["allowed"]
    listed = spec_doc(product_doc(export(http), view.product_id), pro)["specified_users"]
    assert listed == opened
    assert apply(http, document(opened, prune=True))["changed"] is False


@pytest.mark.parametrize(
    "body", [b'{"version": 1, "products": [', b"NaN", b'{"version": 1e999999}']
)
def test_malformed_json_is_400_and_changes_nothing(api: Api, body: bytes) -> None:
    """The document's JSON is parsed by orjson; what it cannot read is 400, as elsewhere."""
    shop = Shop(api)
    before = export(shop.seller.http)
    answer = shop.seller.http.put(
        "/v1/config", content=body, headers={"content-type": "application/json"}
    )
    problem(answer, 400, "invalid_request")
    assert export(shop.seller.http) == before
