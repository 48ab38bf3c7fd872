"""Tokens: strong, kept only as SHA-256 digests, looked up by digest, and never logged."""

from __future__ import annotations

import hashlib
import re
import string
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from offerscope.services import sellers, tokens
from offerscope.services.actors import Role
from offerscope.storage.tables import Base
from offerscope.storage.unit_of_work import Database
from tests.crash import server as serve
from tests.crash.server import OFFERSCOPE
from tests.support import backend_of, live_server, placeholder_app

URLSAFE = set(string.ascii_letters + string.digits + "-_")


def _issue_tokens(db: Database, database_url: str) -> list[str]:
    """Tokens of every role, issued by the use case, over HTTP and by the command line."""
    seller_id = sellers.create_seller(db, "Seller").seller_id
    operator = tokens.create_token(db, Role.OPERATOR)
    issued = [operator, tokens.create_token(db, Role.SELLER, seller_id=seller_id)]
    app = placeholder_app()
    app.state.backend = backend_of(db)
    with live_server(app) as base_url:
        for body in ({"role": "operator"}, {"role": "seller", "seller_id": seller_id}):
            response = httpx.post(
                f"{base_url}/v1/tokens",
                json=body,
                headers={"Authorization": f"Bearer {operator}"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            issued.append(response.json()["token"])
    printed = subprocess.run(
        [str(OFFERSCOPE), "token", "create", "--role", "operator", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=True,
    )
    issued.append(printed.stdout.strip().splitlines()[-1])
    return issued


def _everything_stored(db: Database, database_url: str) -> bytes:
    """Every byte the store holds: the SQLite files, or every row of every PostgreSQL table."""
    if db.dialect == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with db.engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).scalars()
        # Table names come from pg_tables itself, not from any input.
        query = 'SELECT t::text FROM "{}" t'
        rows = [
            row
            for table in list(tables)
            for row in connection.execute(text(query.format(table))).scalars()
        ]
    return "\n".join(rows).encode()


def test_tokens_are_stored_only_as_their_sha256_digests(database_url: str, db: Database) -> None:
    issued = _issue_tokens(db, database_url)
    with db.engine.connect() as connection:
        stored = set(connection.exec_driver_sql("SELECT token_hash FROM tokens").scalars())
    assert {hashlib.sha256(t.encode()).hexdigest() for t in issued} <= stored
    everything = _everything_stored(db, database_url)
    for token in issued:
        secret = token.removeprefix(tokens.TOKEN_PREFIX)
        assert secret.encode() not in everything, "a plain token is stored"


def test_tokens_carry_256_random_bits() -> None:
    """SPEC.md §1 asks for at least 128 bits; `osk_` + 43 URL-safe characters is 256."""
    db = Database.connect("sqlite://")
    Base.metadata.create_all(db.engine)
    issued = {tokens.create_token(db, Role.OPERATOR) for _ in range(200)}
    assert len(issued) == 200
    for token in issued:
        secret = token.removeprefix(tokens.TOKEN_PREFIX)
        assert len(secret) >= 43 and set(secret) <= URLSAFE
    db.dispose()


def test_authentication_asks_the_database_by_digest_only(sqlite_url: str) -> None:
    """The plain token never reaches the database: nothing there compares secrets, so its
    timing can only tell an attacker about digests of their own guesses."""
    db = Database.connect(sqlite_url, pool_size=2)
    token = tokens.create_token(db, Role.OPERATOR)
    sent: list[Any] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    assert tokens.authenticate(db, token) is not None
    assert tokens.authenticate(db, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    event.remove(db.engine, "before_cursor_execute", capture)
    assert sent, "authentication asked nothing"
    assert token not in repr(sent)
    assert hashlib.sha256(token.encode()).hexdigest() in repr(sent)
    db.dispose()


@pytest.mark.slow
def test_tokens_never_reach_the_server_log(sqlite_url: str, tmp_path: Path) -> None:
    """Valid, unknown and malformed tokens, console sign-ins, bad bodies: none is logged."""
    db = Database.connect(sqlite_url, pool_size=2)
    seller_id = sellers.create_seller(db, "Seller").seller_id
    operator = tokens.create_token(db, Role.OPERATOR)
    seller = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
    unknown = tokens.TOKEN_PREFIX + "x" * 43
    server = serve.start(sqlite_url, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for token in (operator, seller, unknown, "not-even-a-token"):
                headers = {"Authorization": f"Bearer {token}"}
                client.get("/v1/products", headers=headers)
                client.post("/v1/decisions", content=b"{not json", headers=headers)
                client.post("/v1/accounts", json={"account_id": token}, headers=headers)
            page = client.get("/console/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            for token in (seller, unknown):
                client.post("/console/login", data={"token": token, "csrf_token": csrf[1]})
    finally:
        serve.stop(server)
        db.dispose()
    log = server.output()
    for token in (operator, seller, unknown):
        assert token.removeprefix(tokens.TOKEN_PREFIX) not in log


@pytest.mark.slow
@pytest.mark.postgres
def test_the_database_password_never_reaches_the_server_log(
    postgres_url: str, tmp_path: Path
) -> None:
    """Found while writing SECURITY.md: `offerscope serve` printed its database URL whole,
    password included. (The test server trusts local connections, so any password works.)"""
    with_password = postgres_url.replace("postgres@", "postgres:s3cret-pw@", 1)
    assert "s3cret-pw" in with_password
    server = serve.start(with_password, tmp_path / "server.log")
    serve.stop(server)
    log = server.output()
    assert "offerscope serving on" in log
    assert "s3cret-pw" not in log
