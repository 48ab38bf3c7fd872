"""`python -m bench.lists`: a seller's view of one very long specified-user list.

Registers N accounts (default 1,000,000), puts every one on one product's list, then times
what the Seller Console asks of that list, through the same use case the console and the API
call: the first page with its total, a page deep in the list and the one before it, and
searches by the start of a name (any case), an account's exact name, the start of an ID, a
part of a name, and a part that nothing contains (the fallback's worst case: it looks through
one window of the list, `lists.FALLBACK_WINDOW` entries, and offers the next). Each figure is
the median of several runs, in milliseconds.

    python -m bench.lists                                   # SQLite, in a temporary file
    python -m bench.lists --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from offerscope.domain.targets import Target
from offerscope.services import products, sellers, specified_users, targets
from offerscope.services.actors import Actor
from offerscope.services.ownership import owner
from offerscope.services.paging import decode_cursor, encode_cursor
from offerscope.services.views import Page
from offerscope.storage import lists
from offerscope.storage.bulk import ACCOUNTS, BulkIo
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
LAST = ["wang", "li", "zhang", "smith", "garcia", "muller", "rossi", "tanaka", "kim", "silva"]
RUNS = 5
PAGE = 20


def _name(rng: random.Random, n: int) -> str:
    name = f"{rng.choice(FIRST)}_{rng.choice(LAST)}{n}"
    return name.capitalize() if n % 3 == 0 else name  # some in capitals: any case must match


def fill(db: Database, actor: Actor, product_id: str, count: int) -> list[tuple[str, str]]:
    """Register `count` accounts and put them all on the product's list; (id, name) of each."""
    rng = random.Random(20261130)
    made = [(uuid.UUID(int=rng.getrandbits(128)).hex, _name(rng, n)) for n in range(count)]
    now = datetime.now(UTC)
    with db.writing() as uow:
        bulk = BulkIo(uow.session)
        stamp = bulk.stored(ACCOUNTS.c.created_at, now)
        for start in range(0, count, 100_000):
            chunk = made[start : start + 100_000]
            bulk.insert(
                ACCOUNTS,
                ("pk", "account_id", "account_name", "account_type", "created_at"),
                [
                    (start + i + 1, a, name, "individual", stamp)
                    for i, (a, name) in enumerate(chunk)
                ],
            )
        found = owner(uow, actor, product_id, None, lock=True)
        for start in range(0, count, 100_000):
            bulk.insert(
                lists.ENTRIES,
                ("list_pk", "account_pk", "entered_name", "added_at"),
                [
                    (found.list_pk, start + i + 1, name, stamp)
                    for i, (_, name) in enumerate(made[start : start + 100_000])
                ],
            )
        uow.commit()
    if db.dialect == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return made


def timed(run: Callable[[], object], runs: int = RUNS) -> float:
    """The median of `runs` runs of `run`, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(db: Database, actor: Actor, product_id: str, made: list[tuple[str, str]]) -> None:
    def page(search: str = "", cursor: str | None = None, count: bool = True) -> Page[Any]:
        return specified_users.list_specified_users(
            db, actor, product_id, limit=PAGE, search=search, cursor=cursor, count=count
        ).page

    # A position half-way down the list, as its Next cursor would name it: the first page's
    # Next cursor (which names the list) moved to the middle.
    first = decode_cursor(page(count=False).next_cursor)
    middle = encode_cursor({**first, "a": [0, len(made) // 2], "o": len(made) // 2})
    previous = page(cursor=middle).previous_cursor
    some_id, some_name = made[len(made) // 3]
    onward = page(some_name).next_cursor
    cases: list[tuple[str, Callable[[], object]]] = [
        ("first page, no count", lambda: page(count=False)),
        ("first page and total", lambda: page()),
        ("page in the middle and total", lambda: page(cursor=middle)),
        ("Previous from the middle", lambda: page(cursor=previous)),
        (f"prefix 'bob' ({_count(made, 'bob')} match)", lambda: page("bob")),
        (f"prefix 'ALICE_WANG1' ({_count(made, 'alice_wang1')})", lambda: page("ALICE_WANG1")),
        ("exact name, other case", lambda: page(some_name.upper())),
        ("ID prefix, 6 characters", lambda: page(some_id[:6])),
        ("exact name, then Next: containing it (fallback)", lambda: page(some_name, onward)),
        ("part of a name 'ce_wan' (fallback)", lambda: page("ce_wan")),
        ("a part nothing contains (fallback, one window)", lambda: page("qqqqq")),
    ]
    print(f"{db.dialect}, one list of {len(made):,} entries, pages of {PAGE} (median ms)")
    for label, run in cases:
        print(f"  {label:<50} {timed(run):8.1f}")


def _count(made: list[tuple[str, str]], prefix: str) -> str:
    return f"{sum(1 for _, name in made if name.lower().startswith(prefix)):,}"


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    if postgres is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'lists.db'}"
        return
    name = f"offerscope_bench_lists_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="an admin URL: a database is made and dropped")
    args = parser.parse_args(argv)
    with database(args.postgres) as url:
        migrate(url)
        db = Database.connect(url)
        seller = sellers.create_seller(db, "Bench Seller")
        actor = sellers.seller_actor(db, seller.seller_id)
        product = products.create_product(db, actor, "Long List", ["Basic"])
        targets.set_product_target(db, actor, product.product_id, Target.SPECIFIED)
        began = time.perf_counter()
        made = fill(db, actor, product.product_id, args.entries)
        print(f"filled in {time.perf_counter() - began:.1f} s")
        measure(db, actor, product.product_id, made)
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
