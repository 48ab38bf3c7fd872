"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records every request, and can
refuse the first N, hold each one for a while (a slow or stalled endpoint), or answer with a
body of many bytes (noting whether the sender hung up before reading it all)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from offerscope.domain.webhooks import SIGNATURE_HEADER, verify


@dataclass
class Received:
    body: bytes
    signature: str
    answered: int
    at: float

    @property
    def change(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 0
    hold_seconds: float = 0.0
    answer_bytes: int = 0  # the size of each answer's body
    hung_up: threading.Event = field(default_factory=threading.Event)  # before it was read
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)

    def delivered(self) -> list[dict[str, Any]]:
        """The changes it accepted, in the order it accepted them."""
        with self.lock:
            return [r.change for r in self.requests if r.answered == 200]

    def verified(self, secret: str) -> bool:
        with self.lock:
            return all(verify(secret, r.signature, r.body, time.time()) for r in self.requests)

    def wait_for(self, count: int, seconds: float = 60) -> list[dict[str, Any]]:
        """Wait until `count` distinct changes were accepted; them, in order of acceptance."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            distinct = {c["id"] for c in self.delivered()}
            if len(distinct) >= count:
                return self.delivered()
            time.sleep(0.05)
        raise AssertionError(f"{len(self.delivered())} of {count} changes arrived: {self.requests}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.arrived.set()
            if receiver.hold_seconds:
                time.sleep(receiver.hold_seconds)
            with receiver.lock:
                refused = receiver.fail_first > 0
                receiver.fail_first -= 1 if refused else 0
                status = 503 if refused else 200
                signature = self.headers.get(SIGNATURE_HEADER, "")
                receiver.requests.append(Received(body, signature, status, time.time()))
            self.send_response(status)
            self.send_header("Content-Length", str(receiver.answer_bytes))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(receiver.answer_bytes // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:  # the sender closed the connection without reading on
                receiver.hung_up.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
