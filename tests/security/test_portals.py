"""The console's and the store's access matrix, generated from their routes like the API's.

Every page and form of /console and /store is asked without a session, with the owning
seller's session and with another seller's session (its own valid CSRF token in the form):
no session is sent to sign in (pages) or refused (forms); another seller's product answers 404
(R9); and no refused request changes anything.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from offerscope.app import create_app
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.browser import sign_in
from tests.security.marketplace import ENTERPRISE, INDIVIDUAL, Marketplace, seed
from tests.security.test_matrix import PORTALS, _snapshot
from tests.support import backend_of, live_server

# What each portal route is: a page anyone may see (sign-in), a page or a form behind a
# session, or the catch-all that answers any other path with a "not found" page.
PORTAL_MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/console/login"): "public",
    ("POST", "/console/login"): "public form",
    ("POST", "/console/logout"): "form",
    ("GET", "/console"): "redirect",
    ("GET", "/console/products"): "page",
    ("GET", "/console/products/{product_id}"): "page",
    ("GET", "/console/products/{product_id}/specifications/{specification_id}"): "page",
    ("POST", "/console/products/{product_id}/target"): "form",
    ("POST", "/console/products/{product_id}/specifications/{specification_id}/target"): "form",
    ("POST", "/console/products/{product_id}/users"): "form",
    ("POST", "/console/products/{product_id}/specifications/{specification_id}/users"): "form",
    ("GET", "/console/products/{product_id}/users/{account_id}/remove"): "page",
    ("POST", "/console/products/{product_id}/users/{account_id}/remove"): "form",
    (
        "GET",
        "/console/products/{product_id}/specifications/{specification_id}/users/{account_id}/remove",
    ): "page",
    (
        "POST",
        "/console/products/{product_id}/specifications/{specification_id}/users/{account_id}/remove",
    ): "form",
    ("POST", "/console/products/{product_id}/associations"): "form",
    ("POST", "/console/products/{product_id}/specifications/{specification_id}/associations"): (
        "form"
    ),
    ("POST", "/console/products/{product_id}/associations/{other_id}/remove"): "form",
    (
        "POST",
        "/console/products/{product_id}/specifications/{specification_id}/associations/{other_id}/remove",
    ): "form",
    ("GET", "/console/products/{product_id}/history"): "page",
    # R14: previews before a change (pages: nothing changes until Confirm).
    # (A Set form's preview without the form's fields is refused with a page: "preview".)
    ("GET", "/console/products/{product_id}/target/preview"): "preview",
    ("GET", "/console/products/{product_id}/specifications/{specification_id}/target/preview"): (
        "preview"
    ),
    ("GET", "/console/products/{product_id}/associations/preview"): "page",
    (
        "GET",
        "/console/products/{product_id}/specifications/{specification_id}/associations/preview",
    ): "page",
    ("GET", "/console/products/{product_id}/associations/{other_id}/remove"): "page",
    (
        "GET",
        "/console/products/{product_id}/specifications/{specification_id}/associations/{other_id}/remove",
    ): "page",
    # R17: customer groups, and groups on a list.
    ("GET", "/console/groups"): "page",
    ("POST", "/console/groups"): "form",
    ("GET", "/console/groups/{group_id}"): "page",
    ("GET", "/console/groups/{group_id}/export"): "page",
    ("POST", "/console/groups/{group_id}/rename"): "form",
    ("POST", "/console/groups/{group_id}/delete"): "form",
    ("POST", "/console/groups/{group_id}/members/import"): "form",
    ("POST", "/console/groups/{group_id}/members"): "form",
    ("GET", "/console/groups/{group_id}/members/{account_id}/remove"): "page",
    ("POST", "/console/groups/{group_id}/members/{account_id}/remove"): "form",
    ("GET", "/console/products/{product_id}/groups/preview"): "page",
    ("GET", "/console/products/{product_id}/specifications/{specification_id}/groups/preview"): (
        "page"
    ),
    ("POST", "/console/products/{product_id}/groups"): "form",
    ("POST", "/console/products/{product_id}/specifications/{specification_id}/groups"): "form",
    ("GET", "/console/products/{product_id}/groups/{group_id}/remove"): "page",
    ("POST", "/console/products/{product_id}/groups/{group_id}/remove"): "form",
    (
        "GET",
        "/console/products/{product_id}/specifications/{specification_id}/groups/{group_id}/remove",
    ): "page",
    (
        "POST",
        "/console/products/{product_id}/specifications/{specification_id}/groups/{group_id}/remove",
    ): "form",
    ("GET", "/console/{rest:path}"): "not found",
    ("GET", "/store/login"): "public",
    ("POST", "/store/login"): "public form",
    ("POST", "/store/logout"): "form",
    ("GET", "/store"): "page",
    ("POST", "/store/orders"): "form",
    ("GET", "/store/orders"): "page",
    ("GET", "/store/credentials"): "page",
    ("GET", "/store/{rest:path}"): "not found",
}


def _portal_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://", secret_key="k" * 32))
    found = set()
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if path.startswith(PORTALS):
            found |= {(m, path) for m in context.methods or set() if m != "HEAD"}
    return sorted(found)


def test_every_portal_route_has_a_matrix_entry() -> None:
    served = set(_portal_routes())
    assert served - PORTAL_MATRIX.keys() == set(), "portal routes without a matrix entry"
    assert PORTAL_MATRIX.keys() - served == set(), "matrix entries for routes that are gone"


def _url(path: str, market: Marketplace) -> str:
    """The path with the own seller's objects in it, each where a page of it exists."""
    values = {
        "product_id": market.own_product,
        "specification_id": market.own_specifications[2],  # specified, INDIVIDUAL listed
        "account_id": INDIVIDUAL[0],
        "other_id": market.own_specification,
        "rest": "nothing/here",
    }
    if "{account_id}" in path and "{specification_id}" not in path:
        values.update(product_id=market.own_products[1], account_id=ENTERPRISE[0])
    partners, pilots, spare = market.own_groups  # on Vault's list, on Lab's, on none
    if "{group_id}" in path or path.endswith("/groups/preview") or path.endswith("/groups"):
        on_spec = "{specification_id}" in path
        values.update(group_id=pilots if on_spec else partners)
        if "{product_id}" in path and not on_spec:
            values.update(product_id=market.own_products[1])  # Vault, set to specified users
    if "/associations/{other_id}/remove" in path:  # a link that exists: Club-Basic, Backup-Compute
        if "{specification_id}" in path:
            values.update(specification_id=market.own_specifications[3])
        else:
            values.update(product_id=market.own_products[2], other_id=market.own_product)
    query = ""
    if path.endswith("/groups/preview"):  # the group to add comes in the query
        query = f"?group_id={spare}"
    if path.endswith("/associations/preview"):  # so do the candidates to associate
        if "{specification_id}" in path:  # Club (associated), and Pro to associate
            values.update(specification_id=market.own_specifications[3])
            query = f"?ids={market.own_specifications[1]}"
        else:  # Backup (associated), and Vault to associate
            values.update(product_id=market.own_products[2])
            query = f"?ids={market.own_products[1]}"
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda match: values[match[1]], path) + query


@pytest.fixture(scope="module")
def portal_server() -> Iterator[tuple[FastAPI, str]]:
    settings = Settings(database_url="sqlite://", secret_key="k" * 32)
    app = create_app(settings)
    with live_server(app) as base_url:
        yield app, base_url


@pytest.fixture
def portal_market(
    portal_server: tuple[FastAPI, str], sqlite_template: Path, tmp_path: Path
) -> Iterator[tuple[Marketplace, dict[str, str]]]:
    """A fresh marketplace, and console session cookies of both sellers."""
    app, base_url = portal_server
    path = tmp_path / "offerscope.db"
    shutil.copy(sqlite_template, path)
    db = Database.connect(f"sqlite:///{path}", pool_size=4)
    app.state.backend = backend_of(db)
    market = seed(db)
    cookies = {}
    for seller in ("seller", "other_seller"):
        signed_in = sign_in(base_url, market.tokens[seller])
        cookies[seller] = SimpleCookie(signed_in.headers["set-cookie"])["offerscope_console"].value
    yield market, cookies
    db.dispose()


def _ask(base_url: str, method: str, url: str, cookie: str | None) -> httpx.Response:
    """One request as a browser with (or without) a console session; forms carry its CSRF."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        if cookie is not None:
            client.cookies.set("offerscope_console", cookie, path="/console")
        if method == "GET":
            return client.get(url)
        page = client.get("/console/products")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        return client.post(url, data={"csrf_token": csrf[1] if csrf else ""})


@pytest.mark.parametrize(("method", "path"), _portal_routes())
def test_who_may_use_which_page(
    method: str,
    path: str,
    portal_server: tuple[FastAPI, str],
    portal_market: tuple[Marketplace, dict[str, str]],
) -> None:
    app, base_url = portal_server
    market, cookies = portal_market
    kind = PORTAL_MATRIX[(method, path)]
    url = _url(path, market)
    portal = "/console" if path.startswith("/console") else "/store"
    before = _snapshot(app.state.backend.db)

    anonymous = _ask(base_url, method, url, None)
    if kind == "public":
        assert anonymous.status_code == 200
    elif kind in ("public form", "form"):
        assert anonymous.status_code == 403, anonymous.text  # no session, no CSRF token
    elif kind == "not found":
        assert anonymous.status_code == 404
    elif kind in ("page", "preview"):
        assert anonymous.status_code in (302, 303)
        assert anonymous.headers["location"].startswith(f"{portal}/login")
    assert _snapshot(app.state.backend.db) == before

    if portal == "/console" and ("{product_id}" in path or "{group_id}" in path):
        intruder = _ask(base_url, method, url, cookies["other_seller"])
        assert intruder.status_code == 404, intruder.text
        assert _snapshot(app.state.backend.db) == before, "another seller's request changed data"
        if method == "GET":
            owner = _ask(base_url, method, url, cookies["seller"]).status_code
            assert owner == 200 if kind != "preview" else owner in (200, 422)
    if portal == "/store" and kind in ("page", "form"):
        # A seller's console session is no store session.
        seller = _ask(base_url, method, url, cookies["seller"])
        assert seller.status_code in (302, 303, 403)
        assert _snapshot(app.state.backend.db) == before
