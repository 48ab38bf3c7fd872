"""A real `offerscope serve` in a process of its own, to kill -9 and start again.

The server runs in a new process group (uvicorn's worker processes with it), so that one
SIGKILL to that group, by the ID this helper started, ends every process of it at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import free_port

OFFERSCOPE = Path(sys.executable).parent / "offerscope"


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start(
    database_url: str,
    log: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    ready_within: float = 120,
) -> ServerProcess:
    """Start `offerscope serve` on a free port; return once /healthz answers 200."""
    port = free_port()
    command = [str(OFFERSCOPE), "serve", "--port", str(port), "--database-url", database_url]
    command += ["--workers", str(workers)]
    environment = {**os.environ, "OFFERSCOPE_SECRET_KEY": "crash-test-key", **(env or {})}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=log.parent,
            start_new_session=True,
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"offerscope serve exited:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    kill(server)
    raise RuntimeError(f"offerscope serve did not start:\n{server.output()}")


def kill(server: ServerProcess) -> None:
    """kill -9 the server's process group: no clean-up, no flush, no goodbye."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def stop(server: ServerProcess) -> None:
    """A polite stop (SIGTERM), for the end of a test."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        kill(server)
