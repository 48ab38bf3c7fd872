"""`python -m bench.windows`: decisions when a tenth of a long list's entries have a window (R16).

One product sold to specified users, with N entries on its list (default 1,000,000). The
index decides the same checks (nine in ten of listed accounts, the rest not listed) twice:
with no window on any entry, then after a tenth of the entries got one (a third still open,
a third closed, a third yet to open). Windowed entries are tested against the clock at each
check, so the figure to watch is the second rate against the first (goal: at least 0.9x).

    python -m bench.windows                                   # SQLite, in a temporary file
    python -m bench.windows --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bench.lists import database, fill
from offerscope.domain.targets import Target
from offerscope.index.index import DecisionIndex
from offerscope.services import products, sellers, targets
from offerscope.storage.database import migrate
from offerscope.storage.tables import ListEntryRow
from offerscope.storage.unit_of_work import Database

RUNS = 5
GOAL = 0.9
DAY = timedelta(days=1)


def checks(made: list[tuple[str, str]], specs: list[str], count: int) -> list[tuple[str, str]]:
    rng = random.Random(16)
    pairs = []
    for _ in range(count):
        account_id = rng.choice(made)[0] if rng.random() < 0.9 else f"{rng.getrandbits(128):032x}"
        pairs.append((account_id, rng.choice(specs)))
    return pairs


def rate(db: Database, pairs: list[tuple[str, str]]) -> tuple[float, Counter[str]]:
    """Single decisions a second (median of RUNS) from a freshly built index, and its answers."""
    index = DecisionIndex(db)
    try:
        index.rebuild()
        decide = index.decide
        rates = []
        for _ in range(RUNS):
            began = time.perf_counter()
            for account_id, spec_id in pairs:
                decide(account_id, spec_id)
            rates.append(len(pairs) / (time.perf_counter() - began))
        reasons = Counter(decide(a, s).reason.value for a, s in pairs)
        return statistics.median(rates), reasons
    finally:
        index.close()


def add_windows(db: Database, count: int) -> None:
    """A window on every tenth entry: open now, closed, or yet to open, in turn."""
    now = datetime.now(UTC)
    spans = [(now - DAY, now + 30 * DAY), (now - 30 * DAY, now - DAY), (now + DAY, None)]
    with db.writing() as uow:
        for turn, (start, end) in enumerate(spans):
            uow.session.execute(
                update(ListEntryRow)
                .where(ListEntryRow.account_pk % 30 == turn * 10)
                .values(valid_from=start, valid_until=end)
            )
        uow.session.commit()
    assert count  # the entries were there to be windowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--postgres", help="an admin URL: a database is made and dropped")
    args = parser.parse_args(argv)
    with database(args.postgres) as url:
        migrate(url)
        db = Database.connect(url)
        seller = sellers.create_seller(db, "Bench Seller")
        actor = sellers.seller_actor(db, seller.seller_id)
        product = products.create_product(db, actor, "Beta", ["Basic", "Pro", "Max"])
        targets.set_product_target(db, actor, product.product_id, Target.SPECIFIED)
        made = fill(db, actor, product.product_id, args.entries)
        pairs = checks(made, [s.specification_id for s in product.specifications], args.checks)
        without, plain = rate(db, pairs)
        add_windows(db, args.entries)
        with_windows, windowed = rate(db, pairs)
        db.dispose()
    ratio = with_windows / without
    print(
        f"{db.dialect}: {args.entries:,} entries, {args.checks:,} single decisions "
        f"(median of {RUNS})"
    )
    print(f"  no windows                  {without:>12,.0f} /s   {dict(plain)}")
    print(f"  a tenth of entries windowed {with_windows:>12,.0f} /s   {dict(windowed)}")
    print(f"  ratio {ratio:.2f}x (goal >= {GOAL}x: {'met' if ratio >= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
