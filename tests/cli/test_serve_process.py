"""`offerscope serve --demo` as a real process: it serves, prints the README's `export` lines,
answers the README's API tour over HTTP, and stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support import free_port

BOB = "3d4e5f60718293a4b5c6d7e8f90a1b2c"  # the demo's bob_li, as the README names him
EXPORT = re.compile(r"^export ([A-Z_]+)=(\S+)$")
NAMES = {
    "OPERATOR",
    "SELLER",
    "ACME",
    "ALICE",
    "BOB",
    "CLOUDDB",
    "BACKUP",
    "BASIC",
    "BETA",
    "DAILY",
}


def _console_script() -> str:
    found = Path(sys.executable).parent / "offerscope"
    if found.exists():
        return str(found)
    on_path = shutil.which("offerscope")
    assert on_path, "the offerscope console script is not installed"
    return on_path


def _collect(stream: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))


@dataclass
class Served:
    base: str
    exports: dict[str, str]
    process: subprocess.Popen[str]
    lines: list[str]
    reader: threading.Thread


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A demo server on a free port: its base URL, the exports it printed, its output."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFERSCOPE_")}
    process = subprocess.Popen(
        [
            _console_script(),
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--demo",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_collect, args=(process.stdout, lines), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, lines)
        exports = _wait_exports(lines)
        yield Served(base, exports, process, lines, reader)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)
        process.stdout.close()


def _wait_healthy(base: str, process: subprocess.Popen[str], lines: list[str]) -> None:
    deadline = time.monotonic() + 60  # a guard against a hung start, not a measurement
    while time.monotonic() < deadline:
        assert process.poll() is None, "\n".join(lines)
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server never answered /healthz:\n" + "\n".join(lines))


def _wait_exports(lines: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        exports = {m[1]: m[2] for line in list(lines) if (m := EXPORT.match(line))}
        if set(exports) >= NAMES:
            return exports
        time.sleep(0.05)
    pytest.fail("the export lines never appeared:\n" + "\n".join(lines))


def test_serve_demo_answers_the_readme_tour(served: Served) -> None:
    base, env, process = served.base, served.exports, served.process

    def client(token_name: str) -> httpx.Client:
        return httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {env[token_name]}"}, timeout=30
        )

    with ExitStack() as stack:
        seller, alice, operator, bob = (
            stack.enter_context(client(name)) for name in ("SELLER", "ALICE", "OPERATOR", "BOB")
        )
        _tour(env, seller, alice, operator, bob)

    # Stopped as a service manager would: uvicorn shuts down gracefully, then exits by the
    # signal it was sent (or 0), with no traceback on the way.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    served.reader.join(timeout=10)  # the output to its end
    assert not any("Traceback" in line for line in served.lines), "\n".join(served.lines)


def _tour(
    env: dict[str, str],
    seller: httpx.Client,
    alice: httpx.Client,
    operator: httpx.Client,
    bob: httpx.Client,
) -> None:
    """The README's API tour, in its order."""
    targets = seller.get(f"/v1/products/{env['CLOUDDB']}/target-customers")
    assert targets.status_code == 200, targets.text
    assert targets.json()["target"] == "all"
    settings = {s["specification_id"]: s["setting"] for s in targets.json()["specifications"]}
    assert settings[env["BETA"]] == "specified"

    catalog = alice.get("/v1/catalog")
    assert catalog.status_code == 200, catalog.text
    specs = {s["specification_id"]: s for p in catalog.json()["items"] for s in p["specifications"]}
    assert specs[env["BETA"]]["purchasable"] is True  # alice is on Beta's list

    check = {"account_id": BOB, "specification_id": env["BETA"]}
    decision = operator.post("/v1/decisions", json=check)
    assert decision.status_code == 200, decision.text
    assert decision.json() == {
        "allowed": False,
        "reason": "not_specified_user",
        "level": "specification",
        "message": "This specification is sold only to specified users.",
    }

    # The tour goes on: bob is listed, then buys his way into Backup Plus.
    users = f"/v1/products/{env['CLOUDDB']}/specifications/{env['BETA']}/specified-users"
    added = seller.post(users, json={"account_id": BOB, "account_name": "bob_li"})
    assert added.status_code == 201, added.text
    assert operator.post("/v1/decisions", json=check).json()["allowed"] is True
    daily = {"specification_id": env["DAILY"]}
    refused = bob.post("/v1/orders", json=daily)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_target_customer"
    assert bob.post("/v1/orders", json={"specification_id": env["BASIC"]}).status_code == 201
    assert bob.post("/v1/orders", json=daily).status_code == 201
