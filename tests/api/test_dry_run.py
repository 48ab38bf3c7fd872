"""R14 over HTTP: every write takes `?dry_run=true`, is judged exactly as the write, changes
nothing, and answers its impact; applied writes record their impact counts in history;
target customers give audience sizes; list entries say whether they count now."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from offerscope.domain.targets import Setting, Target
from offerscope.services import associations, specified_users, targets
from tests.api.helpers import (
    SellerCtx,
    buyer_client,
    decide,
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

DRY = {"dry_run": "true"}


def _dry(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = ok(response, 200)
    assert body["dry_run"] is True
    impact: dict[str, Any] = body["impact"]
    return impact


def _figure(impact: dict[str, Any], name: str) -> tuple[int, list[str]]:
    return impact[name]["count"], impact[name]["sample"]


class Shop:
    """A seller's product with a specified-users Beta, three accounts (one listed, one a
    customer of the product), and snapshots that prove a dry run changed nothing."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seller: SellerCtx = new_seller(api)
        self.people = [new_account(api, "individual") for _ in range(2)]
        self.firm = new_account(api, "enterprise")
        self.product = new_product(
            api, self.seller, "Basic", "Beta", settings={"Beta": Setting.SPECIFIED}
        )
        self.basic = spec_id(self.product, "Basic")
        self.beta = spec_id(self.product, "Beta")
        list_user(api, self.seller, self.product, self.beta, self.people[0])
        self.buyer = buyer_client(api, self.people[1])
        ok(self.buyer.post("/v1/orders", json={"specification_id": self.basic}), 201)

    @property
    def http(self) -> httpx.Client:
        return self.seller.http

    @property
    def base(self) -> str:
        return f"/v1/products/{self.product.product_id}"

    def snapshot(self) -> dict[str, Any]:
        ids = [a["account_id"] for a in [*self.people, self.firm]]
        return {
            "seller": seller_snapshot(self.http),
            "accounts": operator_snapshot(self.api, ids),
            "orders": ok(self.buyer.get("/v1/orders")),
            "decisions": [decide(self.api, a, s) for a in ids for s in (self.basic, self.beta)],
        }


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(api)


def test_r14_a_target_change_previews_who_gains_and_who_loses(shop: Shop) -> None:
    before = shop.snapshot()
    path = f"{shop.base}/target-customers"
    impact = _dry(shop.http.put(path, params=DRY, json={"target": "enterprise"}))
    people = sorted(a["account_id"] for a in shop.people)
    # Basic loses both individuals (one of them a customer); Beta loses its listed person.
    assert _figure(impact, "losses") == (2, people)
    assert _figure(impact, "customers_losing") == (1, [shop.people[1]["account_id"]])
    assert _figure(impact, "gains") == (0, [])
    assert impact["specifications"] == [
        {"specification_id": shop.basic, "gains": 0, "losses": 2, "customers_losing": 1},
        {"specification_id": shop.beta, "gains": 0, "losses": 1, "customers_losing": 0},
    ]
    assert impact["left_with_nobody"] == [shop.beta]  # the firm is on no list
    assert shop.snapshot() == before
    applied = ok(shop.http.put(path, json={"target": "enterprise"}))
    assert applied["target"] == "enterprise"
    history = ok(shop.http.get(f"{shop.base}/history"))["items"]
    assert history[0]["action"] == "product_target_set"
    assert history[0]["impact"] == {"gains": 0, "losses": 2, "customers_losing": 1}


def test_r14_a_dry_run_is_refused_exactly_as_the_write(shop: Shop) -> None:
    """R4's 409, R5's 409 and a 404 come back as they are; nothing changes."""
    before = shop.snapshot()
    path = f"{shop.base}/target-customers"
    problem(
        shop.http.put(path, params=DRY, json={"target": "specified"}),
        409,
        "conflicting_specifications",
    )
    users = f"{shop.base}/specified-users"
    entry = {"account_id": shop.firm["account_id"], "account_name": shop.firm["account_name"]}
    problem(shop.http.post(users, params=DRY, json=entry), 409, "add_user_not_available")
    problem(shop.http.delete(f"{users}/{'0' * 32}", params=DRY), 404, "user_not_found")
    assert shop.snapshot() == before


def test_r14_every_list_and_association_write_takes_a_dry_run(shop: Shop) -> None:
    before = shop.snapshot()
    beta = f"{shop.base}/specifications/{shop.beta}"
    other = shop.people[1]
    entry = {"account_id": other["account_id"], "account_name": other["account_name"]}
    added = _dry(shop.http.post(f"{beta}/specified-users", params=DRY, json=entry))
    assert _figure(added, "gains") == (1, [other["account_id"]])
    removed = _dry(
        shop.http.delete(f"{beta}/specified-users/{shop.people[0]['account_id']}", params=DRY)
    )
    assert _figure(removed, "losses") == (1, [shop.people[0]["account_id"]])
    assert removed["left_with_nobody"] == [shop.beta]
    csv = f"{other['account_id']},{other['account_name']}\nnot,valid\n".encode()
    imported = shop.http.post(
        f"{beta}/specified-users/import",
        params={**DRY, "skip_invalid": "true"},
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    body = ok(imported)
    assert _figure(body["impact"], "gains") == (1, [other["account_id"]])
    assert (body["result"]["imported"], body["result"]["error_count"]) == (1, 1)
    rejected = shop.http.post(
        f"{beta}/specified-users/import",
        params=DRY,
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    problem(rejected, 422, "import_rejected")  # as the import itself: all or nothing
    assert shop.snapshot() == before


def test_r14_associations_orders_of_buyers_refunds_and_account_changes_dry_run(
    api: Api, shop: Shop
) -> None:
    addon = new_product(api, shop.seller, "Add-on", name="Addon", target=Target.ASSOCIATED)
    addon_spec = spec_id(addon, "Add-on")
    before = shop.snapshot()
    links = f"/v1/products/{addon.product_id}/associated-products"
    linked = _dry(
        shop.http.post(links, params=DRY, json={"product_ids": [shop.product.product_id]})
    )
    customer = shop.people[1]["account_id"]
    assert _figure(linked, "gains") == (1, [customer])
    assert linked["specifications"] == [
        {"specification_id": addon_spec, "gains": 1, "losses": 0, "customers_losing": 0}
    ]
    assert shop.snapshot() == before
    associations.add_associations(
        api.db, shop.seller.actor, addon.product_id, None, [shop.product.product_id]
    )
    before = shop.snapshot()
    order = ok(shop.buyer.get("/v1/orders"))["items"][0]["order_id"]
    refund = _dry(api.operator.post(f"/v1/orders/{order}/refund", params=DRY))
    assert _figure(refund, "losses") == (1, [customer])
    retyped = _dry(
        api.operator.patch(
            f"/v1/accounts/{shop.firm['account_id']}",
            params=DRY,
            json={"account_type": "individual"},
        )
    )
    assert _figure(retyped, "gains") == (0, [])  # Basic is sold to all: no change for Basic
    unlinked = _dry(shop.http.delete(f"{links}/{shop.product.product_id}", params=DRY))
    assert _figure(unlinked, "losses") == (1, [customer])
    assert shop.snapshot() == before


def test_r14_a_write_outside_the_list_answers_a_dry_run_and_creates_nothing(api: Api) -> None:
    seller = new_seller(api)
    body = ok(
        seller.http.post(
            "/v1/products", params=DRY, json={"name": "Never", "specifications": [{"name": "S"}]}
        )
    )
    assert body["dry_run"] is True and body["result"]["name"] == "Never"
    assert ok(seller.http.get("/v1/products"))["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "dry_run=yes",
        "dry_run=1",
        "dry_run=True",
        "dry_run=",
        # a URL that already said false, with true appended: never applied
        "dry_run=false&dry_run=true",
        "dry_run=true&dry_run=true",
    ],
)
@pytest.mark.parametrize("keyed", [False, True])
def test_r14_dry_run_is_true_or_false_given_once(api: Api, query: str, keyed: bool) -> None:
    seller = new_seller(api)
    headers = {"Idempotency-Key": f"k-{query}"} if keyed else {}
    response = seller.http.post(
        f"/v1/products?{query}", json={"name": "N", "specifications": []}, headers=headers
    )
    problem(response, 422, "invalid_request")
    assert ok(seller.http.get("/v1/products"))["items"] == []


def test_r14_audience_sizes_and_entries_that_do_not_count(api: Api, shop: Shop) -> None:
    body = ok(shop.http.get(f"{shop.base}/target-customers"))
    sizes = {s["specification_id"]: s["audience_size"] for s in body["specifications"]}
    assert body["audience_size"] == 3  # all users: the three accounts
    assert sizes == {shop.basic: 3, shop.beta: 1}
    targets.set_product_target(
        api.db, shop.seller.actor, shop.product.product_id, Target.INDIVIDUAL
    )
    specified_users.add_specified_user(
        api.db,
        shop.seller.actor,
        shop.product.product_id,
        shop.beta,
        *(shop.people[1]["account_id"], shop.people[1]["account_name"]),
    )
    api.operator.patch(
        f"/v1/accounts/{shop.people[1]['account_id']}", json={"account_type": "enterprise"}
    )
    listed = ok(shop.http.get(f"{shop.base}/specifications/{shop.beta}/specified-users"))["items"]
    by_id = {u["account_id"]: u for u in listed}
    assert by_id[shop.people[0]["account_id"]]["counts"] is True
    changed = by_id[shop.people[1]["account_id"]]
    assert changed["counts"] is False and "enterprise account" in changed["why"]
    targets.set_product_target(api.db, shop.seller.actor, shop.product.product_id, Target.ALL)
    targets.set_specification_setting(
        api.db, shop.seller.actor, shop.product.product_id, shop.beta, Setting.ALL
    )
    inactive = ok(shop.http.get(f"{shop.base}/specifications/{shop.beta}/specified-users"))
    assert all(not u["counts"] and "kept" in u["why"] for u in inactive["items"])


def test_r14_a_registration_previews_its_own_new_accounts_among_the_gains(shop: Shop) -> None:
    """An account a write registers is not in the index yet: its ID in the sample comes from
    the write's own transaction (Basic is sold to all users)."""
    before = shop.snapshot()
    new = {"account_id": f"{1:032x}", "account_name": "newcomer", "account_type": "individual"}
    impact = _dry(shop.api.operator.post("/v1/accounts", params=DRY, json=new))
    assert _figure(impact, "gains") == (1, [new["account_id"]])
    assert shop.snapshot() == before
