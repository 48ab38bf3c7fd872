"""The decision index: R12 answers from memory, kept current by every write on every process.

Freshness: each decision request first reads the change log's revision (`RevisionProbe`, one
primary-key read) and, when the index is behind, applies the changes since (or rebuilds when
the log no longer reaches back that far). Writes made through this process's `Database` are
applied right after their commit, before the use case returns. So a change acknowledged on
any process is in every later decision on every process.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from offerscope.domain.decision import Decision, Level, Reason
from offerscope.domain.impact import Impact
from offerscope.domain.names import account_id_key
from offerscope.index import impact, loader
from offerscope.index.probe import AsyncRevisionProbe, RevisionProbe
from offerscope.index.state import Clock, IndexState, ProductEntry, SpecificationEntry
from offerscope.storage import changelog
from offerscope.storage.changes import (
    AccountsReloaded,
    Change,
    ListReloaded,
    Rebuild,
    needs_database,
)
from offerscope.storage.tokens import TokenHolder
from offerscope.storage.unit_of_work import Database

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Buyable:
    """Something a buyer may buy to be admitted: a product, or one specification of it."""

    product_id: str
    product_name: str
    specification_name: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One product of a buyer's catalog: its specifications, each with the buyer's decision
    and, where a purchase would admit the buyer, what to buy first."""

    product: ProductEntry
    seller_name: str
    specifications: list[tuple[SpecificationEntry, Decision, list[Buyable]]]


@dataclass(frozen=True, slots=True)
class IndexStats:
    revision: int
    accounts: int
    products: int
    specifications: int
    list_entries: int
    list_bytes: int


class DecisionIndex:
    """In-memory R12 decisions for one database, shared by the threads of one process."""

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        # Reads under the lock go through connections of the index's own: writers hold
        # pool connections (and SQLite's write lock) while they wait for this lock (R14
        # impacts, applying their commit), so a reader holding it must not wait for the pool.
        self._reads = db.private_reader()
        self._clock = clock  # R16: "now" for validity windows (a test may set the time)
        self._probe = RevisionProbe(db.engine)
        self._shared_probe = AsyncRevisionProbe(db.engine, self._probe)
        self._lock = threading.RLock()
        self._state: IndexState | None = None
        self.builds = 0  # full builds so far: one at first use, more only as a fallback

    # --- freshness -----------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._state.revision if self._state else -1

    def refresh(self) -> DecisionIndex:
        """Catch up with every change committed so far, on any process. Returns self."""
        return self.refresh_to(self._probe.read())

    async def refreshed(self) -> DecisionIndex:
        """`refresh` for an event loop: the revision is awaited, never blocking the loop, and
        one read answers every request that arrived while the one before it was in flight."""
        return self.refresh_to(await self._shared_probe.read())

    def refresh_to(self, latest: int) -> DecisionIndex:
        """Catch up with the revision `latest`, read after the caller's request began."""
        state = self._state
        if state is not None and state.revision == latest:
            return self
        with self._lock:
            state = self._state
            if state is not None and latest < state.revision:
                # This process applied its own newer commit after `latest` was read; only a
                # second look, under the lock (no commit of ours can be applied meanwhile),
                # can tell a database that really went back (emptied) from that.
                latest = self._probe.read()
            if state is None or latest < state.revision:  # first use, or a database reset
                self._rebuild()
            elif latest > state.revision:
                self._catch_up(latest)
        return self

    def committed_revision(self) -> int:
        """The newest committed revision on any process (one shared primary-key read)."""
        return self._probe.read()

    def rebuild(self) -> None:
        """Build from scratch (the fallback; also what the first decision does)."""
        with self._lock:
            self._rebuild()

    def _rebuild(self) -> None:
        with self._reads.reading() as uow:
            self._state = loader.build(uow, self._clock)
        self.builds += 1

    def _catch_up(self, latest: int) -> None:
        state = self._state
        assert state is not None
        with self._reads.reading() as uow:
            log = changelog.changes_after(uow.session, state.revision, latest)
        expected = list(range(state.revision + 1, latest + 1))
        if [revision for revision, _ in log] != expected:  # pruned, or reset: start over
            self._rebuild()
            return
        for revision, changes in log:
            if not self._apply(revision, changes):
                return

    def _apply(self, revision: int, changes: Sequence[Change]) -> bool:
        """Apply one revision; False if it took a rebuild (which covers what follows)."""
        state = self._state
        assert state is not None
        if any(isinstance(change, Rebuild) for change in changes):
            self._rebuild()
            return False
        try:
            if any(needs_database(change) for change in changes):
                with self._reads.reading() as uow:
                    for change in changes:
                        _apply_with(uow.session, state, change)
            else:
                for change in changes:
                    state.apply(change)
            state.compile_stale()
        except Exception:  # a change this code cannot apply: never answer from a guess
            _log.exception("index change %s failed; rebuilding", revision)
            self._rebuild()
            return False
        state.revision = revision
        return True

    # --- ChangeListener --------------------------------------------------------------------

    def changes_committed(self, revision: int, changes: Sequence[Change]) -> None:
        """This process committed `revision`: apply it before the use case returns."""
        with self._lock:
            state = self._state
            if state is None or revision <= state.revision:
                return  # never built (built lazily later), or the build already saw it
            if revision == state.revision + 1:
                self._apply(revision, changes)
            else:  # another process committed in between: read the log up to ours
                self._catch_up(revision)

    def close(self) -> None:
        self._probe.close()
        self._shared_probe.close()
        if self._reads is not self._db:
            self._reads.dispose()

    # --- decisions -------------------------------------------------------------------------

    def _current(self) -> IndexState:
        state = self._state
        if state is None:
            self.refresh()
            state = self._state
            assert state is not None
        if state.windowed_count:
            self._at_present(state)
        return state

    def _at_present(self, state: IndexState) -> None:
        """R16: bring the lists to the clock's present if a window opened or closed since."""
        now = state.clock()
        if not state.current_at(now):
            with self._lock:
                state.advance(now)

    def decide(self, account_id: str, specification_id: str) -> Decision:
        """R12 from memory, as of the last refresh (call `refresh()` first for freshness)."""
        state = self._state or self._current()
        if state.windowed_count and not state.as_of <= state.clock() < state.next_boundary:
            self._at_present(state)  # R16: a window opened or closed since
        account = state.accounts.get(account_id)
        if account is None:
            account = _account_by_key(state, account_id)
        return state.checks.get(specification_id, state.unknown)(account)

    def decide_many(self, checks: Iterable[tuple[str, str]]) -> list[Decision]:
        """R12 for (account_id, specification_id) pairs, in order, all from one state."""
        with self._lock:
            state = self._current()
            get_check, get_account, unknown = state.checks.get, state.accounts.get, state.unknown
            return [
                get_check(spec, unknown)(
                    account
                    if (account := get_account(acct)) is not None
                    else _account_by_key(state, acct)
                )
                for acct, spec in checks
            ]

    def catalog(
        self,
        account_pk: int | None,
        *,
        limit: int,
        after: int | None = None,
        before: int | None = None,
        search: str = "",
    ) -> CatalogPage:
        """A page of products in creation order with this buyer's decisions: the first, those
        after the product key `after` or those before `before`; with `search`, only products
        whose name, seller's name or a specification's name contains it, or whose ID or a
        specification's ID starts with it, in any case."""
        with self._lock:
            state = self._current()
            order = _matching(state, search.strip().lower())
            if before is not None:
                end = bisect.bisect_left(order, before)
                start = max(end - limit, 0)
            else:
                start = 0 if after is None else bisect.bisect_right(order, after)
                end = start + limit
            page = order[start:end]
            rows = [_catalog_row(state, pk, account_pk) for pk in page]
            return CatalogPage(rows, start, len(order), start > 0, end < len(order))

    def token_holder(self, token_hash: str) -> TokenHolder | None:
        """Whom a token speaks for, as of the last refresh (tokens are changes too)."""
        state = self._state or self._current()
        return state.tokens.get(token_hash)

    # --- R14: impacts and audience sizes ---------------------------------------------------

    def impact(self, session: Session, changes: Sequence[Change]) -> Impact | None:
        """What `changes`, made in `session`'s transaction, would do to decisions: set algebra
        over the index brought up to the newest committed revision (`index.impact`)."""
        self.refresh()
        with self._lock:
            return impact.impact(self._current(), changes, session)

    def audience_sizes(self, product_id: str) -> tuple[int, dict[str, int]] | None:
        """How many accounts may buy a product now, and each of its specifications (by ID)."""
        self.refresh()
        with self._lock:
            state = self._current()
            pk = state.product_pks.get(product_id)
            if pk is None:
                return None
            of_product, by_pk = impact.sizes(state, pk)
            specs = state.specifications
            return of_product, {specs[k].specification_id: n for k, n in by_pk.items()}

    def stats(self) -> IndexStats:
        with self._lock:
            state = self._current()
            return IndexStats(
                revision=state.revision,
                accounts=len(state.accounts),
                products=len(state.products),
                specifications=len(state.specifications),
                list_entries=state.list_entries(),
                list_bytes=state.list_bytes(),
            )


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """A page of the catalog, where it starts among `total` products, and what lies beyond."""

    rows: list[CatalogRow]
    start: int
    total: int
    more_before: bool
    more_after: bool


def _matching(state: IndexState, term: str) -> list[int]:
    """The keys of the products a search finds, in creation order (all without one)."""
    if not term:
        return state.product_order
    found = []
    for pk in state.product_order:
        product = state.products[pk]
        specs = [state.specifications[s] for s in product.specifications]
        names = [product.name, state.sellers.get(product.seller_pk, ""), *(s.name for s in specs)]
        ids = [product.product_id, *(s.specification_id for s in specs)]
        if any(term in name.lower() for name in names) or any(i.startswith(term) for i in ids):
            found.append(pk)
    return found


def _catalog_row(state: IndexState, product_pk: int, account_pk: int | None) -> CatalogRow:
    product = state.products[product_pk]
    decided = []
    for spec_pk in product.specifications:
        spec = state.specifications[spec_pk]
        decision = state.checks.get(spec.specification_id, state.unknown)(account_pk)
        decided.append((spec, decision, _to_buy_first(state, product, spec, decision)))
    return CatalogRow(product, state.sellers.get(product.seller_pk, ""), decided)


def _to_buy_first(
    state: IndexState, product: ProductEntry, spec: SpecificationEntry, decision: Decision
) -> list[Buyable]:
    """What a refused buyer could buy to be admitted, when a purchase is what is missing:
    the associated products (or the product's associated specifications) of the level that
    refused, in creation order."""
    if decision.reason is not Reason.NO_ASSOCIATED_PURCHASE:
        return []
    if decision.level is Level.PRODUCT:
        linked = sorted(pk for pk in product.associated if pk in state.products)
        return [Buyable(state.products[pk].product_id, state.products[pk].name) for pk in linked]
    specs = sorted(pk for pk in spec.associated if pk in state.specifications)
    return [
        Buyable(product.product_id, product.name, state.specifications[pk].name) for pk in specs
    ]


def _account_by_key(state: IndexState, account_id: str) -> int | None:
    """An account ID as sent with white space around it (`names.account_id_key`): asked only
    when the ID as sent is no account, so the common case costs nothing."""
    key = account_id_key(account_id)
    return state.accounts.get(key) if key is not None and key != account_id else None


def _apply_with(session: Session, state: IndexState, change: Change) -> None:
    """One change, reading what a bulk change names from the database."""
    match change:
        case AccountsReloaded(first_pk, last_pk):
            loader.reload_accounts(session, state, first_pk, last_pk)
        case ListReloaded(list_pk):
            loader.reload_list(session, state, list_pk)
        case _:
            state.apply(change)
