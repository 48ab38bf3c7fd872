"""Figures beside the decisions: writes, the catalog, index memory, and imports (goal 6)."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.goals import Goal
from bench.offerscope_api import Offerscope
from bench.report import Report, timed_ms
from bench.world import World

ROOT = Path(__file__).resolve().parents[1]
IMPORT_GOAL_ROWS = 1_000_000
IMPORT_GOAL_S = 10.0


def bench_writes(report: Report, store: Offerscope, world: World) -> None:
    """What one write costs end to end: its transaction, the change log, the index update."""
    store.build_index()
    seller = "slr_00000000"
    own = [p for p in world.products.values() if p.seller == 0]
    listed = next(p for p in own if p.target == "specified")
    members = set(listed.users)
    outsiders = [pk for pk in range(1, len(world.accounts) + 1) if pk not in members][:100]
    adding = iter(world.accounts[pk - 1] for pk in outsiders)
    removing = iter(world.accounts[pk - 1][0] for pk in outsiders)
    toggled = next(p for p in own if p.target == "all")
    targets = iter(["enterprise", "all"] * 50)
    buyer = world.accounts[0][0]
    place_order = store.order_placer(buyer)
    decide, _ = store.index_deciders()
    spec_id = next(  # one the buyer may buy, on a product whose target stays as it is
        s.specification_id
        for s in world.specs.values()
        if s.product != toggled.pk and decide(buyer, s.specification_id).allowed
    )

    def add() -> None:
        account_id, name, _ = next(adding)
        store.add_specified_user(seller, listed.product_id, account_id, name)

    def remove() -> None:
        store.remove_specified_user(seller, listed.product_id, next(removing))

    def retarget() -> None:
        store.set_product_target(seller, toggled.product_id, next(targets), reset=True)

    def order() -> None:
        place_order(spec_id)

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


def bench_catalog(report: Report, store: Offerscope, world: World, repeat: int) -> None:
    buyer = world.accounts[1][0]
    count = store.catalog_specifications(buyer)
    spent = statistics.median(
        timed_ms(lambda: store.catalog_specifications(buyer), 1) for _ in range(repeat)
    )
    report.figures.append(
        (
            "catalog: one buyer, every specification (service, pages of 1,000 products)",
            f"{spent:.1f} ms for {count:,} specifications"
            f" = {spent * 10_000 / count:.1f} ms per 10,000",
        )
    )


@dataclass(frozen=True)
class ImportFiles:
    accounts: Path
    users: Path
    listed: str  # an account ID the users file lists


def write_csvs(directory: Path, rows: int, seed: int = 61) -> ImportFiles:
    """The import goal's two files, shaped as a marketplace's and a seller's would be: account
    IDs and names random, the accounts in no order, and the users file listing them in
    another order. (Files in key order, with names sorted as their IDs, let every index of the
    tables grow at its end: SQLite took a fifth of the time for the same rows.)"""
    rng = random.Random(seed)
    ids = list(dict.fromkeys(f"{rng.getrandbits(128):032x}" for _ in range(rows)))
    assert len(ids) == rows  # 128 random bits: no two alike
    names = [f"customer_{rng.getrandbits(40):010x}" for _ in range(rows)]
    accounts, users = directory / "accounts.csv", directory / "users.csv"
    with accounts.open("w") as out:
        out.write("account_id,account_name,account_type\n")
        for n, (account_id, name) in enumerate(zip(ids, names, strict=True)):
            out.write(f"{account_id},{name},{'enterprise' if n % 3 == 0 else 'individual'}\n")
    order = list(range(rows))
    rng.shuffle(order)
    with users.open("w") as out:
        out.write("account_id,account_name\n")
        for n in order:
            out.write(f"{ids[n]},{names[n]}\n")
    return ImportFiles(accounts, users, ids[order[-1]])


def bench_import(report: Report, url: str, label: str, files: ImportFiles, rows: int) -> None:
    """Import `rows` accounts, then `rows` specified users, into an empty database."""
    store = Offerscope(url, pool_size=2)
    try:
        store.build_index()  # as in a server: the import's index update is part of the time
        seller = store.create_seller("Importer")
        product, (spec,) = store.create_product(seller, "Imported", ["Only"])
        store.set_product_target(seller, product, "specified")
        started = time.perf_counter()
        store.import_accounts(files.accounts)
        accounts_s = time.perf_counter() - started
        started = time.perf_counter()
        imported = store.import_specified_users(seller, product, files.users)
        users_s = time.perf_counter() - started
        assert imported == rows, imported
        # the index has them all
        assert store.check_with_freshness(files.listed, spec).allowed
    finally:
        store.close()
    report.figures.append(
        (f"import {rows:,} specified users from CSV ({label})", f"{users_s:.1f} s")
    )
    report.figures.append((f"import {rows:,} accounts from CSV ({label})", f"{accounts_s:.1f} s"))
    for what, seconds in (("specified users", users_s), ("accounts", accounts_s)):
        per_goal = seconds * IMPORT_GOAL_ROWS / rows
        report.goals.append(
            Goal(
                6,
                f"import {IMPORT_GOAL_ROWS:,} {what} from CSV, {label}",
                per_goal,
                "s",
                IMPORT_GOAL_S,
                "at_most",
                note=""
                if rows == IMPORT_GOAL_ROWS
                else f"extrapolated from {rows:,} rows ({seconds:.2f} s)",
                at_goal_conditions=rows == IMPORT_GOAL_ROWS,
            )
        )


def bench_memory(report: Report, url: str, label: str) -> None:
    measured = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.memory", url],
            capture_output=True,
            check=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    entries = measured["list_entries"]
    per_entry = measured["list_bytes"] / max(entries, 1)
    heap_per_entry = measured["list_heap"] / max(entries, 1)
    per_account = measured["rss_growth"] / max(measured["accounts"], 1)
    shapes = ", ".join(
        f"{measured[f'{kind}_containers']:,} {kind}" for kind in ("array", "run", "bitset")
    )
    report.figures.append(
        (
            f"index memory ({label}: {measured['accounts']:,} accounts, {entries:,} list entries)",
            f"{measured['rss_growth'] / 2**20:.1f} MB resident in all"
            f" ({per_account:.0f} bytes per account);"
            f" lists {per_entry:.3g} bytes per entry reckoned by the index,"
            f" {heap_per_entry:.3g} measured (native heap of a copy of the"
            f" {measured['lists']:,} bitmaps: {shapes} containers)",
        )
    )
