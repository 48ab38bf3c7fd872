"""A database that cannot be reached is answered 503 `database_unavailable` with Retry-After
everywhere, the hot paths included: never a 500, never a dropped connection. Once the
database is back, the same server serves again.

The outage is real: the server reaches PostgreSQL through a TCP relay on 127.0.0.1 that the
test cuts (`tests.support.Relay`), so that open connections die and new ones are refused, as
when the database server goes away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url

from offerscope.api.fast_orders import FastOrders
from offerscope.api.hot_path import Answer
from offerscope.api.metrics import Metrics
from offerscope.domain.targets import AccountType
from offerscope.services import accounts, products, sellers, tokens
from offerscope.services.actors import Role
from offerscope.services.background import DELIVERERS, Background
from offerscope.services.orders import list_orders
from offerscope.settings import Settings
from offerscope.storage.tables import IdempotencyKeyRow, ProductRow
from offerscope.storage.unit_of_work import Database
from offerscope.web.claims import SETTLED
from tests.api.helpers import problem
from tests.conftest import _empty_postgres
from tests.support import Relay, backend_of

pytestmark = pytest.mark.postgres


@pytest.fixture
def relayed(postgres_url: str) -> Iterator[tuple[Relay, Database]]:
    _empty_postgres(postgres_url)
    url = make_url(postgres_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.mend()
    db = Database.connect(url.set(port=relay.port).render_as_string(hide_password=False))
    try:
        yield relay, db
    finally:
        relay.cut()
        db.dispose()


DRY_RUN = {"dry_run": "true"}


def _unavailable(response: httpx.Response) -> None:
    problem(response, 503, "database_unavailable")
    assert int(response.headers["retry-after"]) > 0


def test_an_unreachable_database_is_answered_503_and_served_again_once_back(
    server_app: tuple[FastAPI, str], relayed: tuple[Relay, Database]
) -> None:
    relay, db = relayed
    app, base_url = server_app
    app.state.backend = backend_of(db)
    seller = sellers.create_seller(db, "Seller")
    actor = sellers.seller_actor(db, seller.seller_id)
    product = products.create_product(db, actor, "Product", ["Basic"])
    spec = product.specifications[0].specification_id
    account = "ab" * 16
    accounts.register_account(db, account, "buyer_one", AccountType.INDIVIDUAL)
    operator = tokens.create_token(db, Role.OPERATOR)
    buyer = tokens.create_token(db, Role.BUYER, account_id=account)
    seller_token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
    check = {"account_id": account, "specification_id": spec}
    requests = [
        (operator, "POST", "/v1/decisions", check, {}),
        (operator, "POST", "/v1/decisions", check, {"via": "full-stack"}),
        (operator, "POST", "/v1/decisions/batch", {"checks": [check]}, {}),
        (buyer, "POST", "/v1/orders", {"specification_id": spec}, {}),
        (buyer, "POST", "/v1/orders", {"specification_id": spec}, {"via": "full-stack"}),
        (seller_token, "POST", "/v1/products", {"name": "More", "specifications": []}, {}),
        (seller_token, "POST", "/v1/products", {"name": "No", "specifications": []}, DRY_RUN),
        (seller_token, "GET", "/v1/products", None, {}),
        (seller_token, "GET", "/v1/changes", None, {}),
        (operator, "GET", "/v1/accounts/export", None, {}),
        (
            seller_token,
            "GET",
            f"/v1/products/{product.product_id}/specified-users/export",
            None,
            {},
        ),
    ]

    def send(
        token: str, method: str, path: str, body: object, params: dict[str, str]
    ) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            return client.request(method, path, json=body, params=params, headers=headers)

    assert send(*requests[0]).status_code == 200
    relay.cut()
    for request in requests:
        _unavailable(send(*request))
    relay.mend()  # no request fails for a connection that died meanwhile
    for request in requests:
        assert send(*request).status_code < 300, request


def test_an_order_whose_database_goes_away_mid_request_is_answered_503_not_placed(
    relayed: tuple[Relay, Database],
) -> None:
    """The hot path's own answer (`HotPath`): the buyer is authenticated, then the database
    goes before the order's batch runs. The order is not handed to the full stack to be
    placed again (a batch whose commit failed may have landed), and nothing was placed."""
    relay, db = relayed
    seller = sellers.create_seller(db, "Seller")
    actor = sellers.seller_actor(db, seller.seller_id)
    product = products.create_product(db, actor, "Product", ["Basic"])
    account = "cd" * 16
    accounts.register_account(db, account, "buyer_two", AccountType.INDIVIDUAL)
    token = tokens.create_token(db, Role.BUYER, account_id=account)

    class CutMidRequest(FastOrders):
        async def answer(self, *given: Any) -> Answer | None:
            relay.cut()
            return await super().answer(*given)

    app = FastAPI()
    app.state.backend, app.state.metrics = backend_of(db), Metrics()
    orders = CutMidRequest(app, max_body_bytes=1024)
    body = b'{"specification_id": "' + product.specifications[0].specification_id.encode() + b'"}'
    answer = asyncio.run(orders._answered({"app": app}, token, body))
    assert answer is not None and answer.status == 503
    assert (b"retry-after", b"5") in answer.headers
    assert b"database_unavailable" in answer.body
    relay.mend()
    buyer = tokens.authenticate(db, token)
    assert buyer is not None and list_orders(db, buyer).items == []


BACKGROUND_LOG = "offerscope.services.background"
BACK = "the database is back"
THREADS = 1 + DELIVERERS  # the feed's upkeep and the webhook deliverers


def _keyed_seller(db: Database) -> dict[str, str]:
    seller = sellers.create_seller(db, "Seller")
    token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": "once-only"}


def _products_of(db: Database) -> list[str]:
    with db.reading() as uow:
        return list(uow.session.scalars(select(ProductRow.name)))


def _claims_of(db: Database) -> list[str]:
    with db.reading() as uow:
        return list(uow.session.scalars(select(IdempotencyKeyRow.state)))


def test_a_keyed_write_while_the_database_is_away_is_answered_503(
    server_app: tuple[FastAPI, str], relayed: tuple[Relay, Database]
) -> None:
    """R15's claim is the first thing a keyed write asks of the database: when it cannot be
    made, the write is answered as every other (503, Retry-After), and the same key runs the
    write once the database is back."""
    relay, db = relayed
    app, base_url = server_app
    app.state.backend = backend_of(db)
    body = {"name": "Keyed", "specifications": []}
    with httpx.Client(base_url=base_url, timeout=30, headers=_keyed_seller(db)) as client:
        relay.cut()
        _unavailable(client.post("/v1/products", json=body))
        relay.mend()
        first = client.post("/v1/products", json=body)
        again = client.post("/v1/products", json=body)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(
    ("marks", "lands"),
    [
        pytest.param((b"INSERT INTO products",), False, id="during-the-write"),
        pytest.param((b"UPDATE idempotency_keys",), False, id="before-the-commit"),
        pytest.param((b"UPDATE idempotency_keys", b"COMMIT"), True, id="commit-lands-answer-lost"),
    ],
)
def test_a_keyed_write_cut_off_by_the_database_runs_once_when_sent_again(
    server_app: tuple[FastAPI, str],
    relayed: tuple[Relay, Database],
    marks: tuple[bytes, ...],
    lands: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """R15 across an outage: the database goes away while a keyed write runs, at the write,
    before its commit, or after its commit landed with its answer lost. The write is answered
    503; once the database is back the key is free again (or holds the answer, if the commit
    landed) without waiting for its lease to end, and the same request sent again makes the
    product exactly once."""
    caplog.set_level(logging.INFO, logger="offerscope.web")
    relay, db = relayed
    app, base_url = server_app
    app.state.backend = backend_of(db)
    body = {"name": "Keyed", "specifications": []}
    with httpx.Client(base_url=base_url, timeout=30, headers=_keyed_seller(db)) as client:
        relay.cut_at(*marks, forward=lands)
        _unavailable(client.post("/v1/products", json=body))
        assert relay.tripped.is_set()
        relay.mend()
        # The process settles what the cut left claimed as soon as the database is back.
        deadline = time.monotonic() + 10
        while SETTLED not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _claims_of(db) == (["done"] if lands else [])
        again = client.post("/v1/products", json=body)
        assert again.status_code == 201, again.text
        assert (again.headers.get("idempotent-replayed") == "true") is lands
        assert client.post("/v1/products", json=body).json() == again.json()
    assert _products_of(db) == ["Keyed"]


def test_background_work_logs_an_outage_once_and_says_when_it_ends(
    relayed: tuple[Relay, Database], caplog: pytest.LogCaptureFixture
) -> None:
    """R18's background threads (windows, pruning, webhook deliveries) keep going through an
    outage, trying again every round; an operator reads that the database went away and
    that it came back, once each per thread that met the outage (the deliverers share their
    looks, so one may not meet it), not a stack trace every round."""
    caplog.set_level(logging.INFO, logger=BACKGROUND_LOG)
    relay, db = relayed
    backend = backend_of(db)
    background = Background(db, Settings(db.url), backend.index.committed_revision).start()
    try:
        time.sleep(0.3)
        relay.cut()
        time.sleep(1.5)  # a few dozen rounds of every thread
        during = [r for r in caplog.records if r.name == BACKGROUND_LOG]
        relay.mend()
        deadline = time.monotonic() + 10
        while caplog.text.count(BACK) < len(during) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        background.stop()
    assert 1 <= len(during) <= THREADS, [r.getMessage() for r in during]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in during)
    assert len({r.threadName for r in during}) == len(during)  # once each
    assert caplog.text.count(BACK) == len(during)
