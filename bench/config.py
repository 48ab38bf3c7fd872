"""`python -m bench.config`: R19's plan of a large seller (goal: ≤ 2 s).

A seller with 500 products (each with a specification), every product sold to specified
users, 200,000 list entries in all (400 per product). Times, as medians of a few runs:
- the export (`GET /v1/config`, through the use case);
- the plan through the use case (`apply_config` as a dry run) of the exported document with
  one entry added and one pruned away;
- the same plan over the HTTP API in-process (`PUT /v1/config?dry_run=true`: the 20 MB body
  parsed and validated, the plan, R14's impact from the decision index, the answer);
- a plan of a large change (no goal; the bulk path): the first 50 lists each given the next
  list's entries, so 20,000 entries are added and 20,000 pruned away, judged by R5 in bulk.

    python -m bench.config                                   # SQLite, in a temporary file
    python -m bench.config --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.testclient import TestClient

from bench.lists import database
from offerscope.app import create_app
from offerscope.bootstrap import Backend
from offerscope.domain.targets import Target
from offerscope.services import config, products, sellers, targets, tokens
from offerscope.services.actors import Actor, Role
from offerscope.services.ownership import owner
from offerscope.settings import Settings
from offerscope.storage import changes, lists
from offerscope.storage.bulk import ACCOUNTS, BulkIo
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database, dry_running

GOAL_SECONDS = 2.0
RUNS = 3


def build(db: Database, product_count: int, entries: int) -> tuple[Actor, str]:
    """The seller (its actor and ID) with its products and lists."""
    seller = sellers.create_seller(db, "Big Seller")
    actor = sellers.seller_actor(db, seller.seller_id)
    made = []
    for n in range(product_count):
        view = products.create_product(db, actor, f"Product {n}", [f"Plan {n}"])
        targets.set_product_target(db, actor, view.product_id, Target.SPECIFIED)
        made.append(view.product_id)
    per_product = entries // product_count
    now = datetime.now(UTC)
    with db.writing() as uow:
        bulk = BulkIo(uow.session)
        stamp = bulk.stored(ACCOUNTS.c.created_at, now)
        bulk.insert(
            ACCOUNTS,
            ("pk", "account_id", "account_name", "account_type", "created_at"),
            [
                (i + 1, uuid.UUID(int=i + 1).hex, f"acct_{i}", "individual", stamp)
                for i in range(entries + 1)
            ],
        )
        # As an import of accounts does: every process's index learns of them.
        uow.record_change(changes.AccountsReloaded(1, entries + 1))
        for n, product_id in enumerate(made):
            found = owner(uow, actor, product_id, None, lock=True)
            first = n * per_product
            bulk.insert(
                lists.ENTRIES,
                ("list_pk", "account_pk", "entered_name", "added_at"),
                [
                    (found.list_pk, pk + 1, f"acct_{pk}", stamp)
                    for pk in range(first, first + per_product)
                ],
            )
        uow.commit()
    return actor, seller.seller_id


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of wall-clock and of this process's CPU (the machine may be shared:
    the CPU time is the part that is the code's own)."""
    times, cpu = [], []
    for _ in range(RUNS):
        began, began_cpu = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return statistics.median(times), statistics.median(cpu)


def edited(document: dict[str, Any], entries: int) -> dict[str, Any]:
    """The export with one account added to the first list and the last list's first entry
    pruned away."""
    changed = copy.deepcopy(document)
    changed["prune"] = True
    first, last = changed["products"][0], changed["products"][-1]
    first["specified_users"].append(
        {"account_id": uuid.UUID(int=entries + 1).hex, "account_name": f"acct_{entries}"}
    )
    del last["specified_users"][0]
    return changed


def shifted(document: dict[str, Any], lists: int) -> dict[str, Any]:
    """The export with each of the first `lists` lists given the next list's entries."""
    changed = copy.deepcopy(document)
    changed["prune"] = True
    products = changed["products"]
    for n in range(lists):
        products[n]["specified_users"] = list(document["products"][n + 1]["specified_users"])
    return changed


def _doc(body: dict[str, Any]) -> config.ConfigDoc:
    return config.ConfigDoc(
        products=[
            config.ProductDoc(
                config.OwnerDoc(
                    p["product_id"],
                    p["target"],
                    [
                        (e["account_id"], e["account_name"], None, None)
                        for e in p["specified_users"]
                    ],
                    p["associated_products"],
                ),
                [
                    config.OwnerDoc(s["specification_id"], s["setting"], None, None)
                    for s in p["specifications"]
                ],
            )
            for p in body["products"]
        ],
        prune=bool(body.get("prune")),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--postgres", help="an admin URL: a database is made and dropped")
    args = parser.parse_args(argv)
    with database(args.postgres) as url:
        migrate(url)
        backend = Backend.connect(url)
        db = backend.db
        began = time.perf_counter()
        actor, seller_id = build(db, args.products, args.entries)
        print(f"built in {time.perf_counter() - began:.1f} s")
        document = config.export_config(db, actor).document
        change = edited(document, args.entries)
        body = orjson.dumps(change)

        def plan_in_process() -> None:
            with dry_running() as dry:
                result = config.apply_config(db, actor, _doc(change))
            assert len(result.changes) == 2 and dry.reached_commit

        large = _doc(shifted(document, 50))
        moved = 2 * 50 * (args.entries // args.products)

        def large_plan() -> None:
            with dry_running():
                result = config.apply_config(db, actor, large)
            assert len(result.changes) == moved, len(result.changes)

        token = tokens.create_token(db, Role.SELLER, seller_id=seller_id)
        app = create_app(Settings.from_environment(url), backend)
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

            def plan_over_http() -> None:
                answer = client.put("/v1/config?dry_run=true", content=body, headers=headers)
                assert answer.status_code == 200, answer.text[:500]
                assert len(answer.json()["result"]["changes"]) == 2

            figures = [
                ("export (use case)", timed(lambda: config.export_config(db, actor))),
                ("plan (use case, dry run)", timed(plan_in_process)),
                ("plan over HTTP (PUT ?dry_run=true)", timed(plan_over_http)),
                (f"plan of {moved:,} entry changes (use case)", timed(large_plan)),
            ]
        print(
            f"{db.dialect}: {args.products} products, {args.entries:,} list entries, "
            f"a {len(body) / 2**20:.1f} MB document (median s; goal {GOAL_SECONDS} s)"
        )
        for label, (seconds, cpu) in figures[:3]:
            print(
                f"  {label:<40} {seconds:6.2f} s   {seconds / GOAL_SECONDS:5.2f} of the goal"
                f"   (CPU {cpu:5.2f} s)"
            )
        label, (seconds, cpu) = figures[3]
        print(f"  {label:<40} {seconds:6.2f} s   (no goal)            (CPU {cpu:5.2f} s)")
        backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
