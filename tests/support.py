"""Test support: a real uvicorn server in this process, a small typed API driver, and a
relay to PostgreSQL that a test can cut (a real outage)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from offerscope.app import create_app
from offerscope.bootstrap import Backend
from offerscope.index.index import DecisionIndex
from offerscope.services import sellers, tokens
from offerscope.services.actors import Role
from offerscope.settings import Settings
from offerscope.storage.unit_of_work import Database


def backend_of(db: Database) -> Backend:
    """The one backend (database and decision index) of a test's database, made on first use,
    as a server process makes one at start-up. Kept on the database object itself, so that it
    goes when the test's database goes."""
    found: Backend | None = vars(db).get("_test_backend")
    if found is None:
        found = vars(db)["_test_backend"] = Backend.on(db)
    return found


def index_of(db: Database) -> DecisionIndex:
    return backend_of(db).index


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` over real HTTP on a free loopback port for the block's duration."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def placeholder_app() -> FastAPI:
    """An app whose backend each test replaces (`app.state.backend = backend_of(db)`).

    Its failed-authentication limit is out of reach: tests send many unknown tokens from one
    address on purpose. tests/security tests the limit itself.
    """
    return create_app(Settings(database_url="sqlite://", auth_failures_per_minute=1_000_000))


def account_id(n: int) -> str:
    return f"{n:032x}"


@dataclass
class Api:
    """A driver for one test's marketplace, over real HTTP."""

    base_url: str
    db: Database
    operator_token: str
    clients: list[httpx.Client] = field(default_factory=list)
    _accounts: int = 0

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    @property
    def operator(self) -> httpx.Client:
        return self.client(self.operator_token)

    def token(self, role: Role, **who: str) -> str:
        return tokens.create_token(self.db, role, **who)

    def seller(self, name: str = "Seller") -> tuple[str, httpx.Client]:
        seller_id = sellers.create_seller(self.db, name).seller_id
        return seller_id, self.client(self.token(Role.SELLER, seller_id=seller_id))

    def account(self, account_type: str = "individual", name: str | None = None) -> dict[str, Any]:
        self._accounts += 1
        body = {
            "account_id": account_id(1000 + self._accounts),
            "account_name": name or f"user_{self._accounts:04d}",
            "account_type": account_type,
        }
        response = self.operator.post("/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        return body

    def buyer(self, account: dict[str, Any]) -> httpx.Client:
        return self.client(self.token(Role.BUYER, account_id=account["account_id"]))

    def close(self) -> None:
        for client in self.clients:
            client.close()


def create_product(seller: httpx.Client, *specs: str, name: str = "Product") -> dict[str, Any]:
    response = seller.post(
        "/v1/products", json={"name": name, "specifications": [{"name": s} for s in specs]}
    )
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


class Relay:
    """Forwards connections from a loopback port to PostgreSQL until `cut`; `mend` listens
    again on the same port. `cut_at` cuts when a connection sends certain statements: the
    database goes away at that very point of a request."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._marks: tuple[bytes, ...] = ()
        self._forward_last = False
        self.tripped = threading.Event()
        self._muted = threading.Event()  # the database's answers are dropped, not relayed

    def cut_at(self, *marks: bytes, forward: bool = False) -> None:
        """Cut once one connection has sent each of `marks` (pieces of statements), in that
        order. With `forward`, the database receives the last one before the cut (a COMMIT
        that lands, its answer lost); without, it never does."""
        self._marks, self._forward_last = marks, forward
        self.tripped.clear()

    def mend(self) -> None:
        self._muted.clear()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            doomed, self._sockets = self._sockets, []
        if self._listener is not None:
            # shut down first: a close alone leaves a blocked accept() listening (Linux)
            _shut(self._listener)
            self._listener.close()
            self._listener = None
        for sock in doomed:
            _shut(sock)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._watch, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._answer, args=(upstream, client), daemon=True).start()

    def _watch(self, client: socket.socket, upstream: socket.socket) -> None:
        """Relay what the client sends, looking for the marks of `cut_at` in it."""
        seen = 0
        try:
            while chunk := client.recv(65536):
                marks = self._marks
                while seen < len(marks) and marks[seen] in chunk:
                    seen += 1
                if marks and seen == len(marks) and not self.tripped.is_set():
                    if self._forward_last:  # it lands; its answer never reaches the client
                        self._muted.set()
                        upstream.sendall(chunk)
                    self._marks = ()
                    self.tripped.set()
                    self.cut()
                    return
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(client)
            _shut(upstream)

    def _answer(self, upstream: socket.socket, client: socket.socket) -> None:
        """Relay the database's answers to the client, dropping them once muted (`cut_at`)."""
        try:
            while chunk := upstream.recv(65536):
                if not self._muted.is_set():
                    client.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(upstream)
            _shut(client)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already shut or closed
        sock.shutdown(socket.SHUT_RDWR)
