"""Webhook tests run real `offerscope serve` processes (their background workers deliver)
against a real receiver on 127.0.0.1, on a new database of each store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database
from tests.storage.databases import empty_postgres_database
from tests.support import free_port

# Retries quick enough for a test (R18's backoff is a setting).
FAST_RETRIES = {
    "OFFERSCOPE_WEBHOOK_BACKOFF_SECONDS": "0.1",
    "OFFERSCOPE_WEBHOOK_BACKOFF_MAX_SECONDS": "0.4",
    "OFFERSCOPE_WEBHOOK_TIMEOUT_SECONDS": "2",
    "OFFERSCOPE_SECRET_KEY": "one-secret-for-every-process-of-the-test",
}


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill9(self) -> None:
        """SIGKILL to the server's whole process group (this test's own processes)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Store:
    """One database, the servers a test starts on it, and an operator token."""

    url: str
    log_dir: Path
    servers: list[Server]
    db: Database
    operator_token: str
    clients: list[httpx.Client] = field(default_factory=list)

    def serve(self, **env: str) -> Server:
        port = free_port()
        log = self.log_dir / f"server-{len(self.servers)}.log"
        command = [
            str(Path(sys.executable).parent / "offerscope"),
            "serve",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--database-url={self.url}",
        ]
        environment = {**os.environ, **FAST_RETRIES, **env}
        environment.pop("OFFERSCOPE_DATABASE_URL", None)
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        self.servers.append(server)
        _wait_until_serving(server)
        return server

    def client(self, server: Server, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.operator_token}"}
        client = httpx.Client(base_url=server.base_url, headers=headers, timeout=30)
        self.clients.append(client)
        return client


def _wait_until_serving(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not serve in {seconds} s")


@contextlib.contextmanager
def _store(url: str, log_dir: Path) -> Iterator[Store]:
    from offerscope.storage.database import migrate

    migrate(url)
    db = Database.connect(url, pool_size=2)
    store = Store(url, log_dir, [], db, tokens.create_token(db, Role.OPERATOR))
    try:
        yield store
    finally:
        for client in store.clients:
            client.close()
        for server in store.servers:
            server.stop()
        db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with _store(f"sqlite:///{tmp_path / 'offerscope.db'}", tmp_path) as found:
            yield found
        return
    with empty_postgres_database("offerscope_hooks") as url, _store(url, tmp_path) as found:
        yield found


@pytest.fixture
def postgres_store(tmp_path: Path) -> Iterator[Store]:
    with empty_postgres_database("offerscope_hooks") as url, _store(url, tmp_path) as found:
        yield found
