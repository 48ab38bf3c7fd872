"""Server processes the HTTP measurements run against: a real `offerscope serve`, and the bare
FastAPI app of bench.bare_app served by the same uvicorn the same way.

Each server runs in a session of its own and is stopped by its process group (uvicorn's
workers are its children), only ever the group this module started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import wrk

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(base: str, path: str = "/healthz") -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{base}{path}", timeout=2).status_code == 200
    return False


@dataclass
class Served:
    """A running server: its base URL and the process group it runs in."""

    base: str
    group: int
    # The CPU an idle server spends per second (its background threads: webhook deliveries
    # polling for news, the feed's upkeep), measured once before any traffic.
    idle_cpu: float = 0.0

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of the group (Linux /proc)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # fields after the command's closing parenthesis: state is field 3
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.group:  # pgrp
                    ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def measure_idle(self, window_s: float = 2.0) -> None:
        """Note what the server spends when nobody asks it anything."""
        used = self.cpu_seconds()
        time.sleep(window_s)
        self.idle_cpu = (self.cpu_seconds() - used) / window_s

    def settle(self, *, window_s: float = 0.5, timeout_s: float = 60) -> float:
        """Wait until the server is back to idle (requests a stopped wrk run left behind have
        finished), so that each run starts on a quiet server; returns the seconds waited."""
        started = time.monotonic()
        used = self.cpu_seconds()
        while time.monotonic() - started < timeout_s:
            time.sleep(window_s)
            now = self.cpu_seconds()
            if now - used < (self.idle_cpu + 0.02) * window_s:  # within 2% of a core of idle
                break
            used = now
        return time.monotonic() - started

    def measured(self, run: Callable[[], wrk.WrkRun]) -> wrk.WrkRun:
        """A wrk run on a settled server, with the CPU the server spent serving it."""
        self.settle()
        used = self.cpu_seconds()
        result = run()
        result.server_cpu_s = self.cpu_seconds() - used
        return result


@contextlib.contextmanager
def running(
    command: list[str], *, health: str, env: dict[str, str] | None = None, start_s: float = 180
) -> Iterator[Served]:
    """Run `command` (which listens on the port named by its `--port`) until the block ends."""
    port = command[command.index("--port") + 1]
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, **(env or {})}
    # bench.bare_app must import from a subprocess whatever its working directory.
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), environment.get("PYTHONPATH", "")) if p
    )
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + start_s
            while not healthy(base, health):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{command[:6]} did not start: {log.read()[-2000:]!r}")
                time.sleep(0.2)
            served = Served(base, process.pid)
            served.measure_idle()
            yield served
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def offerscope(url: str, *, workers: int = 1) -> contextlib.AbstractContextManager[Served]:
    """`offerscope serve` on a database, as an operator would start it."""
    command = [
        *(sys.executable, "-c", "from offerscope.cli.main import main; main()"),
        *("serve", "--port", str(free_port()), "--database-url", url),
        *("--workers", str(workers)),
    ]
    return running(command, health="/healthz")


def bare(mode: str = "async") -> contextlib.AbstractContextManager[Served]:
    """The bare FastAPI endpoint of the same shape (bench.bare_app)."""
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(free_port()), "--mode", mode]
    return running(command, health="/healthz")
