"""The benchmark: offerscope's decisions against its peers on one generated marketplace.

    python -m bench --scale 1          # the README's figures (a few minutes on 2 cores)
    python -m bench --scale 0.05       # a quick run (well under two minutes)
    python -m bench --spicedb          # SpiceDB too, on a sample (set up first: bench.spicedb)

Every figure is the median of `--repeat` runs (3 by default). Every peer's answers (allowed,
reason and level) are compared with offerscope's on every check it is timed on; a
disagreement is printed loudly and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import peers
from bench.peers import Answer
from bench.world import World, checks, generate, write
from offerscope.bootstrap import Backend
from offerscope.domain.decision import Decision
from offerscope.domain.targets import Target
from offerscope.index.index import DecisionIndex
from offerscope.services import (
    catalog,
    decisions,
    imports,
    orders,
    products,
    sellers,
    specified_users,
    targets,
    tokens,
)
from offerscope.services.actors import Actor, Role
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database

BATCH = 10_000


def index_for(db: Database) -> DecisionIndex:
    """The decision index of one open database, attached on first use as a server does."""
    found: Backend | None = vars(db).get("_bench_backend")
    if found is None:
        found = vars(db)["_bench_backend"] = Backend.on(db)
    return found.index


DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def answer(decision: Decision) -> Answer:
    return (
        decision.allowed,
        decision.reason.value,
        decision.level.value if decision.level else None,
    )


@dataclass
class Row:
    """One line of the decisions table."""

    name: str
    mode: str  # "single" or "batch"
    checks: int
    rate: float
    disagreements: int
    note: str = ""


@dataclass
class Report:
    scale: float
    rows: list[Row] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return sum(row.disagreements for row in self.rows)


def median_rate(run: Callable[[], None], count: int, repeat: int) -> float:
    """Decisions per second: `count` decisions per `run()`, the median of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def disagreements(expected: Sequence[Answer], got: Sequence[Answer], name: str) -> int:
    wrong = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    for i, e, g in wrong[:5]:
        print(f"!!! {name} DISAGREES on check {i}: offerscope {e}, {name} {g}", file=sys.stderr)
    return len(wrong)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- decisions ------------------------------------------------------------------------------


def bench_offerscope(
    report: Report, db: Database, pairs: list[tuple[str, str]], repeat: int
) -> list[Answer]:
    idx = index_for(db).refresh()
    expected = [answer(d) for d in idx.decide_many(pairs)]
    decide = idx.decide

    def single() -> None:
        for account_id, spec_id in pairs:
            decide(account_id, spec_id)

    def batch() -> None:
        for part in chunks(pairs, BATCH):
            idx.decide_many(part)

    singles = [answer(decide(a, s)) for a, s in pairs]
    report.rows.append(
        Row(
            "offerscope in-process (index)",
            "single",
            len(pairs),
            median_rate(single, len(pairs), repeat),
            disagreements(expected, singles, "offerscope single"),
        )
    )
    report.rows.append(
        Row(
            "offerscope in-process (index)",
            "batch",
            len(pairs),
            median_rate(batch, len(pairs), repeat),
            0,
            f"{BATCH:,} a call",
        )
    )
    sample = pairs[: min(len(pairs), 20_000)]

    def checked() -> None:
        for account_id, spec_id in sample:
            decisions.check(index_for(db), account_id, spec_id)

    fresh = [answer(decisions.check(index_for(db), a, s)) for a, s in sample]
    report.rows.append(
        Row(
            "offerscope check() with freshness read",
            "single",
            len(sample),
            median_rate(checked, len(sample), repeat),
            disagreements(expected[: len(sample)], fresh, "offerscope check()"),
            "reads the revision first",
        )
    )
    return expected


def bench_peer(
    report: Report,
    name: str,
    decide: Callable[[str, str], Answer],
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
    note: str = "",
) -> None:
    got = [decide(a, s) for a, s in pairs]
    wrong = disagreements(expected[: len(pairs)], got, name)

    def run() -> None:
        for account_id, spec_id in pairs:
            decide(account_id, spec_id)

    report.rows.append(
        Row(name, "single", len(pairs), median_rate(run, len(pairs), repeat), wrong, note)
    )


def bench_peer_batch(
    report: Report,
    name: str,
    decide_many: Callable[[list[tuple[str, str]]], list[Answer]],
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
    size: int,
) -> None:
    got: list[Answer] = []
    for part in chunks(pairs, size):
        got += decide_many(list(part))
    wrong = disagreements(expected[: len(pairs)], got, name)

    def run() -> None:
        for part in chunks(pairs, size):
            decide_many(list(part))

    report.rows.append(
        Row(
            name,
            "batch",
            len(pairs),
            median_rate(run, len(pairs), repeat),
            wrong,
            f"{size:,} a call",
        )
    )


def bench_peers(
    report: Report,
    world: World,
    path: Path,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    plain = peers.PlainPython(world)
    bench_peer(report, plain.name, plain.decide, pairs, expected, repeat)
    bench_peer_batch(report, plain.name, plain.decide_many, pairs, expected, repeat, BATCH)
    sqlite = peers.Sqlite(path)
    bench_peer(report, sqlite.name, sqlite.decide, pairs[:50_000], expected, repeat)
    sqlite.close()
    slow = pairs[: min(len(pairs), 20_000)]
    started = time.perf_counter()
    fast = peers.Casbin(world, fast=True)
    loaded = time.perf_counter() - started
    bench_peer(
        report, fast.name, fast.decide, slow, expected, repeat, f"policies loaded in {loaded:.1f} s"
    )
    fast.close()
    plain_casbin = peers.Casbin(world, fast=False)
    bench_peer(
        report,
        plain_casbin.name,
        plain_casbin.decide,
        pairs[:200],
        expected,
        repeat,
        "a small sample",
    )
    plain_casbin.close()
    started = time.perf_counter()
    cedar = peers.Cedar(world)
    loaded = time.perf_counter() - started
    # Cedar as modelled here runs at a few hundred checks a second: a sample keeps the run short.
    sample = pairs[: min(len(pairs), 2_000)]
    bench_peer(
        report, cedar.name, cedar.decide, sample, expected, repeat, f"loaded in {loaded:.1f} s"
    )
    bench_peer_batch(report, cedar.name, cedar.decide_many, sample, expected, repeat, 1_000)


# --- over HTTP ------------------------------------------------------------------------------


@contextlib.contextmanager
def server(url: str, port: int) -> Iterator[str]:
    """A real `offerscope serve` process on the benchmark's database."""
    command = [
        *(sys.executable, "-c", "from offerscope.cli.main import main; main()"),
        *("serve", "--port", str(port), "--database-url", url),
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not _healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"offerscope serve did not start: {log.read()!r}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(base: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    return False


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_http(
    report: Report,
    db: Database,
    url: str,
    pairs: list[tuple[str, str]],
    expected: list[Answer],
    repeat: int,
) -> None:
    token = tokens.create_token(db, Role.OPERATOR)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with (
        server(url, free_port()) as base,
        httpx.Client(base_url=base, headers=headers, timeout=120) as client,
    ):
        client.post("/v1/decisions/batch", content=json.dumps({"checks": []}))  # builds the index
        sample = pairs[: min(len(pairs), 2_000)]  # one at a time: a few seconds a run
        bodies = [json.dumps({"account_id": a, "specification_id": s}).encode() for a, s in sample]
        got = []
        for body in bodies:
            reply = client.post("/v1/decisions", content=body).json()
            got.append((reply["allowed"], reply["reason"], reply["level"]))
        wrong = disagreements(expected[: len(sample)], got, "HTTP single")
        rates, p99s, p50s = [], [], []
        for _ in range(repeat):
            latencies = []
            started = time.perf_counter()
            for body in bodies:
                begin = time.perf_counter()
                client.post("/v1/decisions", content=body)
                latencies.append(time.perf_counter() - begin)
            rates.append(len(bodies) / (time.perf_counter() - started))
            latencies.sort()
            p50s.append(latencies[len(latencies) // 2])
            p99s.append(latencies[int(len(latencies) * 0.99)])
        p50, p99 = statistics.median(p50s) * 1000, statistics.median(p99s) * 1000
        report.rows.append(
            Row(
                "offerscope over HTTP (1 client)",
                "single",
                len(sample),
                statistics.median(rates),
                wrong,
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
            )
        )
        report.figures.append(
            ("HTTP single decision latency, one client", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        )
        batches = [
            json.dumps(
                {"checks": [{"account_id": a, "specification_id": s} for a, s in part]}
            ).encode()
            for part in chunks(pairs, BATCH)
        ]
        got = []
        for body in batches:
            got += [
                (r["allowed"], r["reason"], r["level"])
                for r in client.post("/v1/decisions/batch", content=body).json()["results"]
            ]
        wrong = disagreements(expected, got, "HTTP batch")

        def run() -> None:
            for body in batches:
                client.post("/v1/decisions/batch", content=body).raise_for_status()

        report.rows.append(
            Row(
                "offerscope over HTTP (batch)",
                "batch",
                len(pairs),
                median_rate(run, len(pairs), repeat),
                wrong,
                f"{BATCH:,} a request, JSON both ways",
            )
        )


# --- writes, catalog, imports, memory -------------------------------------------------------


def timed_ms(action: Callable[[], object], times: int) -> float:
    """Median milliseconds of one call."""
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1000


def bench_writes(report: Report, db: Database, world: World) -> None:
    """What one write costs end to end: its transaction, the change log, the index update."""
    index_for(db).refresh()
    seller = sellers.seller_actor(db, "slr_00000000")
    own = [p for p in world.products.values() if p.seller == 0]
    listed = next(p for p in own if p.target == "specified")
    members = set(listed.users)
    outsiders = [pk for pk in range(1, len(world.accounts) + 1) if pk not in members][:100]
    adding = iter(world.accounts[pk - 1] for pk in outsiders)
    removing = iter(world.accounts[pk - 1][0] for pk in outsiders)
    toggled = next(p for p in own if p.target == "all")
    cycle = iter([Target.ENTERPRISE, Target.ALL] * 50)
    buyer = Actor(Role.BUYER, account_pk=1, account_id=world.accounts[0][0])
    spec_id = world.specs[toggled.specs[0]].specification_id

    def add() -> None:
        account_id, name, _ = next(adding)
        specified_users.add_specified_user(db, seller, listed.product_id, None, account_id, name)

    def remove() -> None:
        specified_users.remove_specified_user(db, seller, listed.product_id, None, next(removing))

    def retarget() -> None:
        target = next(cycle)
        targets.set_product_target(db, seller, toggled.product_id, target, reset_conflicting=True)

    def order() -> None:
        orders.place_order(db, buyer, spec_id)

    accounts = f"{len(world.accounts):,} accounts"
    for what, action in (
        ("add one specified user", add),
        ("remove one specified user", remove),
        (f"change a product's target ({accounts})", retarget),
        ("place an order (R11 decided from SQL)", order),
    ):
        report.figures.append(
            (f"write: {what}, index update included", f"{timed_ms(action, 100):.2f} ms")
        )


def bench_catalog(report: Report, db: Database, world: World, repeat: int) -> None:
    buyer = Actor(Role.BUYER, account_pk=2, account_id=world.accounts[1][0])

    def whole() -> int:
        count, cursor = 0, None
        while True:
            page = catalog.catalog(index_for(db), buyer, limit=1000, cursor=cursor)
            count += sum(len(p.specifications) for p in page.items)
            if page.next_cursor is None:
                return count
            cursor = page.next_cursor

    count = whole()
    spent = statistics.median(timed_ms(whole, 1) for _ in range(repeat))
    report.figures.append(
        (
            "catalog: one buyer, every specification (service, pages of 1,000 products)",
            f"{spent:.1f} ms for {count:,} specifications"
            f" = {spent * 10_000 / count:.1f} ms per 10,000",
        )
    )


def _write_csvs(directory: Path, rows: int) -> tuple[Path, Path]:
    accounts, users = directory / "accounts.csv", directory / "users.csv"
    with accounts.open("w") as a, users.open("w") as u:
        a.write("account_id,account_name,account_type\n")
        u.write("account_id,account_name\n")
        for n in range(1, rows + 1):
            a.write(f"{n:032x},member_{n:08d},{'enterprise' if n % 3 == 0 else 'individual'}\n")
            u.write(f"{n:032x},member_{n:08d}\n")
    return accounts, users


def bench_import(report: Report, url: str, label: str, files: tuple[Path, Path], rows: int) -> str:
    """Import `rows` accounts, then `rows` specified users, into an empty database."""
    migrate(url)
    db = Database.connect(url, pool_size=2)
    try:
        index_for(db).refresh()  # as in a server: the import's index update is part of the time
        seller = sellers.seller_actor(db, sellers.create_seller(db, "Importer").seller_id)
        product = products.create_product(db, seller, "Imported", ["Only"]).product_id
        targets.set_product_target(db, seller, product, Target.SPECIFIED)
        with files[0].open("rb") as source:
            started = time.perf_counter()
            imports.import_accounts(db, source)
            accounts_s = time.perf_counter() - started
        with files[1].open("rb") as source:
            started = time.perf_counter()
            done = imports.import_specified_users(db, seller, product, None, source)
            users_s = time.perf_counter() - started
        assert done.imported == rows, done
        last_spec = _first_spec(db, seller, product)
        assert decisions.check(
            index_for(db), f"{rows:032x}", last_spec
        ).allowed  # the index has them all
    finally:
        db.dispose()
    report.figures.append(
        (f"import {rows:,} specified users from CSV ({label})", f"{users_s:.1f} s")
    )
    report.figures.append((f"import {rows:,} accounts from CSV ({label})", f"{accounts_s:.1f} s"))
    return url


def _first_spec(db: Database, seller: Actor, product_id: str) -> str:
    return products.get_product(db, seller, product_id).specifications[0].specification_id


def bench_memory(report: Report, url: str, label: str) -> None:
    measured = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.memory", url], capture_output=True, check=True, text=True
        ).stdout
    )
    entries = measured["list_entries"]
    per_entry = measured["list_bytes"] / max(entries, 1)
    report.figures.append(
        (
            f"index memory ({label}: {measured['accounts']:,} accounts, {entries:,} list entries)",
            f"{measured['rss_growth'] / 2**20:.1f} MB resident in all; lists "
            f"{per_entry:.3g} bytes per entry = {per_entry * 1e6 / 2**20:.3g} MB per 1M entries",
        )
    )


def postgres_url(given: str | None) -> str | None:
    """A fresh database on the PostgreSQL server, or None when none is reachable."""
    from sqlalchemy import create_engine, text

    admin_url = given or DEFAULT_POSTGRES
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "offerscope_bench" WITH (FORCE)'))
            connection.execute(text('CREATE DATABASE "offerscope_bench"'))
        engine.dispose()
    except Exception as error:
        print(
            f"(PostgreSQL not reachable, its import is not measured: {error.__class__.__name__})",
            file=sys.stderr,
        )
        return None
    return admin_url.rsplit("/", 1)[0] + "/offerscope_bench"


# --- the run --------------------------------------------------------------------------------


def print_report(report: Report) -> None:
    single = next(
        r.rate
        for r in report.rows
        if r.name.startswith("offerscope in-process") and r.mode == "single"
    )
    batch = next(
        r.rate
        for r in report.rows
        if r.name.startswith("offerscope in-process") and r.mode == "batch"
    )
    print(
        f"\n### Decisions (scale {report.scale:g}; median of the runs;"
        " ratio = rate / offerscope in-process, same mode)\n"
    )
    print("| implementation | mode | checks | decisions/s | ratio | agrees | note |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for row in report.rows:
        base = single if row.mode == "single" else batch
        agrees = "yes" if row.disagreements == 0 else f"**NO: {row.disagreements} differ**"
        print(
            f"| {row.name} | {row.mode} | {row.checks:,} | {row.rate:,.0f} "
            f"| {row.rate / base:.3g}x | {agrees} | {row.note} |"
        )
    print("\n### Other figures\n")
    print("| what | measured |")
    print("| --- | --- |")
    for what, value in report.figures:
        print(f"| {what} | {value} |")
    if report.disagreements:
        print(f"\n!!! {report.disagreements} DISAGREEMENTS WITH OFFERSCOPE: see stderr !!!")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 200,000 accounts, 2,000 products"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure (the median is shown)"
    )
    parser.add_argument(
        "--checks", type=int, default=None, help="checks per run (default 100,000 x scale)"
    )
    parser.add_argument(
        "--import-rows", type=int, default=None, help="rows per import (default 1,000,000 x scale)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the databases go (default: a temp dir)"
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"PostgreSQL server for the import (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP server measurements")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL import")
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the figures here as JSON"
    )
    parser.add_argument(
        "--spicedb", action="store_true", help="also SpiceDB (set up first if missing)"
    )
    parser.add_argument(
        "--spicedb-sample", type=int, default=500, help="checks SpiceDB is timed on (default 500)"
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="offerscope-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(args.scale)
    try:
        run(report, args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "scale": args.scale,
                    "rows": [vars(r) for r in report.rows],
                    "figures": report.figures,
                },
                indent=2,
            )
        )
    return 1 if report.disagreements else 0


def run(report: Report, args: argparse.Namespace, workdir: Path) -> None:
    scale = args.scale
    started = time.perf_counter()
    world = generate(scale)
    path = workdir / "bench.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database.connect(url, pool_size=4)
    write(db, world)
    print(
        f"world: {len(world.accounts):,} accounts, {len(world.products):,} products, "
        f"{len(world.specs):,} specifications, {world.list_entries:,} list entries, "
        f"{len(world.orders):,} orders "
        f"(made in {time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    index_for(db).refresh()
    report.figures.append(
        ("index build from the database (whole world)", f"{time.perf_counter() - started:.2f} s")
    )
    pairs = checks(world, args.checks or max(2_000, round(100_000 * scale)))
    expected = bench_offerscope(report, db, pairs, args.repeat)
    print("offerscope measured; peers next", file=sys.stderr)
    bench_peers(report, world, path, pairs, expected, args.repeat)
    if args.spicedb:
        from bench.spicedb import bench_spicedb  # only with the option: it needs its set-up

        bench_spicedb(report, world, pairs, expected, args.repeat, args.spicedb_sample)
    if not args.no_http:
        print("HTTP next", file=sys.stderr)
        bench_http(report, db, url, pairs, expected, args.repeat)
    bench_writes(report, db, world)
    bench_catalog(report, db, world, args.repeat)
    bench_memory(report, url, f"scale {scale:g} world")
    db.dispose()
    rows = args.import_rows or max(1_000, round(1_000_000 * scale))
    files = _write_csvs(workdir, rows)
    print("imports next", file=sys.stderr)
    imported = workdir / "import.db"
    imported.unlink(missing_ok=True)
    bench_import(report, f"sqlite:///{imported}", "SQLite", files, rows)
    bench_memory(report, f"sqlite:///{imported}", "after the import")
    if not args.no_postgres and (pg := postgres_url(args.postgres_url)):
        bench_import(report, pg, "PostgreSQL", files, rows)
