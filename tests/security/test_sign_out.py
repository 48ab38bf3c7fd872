"""Sign out ends the session on the server: a cookie saved before **Sign out** opens no page
and changes nothing afterwards, in the Seller Console and in the store alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from offerscope.app import create_app
from offerscope.domain.targets import AccountType
from offerscope.services import accounts, history, orders, products, sellers, targets, tokens
from offerscope.services.actors import Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.browser import SavedCookie, csrf_of
from tests.support import backend_of, live_server

BUYER_ID = "b" * 32


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[str, Database]]:
    db = Database.connect(sqlite_url, pool_size=2)
    settings = Settings(database_url=sqlite_url, secret_key="k" * 32)
    with live_server(create_app(settings, backend_of(db))) as base_url:
        yield base_url, db
    db.dispose()


def _redirected_to_sign_in(response: httpx.Response, portal: str) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith(
        f"/{portal}/login"
    )


def test_a_console_cookie_saved_before_sign_out_opens_nothing_and_changes_nothing(
    served: tuple[str, Database],
) -> None:
    base_url, db = served
    seller_id = sellers.create_seller(db, "Seller").seller_id
    actor = sellers.seller_actor(db, seller_id)
    product = products.create_product(db, actor, "Compute", ["Basic"])
    saved = SavedCookie(
        base_url, "console", tokens.create_token(db, Role.SELLER, seller_id=seller_id)
    )
    page = saved.get(f"/console/products/{product.product_id}")
    assert page.status_code == 200
    csrf, version = csrf_of(page), re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None

    assert saved.post("/console/logout", {"csrf_token": csrf}).status_code == 303

    assert _redirected_to_sign_in(saved.get("/console/products"), "console")
    form = {"csrf_token": csrf, "target": "enterprise", "version": version[1]}
    posted = saved.post(f"/console/products/{product.product_id}/target", form)
    assert _redirected_to_sign_in(posted, "console")
    view = targets.get_target_customers(db, actor, product.product_id)
    assert view.target.value == "all"  # nothing changed
    assert len(history.product_history(db, actor, product.product_id).items) == 1


def test_a_store_cookie_saved_before_sign_out_places_no_order(
    served: tuple[str, Database],
) -> None:
    base_url, db = served
    accounts.register_account(db, BUYER_ID, "buyer_one", AccountType.INDIVIDUAL)
    seller_id = sellers.create_seller(db, "Seller").seller_id
    product = products.create_product(db, sellers.seller_actor(db, seller_id), "Compute", ["Basic"])
    spec_id = product.specifications[0].specification_id
    token = tokens.create_token(db, Role.BUYER, account_id=BUYER_ID)
    saved = SavedCookie(base_url, "store", token)
    csrf = csrf_of(saved.get("/store"))

    assert saved.post("/store/logout", {"csrf_token": csrf}).status_code == 303

    assert _redirected_to_sign_in(saved.get("/store"), "store")
    posted = saved.post("/store/orders", {"csrf_token": csrf, "specification_id": spec_id})
    assert _redirected_to_sign_in(posted, "store")
    buyer = tokens.authenticate(db, token)
    assert buyer is not None
    assert orders.list_orders(db, buyer).items == []
