"""Whose address a failed authentication counts against, with and without a trusted proxy.

uvicorn trusts `X-Forwarded-For` from loopback by default; offerscope must not: a client with
no proxy in front could spread its failures over invented addresses, or lock out an address
it names. Only an operator's explicit `OFFERSCOPE_FORWARDED_ALLOW_IPS` makes a proxy trusted.
Both ways are tested on a real `offerscope serve` process.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.services.tokens import TOKEN_PREFIX
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database
from tests.crash.server import start, stop

LIMIT = "3"


def _guess(base_url: str, forwarded_for: str) -> int:
    headers = {
        "Authorization": f"Bearer {TOKEN_PREFIX}{secrets.token_urlsafe(32)}",
        "X-Forwarded-For": forwarded_for,
    }
    return httpx.get(f"{base_url}/v1/products", headers=headers, timeout=30).status_code


def _operator(url: str) -> str:
    migrate(url)
    db = Database.connect(url, pool_size=1)
    token = tokens.create_token(db, Role.OPERATOR)
    db.dispose()
    return token


def test_forwarded_addresses_are_ignored_unless_the_operator_trusts_a_proxy(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    operator = _operator(url)
    server = start(url, tmp_path / "serve.log", env={"OFFERSCOPE_AUTH_FAILURES_PER_MINUTE": LIMIT})
    try:
        # Each guess claims another address; all of them come from this one client.
        assert [_guess(server.base_url, f"10.0.0.{n}") for n in range(3)] == [401] * 3
        assert _guess(server.base_url, "10.0.0.99") == 429
        ok = httpx.get(
            f"{server.base_url}/metrics",
            headers={"Authorization": f"Bearer {operator}", "X-Forwarded-For": "10.0.0.1"},
            timeout=30,
        )
        assert ok.status_code == 200
    finally:
        stop(server)


def test_a_trusted_proxy_s_forwarded_addresses_are_counted_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    _operator(url)
    env = {
        "OFFERSCOPE_AUTH_FAILURES_PER_MINUTE": LIMIT,
        "OFFERSCOPE_FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    server = start(url, tmp_path / "serve.log", env=env)
    try:
        assert [_guess(server.base_url, "10.0.0.1") for _ in range(3)] == [401] * 3
        assert _guess(server.base_url, "10.0.0.1") == 429
        assert _guess(server.base_url, "10.0.0.2") == 401  # another client behind the proxy
    finally:
        stop(server)
