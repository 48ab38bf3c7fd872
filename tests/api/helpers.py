"""Helpers of the API tests: problem+json assertions, fast set-ups through the use cases, and
snapshots of everything a seller and the operator can read (to prove bad input changed nothing).

Set-ups go through `offerscope.services` on the test's own database (fast); the behaviour under
test always goes over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.services import (
    accounts,
    associations,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Actor, Role
from offerscope.services.views import ProductView
from tests.support import Api

PROBLEM_JSON = "application/problem+json"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem of `status` with offerscope's stable `code`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].endswith(code)
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Assert a JSON success of `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


@dataclass
class SellerCtx:
    """A seller: its ID, the actor for set-ups through the use cases, and an HTTP client."""

    seller_id: str
    actor: Actor
    http: httpx.Client


def new_seller(api: Api, name: str = "Seller") -> SellerCtx:
    seller_id, client = api.seller(name)
    return SellerCtx(seller_id, sellers.seller_actor(api.db, seller_id), client)


def new_account(
    api: Api, account_type: str = "individual", name: str | None = None
) -> dict[str, Any]:
    """Register an account through the use case (fast); returns its public fields."""
    api._accounts += 1
    account_id = f"{0xACC0000 + api._accounts:032x}"
    account_name = name or f"acct_{api._accounts:04d}"
    accounts.register_account(api.db, account_id, account_name, AccountType(account_type))
    return {"account_id": account_id, "account_name": account_name, "account_type": account_type}


def buyer_client(api: Api, account: dict[str, Any]) -> httpx.Client:
    return api.client(tokens.create_token(api.db, Role.BUYER, account_id=account["account_id"]))


def new_product(
    api: Api,
    seller: SellerCtx,
    *specs: str,
    name: str = "Product",
    target: Target | None = None,
    settings: dict[str, Setting] | None = None,
) -> ProductView:
    """A product with specifications, its target and specification settings set (R2-valid)."""
    view = products.create_product(api.db, seller.actor, name, list(specs))
    for spec in view.specifications:
        if settings and spec.name in settings:
            targets.set_specification_setting(
                api.db, seller.actor, view.product_id, spec.specification_id, settings[spec.name]
            )
    if target is not None:
        targets.set_product_target(api.db, seller.actor, view.product_id, target)
    return products.get_product(api.db, seller.actor, view.product_id)


def spec_id(product: ProductView, name: str) -> str:
    return next(s.specification_id for s in product.specifications if s.name == name)


def list_user(
    api: Api, seller: SellerCtx, product: ProductView, spec: str | None, account: dict[str, Any]
) -> None:
    """Put an account on a product's (or a specification's) specified-user list."""
    specified_users.add_specified_user(
        api.db,
        seller.actor,
        product.product_id,
        spec,
        account["account_id"],
        account["account_name"],
    )


def associate(
    api: Api, seller: SellerCtx, product: ProductView, spec: str | None, others: list[str]
) -> None:
    associations.add_associations(api.db, seller.actor, product.product_id, spec, others)


def decide(api: Api, account_id: str, specification_id: str) -> dict[str, Any]:
    """R12 through the operator's HTTP endpoint."""
    body: dict[str, Any] = ok(
        api.operator.post(
            "/v1/decisions",
            json={"account_id": account_id, "specification_id": specification_id},
        )
    )
    return body


def seller_snapshot(seller: httpx.Client) -> dict[str, Any]:
    """Everything a seller can read of its own products: lists, settings, associations, history."""
    snapshot: dict[str, Any] = {}
    for product in ok(seller.get("/v1/products", params={"limit": 1000}))["items"]:
        base = f"/v1/products/{product['product_id']}"
        reads = [base, f"{base}/target-customers", f"{base}/specified-users", f"{base}/history"]
        reads.append(f"{base}/associated-products")
        for spec in product["specifications"]:
            spec_base = f"{base}/specifications/{spec['specification_id']}"
            reads += [f"{spec_base}/specified-users", f"{spec_base}/associated-specifications"]
        for path in reads:
            snapshot[path] = ok(seller.get(path, params={"limit": 1000}))
    return snapshot


def operator_snapshot(api: Api, account_ids: list[str]) -> dict[str, Any]:
    return {a: ok(api.operator.get(f"/v1/accounts/{a}")) for a in account_ids}
