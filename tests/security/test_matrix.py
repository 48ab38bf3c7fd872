"""The full access matrix: every endpoint x every role x one's own / another seller's object.

The endpoints are read from the app's routes, so a new endpoint without an entry in MATRIX
fails here. Each entry names the role it serves, whether its path names a seller's product
(R9: another seller gets 404 exactly as for a missing one), and a request that succeeds for
the rightful caller. Each endpoint is then asked by: no token, an unknown token, the operator,
the owning seller, another seller and a buyer (SPEC.md §4: 401, 403, 404, or success).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from offerscope.app import create_app
from offerscope.services.tokens import TOKEN_PREFIX
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.marketplace import ENTERPRISE, INDIVIDUAL, SPARE, Marketplace, seed
from tests.support import backend_of, live_server, placeholder_app

CALLERS = ["none", "unknown", "operator", "seller", "other_seller", "buyer"]
# Portals of their own with cookie sessions: tests/security/test_console.py covers them.
PORTALS = ("/console", "/store")


@dataclass(frozen=True)
class Call:
    """One request: its path parameters and its body (JSON or CSV text)."""

    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    csv: str | None = None


@dataclass(frozen=True)
class Entry:
    """Who may call an endpoint, and a call that succeeds for them."""

    role: str  # operator, seller, buyer or anyone
    ok: int
    call: Callable[[Marketplace], Call] = lambda m: Call()
    owned: bool = False  # the path names a seller's product (R9)
    not_found: str = "product_not_found"  # what another seller is told (R9: as if absent)


def _own(m: Marketplace, **more: str) -> dict[str, str]:
    return {"product_id": m.own_product, **more}


def _vault(m: Marketplace) -> str:
    return m.own_products[1]  # target specified


def _backup(m: Marketplace) -> str:
    return m.own_products[2]  # target associated


def _lab(m: Marketplace) -> dict[str, str]:
    return _own(m, specification_id=m.own_specifications[2])  # setting specified


def _club(m: Marketplace) -> dict[str, str]:
    return _own(m, specification_id=m.own_specifications[3])  # setting associated


def _partners(m: Marketplace) -> dict[str, str]:
    return {"group_id": m.own_groups[0]}  # ENTERPRISE is a member; on Vault's list


def _group_entry(ok: int, call: Callable[[Marketplace], Call]) -> Entry:
    return Entry("seller", ok, call, owned=True, not_found="group_not_found")


G = "/v1/customer-groups"
P = "/v1/products/{product_id}"
S = P + "/specifications/{specification_id}"
NEW_ACCOUNT = {"account_id": "b" * 32, "account_name": "new_account", "account_type": "individual"}

HOOK = "/v1/webhooks/{webhook_id}"
NEW_HOOK = {"events": ["*"], "secret": "a-receiver-secret-of-32-chars-ok"}

MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/healthz"): Entry("anyone", 200),
    # The API's documentation holds no data; like /openapi.json it is public.
    ("GET", "/docs"): Entry("anyone", 200),
    ("GET", "/docs/start.js"): Entry("anyone", 200),
    ("GET", "/metrics"): Entry("operator", 200),
    ("POST", "/v1/accounts"): Entry("operator", 201, lambda m: Call(json=NEW_ACCOUNT)),
    ("GET", "/v1/accounts/{account_id}"): Entry(
        "operator", 200, lambda m: Call({"account_id": ENTERPRISE[0]})
    ),
    ("PATCH", "/v1/accounts/{account_id}"): Entry(
        "operator",
        200,
        lambda m: Call({"account_id": SPARE[0]}, json={"account_type": "enterprise"}),
    ),
    ("POST", "/v1/accounts/import"): Entry(
        "operator", 200, lambda m: Call(csv="c" * 32 + ",csv_account,enterprise\n")
    ),
    ("GET", "/v1/accounts/export"): Entry("operator", 200),
    ("POST", "/v1/sellers"): Entry("operator", 201, lambda m: Call(json={"name": "New"})),
    ("POST", "/v1/tokens"): Entry("operator", 201, lambda m: Call(json={"role": "operator"})),
    ("POST", "/v1/orders/{order_id}/refund"): Entry(
        "operator", 200, lambda m: Call({"order_id": m.paid_order})
    ),
    ("POST", "/v1/decisions"): Entry(
        "operator",
        200,
        lambda m: Call(json={"account_id": INDIVIDUAL[0], "specification_id": m.own_specification}),
    ),
    ("POST", "/v1/decisions/batch"): Entry(
        "operator",
        200,
        lambda m: Call(
            json={"checks": [{"account_id": SPARE[0], "specification_id": m.other_specification}]}
        ),
    ),
    ("GET", "/v1/catalog"): Entry("buyer", 200),
    ("POST", "/v1/orders"): Entry(
        "buyer", 201, lambda m: Call(json={"specification_id": m.own_specification})
    ),
    ("GET", "/v1/orders"): Entry("buyer", 200),
    ("POST", "/v1/products"): Entry(
        "seller", 201, lambda m: Call(json={"name": "New", "specifications": [{"name": "A"}]})
    ),
    ("GET", "/v1/products"): Entry("seller", 200),
    ("GET", P): Entry("seller", 200, lambda m: Call(_own(m)), owned=True),
    ("POST", P + "/specifications"): Entry(
        "seller", 201, lambda m: Call(_own(m), json={"name": "More"}), owned=True
    ),
    ("GET", P + "/target-customers"): Entry("seller", 200, lambda m: Call(_own(m)), owned=True),
    ("PUT", P + "/target-customers"): Entry(
        "seller", 200, lambda m: Call(_own(m), json={"target": "all"}), owned=True
    ),
    ("PUT", S + "/target-customers"): Entry(
        "seller", 200, lambda m: Call(_lab(m), json={"target": "individual"}), owned=True
    ),
    ("GET", P + "/specified-users"): Entry(
        "seller", 200, lambda m: Call({"product_id": _vault(m)}), owned=True
    ),
    ("POST", P + "/specified-users"): Entry(
        "seller",
        201,
        lambda m: Call(
            {"product_id": _vault(m)},
            json={"account_id": SPARE[0], "account_name": SPARE[1]},
        ),
        owned=True,
    ),
    ("DELETE", P + "/specified-users/{account_id}"): Entry(
        "seller",
        204,
        lambda m: Call({"product_id": _vault(m), "account_id": ENTERPRISE[0]}),
        owned=True,
    ),
    ("POST", P + "/specified-users/import"): Entry(
        "seller",
        200,
        lambda m: Call({"product_id": _vault(m)}, csv=f"{SPARE[0]},{SPARE[1]}\n"),
        owned=True,
    ),
    ("GET", P + "/specified-users/export"): Entry(
        "seller", 200, lambda m: Call({"product_id": _vault(m)}), owned=True
    ),
    ("GET", S + "/specified-users"): Entry("seller", 200, lambda m: Call(_lab(m)), owned=True),
    ("POST", S + "/specified-users"): Entry(
        "seller",
        201,
        lambda m: Call(_lab(m), json={"account_id": SPARE[0], "account_name": SPARE[1]}),
        owned=True,
    ),
    ("DELETE", S + "/specified-users/{account_id}"): Entry(
        "seller", 204, lambda m: Call({**_lab(m), "account_id": INDIVIDUAL[0]}), owned=True
    ),
    ("POST", S + "/specified-users/import"): Entry(
        "seller", 200, lambda m: Call(_lab(m), csv=f"{SPARE[0]},{SPARE[1]}\n"), owned=True
    ),
    ("GET", S + "/specified-users/export"): Entry(
        "seller", 200, lambda m: Call(_lab(m)), owned=True
    ),
    ("GET", P + "/associated-products"): Entry(
        "seller", 200, lambda m: Call({"product_id": _backup(m)}), owned=True
    ),
    ("POST", P + "/associated-products"): Entry(
        "seller",
        201,
        lambda m: Call({"product_id": _backup(m)}, json={"product_ids": [_vault(m)]}),
        owned=True,
    ),
    ("DELETE", P + "/associated-products/{other_product_id}"): Entry(
        "seller",
        204,
        lambda m: Call({"product_id": _backup(m), "other_product_id": m.own_product}),
        owned=True,
    ),
    ("GET", S + "/associated-specifications"): Entry(
        "seller", 200, lambda m: Call(_club(m)), owned=True
    ),
    ("POST", S + "/associated-specifications"): Entry(
        "seller",
        201,
        lambda m: Call(_club(m), json={"specification_ids": [m.own_specifications[1]]}),
        owned=True,
    ),
    ("DELETE", S + "/associated-specifications/{other_specification_id}"): Entry(
        "seller",
        204,
        lambda m: Call({**_club(m), "other_specification_id": m.own_specification}),
        owned=True,
    ),
    ("GET", P + "/history"): Entry("seller", 200, lambda m: Call(_own(m)), owned=True),
    # R17: the seller's customer groups; another seller's answer 404 as if absent.
    ("POST", G): Entry("seller", 201, lambda m: Call(json={"name": "New Group"})),
    ("GET", G): Entry("seller", 200),
    ("GET", G + "/{group_id}"): _group_entry(200, lambda m: Call(_partners(m))),
    ("PATCH", G + "/{group_id}"): _group_entry(
        200, lambda m: Call(_partners(m), json={"name": "Renamed"})
    ),
    ("DELETE", G + "/{group_id}"): _group_entry(
        204,
        lambda m: Call({"group_id": m.own_groups[2]}),  # on no list
    ),
    ("GET", G + "/{group_id}/members"): _group_entry(200, lambda m: Call(_partners(m))),
    ("POST", G + "/{group_id}/members"): _group_entry(
        201,
        lambda m: Call(_partners(m), json={"account_id": SPARE[0], "account_name": SPARE[1]}),
    ),
    ("DELETE", G + "/{group_id}/members/{account_id}"): _group_entry(
        204, lambda m: Call({**_partners(m), "account_id": ENTERPRISE[0]})
    ),
    ("POST", G + "/{group_id}/members/import"): _group_entry(
        200, lambda m: Call(_partners(m), csv=f"{SPARE[0]},{SPARE[1]}\n")
    ),
    ("GET", G + "/{group_id}/members/export"): _group_entry(200, lambda m: Call(_partners(m))),
    ("GET", G + "/{group_id}/history"): _group_entry(200, lambda m: Call(_partners(m))),
    ("DELETE", P + "/specified-users/groups/{group_id}"): Entry(
        "seller",
        204,
        lambda m: Call({"product_id": _vault(m), **_partners(m)}),
        owned=True,
    ),
    ("DELETE", S + "/specified-users/groups/{group_id}"): Entry(
        "seller", 204, lambda m: Call({**_lab(m), "group_id": m.own_groups[1]}), owned=True
    ),
    # R19: each seller's own configuration; an empty document names nothing, changes nothing.
    ("GET", "/v1/config"): Entry("seller", 200),
    ("PUT", "/v1/config"): Entry(
        "seller", 200, lambda m: Call(json={"version": 1, "products": []})
    ),
    # R18: the feed is each seller's own (R9, tests/api/test_changes.py) or the operator's all.
    ("GET", "/v1/changes"): Entry("operator_or_seller", 200),
    ("POST", "/v1/webhooks"): Entry(
        "operator", 201, lambda m: Call(json={**NEW_HOOK, "url": "http://127.0.0.1:9/new"})
    ),
    ("GET", "/v1/webhooks"): Entry("operator", 200),
    ("GET", HOOK): Entry("operator", 200, lambda m: Call({"webhook_id": m.webhook_id})),
    ("DELETE", HOOK): Entry("operator", 204, lambda m: Call({"webhook_id": m.webhook_id})),
    ("GET", HOOK + "/deliveries"): Entry(
        "operator", 200, lambda m: Call({"webhook_id": m.webhook_id})
    ),
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves over its bearer-token API."""
    found = set()
    for context in iter_route_contexts(app.routes):  # included routers, flattened
        route = context.original_route
        if isinstance(route, APIRoute) and not (context.path or "").startswith(PORTALS):
            methods = context.methods or set()
            found |= {(method, context.path or "") for method in methods if method != "HEAD"}
    return sorted(found)


def _app_routes() -> list[tuple[str, str]]:
    return api_routes(create_app(Settings(database_url="sqlite://")))


def test_every_endpoint_has_a_matrix_entry() -> None:
    """A new endpoint must say here who may call it; a removed one must leave the matrix."""
    served = set(_app_routes())
    assert served - MATRIX.keys() == set(), "endpoints without a matrix entry"
    assert MATRIX.keys() - served == set(), "matrix entries for endpoints that are gone"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FastAPI, str]]:
    app = placeholder_app()
    with live_server(app) as base_url:
        yield app, base_url


@pytest.fixture
def market(
    server: tuple[FastAPI, str], sqlite_template: Path, tmp_path: Path
) -> Iterator[Marketplace]:
    """A freshly seeded marketplace in the running server, for each endpoint."""
    app, _ = server
    path = tmp_path / "offerscope.db"
    shutil.copy(sqlite_template, path)
    db = Database.connect(f"sqlite:///{path}", pool_size=4)
    app.state.backend = backend_of(db)
    yield seed(db)
    db.dispose()


def _send(base_url: str, method: str, path: str, call: Call, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = path.format(**call.params)
    content = None
    if call.csv is not None:
        headers["Content-Type"] = "text/csv"
        content = call.csv.encode()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return client.request(method, url, headers=headers, json=call.json, content=content)


def _token(market: Marketplace, caller: str) -> str | None:
    if caller == "none":
        return None
    if caller == "unknown":
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
    return market.tokens[caller]


def _expected(entry: Entry, caller: str) -> tuple[int, str | None]:
    """SPEC.md §4: 401 without a valid token, 403 for another role, 404 for another seller."""
    if entry.role == "anyone":
        return entry.ok, None
    if caller in ("none", "unknown"):
        return 401, "unauthenticated"
    role = "seller" if caller == "other_seller" else caller
    if entry.role == "operator_or_seller" and role in ("operator", "seller"):
        return entry.ok, None
    if role != entry.role:
        return 403, "forbidden"
    if caller == "other_seller" and entry.owned:
        return 404, entry.not_found
    return entry.ok, None


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what a refused request must leave as it was."""
    with db.engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).scalars()
        # Table names come from sqlite_master itself, not from any input.
        query = 'SELECT * FROM "{}"'
        return {
            table: [tuple(row) for row in connection.exec_driver_sql(query.format(table))]
            for table in list(tables)
        }


@pytest.mark.parametrize(("method", "path"), _app_routes())
def test_who_may_call_what(
    method: str, path: str, market: Marketplace, server: tuple[FastAPI, str]
) -> None:
    """Each endpoint x caller answers as SPEC.md §4 and R9 say; refusals change nothing.

    The rightful caller goes last, since its request may change what the others would see.
    """
    entry = MATRIX[(method, path)]
    app, base_url = server
    before = _snapshot(app.state.backend.db)
    callers = sorted(CALLERS, key=lambda caller: _expected(entry, caller)[0] < 400)
    for caller in callers:
        status, code = _expected(entry, caller)
        response = _send(base_url, method, path, entry.call(market), _token(market, caller))
        assert response.status_code == status, f"{caller} {method} {path}: {response.text}"
        if code is not None:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == code
            assert _snapshot(app.state.backend.db) == before, (
                f"{caller} {method} {path} changed data"
            )
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
