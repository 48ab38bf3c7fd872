"""`python -m bench.impact`: R14's dry runs and audience sizes at scale, beside the writes.

The bench's generated marketplace (scale 1: 200,000 accounts, 2,000 products, about 100,000
list entries, 300,000 orders) is stored in SQLite (or PostgreSQL) and its decision index built
as a server's is. Timed, server-side (the use cases, as the HTTP handlers call them), median:
a product target change (all users <-> specified users, over every account) as a dry run and
as the write; a list entry's removal as a dry run and as the write (put back after each); the
audience sizes of a product's target page.

    python -m bench.impact --scale 1
    python -m bench.impact --scale 1 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse

from bench.lists import database, timed
from bench.offerscope_api import Offerscope
from bench.world import generate
from offerscope.domain.targets import Target
from offerscope.services import sellers, specified_users, targets
from offerscope.storage.unit_of_work import dry_running

RUNS = 11
GOALS_MS = {"target dry run": 20.0, "removal dry run": 2.0, "audience sizes": 5.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--postgres", help="an admin URL: a database is made and dropped")
    args = parser.parse_args(argv)
    world = generate(args.scale)
    with database(args.postgres) as url:
        store = Offerscope(url)
        store.write_world(world)
        store.build_index()
        db, index = store._db, store._index
        # The product with the most specifications sold to all users, and a listed entry.
        product = max(
            (p for p in world.products.values() if p.target == "all"),
            key=lambda p: len(p.specs),
        )
        listed = next(p for p in world.products.values() if p.target == "specified" and p.users)
        seller = sellers.seller_actor(db, f"slr_{product.seller:08x}")
        owner = sellers.seller_actor(db, f"slr_{listed.seller:08x}")
        account_id, name = world.accounts[listed.users[0] - 1][:2]

        def target_dry() -> None:
            with dry_running() as dry:
                targets.set_product_target(
                    db, seller, product.product_id, Target.SPECIFIED, reset_conflicting=True
                )
            assert dry.impact is not None

        def target_write() -> None:
            targets.set_product_target(
                db, seller, product.product_id, Target.SPECIFIED, reset_conflicting=True
            )
            targets.set_product_target(db, seller, product.product_id, Target.ALL)

        def removal_dry() -> None:
            with dry_running() as dry:
                specified_users.remove_specified_user(
                    db, owner, listed.product_id, None, account_id
                )
            assert dry.impact is not None and dry.impact.losses.count <= 1

        def removal_write() -> None:
            specified_users.remove_specified_user(db, owner, listed.product_id, None, account_id)
            specified_users.add_specified_user(db, owner, listed.product_id, None, account_id, name)

        figures = {
            "target dry run": timed(target_dry, RUNS),
            "target write and back (two writes)": timed(target_write, RUNS),
            "removal dry run": timed(removal_dry, RUNS),
            "removal write and add back (two writes)": timed(removal_write, RUNS),
            "audience sizes": timed(lambda: index.audience_sizes(product.product_id), RUNS),
        }
        store.close()
    accounts = len(world.accounts)
    print(
        f"{'postgresql' if args.postgres else 'sqlite'}: scale {args.scale} "
        f"({accounts:,} accounts), "
        f"product with {len(product.specs)} specifications; median of {RUNS}, ms"
    )
    for label, ms in figures.items():
        goal = GOALS_MS.get(label)
        verdict = "" if goal is None else f"goal <= {goal} ms: {'met' if ms <= goal else 'NOT met'}"
        print(f"  {label:<42} {ms:9.2f}   {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
