"""Two real `offerscope serve` processes on one fresh PostgreSQL database, shared by the tests.

Each process is started as an operator would start it (the console script beside this
Python, `--database-url`, a shared OFFERSCOPE_SECRET_KEY), both at once so that their start-up
migrations meet on the advisory lock. Process A serves one worker, process B two
(`--workers 2`), so a request to B may land on either of its workers: three processes that
decide, none of which may answer from a stale state.
"""

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
from typing import Any

import httpx
import pytest

from offerscope.services import tokens
from offerscope.services.actors import Role
from offerscope.storage.unit_of_work import Database
from tests.artifacts import record
from tests.concurrency.client import Client
from tests.storage.databases import empty_postgres_database
from tests.support import free_port

DEFAULT_ITERATIONS = 500


@dataclass
class ServerProcess:
    """One `offerscope serve` process group, its address and its log."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _start(name: str, database_url: str, workers: int, log_dir: Path) -> ServerProcess:
    port = free_port()
    log = log_dir / f"server-{name}.log"
    command = [
        str(Path(sys.executable).parent / "offerscope"),
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        f"--database-url={database_url}",
    ]
    env = {**os.environ, "OFFERSCOPE_SECRET_KEY": "one-secret-for-every-process-of-the-test"}
    env.pop("OFFERSCOPE_DATABASE_URL", None)
    with log.open("wb") as out:
        # A session of its own, so that stopping it reaches the workers it forked.
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return ServerProcess(name, f"http://127.0.0.1:{port}", process, log)


def _wait_until_serving(server: ServerProcess, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server {server.name} exited:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server {server.name} did not serve in {seconds} s:\n{server.log_tail()}")


def _stop(server: ServerProcess) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # The group is the one this fixture created for this server and its workers.
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=15)


@dataclass
class Cluster:
    """The marketplace under test: two server processes, one database, an operator."""

    database_url: str
    db: Database
    a: ServerProcess
    b: ServerProcess
    operator_token: str
    _clients: list[Client] = field(default_factory=list)

    def client(self, server: ServerProcess, token: str) -> Client:
        """A keep-alive client of one process, acting with one token."""
        client = Client(server.base_url, token)
        self._clients.append(client)
        return client

    def token(self, role: Role, **who: str) -> str:
        return tokens.create_token(self.db, role, **who)

    def close(self) -> None:
        for client in self._clients:
            client.close()


@contextlib.contextmanager
def _cluster(url: str, log_dir: Path) -> Iterator[Cluster]:
    a, b = _start("A", url, 1, log_dir), _start("B", url, 2, log_dir)
    servers = [a, b]
    try:
        for server in servers:
            _wait_until_serving(server)
        db = Database.connect(url, pool_size=4)
        cluster = Cluster(url, db, a, b, tokens.create_token(db, Role.OPERATOR))
        try:
            yield cluster
        finally:
            cluster.close()
            db.dispose()
    finally:
        for server in servers:
            _stop(server)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two server processes on a fresh PostgreSQL database."""
    with (
        empty_postgres_database("offerscope_race") as url,
        _cluster(url, tmp_path_factory.mktemp("pg-servers")) as running,
    ):
        yield running


@pytest.fixture(scope="session")
def sqlite_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two server processes on one new SQLite file (its writers take the file's lock)."""
    directory = tmp_path_factory.mktemp("sqlite-servers")
    with _cluster(f"sqlite:///{directory / 'offerscope.db'}", directory) as running:
        yield running


@pytest.fixture
def iterations() -> int:
    """How many times each race runs: OFFERSCOPE_RACE_ITERATIONS, else 500."""
    return int(os.environ.get("OFFERSCOPE_RACE_ITERATIONS", DEFAULT_ITERATIONS))


def record_figures(test: str, figures: dict[str, Any]) -> None:
    """Print a race's figures (pytest -s) and keep them in test-artifacts/concurrency.json."""
    print(f"\n{test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    record("concurrency", test, figures)
