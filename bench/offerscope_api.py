"""Every call the bench makes into offerscope's internals (index, services, storage).

The rest of bench/ speaks plain values to this module: IDs as strings, answers as
(allowed, reason, level) tuples. When offerscope's seams move, this file is the one to change.
Measurements over HTTP talk to a real `offerscope serve` and need none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.world import World
from offerscope.bootstrap import Backend
from offerscope.domain.decision import Decision
from offerscope.domain.targets import AccountType, Setting, Target
from offerscope.index.index import DecisionIndex
from offerscope.services import (
    accounts,
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
from offerscope.storage import changes
from offerscope.storage.bulk import BulkIo
from offerscope.storage.database import migrate
from offerscope.storage.tables import (
    AccountRow,
    ListEntryRow,
    ListRow,
    OrderRow,
    ProductAssociationRow,
    ProductRow,
    SellerRow,
    SpecificationAssociationRow,
    SpecificationRow,
)
from offerscope.storage.unit_of_work import Database

# (allowed, reason, level): what every peer is held to, reason and level included.
Answer = tuple[bool, str, str | None]
DecideOne = Callable[[str, str], Decision]
DecideMany = Callable[[Sequence[tuple[str, str]]], list[Decision]]


def answer(decision: Decision) -> Answer:
    return (
        decision.allowed,
        decision.reason.value,
        decision.level.value if decision.level else None,
    )


class Offerscope:
    """One migrated offerscope database and the use cases the bench drives on it."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        migrate(url)
        self.url = url
        self._backend = Backend.connect(url, pool_size=pool_size)
        self._db = self._backend.db
        self._index = self._backend.index
        self._sellers: dict[str, Actor] = {}

    def close(self) -> None:
        self._backend.close()

    # --- decisions ------------------------------------------------------------------------

    def build_index(self) -> None:
        """Build (or catch up) this process's decision index."""
        self._index.refresh()

    def index_deciders(self) -> tuple[DecideOne, DecideMany]:
        """The index's own single and batch entry points, bound once so that timing them
        measures the index and not a lookup of it per call."""
        idx = self._index.refresh()
        return idx.decide, idx.decide_many

    def check_with_freshness(self, account_id: str, spec_id: str) -> Decision:
        """What the HTTP endpoint calls: the index after a read of the latest revision."""
        return decisions.check(self._index, account_id, spec_id)

    def account_pk(self, account_id: str) -> int | None:
        with self._db.reading() as uow:
            found = uow.session.scalar(
                select(AccountRow.pk).where(AccountRow.account_id == account_id)
            )
        return found

    # --- tokens and actors ----------------------------------------------------------------

    def operator_token(self) -> str:
        return tokens.create_token(self._db, Role.OPERATOR)

    def seller_token(self, seller_id: str) -> str:
        return tokens.create_token(self._db, Role.SELLER, seller_id=seller_id)

    def buyer_token(self, account_id: str) -> str:
        return tokens.create_token(self._db, Role.BUYER, account_id=account_id)

    def _seller(self, seller_id: str) -> Actor:
        actor = self._sellers.get(seller_id)
        if actor is None:
            actor = self._sellers[seller_id] = sellers.seller_actor(self._db, seller_id)
        return actor

    def _buyer(self, account_id: str) -> Actor:
        return Actor(Role.BUYER, account_pk=self.account_pk(account_id), account_id=account_id)

    # --- writes ---------------------------------------------------------------------------

    def register_account(self, account_id: str, name: str, account_type: str) -> None:
        accounts.register_account(self._db, account_id, name, AccountType(account_type))

    def create_seller(self, name: str) -> str:
        return sellers.create_seller(self._db, name).seller_id

    def create_product(
        self, seller_id: str, name: str, specifications: list[str]
    ) -> tuple[str, list[str]]:
        """A new product; its ID and its specifications' IDs in the order named."""
        view = products.create_product(self._db, self._seller(seller_id), name, specifications)
        return view.product_id, [s.specification_id for s in view.specifications]

    def set_product_target(
        self, seller_id: str, product_id: str, target: str, *, reset: bool = False
    ) -> None:
        targets.set_product_target(
            self._db, self._seller(seller_id), product_id, Target(target), reset_conflicting=reset
        )

    def set_specification_setting(
        self, seller_id: str, product_id: str, spec_id: str, setting: str
    ) -> None:
        targets.set_specification_setting(
            self._db, self._seller(seller_id), product_id, spec_id, Setting(setting)
        )

    def add_specified_user(
        self, seller_id: str, product_id: str, account_id: str, account_name: str
    ) -> None:
        specified_users.add_specified_user(
            self._db, self._seller(seller_id), product_id, None, account_id, account_name
        )

    def remove_specified_user(self, seller_id: str, product_id: str, account_id: str) -> None:
        specified_users.remove_specified_user(
            self._db, self._seller(seller_id), product_id, None, account_id
        )

    def order_placer(self, account_id: str) -> Callable[[str], str]:
        """Place orders as this buyer (R11 decided in the order's transaction): spec -> order ID."""
        buyer = self._buyer(account_id)
        return lambda spec_id: orders.place_order(self._db, buyer, spec_id).order_id

    # --- reads ----------------------------------------------------------------------------

    def catalog_specifications(self, account_id: str, page_size: int = 1000) -> int:
        """Walk one buyer's whole catalog page by page; the specifications it shows."""
        buyer = self._buyer(account_id)
        count, cursor = 0, None
        while True:
            page = catalog.catalog(self._index, buyer, limit=page_size, cursor=cursor)
            count += sum(len(p.specifications) for p in page.items)
            if page.next_cursor is None:
                return count
            cursor = page.next_cursor

    def first_specification(self, seller_id: str, product_id: str) -> str:
        view = products.get_product(self._db, self._seller(seller_id), product_id)
        return view.specifications[0].specification_id

    # --- imports --------------------------------------------------------------------------

    def import_accounts(self, csv_file: Path) -> int:
        with csv_file.open("rb") as source:
            return imports.import_accounts(self._db, source).imported

    def import_specified_users(self, seller_id: str, product_id: str, csv_file: Path) -> int:
        with csv_file.open("rb") as source:
            report = imports.import_specified_users(
                self._db, self._seller(seller_id), product_id, None, source
            )
        return report.imported

    # --- the generated world --------------------------------------------------------------

    def write_world(self, world: World) -> None:
        """Store the generated world with its own keys in one transaction, then tell every
        index to read it afresh (bulk inserts: the services would take minutes at scale 1)."""
        now = datetime.now(UTC)
        with self._db.writing() as uow:
            bulk = BulkIo(uow.session)

            def put(table: Any, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
                for start in range(0, len(rows), 50_000):
                    bulk.insert(table.__table__, columns, rows[start : start + 50_000])

            created = bulk.stored(AccountRow.__table__.c.created_at, now)
            put(
                AccountRow,
                ("pk", "account_id", "account_name", "account_type", "created_at"),
                [(pk, *account, created) for pk, account in enumerate(world.accounts, 1)],
            )
            put(
                SellerRow,
                ("pk", "seller_id", "name", "created_at"),
                [(n + 1, f"slr_{n:08x}", f"Seller {n}", created) for n in range(world.sellers)],
            )
            put(
                ProductRow,
                ("pk", "product_id", "seller_pk", "name", "target", "version", "created_at"),
                [
                    (p.pk, p.product_id, p.seller + 1, f"Product {p.pk}", p.target, 1, created)
                    for p in world.products.values()
                ],
            )
            put(
                SpecificationRow,
                ("pk", "specification_id", "product_pk", "name", "setting", "created_at"),
                [
                    (s.pk, s.specification_id, s.product, f"Spec {s.pk}", s.setting, created)
                    for s in world.specs.values()
                ],
            )
            # Every product and specification has its list: a product's list has the
            # product's key, a specification's the specification's key past the last product's.
            offset = max(world.products, default=0)
            put(ListRow, ("pk", "product_pk"), [(p.pk, p.pk) for p in world.products.values()])
            put(
                ListRow,
                ("pk", "specification_pk"),
                [(offset + s.pk, s.pk) for s in world.specs.values()],
            )
            name = {pk: account[1] for pk, account in enumerate(world.accounts, 1)}
            put(
                ListEntryRow,
                ("list_pk", "account_pk", "entered_name", "added_at"),
                [
                    *(
                        (p.pk, a, name[a], created)
                        for p in world.products.values()
                        for a in p.users
                    ),
                    *(
                        (offset + s.pk, a, name[a], created)
                        for s in world.specs.values()
                        for a in s.users
                    ),
                ],
            )
            put(
                ProductAssociationRow,
                ("product_pk", "associated_product_pk", "added_at"),
                [(p.pk, q, created) for p in world.products.values() for q in p.associated],
            )
            put(
                SpecificationAssociationRow,
                ("specification_pk", "associated_specification_pk", "added_at"),
                [(s.pk, t, created) for s in world.specs.values() for t in s.associated],
            )
            put(
                OrderRow,
                (
                    *("pk", "order_id", "account_pk", "specification_pk", "product_pk"),
                    *("status", "created_at"),
                ),
                [
                    (n, f"ord_{n:010x}", a, s, p, status, created)
                    for n, (a, s, p, status) in enumerate(world.orders, 1)
                ],
            )
            # Explicit keys leave PostgreSQL's sequences behind: later inserts through the
            # services (the load's orders, sellers, products) must not collide with them.
            bulk_sequences_after(uow.session)
            uow.record_change(changes.Rebuild())
            uow.commit()


def bulk_sequences_after(session: Any) -> None:
    """Move PostgreSQL's key sequences past the rows written with explicit keys."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for table in (AccountRow, SellerRow, ProductRow, SpecificationRow, ListRow, OrderRow):
        name = table.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'pk'),"
                f" GREATEST((SELECT COALESCE(MAX(pk), 0) FROM {name}), 1))"
            )
        )


def measure_index(
    url: str, rss_bytes: Callable[[], int], heap_bytes: Callable[[], int]
) -> dict[str, int]:
    """A new decision index of `url` built in this process: its resident-set growth and size,
    and the heap its lists' bitmaps take, measured by copying them (a copy allocates the
    same containers; roaring's are native memory, outside Python's own accounting)."""
    import gc

    db = Database.connect(url, pool_size=2)
    with db.reading() as uow:  # connect and warm the driver before the baseline
        uow.session.connection()
    gc.collect()
    before = rss_bytes()
    fresh = DecisionIndex(db)
    fresh.rebuild()
    gc.collect()
    after = rss_bytes()
    stats = fresh.stats()
    bitmaps = list(fresh._state.lists.values()) if fresh._state else []
    # Copies enough times over that the allocator's own noise (a few hundred bytes) is small.
    rounds = max(1, min(100, 2_000 // max(len(bitmaps), 1)))
    heap_before = heap_bytes()
    copies = [bitmap.copy() for _ in range(rounds) for bitmap in bitmaps]
    list_heap = (heap_bytes() - heap_before) // rounds
    containers = {"array": 0, "run": 0, "bitset": 0}
    for bitmap in bitmaps:
        shape = bitmap.get_statistics()
        for kind in containers:
            containers[kind] += shape[f"n_{kind}_containers"]  # type: ignore[literal-required]
    del copies
    fresh.close()
    db.dispose()
    return {
        "rss_growth": after - before,
        "accounts": stats.accounts,
        "specifications": stats.specifications,
        "list_entries": stats.list_entries,
        "list_bytes": stats.list_bytes,
        "lists": len(bitmaps),
        "list_heap": list_heap,
        **{f"{kind}_containers": count for kind, count in containers.items()},
    }
