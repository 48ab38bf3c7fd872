"""Limits that keep one client from hurting others: failed-authentication rate limit (429),
request size (413) and load shedding (503), each with problem+json and, where it helps a
client back off, `Retry-After`."""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from offerscope.api.routes.feed import MAX_WAITS
from offerscope.app import create_app
from offerscope.services import products, sellers, tokens
from offerscope.services.actors import Role
from offerscope.services.guessing import MAX_TRACKED_CLIENTS, FailedAuthLimiter
from offerscope.services.tokens import TOKEN_PREFIX
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database
from tests.security.browser import sign_in
from tests.support import backend_of, live_server


@contextmanager
def serving(sqlite_url: str, **settings: Any) -> Iterator[tuple[str, str, httpx.Client]]:
    """A real server with these settings; yields its URL, an operator token and a client."""
    db = Database.connect(sqlite_url, pool_size=4)
    operator = tokens.create_token(db, Role.OPERATOR)
    app = create_app(Settings(database_url=sqlite_url, **settings), backend_of(db))
    with live_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield base_url, operator, client
    db.dispose()


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _unknown_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


# --- failed authentication: 429 after the limit -------------------------------------------


def test_failed_authentications_are_rate_limited_per_client(sqlite_url: str) -> None:
    """After 5 failures (this server's limit) further guesses get 429; health still answers."""
    with serving(sqlite_url, auth_failures_per_minute=5) as (base_url, _, client):
        for _ in range(5):
            guess = client.get("/v1/accounts/" + "a" * 32, headers=_bearer(_unknown_token()))
            _problem(guess, 401, "unauthenticated")
        blocked = client.get("/v1/accounts/" + "a" * 32, headers=_bearer(_unknown_token()))
        _problem(blocked, 429, "too_many_requests")
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        # A sign-in form that fails is a failed authentication too; it is refused as well.
        login = sign_in(base_url, _unknown_token())
        assert login.status_code == 429
        assert 1 <= int(login.headers["retry-after"]) <= 60
        assert client.get("/healthz").status_code == 200


def test_a_valid_credential_is_never_locked_out_by_failures_from_its_address(
    sqlite_url: str,
) -> None:
    """Behind a NAT or a load balancer, other people's failures must not stop checkout: a
    request whose credential is valid always goes through, from a blocked address too."""
    with serving(sqlite_url, auth_failures_per_minute=5) as (base_url, operator, client):
        for _ in range(20):
            client.get("/v1/accounts/" + "a" * 32, headers=_bearer(_unknown_token()))
        guess = client.get("/metrics", headers=_bearer(_unknown_token()))
        _problem(guess, 429, "too_many_requests")
        assert client.get("/metrics", headers=_bearer(operator)).status_code == 200
        seller = client.post("/v1/sellers", json={"name": "S"}, headers=_bearer(operator))
        seller_token = client.post(
            "/v1/tokens",
            json={"role": "seller", "seller_id": seller.json()["seller_id"]},
            headers=_bearer(operator),
        ).json()["token"]
        assert client.get("/v1/products", headers=_bearer(seller_token)).status_code == 200
        # The console's sign-in with a valid token signs in as well.
        assert sign_in(base_url, seller_token).status_code in (200, 303)


def test_failed_console_sign_ins_count_as_failed_authentications(sqlite_url: str) -> None:
    with serving(sqlite_url, auth_failures_per_minute=3) as (base_url, operator, client):
        for _ in range(3):
            assert sign_in(base_url, _unknown_token()).status_code == 401
        blocked = client.get("/metrics", headers=_bearer(_unknown_token()))
        _problem(blocked, 429, "too_many_requests")
        assert client.get("/metrics", headers=_bearer(operator)).status_code == 200


def test_requests_without_credentials_are_not_counted_as_failures(sqlite_url: str) -> None:
    """A GET with no token presented nothing to guess with: 401, never 429."""
    with serving(sqlite_url, auth_failures_per_minute=3) as (_, operator, client):
        for _ in range(10):
            _problem(client.get("/v1/products"), 401, "unauthenticated")
        assert client.get("/metrics", headers=_bearer(operator)).status_code == 200


def test_successful_authentications_are_never_limited(sqlite_url: str) -> None:
    with serving(sqlite_url, auth_failures_per_minute=2) as (_, operator, client):
        for _ in range(50):
            assert client.get("/metrics", headers=_bearer(operator)).status_code == 200


class Clock:
    """A clock the test moves by hand, so the window is tested without waiting a minute."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_retry_after_tells_when() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.note_failure("10.0.0.1")
        clock.now += 10
    assert limiter.retry_after("10.0.0.1") == 30  # the first failure leaves the window at 1060
    assert limiter.retry_after("10.0.0.2") is None  # per client
    clock.now += 30
    assert limiter.retry_after("10.0.0.1") is None


def test_the_failure_table_stays_bounded() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(limit=3, window=60, clock=clock)
    for n in range(MAX_TRACKED_CLIENTS):
        limiter.note_failure(f"client-{n}")
    clock.now += 61
    limiter.note_failure("one more")
    assert len(limiter._failures) == 1


# --- request size: 413 ---------------------------------------------------------------------


def _big_batch(size: int) -> bytes:
    check = {"account_id": "a" * 32, "specification_id": "spc_0000000000000000"}
    body = json.dumps({"checks": [check] * (size // 80)}).encode()
    assert len(body) > size
    return body


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_answers_413(sqlite_url: str, announced: bool) -> None:
    """Refused whether the size is announced or only found out while streaming."""
    with serving(sqlite_url, max_body_bytes=64 * 1024) as (base_url, operator, _):
        body = _big_batch(200 * 1024)
        content: bytes | Iterator[bytes] = (
            body if announced else iter([body[i : i + 8192] for i in range(0, len(body), 8192)])
        )
        headers = {**_bearer(operator), "Content-Type": "application/json"}
        response = httpx.post(
            f"{base_url}/v1/decisions/batch", content=content, headers=headers, timeout=30
        )
        _problem(response, 413, "request_too_large")
        small = httpx.post(
            f"{base_url}/v1/decisions/batch", json={"checks": []}, headers=headers, timeout=30
        )
        assert small.status_code == 200


# --- overload: 503 with Retry-After --------------------------------------------------------


def _hold_open(base_url: str, token: str | None) -> socket.socket:
    """A request whose body never finishes: it stays open until the socket closes."""
    port = int(base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    credential = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        "POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{credential}Content-Length: 1000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"account_id": ')
    return sock


def _eventually(probe: Callable[[], httpx.Response], status: int) -> httpx.Response:
    """Repeat `probe` until it answers `status` (the held requests reach the server first)."""
    deadline = time.monotonic() + 30
    while True:
        response = probe()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_past_max_inflight_the_server_answers_503_at_once(sqlite_url: str) -> None:
    """Writes waiting for SQLite's write lock (held here, as a long import holds it) fill the
    process's places; the next request is refused at once."""
    with serving(sqlite_url, max_inflight=2) as (base_url, operator, client):
        client.headers.update(_bearer(operator))
        lock = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        with ThreadPoolExecutor(2) as pool:
            try:
                writes = [pool.submit(_register, base_url, operator, n) for n in range(2)]
                time.sleep(0.5)  # both wait for the lock in the server: its two places
                refused = _eventually(lambda: client.get("/metrics"), 503)
                _problem(refused, 503, "overloaded")
                assert refused.headers["retry-after"] == "1"
                assert client.get("/healthz").status_code == 200  # health is exempt
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            assert [w.result().status_code for w in writes] == [201, 201]
        assert _eventually(lambda: client.get("/metrics"), 200).status_code == 200


def _register(base_url: str, operator: str, n: int) -> httpx.Response:
    account = {"account_id": f"{n:032x}", "account_name": f"held_{n}", "account_type": "individual"}
    return httpx.post(
        f"{base_url}/v1/accounts", json=account, headers=_bearer(operator), timeout=60
    )


@pytest.mark.parametrize("token", ["operator", "none", "unknown"])
def test_requests_waiting_on_their_clients_never_crowd_out_checkout(
    sqlite_url: str, token: str
) -> None:
    """Half-sent requests (headers and the start of a body, the rest never coming), with a
    valid token, none or a wrong one, hold no place: many times `max_inflight` of them, and
    decisions are still answered."""
    with serving(sqlite_url, max_inflight=2) as (base_url, operator, client):
        client.headers.update(_bearer(operator))
        given = {"operator": operator, "none": None, "unknown": _unknown_token()}[token]
        held = [_hold_open(base_url, given) for _ in range(16)]
        try:
            time.sleep(0.3)  # every held request has reached the server and waits on its body
            for _ in range(5):
                answer = client.post(
                    "/v1/decisions", json={"account_id": "a", "specification_id": "s"}
                )
                assert answer.status_code == 200, answer.text
        finally:
            for sock in held:
                sock.close()


def _waiting(
    pool: ThreadPoolExecutor, base_url: str, params: dict[str, Any], headers: dict[str, str]
) -> Future[httpx.Response]:
    """A long-poll sent and seen waiting: each reads once before it waits, holding a place for
    that read, so on a busy machine one may be refused 503 as it arrives; it is sent again."""
    url = f"{base_url}/v1/changes"
    while True:
        sent = pool.submit(httpx.get, url, params=params, headers=headers, timeout=60)
        time.sleep(0.3)
        if not sent.done():
            return sent
        assert sent.result().status_code == 503, sent.result().text


def test_long_polls_never_crowd_out_checkout_and_are_capped_per_caller(sqlite_url: str) -> None:
    """R18's waits give up their place while they wait: a seller's `MAX_WAITS` long-polls
    leave a process of 3 places answering decisions; one more wait of theirs is refused 429,
    and every wait answers when a change of theirs commits."""
    with serving(sqlite_url, max_inflight=3) as (base_url, operator, client):
        db = Database.connect(sqlite_url)
        seller = sellers.create_seller(db, "Waiter")
        token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
        feed = dict(_bearer(token))
        revision = client.get("/v1/changes", headers=feed).json()["revision"]
        params = {"after": revision, "wait": 30}
        with ThreadPoolExecutor(MAX_WAITS) as pool:
            waits = [_waiting(pool, base_url, params, feed) for _ in range(MAX_WAITS)]
            probe = {**params, "wait": 1}  # until the others wait: answered after 1 s
            one_more = _eventually(
                lambda: client.get("/v1/changes", params=probe, headers=feed), 429
            )
            _problem(one_more, 429, "too_many_waits")
            client.headers.update(_bearer(operator))
            for _ in range(5):
                answer = client.post(
                    "/v1/decisions", json={"account_id": "a", "specification_id": "s"}
                )
                assert answer.status_code == 200, answer.text
            assert not any(w.done() for w in waits)
            products.create_product(db, sellers.seller_actor(db, seller.seller_id), "New", [])
            answers = [w.result() for w in waits]
        assert all(a.status_code == 200 and a.json()["items"] for a in answers)
        db.dispose()
