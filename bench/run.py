"""The benchmark: offerscope against its peers and its performance goals, on one generated
marketplace, side by side in one run.

    python -m bench --scale 1          # the README's figures
    python -m bench --quick            # scale 0.05, one run each, short wrk runs
    python -m bench --spicedb          # SpiceDB too, on a sample (set up first: bench.spicedb)

In-process figures are the median of `--repeat` runs (3 by default). Every peer's answers
(allowed, reason and level) are compared with offerscope's on every check it is timed on; a
disagreement is printed loudly and makes the exit status 1, as do lost writes and 5xx
answers. HTTP figures come from wrk against real server processes (installed with apt-get
when missing: bench.wrk). The report ends with the Goals table; nothing asserts on speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import wrk
from bench.figures import bench_catalog, bench_import, bench_memory, bench_writes, write_csvs
from bench.goals import Goal, goals_table
from bench.inprocess import INDEX, bench_offerscope, bench_peers
from bench.limit import LimitAllowed, LimitR12
from bench.load_wrk import bench_load
from bench.offerscope_api import Offerscope
from bench.over_http import Store, bench_http
from bench.report import Report, say
from bench.world import checks, generate

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

__all__ = ["Report", "main"]


BENCH_DATABASES = ("os_bench", "os_bench_import")


def _on_postgres(given: str | None, name: str, *, create: bool) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(given or DEFAULT_POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def postgres_url(given: str | None, name: str) -> str | None:
    """A fresh database `name` on the PostgreSQL server, or None when none is reachable."""
    try:
        _on_postgres(given, name, create=True)
    except Exception as error:
        say(f"(PostgreSQL not reachable, its figures are not measured: {type(error).__name__})")
        return None
    return (given or DEFAULT_POSTGRES).rsplit("/", 1)[0] + "/" + name


def drop_postgres(given: str | None) -> None:
    """The run's databases go when it ends: a scale-1 world and a million-row import are big."""
    for name in BENCH_DATABASES:
        with contextlib.suppress(Exception):  # unreachable: then nothing was made there
            _on_postgres(given, name, create=False)


# --- the printed report -------------------------------------------------------------------


def print_report(report: Report) -> None:
    single = report.rate(INDEX, "single") or 1.0
    batch = report.rate(INDEX, "batch") or 1.0
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
    for table in report.tables:
        print(f"\n### {table.title}\n")
        print("| " + " | ".join(table.columns) + " |")
        print("| " + " | ".join("---" for _ in table.columns) + " |")
        for cells in table.rows:
            print("| " + " | ".join(cells) + " |")
        for note in table.notes:
            print(f"\n{note}")
    print("\n### Goals\n")
    print("\n".join(goals_table(sorted(report.goals, key=lambda g: g.number))))
    print(
        "\nratio = offerscope / peer, measured side by side in this run; (yes)/(no): measured"
        " away from the goal's own conditions, extrapolated."
    )
    if report.disagreements:
        print(f"\n!!! {report.disagreements} DISAGREEMENTS WITH OFFERSCOPE: see stderr !!!")
    for problem in report.problems:
        print(f"\n!!! {problem}")


def _json(report: Report, args: argparse.Namespace) -> dict[str, object]:
    return {
        "scale": report.scale,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "rows": [vars(r) for r in report.rows],
        "figures": report.figures,
        "tables": [vars(t) for t in report.tables],
        "goals": [g.as_dict() for g in report.goals],
        "problems": report.problems,
        "details": report.details,
    }


# --- the run --------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", type=float, default=None, help="1 = 200,000 accounts, 2,000 products"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick run: scale 0.05 (unless given), one run per figure, short wrk runs",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per figure (the median is shown; 3)"
    )
    parser.add_argument(
        "--checks", type=int, default=None, help="checks per run (default 100,000 x scale)"
    )
    parser.add_argument(
        "--import-rows", type=int, default=None, help="rows per import (default 1,000,000 x scale)"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="length of each HTTP wrk run (5; quick 1)"
    )
    parser.add_argument(
        "--load-seconds", type=float, default=None, help="length of each load run (10; quick 1)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the databases go (default: a temp dir)"
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"PostgreSQL server for its figures (default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--no-http", action="store_true", help="skip goals 1 and 2 (HTTP)")
    parser.add_argument("--no-load", action="store_true", help="skip goals 4 and 5 (load, orders)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--no-install", action="store_true", help="never apt-get install wrk; skip without it"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write everything here as JSON"
    )
    parser.add_argument(
        "--spicedb", action="store_true", help="also SpiceDB (set up first if missing)"
    )
    parser.add_argument(
        "--spicedb-sample", type=int, default=500, help="checks SpiceDB is timed on (default 500)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.scale = args.scale if args.scale is not None else (0.05 if quick else 1.0)
    args.repeat = args.repeat or (1 if quick else 3)
    args.seconds = args.seconds or (1.0 if quick else 5.0)
    args.load_seconds = args.load_seconds or (1.0 if quick else 10.0)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="offerscope-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(args.scale)
    started = time.perf_counter()
    try:
        run(report, args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        if not args.no_postgres:
            drop_postgres(args.postgres_url)
    report.details["elapsed_s"] = round(time.perf_counter() - started, 1)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(_json(report, args), indent=2))
    return 1 if report.disagreements or report.problems else 0


def _wrk_or_reason(args: argparse.Namespace) -> str | None:
    """None when wrk can run; else why the HTTP and load goals go unmeasured."""
    if args.no_http and args.no_load:
        return None
    try:
        wrk.ensure(install=not args.no_install)
    except wrk.Unavailable as error:
        say(f"HTTP and load skipped: {error}")
        return str(error)
    return None


UNMEASURED = {
    1: Goal(1, "single decision over HTTP vs bare FastAPI", None, "req/s", 1.0, "ratio"),
    2: Goal(2, "batch over HTTP vs in-process decide_many", None, "decisions/s", 0.6, "ratio"),
    4: Goal(4, "under load: 90/10 mix vs decisions only", None, "req/s", 0.8, "ratio"),
    5: Goal(5, "orders, 32 buyers", None, "/s", 1_000, "at_least"),
}


def _unmeasured(report: Report, numbers: tuple[int, ...], why: str) -> None:
    for number in numbers:
        goal = UNMEASURED[number]
        report.goals.append(Goal(**{**vars(goal), "note": why}))


def _goal3(report: Report) -> None:
    for mode in ("single", "batch"):
        for peer in (LimitR12.name, LimitAllowed.name):
            report.goals.append(
                Goal(
                    3,
                    f"in-process {mode} (index) vs the plain-Python limit",
                    report.rate(INDEX, mode),
                    "decisions/s",
                    0.5,
                    "ratio",
                    peer=peer,
                    peer_measured=report.rate(peer, mode),
                )
            )


def run(report: Report, args: argparse.Namespace, workdir: Path) -> None:
    no_wrk = _wrk_or_reason(args)
    started = time.perf_counter()
    world = generate(args.scale)
    path = workdir / "bench.db"
    path.unlink(missing_ok=True)
    sqlite = Offerscope(f"sqlite:///{path}", pool_size=4)
    sqlite.write_world(world)
    say(
        f"world: {len(world.accounts):,} accounts, {len(world.products):,} products, "
        f"{len(world.specs):,} specifications, {world.list_entries:,} list entries, "
        f"{len(world.orders):,} orders (made in {time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    sqlite.build_index()
    report.figures.append(
        ("index build from the database (whole world)", f"{time.perf_counter() - started:.2f} s")
    )
    pairs = checks(world, args.checks or max(2_000, round(100_000 * args.scale)))
    expected = bench_offerscope(report, sqlite, world, pairs, args.repeat)
    _goal3(report)
    say("offerscope and the plain-Python limit measured; peers next")
    bench_peers(report, world, path, pairs, expected, args.repeat)
    if args.spicedb:
        from bench.spicedb import bench_spicedb  # only with the option: it needs its set-up

        bench_spicedb(report, world, pairs, expected, args.repeat, args.spicedb_sample)
    postgres: Offerscope | None = None
    served = not (no_wrk or (args.no_http and args.no_load))
    if (
        served
        and not args.no_postgres
        and (url := postgres_url(args.postgres_url, BENCH_DATABASES[0]))
    ):
        say("the world into PostgreSQL")
        postgres = Offerscope(url, pool_size=4)
        postgres.write_world(world)
    stores = [("SQLite", sqlite, 1)] + ([("PostgreSQL", postgres, 2)] if postgres else [])
    if args.no_http or no_wrk:
        _unmeasured(report, (1, 2), no_wrk or "--no-http")
    else:
        say("HTTP next")
        http_stores = [Store(label, s.url, s.operator_token()) for label, s, _ in stores]
        bench_http(report, http_stores, pairs, expected, args.repeat, args.seconds, workdir)
    bench_writes(report, sqlite, world)
    bench_catalog(report, sqlite, world, args.repeat)
    bench_memory(report, sqlite.url, f"scale {args.scale:g} world")
    if args.no_load or no_wrk:
        _unmeasured(report, (4, 5), no_wrk or "--no-load")
    else:
        for label, store, workers in stores:
            say(f"load and orders on {label} next")
            bench_load(
                report,
                label,
                store,
                world,
                pairs,
                workers=workers,
                repeat=args.repeat,
                seconds=args.load_seconds,
                workdir=workdir,
            )
    sqlite.close()
    if postgres:
        postgres.close()
    _imports(report, args, workdir)


def _imports(report: Report, args: argparse.Namespace, workdir: Path) -> None:
    rows = args.import_rows or max(1_000, round(1_000_000 * args.scale))
    files = write_csvs(workdir, rows)
    say("imports next")
    imported = workdir / "import.db"
    imported.unlink(missing_ok=True)
    bench_import(report, f"sqlite:///{imported}", "SQLite", files, rows)
    bench_memory(report, f"sqlite:///{imported}", "after the import")
    if not args.no_postgres and (pg := postgres_url(args.postgres_url, BENCH_DATABASES[1])):
        bench_import(report, pg, "PostgreSQL", files, rows)


if __name__ == "__main__":
    sys.exit(main())
