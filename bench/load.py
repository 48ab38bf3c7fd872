"""Load: many concurrent clients against a real `offerscope serve`, then an audit of every write.

    python bench/load.py                        # both stores, 64 clients, 60 s
    python bench/load.py --store sqlite --clients 16 --duration 5 --json out.json
    python bench/load.py --store postgres --workers 2 --clients 256 --max-inflight 32

Each client is a coroutine of its own: 90% of its requests are checkout decisions (operator
token), the rest orders (its own buyer token) and seller writes (adding and removing its own
accounts on a specified-user list, setting its own specification's target). SQLite is served
by one process, PostgreSQL by `--workers` processes (2).

Afterwards every write the server acknowledged is looked up in the database: orders and list
entries and settings must be exactly what the clients were told, so a lost or phantom write
counts. A 429/503 answer must carry Retry-After (the client then waits that long); a client
timeout counts as a failure. Prints throughput and p50/p99 latency; exits 1 on any 5xx,
timeout, lost write or overload answer without Retry-After. Figures, not assertions on speed.

Its clients are Python coroutines on the server's own cores: it checks that nothing is lost and
that overload is answered with Retry-After. The throughput goals under load are measured by
`python -m bench` with wrk instead (bench/load_wrk.py), which costs the server far less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

if not __package__:  # run as `python bench/load.py`: the repository root holds `bench`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.offerscope_api import Offerscope

OFFERSCOPE = Path(sys.executable).parent / "offerscope"
DEFAULT_POSTGRES = os.environ.get(
    "OFFERSCOPE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ACCOUNTS_PER_CLIENT = 8
SETTINGS_CYCLE = ["enterprise", "individual", "all", "same_as_product"]


# --- the marketplace under load -------------------------------------------------------------


@dataclass
class Client:
    """One simulated client: its tokens and the objects its writes touch (no one else's)."""

    number: int
    buyer_token: str
    account_ids: list[str]
    names: dict[str, str]
    own_spec: str


@dataclass
class World:
    operator: str
    seller: str
    listed_product: str  # target specified: clients add and remove their accounts
    setting_product: str  # target all: each client sets its own specification
    buyable_specs: list[str]
    decision_accounts: list[str]
    decision_specs: list[str]
    clients: list[Client]


def account_id(n: int) -> str:
    return f"{0xB000_0000 + n:032x}"


def seed(store: Offerscope, clients: int) -> World:
    """A seller's products of every target, accounts, buyers, and a slice for each client."""
    seller = store.create_seller("Load Seller")
    accounts = clients * ACCOUNTS_PER_CLIENT + 200
    for n in range(accounts):
        kind = "enterprise" if n % 3 == 0 else "individual"
        store.register_account(account_id(n), f"load_{n:06d}", kind)
    shop, shop_specs = store.create_product(seller, "Shop", ["Basic", "Pro", "Team"])
    store.set_specification_setting(seller, shop, shop_specs[1], "enterprise")
    listed, listed_specs = store.create_product(seller, "Listed", ["Listed spec"])
    store.set_product_target(seller, listed, "specified")
    for n in range(clients * ACCOUNTS_PER_CLIENT, accounts, 2):
        store.add_specified_user(seller, listed, account_id(n), f"load_{n:06d}")
    names = [f"Client {c}" for c in range(clients)]
    setting, own_specs = store.create_product(seller, "Settings", names)
    world_clients = []
    for c in range(clients):
        own = [account_id(c * ACCOUNTS_PER_CLIENT + i) for i in range(ACCOUNTS_PER_CLIENT)]
        world_clients.append(
            Client(
                number=c,
                buyer_token=store.buyer_token(own[0]),
                account_ids=own,
                names={a: f"load_{int(a, 16) - 0xB000_0000:06d}" for a in own},
                own_spec=own_specs[c],
            )
        )
    return World(
        operator=store.operator_token(),
        seller=store.seller_token(seller),
        listed_product=listed,
        setting_product=setting,
        buyable_specs=shop_specs,
        decision_accounts=[*(account_id(n) for n in range(accounts)), "f" * 32],
        decision_specs=[*shop_specs, *listed_specs, "spc_0000000000000000"],
        clients=world_clients,
    )


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the server acknowledged, per kind of write, and how every request went."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)
    overload_without_retry_after: int = 0
    orders: set[str] = field(default_factory=set)
    members: dict[str, bool] = field(default_factory=dict)  # account -> on the list (acked)
    settings: dict[str, str] = field(default_factory=dict)  # spec -> last acked setting
    unsure: set[str] = field(default_factory=set)  # writes whose answer never came

    def note(self, kind: str, status: int, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.statuses[f"{kind} {status}"] += 1


async def _call(
    http: httpx.AsyncClient, ledger: Ledger, kind: str, method: str, url: str, token: str, body: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.TimeoutException:
        ledger.timeouts += 1
        return None
    except httpx.TransportError as error:
        ledger.transport_errors[type(error).__name__] += 1
        return None
    ledger.note(kind, response.status_code, time.perf_counter() - started)
    if response.status_code in (429, 503):
        retry_after = response.headers.get("retry-after")
        if retry_after is None or not retry_after.isdigit():
            ledger.overload_without_retry_after += 1
        else:
            await asyncio.sleep(int(retry_after))  # back off as asked
        return None
    return response


async def _decision(
    http: httpx.AsyncClient, world: World, ledger: Ledger, rng: random.Random
) -> None:
    body = {
        "account_id": rng.choice(world.decision_accounts),
        "specification_id": rng.choice(world.decision_specs),
    }
    await _call(http, ledger, "decision", "POST", "/v1/decisions", world.operator, body)


async def _order(
    http: httpx.AsyncClient, world: World, ledger: Ledger, client: Client, rng: random.Random
) -> None:
    body = {"specification_id": rng.choice(world.buyable_specs)}
    response = await _call(http, ledger, "order", "POST", "/v1/orders", client.buyer_token, body)
    if response is None:
        ledger.unsure.add("order")
    elif response.status_code == 201:
        ledger.orders.add(response.json()["order_id"])


async def _toggle_user(
    http: httpx.AsyncClient, world: World, ledger: Ledger, client: Client, rng: random.Random
) -> None:
    account = rng.choice(client.account_ids)
    base = f"/v1/products/{world.listed_product}/specified-users"
    if ledger.members.get(account, False):
        response = await _call(
            http, ledger, "seller_write", "DELETE", f"{base}/{account}", world.seller, None
        )
        acked = response is not None and response.status_code == 204
        on_list = False
    else:
        body = {"account_id": account, "account_name": client.names[account]}
        response = await _call(http, ledger, "seller_write", "POST", base, world.seller, body)
        acked = response is not None and response.status_code in (200, 201)
        on_list = True
    if acked:
        ledger.members[account] = on_list
    elif response is None:
        ledger.unsure.add(account)


async def _set_setting(
    http: httpx.AsyncClient, world: World, ledger: Ledger, client: Client, rng: random.Random
) -> None:
    setting = rng.choice(SETTINGS_CYCLE)
    url = f"/v1/products/{world.setting_product}/specifications/{client.own_spec}/target-customers"
    body = {"target": setting}
    response = await _call(http, ledger, "seller_write", "PUT", url, world.seller, body)
    if response is not None and response.status_code == 200:
        ledger.settings[client.own_spec] = setting
    elif response is None:
        ledger.unsure.add(client.own_spec)


async def _client_loop(
    http: httpx.AsyncClient, world: World, ledger: Ledger, client: Client, until: float
) -> None:
    rng = random.Random(client.number)
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.90:
            await _decision(http, world, ledger, rng)
        elif roll < 0.95:
            await _order(http, world, ledger, client, rng)
        elif roll < 0.98:
            await _toggle_user(http, world, ledger, client, rng)
        else:
            await _set_setting(http, world, ledger, client, rng)


async def run_clients(base_url: str, world: World, duration: float, timeout: float) -> Ledger:
    ledger = Ledger()
    # Idle connections are dropped before the server's own keep-alive timeout (5 s) can close
    # one under a request being sent on it.
    limits = httpx.Limits(
        max_connections=len(world.clients),
        max_keepalive_connections=len(world.clients),
        keepalive_expiry=2.0,
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as http:
        until = time.monotonic() + duration
        await asyncio.gather(*(_client_loop(http, world, ledger, c, until) for c in world.clients))
    return ledger


# --- the audit -------------------------------------------------------------------------------


def audit(database_url: str, world: World, ledger: Ledger) -> list[str]:
    """Every acknowledged write is in the database, and no write appeared from nowhere."""
    problems: list[str] = []
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        orders = set(connection.execute(text("SELECT order_id FROM orders")).scalars())
        listed = set(
            connection.execute(
                text(
                    "SELECT a.account_id FROM list_entries e"
                    " JOIN accounts a ON a.pk = e.account_pk JOIN lists l ON l.pk = e.list_pk"
                    " JOIN products p ON p.pk = l.product_pk WHERE p.product_id = :p"
                ),
                {"p": world.listed_product},
            ).scalars()
        )
        settings: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT s.specification_id, s.setting FROM specifications s"
                    " JOIN products p ON p.pk = s.product_pk WHERE p.product_id = :p"
                ),
                {"p": world.setting_product},
            ).all()
        )
    engine.dispose()
    lost = ledger.orders - orders
    if lost:
        problems.append(f"{len(lost)} acknowledged orders lost")
    if "order" not in ledger.unsure and orders != ledger.orders:
        problems.append(f"{len(orders - ledger.orders)} orders nobody was told of")
    for client in world.clients:
        for account in client.account_ids:
            if account in ledger.unsure:
                continue
            if (account in listed) != ledger.members.get(account, False):
                problems.append(f"list entry of {account} is not what was acknowledged")
        spec = client.own_spec
        if spec not in ledger.unsure and settings[spec] != ledger.settings.get(
            spec, "same_as_product"
        ):
            problems.append(f"setting of {spec} is {settings[spec]}, acknowledged otherwise")
    return problems


# --- servers and stores ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str, workers: int, max_inflight: int, log: Path) -> Iterator[str]:
    """`offerscope serve` in its own process group until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "OFFERSCOPE_MAX_INFLIGHT": str(max_inflight),
        "OFFERSCOPE_SECRET_KEY": "load-bench",
    }
    command = [str(OFFERSCOPE), "serve", "--port", str(port), "--database-url", database_url]
    command += ["--workers", str(workers)]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"offerscope serve did not start; see {log}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def store_database(store: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    """A new, migrated database of its own: a SQLite file, or a PostgreSQL database."""
    if store == "sqlite":
        yield f"sqlite:///{workdir / 'load.db'}"
        return
    name = f"offerscope_load_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


# --- figures ---------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def figures(
    store: str, args: argparse.Namespace, ledger: Ledger, problems: list[str]
) -> dict[str, Any]:
    every = [t for values in ledger.latencies.values() for t in values]
    server_errors = sum(
        n
        for key, n in ledger.statuses.items()
        if key.split()[-1].startswith("5") and not key.endswith(" 503")
    )
    overloaded = sum(n for key, n in ledger.statuses.items() if key.endswith((" 429", " 503")))
    return {
        "store": store,
        "workers": 1 if store == "sqlite" else args.workers,
        "clients": args.clients,
        "duration_s": args.duration,
        "requests": len(every),
        "throughput_rps": round(len(every) / args.duration, 1),
        "p50_ms": round(_percentile(every, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(every, 0.99) * 1000, 2),
        "by_kind": {
            kind: {
                "requests": len(values),
                "p50_ms": round(_percentile(values, 0.50) * 1000, 2),
                "p99_ms": round(_percentile(values, 0.99) * 1000, 2),
            }
            for kind, values in sorted(ledger.latencies.items())
        },
        "statuses": dict(sorted(ledger.statuses.items())),
        "server_errors": server_errors,
        "overloaded_answers": overloaded,
        "overload_without_retry_after": ledger.overload_without_retry_after,
        "timeouts": ledger.timeouts,
        "transport_errors": dict(ledger.transport_errors),
        "acknowledged_writes": len(ledger.orders) + len(ledger.members) + len(ledger.settings),
        "lost_writes": problems,
    }


def _print(result: dict[str, Any]) -> None:
    print(
        f"{result['store']:>8} ({result['workers']} process(es), {result['clients']} clients, "
        f"{result['duration_s']} s): {result['requests']} requests, "
        f"{result['throughput_rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
    for kind, row in result["by_kind"].items():
        print(
            f"{'':>10}{kind:<13} {row['requests']:>8} requests  "
            f"p50 {row['p50_ms']:>8} ms  p99 {row['p99_ms']:>8} ms"
        )
    print(
        f"{'':>10}5xx: {result['server_errors']}  429/503: {result['overloaded_answers']} "
        f"(without Retry-After: {result['overload_without_retry_after']})  timeouts: "
        f"{result['timeouts']}  connection errors: {result['transport_errors'] or 0}  "
        f"lost writes: {len(result['lost_writes'])} of {result['acknowledged_writes']} acknowledged"
    )


def ok(result: dict[str, Any]) -> bool:
    return not (
        result["server_errors"]
        or result["timeouts"]
        or result["transport_errors"]
        or result["overload_without_retry_after"]
        or result["lost_writes"]
    )


def run_store(store: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="offerscope-load-") as tmp:
        workdir = Path(tmp)
        with store_database(store, args.postgres_url, workdir) as url:
            offerscope = Offerscope(url, pool_size=2)  # migrates the new database first
            world = seed(offerscope, args.clients)
            offerscope.close()
            workers = 1 if store == "sqlite" else args.workers
            with serving(url, workers, args.max_inflight, workdir / "server.log") as base_url:
                ledger = asyncio.run(run_clients(base_url, world, args.duration, args.timeout))
            problems = audit(url, world, ledger)
    return figures(store, args, ledger, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="server processes on PostgreSQL")
    parser.add_argument("--max-inflight", type=int, default=64, help="per server process")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout, seconds")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES, help="an existing database on the server to use"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = [run_store(store, args) for store in stores]
    for result in results:
        _print(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(ok(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
