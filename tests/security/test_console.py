"""The console's session cookies: Secure behind HTTPS, HttpOnly, SameSite, and no token in them;
and a console session reaches only its own seller's products (R9)."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest

from offerscope.app import create_app
from offerscope.domain.targets import AccountType
from offerscope.services import accounts, products, sellers, tokens
from offerscope.services.actors import Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.browser import sign_in
from tests.support import backend_of, live_server


@pytest.fixture
def seller_token(sqlite_url: str) -> Iterator[tuple[str, Database]]:
    db = Database.connect(sqlite_url, pool_size=2)
    seller_id = sellers.create_seller(db, "Seller").seller_id
    yield tokens.create_token(db, Role.SELLER, seller_id=seller_id), db
    db.dispose()


@pytest.mark.parametrize("secure", [True, False])
def test_session_cookies_are_secure_behind_https(
    sqlite_url: str, seller_token: tuple[str, Database], secure: bool
) -> None:
    """OFFERSCOPE_SECURE_COOKIES=1 marks them Secure; HttpOnly and SameSite always."""
    token, db = seller_token
    settings = Settings(database_url=sqlite_url, secret_key="k" * 32, secure_cookies=secure)
    with live_server(create_app(settings, backend_of(db))) as base_url:
        signed_in = sign_in(base_url, token)
    assert signed_in.status_code in (302, 303), signed_in.text
    header = signed_in.headers["set-cookie"]
    morsel = SimpleCookie(header)["offerscope_console"]
    assert bool(morsel["secure"]) is secure
    assert morsel["httponly"]
    assert morsel["samesite"].lower() == "lax"
    assert token.removeprefix(tokens.TOKEN_PREFIX) not in header


def test_secure_cookies_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFERSCOPE_SECURE_COOKIES", "1")
    assert Settings.from_environment().secure_cookies
    monkeypatch.setenv("OFFERSCOPE_SECURE_COOKIES", "0")
    assert not Settings.from_environment().secure_cookies


def test_buyer_and_operator_tokens_cannot_sign_in_to_the_console(
    sqlite_url: str, seller_token: tuple[str, Database]
) -> None:
    """401 on the form, and whatever cookie comes back opens no page of the console."""
    _, db = seller_token
    accounts.register_account(db, "a" * 32, "buyer_account", AccountType.INDIVIDUAL)
    buyer = tokens.create_token(db, Role.BUYER, account_id="a" * 32)
    operator = tokens.create_token(db, Role.OPERATOR)
    with live_server(create_app(Settings(database_url=sqlite_url), backend_of(db))) as base_url:
        for token in (buyer, operator, tokens.TOKEN_PREFIX + "x" * 43):
            refused = sign_in(base_url, token)
            assert refused.status_code == 401
            jar = SimpleCookie(refused.headers.get("set-cookie", ""))
            with httpx.Client(base_url=base_url, timeout=30) as client:
                for name, morsel in jar.items():
                    client.cookies.set(name, morsel.value, path="/console")
                page = client.get("/console/products")
                assert page.status_code in (302, 303)
                assert page.headers["location"].startswith("/console/login")


def test_a_console_session_sees_only_its_own_products(
    sqlite_url: str, seller_token: tuple[str, Database]
) -> None:
    """R9 in the console: another seller's product page is 'not found', like a missing one."""
    token, db = seller_token
    rival_id = sellers.create_seller(db, "Rival").seller_id
    theirs = products.create_product(db, sellers.seller_actor(db, rival_id), "Theirs", ["T"])
    settings = Settings(database_url=sqlite_url, secret_key="k" * 32)
    with live_server(create_app(settings, backend_of(db))) as base_url:
        signed_in = sign_in(base_url, token)
        cookie = SimpleCookie(signed_in.headers["set-cookie"])["offerscope_console"].value
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.cookies.set("offerscope_console", cookie, path="/console")
            assert client.get("/console/products").status_code == 200
            page = client.get(f"/console/products/{theirs.product_id}")
            assert page.status_code == 404
            assert "Theirs" not in page.text
            missing = client.get("/console/products/prd_0000000000000000")
            assert missing.status_code == 404
