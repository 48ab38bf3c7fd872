"""R15 in the console and the store: one change per rendered form, however often it is sent.

Over HTTP as a browser sends forms (the same form twice, as a double click or Back and resend
does): the second submission gets the first one's redirect and message and changes nothing; a
refused submission stores nothing, so the same form works once the refusal is mended.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from offerscope.app import create_app
from offerscope.domain.targets import AccountType, Target
from offerscope.services import (
    accounts,
    history,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.support import backend_of, live_server

BUYER_ID = "b" * 32


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[str, Database]]:
    db = Database.connect(database_url, pool_size=4)
    settings = Settings(database_url=database_url, secret_key="k" * 32)
    with live_server(create_app(settings, backend_of(db))) as base_url:
        yield base_url, db
    db.dispose()


@contextmanager
def _browser(base_url: str, portal: str, token: str) -> Iterator[httpx.Client]:
    """A client signed in to `portal`, keeping its cookies as a browser does."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        login = _form(client.get(f"/{portal}/login"), f"/{portal}/login")
        assert client.post(f"/{portal}/login", data={**login, "token": token}).status_code == 303
        yield client


def _form(page: httpx.Response, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action`."""
    found = re.search(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page.text, re.S
    )
    assert found is not None, page.text
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found[1]))


def _flash(client: httpx.Client, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'class="flash[^"]*"[^>]*>\s*(.*?)\s*<', page.text, re.S)
    assert found is not None, page.text
    return found[1]


def test_a_set_form_sent_twice_changes_the_target_once(served: tuple[str, Database]) -> None:
    base_url, db = served
    seller_id = sellers.create_seller(db, "Seller").seller_id
    actor = sellers.seller_actor(db, seller_id)
    product = products.create_product(db, actor, "Compute", ["Basic"])
    path = f"/console/products/{product.product_id}"
    token = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
    with _browser(base_url, "console", token) as client:
        # The Set form's OK shows the change's effect (R14); its Confirm posts the change.
        preview = client.get(
            f"{path}/target/preview", params={"target": "enterprise", "version": "1"}
        )
        form = _form(preview, f"{path}/target")
        assert form["target"] == "enterprise"
        first = client.post(f"{path}/target", data=form)
        again = client.post(f"{path}/target", data=form)
        assert again.headers["location"] == first.headers["location"]
        assert _flash(client, again) == "Product Target Customer set to Enterprise users."
    entries = history.product_history(db, actor, product.product_id).items
    assert [e.action for e in entries] == ["product_target_set", "product_created"]


def test_a_buy_form_sent_twice_places_one_order(served: tuple[str, Database]) -> None:
    base_url, db = served
    accounts.register_account(db, BUYER_ID, "buyer_one", AccountType.INDIVIDUAL)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    product = products.create_product(db, seller, "Compute", ["Basic"])
    token = tokens.create_token(db, Role.BUYER, account_id=BUYER_ID)
    with _browser(base_url, "store", token) as client:
        form = {
            **_form(client.get("/store"), "/store/orders"),
            "specification_id": product.specifications[0].specification_id,
        }
        first = _flash(client, client.post("/store/orders", data=form))
        again = _flash(client, client.post("/store/orders", data=form))
        assert first == again and first.startswith("Thank you: order ord_")
    buyer = tokens.authenticate(db, token)
    assert buyer is not None and len(orders.list_orders(db, buyer).items) == 1


def test_a_refused_buy_stores_nothing_so_the_same_form_buys_once_allowed(
    served: tuple[str, Database],
) -> None:
    base_url, db = served
    accounts.register_account(db, BUYER_ID, "buyer_one", AccountType.INDIVIDUAL)
    seller = sellers.seller_actor(db, sellers.create_seller(db, "Seller").seller_id)
    product = products.create_product(db, seller, "Private", ["Only"])
    targets.set_product_target(db, seller, product.product_id, Target.SPECIFIED)
    token = tokens.create_token(db, Role.BUYER, account_id=BUYER_ID)
    with _browser(base_url, "store", token) as client:
        form = {
            **_form(client.get("/store"), "/store/orders"),
            "specification_id": product.specifications[0].specification_id,
        }
        refused = _flash(client, client.post("/store/orders", data=form))
        assert "specified users" in refused
        specified_users.add_specified_user(
            db, seller, product.product_id, None, BUYER_ID, "buyer_one"
        )
        placed = _flash(client, client.post("/store/orders", data=form))
        assert placed.startswith("Thank you: order ord_")
