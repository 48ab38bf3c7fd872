"""Model-based test: random sequences of API operations against the server and a reference.

Hypothesis drives a real server over HTTP (create products and specifications, set targets
with and without R4's reset, set specification settings, add and remove specified users,
associate and unassociate products and specifications, order, refund, rename an account,
change its type) and applies each operation to `reference.Model`, a naive formulation of
SPEC.md §3. Every operation's status (and error code) must be the one the model predicts, and
after every step every (account, specification) decision of POST /v1/decisions/batch must be
the model's. On SQLite and on PostgreSQL.

Size: OFFERSCOPE_MODEL_EXAMPLES (30) sequences of OFFERSCOPE_MODEL_STEPS (30) steps per store.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from offerscope.domain.targets import AccountType
from offerscope.services import accounts, sellers, tokens
from offerscope.services.actors import Role
from offerscope.storage.tables import Base
from offerscope.storage.unit_of_work import Database
from tests.artifacts import record
from tests.model.reference import ALLOWED, SETTINGS, TARGETS, Account, Model, Order, Product, Spec
from tests.support import backend_of, live_server, placeholder_app

EXAMPLES = int(os.environ.get("OFFERSCOPE_MODEL_EXAMPLES", "30"))
STEPS_PER_EXAMPLE = int(os.environ.get("OFFERSCOPE_MODEL_STEPS", "30"))

ACCOUNTS = [
    ("00000000000000000000000000000a01", "acct_alpha", "enterprise"),
    ("00000000000000000000000000000a02", "acct_bravo", "enterprise"),
    ("00000000000000000000000000000a03", "acct_charlie", "individual"),
    ("00000000000000000000000000000a04", "acct_delta", "individual"),
]
UNKNOWN_ACCOUNT = "00000000000000000000000000000fff"
UNKNOWN_SPEC = "spc_0000000000000000"
NAMES = [name for _, name, _ in ACCOUNTS] + ["renamed_one", "renamed_two", "nobody_here"]
SELLERS = ("own", "other")

STEPS: Counter[str] = Counter()


@dataclass
class Store:
    """The server of one test, a client of it, and a way to give it fresh data per example."""

    name: str
    app: FastAPI
    http: httpx.Client
    fresh: Callable[[], Database]


@dataclass
class As:
    """Requests with one token, over the store's one client (clients are slow to make)."""

    http: httpx.Client
    token: str

    def request(self, method: str, url: str, json: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, url, json=json, headers=headers)

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def post(self, url: str, json: Any = None) -> httpx.Response:
        return self.request("POST", url, json)

    def put(self, url: str, json: Any = None) -> httpx.Response:
        return self.request("PUT", url, json)

    def patch(self, url: str, json: Any = None) -> httpx.Response:
        return self.request("PATCH", url, json)

    def delete(self, url: str) -> httpx.Response:
        return self.request("DELETE", url)


def seed(db: Database) -> tuple[dict[str, str], dict[str, str]]:
    """Sellers and accounts for one example: tokens by seller and by account."""
    seller_tokens = {}
    for label in SELLERS:
        seller_id = sellers.create_seller(db, f"Seller {label}").seller_id
        seller_tokens[label] = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
    buyer_tokens = {}
    for account_id, name, account_type in ACCOUNTS:
        accounts.register_account(db, account_id, name, AccountType(account_type))
        buyer_tokens[account_id] = tokens.create_token(db, Role.BUYER, account_id=account_id)
    seller_tokens["operator"] = tokens.create_token(db, Role.OPERATOR)
    return seller_tokens, buyer_tokens


def intruding() -> st.SearchStrategy[bool]:
    """One request in eight comes from the other seller (R9: 404 as for a missing object)."""
    return st.integers(0, 7).map(lambda n: n == 0)


class MarketplaceMachine(RuleBasedStateMachine):
    """The server and the reference model, driven by the same operations."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        db = store.fresh()
        tokens, buyer_tokens = seed(db)
        self.seller = {label: As(store.http, tokens[label]) for label in SELLERS}
        self.operator = As(store.http, tokens["operator"])
        self.buyer = {a: As(store.http, t) for a, t in buyer_tokens.items()}
        self.model = Model()
        for account_id, name, account_type in ACCOUNTS:
            self.model.accounts[account_id] = Account(name, account_type)

    # --- helpers --------------------------------------------------------------------------

    def expect(self, response: httpx.Response, status: int, code: str | None = None) -> Any:
        """The status (and problem code) the model predicts; returns the JSON body, if any."""
        STEPS[self.store.name] += 1
        assert response.status_code == status, (
            f"{response.request.method} {response.request.url.path}: model says {status} "
            f"{code or ''}, server said {response.status_code} {response.text}"
        )
        if not response.content:
            return None
        body = response.json()
        if code is not None:
            assert body["code"] == code, body
        return body

    def acting_on(self, product_id: str, intruder: bool) -> As:
        owner = self.model.products[product_id].seller
        other = "other" if owner == "own" else "own"
        return self.seller[other if intruder else owner]

    def pick_product(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.model.products)), label="product")

    def pick_spec(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.model.specs)), label="specification")

    def pick_account(self, data: st.DataObject, *, unknown: bool = False) -> str:
        choices = sorted(self.model.accounts) + ([UNKNOWN_ACCOUNT] if unknown else [])
        return data.draw(st.sampled_from(choices), label="account")

    def has_products(self) -> bool:
        return bool(self.model.products)

    def has_specs(self) -> bool:
        return bool(self.model.specs)

    def create(self, seller: str, spec_count: int) -> None:
        response = self.seller[seller].post(
            "/v1/products",
            json={
                "name": "Product",
                "specifications": [{"name": f"S{i}"} for i in range(spec_count)],
            },
        )
        body = self.expect(response, 201)
        product = Product(seller=seller)
        self.model.products[body["product_id"]] = product
        for spec in body["specifications"]:
            product.specs.append(spec["specification_id"])
            self.model.specs[spec["specification_id"]] = Spec(body["product_id"])

    # --- rules ----------------------------------------------------------------------------

    @initialize()
    def one_product_each(self) -> None:
        self.create("own", 2)
        self.create("other", 1)

    @precondition(lambda self: len(self.model.products) < 5)
    @rule(seller=st.sampled_from(SELLERS), spec_count=st.integers(0, 3))
    def create_product(self, seller: str, spec_count: int) -> None:
        self.create(seller, spec_count)

    @precondition(lambda self: self.has_products() and len(self.model.specs) < 10)
    @rule(data=st.data(), intruder=intruding())
    def add_specification(self, data: st.DataObject, intruder: bool) -> None:
        product_id = self.pick_product(data)
        response = self.acting_on(product_id, intruder).post(
            f"/v1/products/{product_id}/specifications", json={"name": "Added"}
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
            return
        spec_id = self.expect(response, 201)["specification_id"]
        self.model.products[product_id].specs.append(spec_id)
        self.model.specs[spec_id] = Spec(product_id)

    @precondition(has_products)
    @rule(
        data=st.data(),
        new_target=st.sampled_from(TARGETS),
        reset=st.booleans(),
        intruder=intruding(),
    )
    def set_product_target(
        self, data: st.DataObject, new_target: str, reset: bool, intruder: bool
    ) -> None:
        """R4: conflicting settings refuse the change unless the request resets them."""
        product_id = self.pick_product(data)
        response = self.acting_on(product_id, intruder).put(
            f"/v1/products/{product_id}/target-customers",
            json={"target": new_target, "reset_conflicting_specifications": reset},
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
            return
        product = self.model.products[product_id]
        allowed = ALLOWED[new_target]
        conflicting = {s for s in product.specs if self.model.specs[s].setting not in allowed}
        if conflicting and not reset:
            body = self.expect(response, 409, "conflicting_specifications")
            assert set(body["conflicting_specifications"]) == conflicting
            return
        body = self.expect(response, 200)
        assert set(body["reset_specifications"]) == conflicting
        for spec_id in conflicting:
            self.model.specs[spec_id].setting = "same_as_product"
        product.target = new_target

    @precondition(has_specs)
    @rule(data=st.data(), setting=st.sampled_from(SETTINGS), intruder=intruding())
    def set_specification_setting(self, data: st.DataObject, setting: str, intruder: bool) -> None:
        """R2: 409 non_editable under specified/associated products, 422 outside the row."""
        spec_id = self.pick_spec(data)
        spec = self.model.specs[spec_id]
        response = self.acting_on(spec.product, intruder).put(
            f"/v1/products/{spec.product}/specifications/{spec_id}/target-customers",
            json={"target": setting},
        )
        target = self.model.products[spec.product].target
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif target in ("specified", "associated"):
            self.expect(response, 409, "non_editable")
        elif setting in ALLOWED[target]:
            self.expect(response, 200)
            spec.setting = setting
        else:
            self.expect(response, 422, "target_not_allowed")

    def _list_owner(self, data: st.DataObject) -> tuple[str, str | None, str]:
        """A product, or one of its specifications: (product, specification or None, path)."""
        if self.has_specs() and data.draw(st.booleans(), label="on a specification"):
            spec_id = self.pick_spec(data)
            product_id = self.model.specs[spec_id].product
            return product_id, spec_id, f"/v1/products/{product_id}/specifications/{spec_id}"
        product_id = self.pick_product(data)
        return product_id, None, f"/v1/products/{product_id}"

    @precondition(has_products)
    @rule(data=st.data(), intruder=intruding())
    def add_specified_user(self, data: st.DataObject, intruder: bool) -> None:
        """R5, R6: open list, one registered account by ID and name, type fit on specs."""
        product_id, spec_id, path = self._list_owner(data)
        account_id = self.pick_account(data, unknown=True)
        account = self.model.accounts.get(account_id)
        current = account.name if account else "nobody_here"
        name = data.draw(st.sampled_from([current, current, *NAMES]), label="name entered")
        response = self.acting_on(product_id, intruder).post(
            f"{path}/specified-users", json={"account_id": account_id, "account_name": name}
        )
        product = self.model.products[product_id]
        owner: Product | Spec = self.model.specs[spec_id] if spec_id else product
        setting = owner.setting if isinstance(owner, Spec) else owner.target
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif setting != "specified":
            self.expect(response, 409, "add_user_not_available")
        elif account is None:
            self.expect(response, 422, "account_not_found")
        elif name != account.name:
            self.expect(response, 422, "account_mismatch")
        elif (
            spec_id
            and product.target in ("enterprise", "individual")
            and account.type != product.target
        ):
            self.expect(response, 422, "account_type_not_allowed")
        elif account_id in owner.users:
            self.expect(response, 200)
        else:
            self.expect(response, 201)
            owner.users[account_id] = name

    @precondition(has_products)
    @rule(data=st.data(), intruder=intruding())
    def remove_specified_user(self, data: st.DataObject, intruder: bool) -> None:
        """R5: 204 for an account on the list, 404 otherwise."""
        product_id, spec_id, path = self._list_owner(data)
        owner: Product | Spec = (
            self.model.specs[spec_id] if spec_id else self.model.products[product_id]
        )
        account_id = data.draw(st.sampled_from(sorted(owner.users) + sorted(self.model.accounts)))
        response = self.acting_on(product_id, intruder).delete(
            f"{path}/specified-users/{account_id}"
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif account_id in owner.users:
            self.expect(response, 204)
            del owner.users[account_id]
        else:
            self.expect(response, 404, "user_not_found")

    @precondition(has_products)
    @rule(data=st.data(), intruder=intruding())
    def associate_products(self, data: st.DataObject, intruder: bool) -> None:
        """R7: only other products of the same seller, while the target is associated."""
        product_id = self.pick_product(data)
        others = data.draw(
            st.lists(st.sampled_from(list(self.model.products)), min_size=1, max_size=3),
            label="associate",
        )
        response = self.acting_on(product_id, intruder).post(
            f"/v1/products/{product_id}/associated-products", json={"product_ids": others}
        )
        product = self.model.products[product_id]
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif product.target != "associated":
            self.expect(response, 409, "association_not_available")
        elif any(
            o == product_id or self.model.products[o].seller != product.seller for o in others
        ):
            self.expect(response, 422, "association_not_allowed")
        else:
            self.expect(response, 201 if set(others) - product.associated else 200)
            product.associated |= set(others)

    @precondition(has_products)
    @rule(data=st.data(), intruder=intruding())
    def unassociate_product(self, data: st.DataObject, intruder: bool) -> None:
        product_id = self.pick_product(data)
        product = self.model.products[product_id]
        other = data.draw(st.sampled_from(list(product.associated) + list(self.model.products)))
        response = self.acting_on(product_id, intruder).delete(
            f"/v1/products/{product_id}/associated-products/{other}"
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif other in product.associated:
            self.expect(response, 204)
            product.associated.discard(other)
        else:
            self.expect(response, 404, "association_not_found")

    @precondition(has_specs)
    @rule(data=st.data(), intruder=intruding())
    def associate_specifications(self, data: st.DataObject, intruder: bool) -> None:
        """R8: only other specifications of the same product, while the setting is associated."""
        spec_id = self.pick_spec(data)
        spec = self.model.specs[spec_id]
        others = data.draw(
            st.lists(st.sampled_from(list(self.model.specs)), min_size=1, max_size=3),
            label="associate",
        )
        response = self.acting_on(spec.product, intruder).post(
            f"/v1/products/{spec.product}/specifications/{spec_id}/associated-specifications",
            json={"specification_ids": others},
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif spec.setting != "associated":
            self.expect(response, 409, "association_not_available")
        elif any(o == spec_id or self.model.specs[o].product != spec.product for o in others):
            self.expect(response, 422, "association_not_allowed")
        else:
            self.expect(response, 201 if set(others) - spec.associated else 200)
            spec.associated |= set(others)

    @precondition(has_specs)
    @rule(data=st.data(), intruder=intruding())
    def unassociate_specification(self, data: st.DataObject, intruder: bool) -> None:
        spec_id = self.pick_spec(data)
        spec = self.model.specs[spec_id]
        other = data.draw(st.sampled_from(list(spec.associated) + list(self.model.specs)))
        response = self.acting_on(spec.product, intruder).delete(
            f"/v1/products/{spec.product}/specifications/{spec_id}/associated-specifications/{other}"
        )
        if intruder:
            self.expect(response, 404, "product_not_found")
        elif other in spec.associated:
            self.expect(response, 204)
            spec.associated.discard(other)
        else:
            self.expect(response, 404, "association_not_found")

    @precondition(has_specs)
    @rule(data=st.data())
    def order(self, data: st.DataObject) -> None:
        """R11: ordered only if the model admits the buyer; 403 with the decision otherwise."""
        account_id = self.pick_account(data)
        spec_id = self.pick_spec(data)
        response = self.buyer[account_id].post("/v1/orders", json={"specification_id": spec_id})
        allowed, reason, level = self.model.decide(account_id, spec_id)
        if not allowed:
            body = self.expect(response, 403, "not_target_customer")
            assert (body["decision"]["reason"], body["decision"]["level"]) == (reason, level)
            return
        body = self.expect(response, 201)
        spec = self.model.specs[spec_id]
        self.model.orders[body["order_id"]] = Order(account_id, spec_id, spec.product)

    @precondition(lambda self: bool(self.model.orders))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        """R10: a refunded order no longer counts; refunding twice is 409."""
        order_id = data.draw(st.sampled_from(list(self.model.orders)), label="order")
        order = self.model.orders[order_id]
        response = self.operator.post(f"/v1/orders/{order_id}/refund")
        if order.paid:
            self.expect(response, 200)
            order.paid = False
        else:
            self.expect(response, 409, "already_refunded")

    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def rename_account(self, data: st.DataObject, name: str) -> None:
        """Names are unique (DECISIONS.md); lists keep accounts by ID."""
        account_id = self.pick_account(data)
        response = self.operator.patch(f"/v1/accounts/{account_id}", json={"account_name": name})
        taken = any(a != account_id and acc.name == name for a, acc in self.model.accounts.items())
        if taken:
            self.expect(response, 409, "account_name_taken")
            return
        self.expect(response, 200)
        self.model.accounts[account_id].name = name

    @rule(data=st.data(), account_type=st.sampled_from(["enterprise", "individual"]))
    def change_account_type(self, data: st.DataObject, account_type: str) -> None:
        """R6: decisions judge the account by its current type."""
        account_id = self.pick_account(data)
        response = self.operator.patch(
            f"/v1/accounts/{account_id}", json={"account_type": account_type}
        )
        self.expect(response, 200)
        self.model.accounts[account_id].type = account_type

    # --- after every step -----------------------------------------------------------------

    @invariant()
    def every_decision_is_the_models(self) -> None:
        accounts = [*sorted(self.model.accounts), UNKNOWN_ACCOUNT]
        specs = [*list(self.model.specs), UNKNOWN_SPEC]
        checks = [{"account_id": a, "specification_id": s} for a in accounts for s in specs]
        response = self.operator.post("/v1/decisions/batch", json={"checks": checks})
        assert response.status_code == 200, response.text
        for check, result in zip(checks, response.json()["results"], strict=True):
            expected = self.model.decide(check["account_id"], check["specification_id"])
            actual = (result["allowed"], result["reason"], result["level"])
            assert actual == expected, f"{check}: model {expected}, server {actual}"


# --- one server per store; fresh data per example ------------------------------------------


def _truncate(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def store(
    database_url: str, sqlite_template: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Store]:
    app = placeholder_app()
    opened: list[Database] = []
    name = "sqlite" if database_url.startswith("sqlite") else "postgres"

    def fresh() -> Database:
        """Swap a database with no data into the running server."""
        if opened:
            opened[-1].dispose()
        if name == "postgres":
            # A new Database each time: the in-memory decision index belongs to one, and
            # would not expect its change log to start again after TRUNCATE.
            opened.append(Database.connect(database_url, pool_size=4))
            _truncate(opened[-1])
        else:
            path = tmp_path / f"example-{len(opened)}.db"
            shutil.copy(sqlite_template, path)
            opened.append(Database.connect(f"sqlite:///{path}", pool_size=4))
        app.state.backend = backend_of(opened[-1])
        return opened[-1]

    with live_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield Store(name, app, http, fresh)
    for db in opened:
        db.dispose()


@pytest.mark.slow
def test_decisions_and_statuses_follow_the_reference_model(store: Store) -> None:
    """R1-R13 under random operation sequences: statuses and every decision match SPEC §3."""
    before = STEPS[store.name]

    class OnThisStore(MarketplaceMachine):
        def __init__(self) -> None:
            super().__init__(store)

    run_state_machine_as_test(
        OnThisStore,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS_PER_EXAMPLE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    steps = STEPS[store.name] - before
    print(f"\nstateful ({store.name}): {steps} steps over {EXAMPLES} examples")
    record("stateful", store.name, {"examples": EXAMPLES, "steps": steps})
    assert steps > 0
