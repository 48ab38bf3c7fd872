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
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.figures import bench_catalog, bench_import, bench_memory, bench_writes, write_csvs
from bench.goals import Goal, goals_table
from bench.inprocess import INDEX, bench_limit, bench_offerscope, bench_peers
from bench.limit import LimitAllowed, LimitR12
from bench.offerscope_api import Offerscope
from bench.over_http import bench_http
from bench.report import Report
from bench.world import checks, generate

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

__all__ = ["Report", "main"]


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
    print("\n### Goals\n")
    print("\n".join(goals_table(sorted(report.goals, key=lambda g: g.number))))
    print(
        "\nratio = offerscope / peer, measured side by side in this run; (yes)/(no): measured"
        " away from the goal's own conditions, extrapolated."
    )
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
                    "goals": [g.as_dict() for g in report.goals],
                },
                indent=2,
            )
        )
    return 1 if report.disagreements else 0


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
    scale = args.scale
    started = time.perf_counter()
    world = generate(scale)
    path = workdir / "bench.db"
    path.unlink(missing_ok=True)
    store = Offerscope(f"sqlite:///{path}", pool_size=4)
    store.write_world(world)
    print(
        f"world: {len(world.accounts):,} accounts, {len(world.products):,} products, "
        f"{len(world.specs):,} specifications, {world.list_entries:,} list entries, "
        f"{len(world.orders):,} orders "
        f"(made in {time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    store.build_index()
    report.figures.append(
        ("index build from the database (whole world)", f"{time.perf_counter() - started:.2f} s")
    )
    pairs = checks(world, args.checks or max(2_000, round(100_000 * scale)))
    expected = bench_offerscope(report, store, pairs, args.repeat)
    bench_limit(report, world, pairs, expected, args.repeat)
    _goal3(report)
    print("offerscope and the plain-Python limit measured; peers next", file=sys.stderr)
    bench_peers(report, world, path, pairs, expected, args.repeat)
    if args.spicedb:
        from bench.spicedb import bench_spicedb  # only with the option: it needs its set-up

        bench_spicedb(report, world, pairs, expected, args.repeat, args.spicedb_sample)
    if not args.no_http:
        print("HTTP next", file=sys.stderr)
        bench_http(report, store.url, store.operator_token(), pairs, expected, args.repeat)
    bench_writes(report, store, world)
    bench_catalog(report, store, world, args.repeat)
    bench_memory(report, store.url, f"scale {scale:g} world")
    store.close()
    rows = args.import_rows or max(1_000, round(1_000_000 * scale))
    files = write_csvs(workdir, rows)
    print("imports next", file=sys.stderr)
    imported = workdir / "import.db"
    imported.unlink(missing_ok=True)
    bench_import(report, f"sqlite:///{imported}", "SQLite", files, rows)
    bench_memory(report, f"sqlite:///{imported}", "after the import")
    if not args.no_postgres and (pg := postgres_url(args.postgres_url)):
        bench_import(report, pg, "PostgreSQL", files, rows)
