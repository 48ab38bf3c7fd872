"""`python -m bench.webhooks`: how soon a change reaches a webhook receiver (R18).

A real `offerscope serve` and a receiver on 127.0.0.1; a seller adds accounts to a list over
HTTP at a steady rate (default 50 changes a second for 20 s). Each change's latency is from
the moment its write was answered (just after its commit) to the moment the receiver got it:
the delivery worker noticing it, signing and the POST. Goal: p99 within 1 s. The write's own
time, and the latency from sending the write, are printed beside it.

    python -m bench.webhooks                                   # SQLite, in a temporary file
    python -m bench.webhooks --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bench import servers
from bench.lists import database
from offerscope.domain.targets import AccountType, Target
from offerscope.services import accounts, products, sellers, targets, tokens
from offerscope.services.actors import Role
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database

GOAL_SECONDS = 1.0
WRITERS = 8  # writes in flight at once, so that the rate holds when one is slow
SECRET = "bench-secret-of-at-least-16-chars"


@contextmanager
def receiver(arrivals: dict[str, float]) -> Iterator[str]:
    """A receiver that notes when each granted account's change first arrived."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.perf_counter()
            for account_id in json.loads(body).get("granted") or []:
                arrivals.setdefault(account_id, now)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def prepare(url: str, count: int) -> tuple[str, str, str, list[str]]:
    """An operator token, a seller's token, its product sold to specified users, accounts."""
    migrate(url)
    db = Database.connect(url, pool_size=2)
    try:
        seller = sellers.create_seller(db, "Bench")
        actor = sellers.seller_actor(db, seller.seller_id)
        product = products.create_product(db, actor, "Hooked", ["Basic"])
        targets.set_product_target(db, actor, product.product_id, Target.SPECIFIED)
        ids = [f"{0xBE0C0000 + n:032x}" for n in range(count)]
        for n, account_id in enumerate(ids):
            accounts.register_account(db, account_id, f"bench_{n:06d}", AccountType.INDIVIDUAL)
        operator = tokens.create_token(db, Role.OPERATOR)
        seller_token = tokens.create_token(db, Role.SELLER, seller_id=seller.seller_id)
        return operator, seller_token, product.product_id, ids
    finally:
        db.dispose()


def run(url: str, rate: float, seconds: float) -> dict[str, float]:
    count = int(rate * seconds)
    operator, seller_token, product_id, ids = prepare(url, count)
    arrivals: dict[str, float] = {}
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}  # the write's answer: just after its commit
    with servers.offerscope(url) as served, receiver(arrivals) as hook_url:
        auth = {"Authorization": f"Bearer {operator}"}
        hook = {"url": hook_url, "events": ["specified_user_added"], "secret": SECRET}
        httpx.post(f"{served.base}/v1/webhooks", json=hook, headers=auth).raise_for_status()
        path = f"{served.base}/v1/products/{product_id}/specified-users"
        with (
            httpx.Client(headers={"Authorization": f"Bearer {seller_token}"}) as client,
            ThreadPoolExecutor(WRITERS) as writers,
        ):

            def write(n: int, account_id: str) -> None:
                sent[account_id] = time.perf_counter()
                body = {"account_id": account_id, "account_name": f"bench_{n:06d}"}
                client.post(path, json=body).raise_for_status()
                answered[account_id] = time.perf_counter()

            began = time.perf_counter()
            done = []
            for n, account_id in enumerate(ids):  # on a schedule, not after the last answer
                pause = began + n / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                done.append(writers.submit(write, n, account_id))
            for future in done:
                future.result()
            achieved = count / (time.perf_counter() - began)
        deadline = time.monotonic() + 30
        while len(arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.05)
    latencies = sorted(max(arrivals[a] - answered[a], 0.0) for a in ids if a in arrivals)
    writes = sorted(answered[a] - sent[a] for a in ids)
    return {
        "changes": count,
        "delivered": len(latencies),
        "rate": achieved,
        "p50": statistics.median(latencies),
        "p99": _p99(latencies),
        "max": latencies[-1],
        "write_p99": _p99(writes),
        "sent_p99": _p99(sorted(arrivals[a] - sent[a] for a in ids if a in arrivals)),
    }


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="A PostgreSQL URL (a database is made on it).")
    parser.add_argument("--rate", type=float, default=50.0, help="Changes a second.")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    with database(args.postgres) as url:
        store = "PostgreSQL" if args.postgres else "SQLite"
        found = run(url, args.rate, args.seconds)
    print(
        f"webhooks ({store}): {found['delivered']:.0f} of {found['changes']:.0f} changes "
        f"delivered at {found['rate']:.1f} changes/s; commit -> receiver "
        f"p50 {found['p50'] * 1000:.0f} ms, p99 {found['p99'] * 1000:.0f} ms, "
        f"max {found['max'] * 1000:.0f} ms; p99 vs the 1 s goal: "
        f"{found['p99'] / GOAL_SECONDS:.2f}x (the write itself: p99 "
        f"{found['write_p99'] * 1000:.0f} ms; from sending the write: p99 "
        f"{found['sent_p99'] * 1000:.0f} ms)"
    )
    return 0 if found["delivered"] == found["changes"] and found["p99"] <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
